"""The console's Deployment and Service: `chatdb serve console` against the services' DNS names, hardened,
probed over HTTP, holding none of the services' secrets but its own cookie key."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.k8s.kustomize import pod_spec, render
from tests.unit.k8s.test_manifests import BASE, DEV, PROD, by_key, config_data, container

CONSOLE = "chatdb-console"


@pytest.fixture(scope="module", params=["base", "dev", "prod"])
def resources(request: pytest.FixtureRequest) -> dict[tuple[str, str], Any]:
    return by_key(render({"base": BASE, "dev": DEV, "prod": PROD}[request.param]))


def test_the_console_runs_alone_against_the_query_service(resources: dict[tuple[str, str], Any]) -> None:
    deployment = resources["Deployment", CONSOLE]
    main = container(deployment)
    assert main["command"] == ["chatdb"] and main["args"] == ["serve", "console"]
    env = {e["name"]: e for e in main["env"]}
    address = env["CHATDB_ADDRESS"]["value"]
    assert address.startswith("dns:///")
    host, port = address.removeprefix("dns:///").split(":")
    assert host == "chatdb-query" and int(port) == resources["Service", host]["spec"]["ports"][0]["port"]
    assert {"name": "http", "containerPort": int(env["CHATDB_CONSOLE_PORT"]["value"]), "protocol": "TCP"} \
        in main["ports"]
    # The split services' addresses come from the shared settings.
    assert [s["configMapRef"]["name"] for s in main["envFrom"]] == ["chatdb-config"]
    assert {"CHATDB_SCHEMA_ADDRESS", "CHATDB_TRAINING_ADDRESS", "CHATDB_PREDICTION_ADDRESS"} \
        <= set(config_data(resources))


def test_the_console_gets_only_its_cookie_key_from_the_secrets(resources: dict[tuple[str, str], Any]) -> None:
    main = container(resources["Deployment", CONSOLE])
    from_secrets = [e for e in main["env"] if "valueFrom" in e]
    assert [(e["name"], e["valueFrom"]["secretKeyRef"]["key"]) for e in from_secrets] == [
        ("CHATDB_CONSOLE_SECRET", "CHATDB_CONSOLE_SECRET")]
    assert all("secretRef" not in source for source in main["envFrom"])


def test_the_console_is_hardened_and_probed_over_http(resources: dict[tuple[str, str], Any]) -> None:
    deployment = resources["Deployment", CONSOLE]
    pod = pod_spec(deployment)
    assert pod is not None
    main = container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    data_dir = config_data(resources)["CHATDB_DATA_DIR"]
    assert {m["mountPath"] for m in main["volumeMounts"]} == {"/tmp", data_dir}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert main[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    assert resources["ServiceAccount", pod["serviceAccountName"]]["automountServiceAccountToken"] is False


def test_the_console_service_selects_its_pods_on_port_http(resources: dict[tuple[str, str], Any]) -> None:
    labels = resources["Deployment", CONSOLE]["spec"]["template"]["metadata"]["labels"]
    service = resources["Service", CONSOLE]["spec"]
    assert service["selector"].items() <= labels.items()
    assert [(p["name"], p["targetPort"]) for p in service["ports"]] == [("http", "http")]


def test_development_seals_console_sessions_with_a_shared_key() -> None:
    import base64

    secret = by_key(render(DEV))["Secret", "chatdb-secrets"]["data"]
    key = base64.b64decode(secret["CHATDB_CONSOLE_SECRET"]).decode()
    assert len(base64.urlsafe_b64decode(key)) == 32  # a Fernet key
