"""Every rendered overlay is valid Kubernetes, checked offline against the API's JSON schemas
(kubernetes-validate ships them) in strict mode: unknown fields are errors, not silently dropped
by the API server. Checked for the oldest and the newest Kubernetes version we support."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest

from tests.unit.k8s.kustomize import Resource, key, render

K8S = Path(__file__).resolve().parents[3] / "k8s"
OVERLAYS = [K8S / "base", K8S / "overlays" / "dev", K8S / "overlays" / "prod"]
VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def _problems(resources: list[Resource], version: str) -> list[str]:
    found = []
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            found.append(f"{key(resource)}: {error.message}")
    return found


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_every_rendered_resource_is_valid_kubernetes(overlay: Path, version: str) -> None:
    resources = render(overlay)
    assert resources
    assert _problems(resources, version) == []


def test_the_check_finds_a_misspelt_field_and_a_wrong_type() -> None:
    deployment = next(r for r in render(K8S / "base") if r["kind"] == "Deployment")
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "grpc"
    assert len(_problems([misspelt, wrong_type], VERSIONS[-1])) == 2
