"""Every rendered overlay is valid Kubernetes, checked offline against the API's JSON schemas
(kubernetes-validate ships them) in strict mode: unknown fields are errors, not silently dropped
by the API server. Checked for the oldest and the newest Kubernetes version we support. Custom
resources (PodMonitor, PrometheusRule, ScaledObject) are checked against their CRDs' schemas
(:mod:`tests.unit.k8s.crds`), strictly too."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest

from tests.unit.k8s import crds
from tests.unit.k8s.kustomize import Resource, key, render

K8S = Path(__file__).resolve().parents[3] / "k8s"
OVERLAYS = [K8S / "base", K8S / "overlays" / "dev", K8S / "overlays" / "prod"]
VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def _problems(resources: list[Resource], version: str) -> list[str]:
    found = []
    for resource in resources:
        if crds.is_custom(resource):
            found += [f"{key(resource)}: {problem}" for problem in crds.problems(resource)]
            continue
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


def test_every_custom_resource_kind_has_a_schema() -> None:
    resources = render(K8S / "overlays" / "prod")
    custom = {(r["apiVersion"], r["kind"]) for r in resources if crds.is_custom(r)}
    assert custom == {("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule"),
                      ("keda.sh/v1alpha1", "ScaledObject")}


@pytest.mark.parametrize("kind", ["PodMonitor", "PrometheusRule", "ScaledObject"])
def test_the_crd_check_finds_a_misspelt_field_and_a_wrong_type(kind: str) -> None:
    resource = next(r for r in render(K8S / "base") if r["kind"] == kind)
    assert crds.problems(resource) == []
    misspelt = copy.deepcopy(resource)
    misspelt["spec"]["selectr" if kind == "PodMonitor" else "groupz" if kind == "PrometheusRule" else "minReplicas"] = 1
    wrong_type = copy.deepcopy(resource)
    if kind == "PodMonitor":
        wrong_type["spec"]["podMetricsEndpoints"][0]["interval"] = "every 15 seconds"
    elif kind == "PrometheusRule":
        wrong_type["spec"]["groups"][0]["rules"][0]["for"] = 300
    else:
        wrong_type["spec"]["maxReplicaCount"] = "six"
    assert len(_problems([misspelt], VERSIONS[-1])) == 1
    assert len(_problems([wrong_type], VERSIONS[-1])) == 1
