"""Invariants of the Kubernetes manifests in k8s/, checked on the base and on each
overlay as rendered (by the pure-Python kustomize subset in this package, and
compared with ``kubectl kustomize`` where that is installed).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatdb.prediction.v1 import prediction_service_pb2
from chatdb.query.v1 import query_service_pb2
from chatdb.schema.v1 import schema_service_pb2
from chatdb.training.v1 import training_service_pb2
from chatdb_cli.connection import CLIENT_VARIABLES
from chatdb_server.settings import Settings
from tests.unit.k8s.kustomize import MERGE_KEYS, Resource, key, load_kustomization, pod_spec, render

K8S = Path(__file__).resolve().parents[3] / "k8s"
BASE, DEV, PROD = K8S / "base", K8S / "overlays" / "dev", K8S / "overlays" / "prod"
FINETUNE = K8S / "overlays" / "prod-finetune"
GRPC_PORT = 50051
FULL_NAMES = {
    "schema": schema_service_pb2.DESCRIPTOR.services_by_name["SchemaService"].full_name,
    "training": training_service_pb2.DESCRIPTOR.services_by_name["TrainingService"].full_name,
    "query": query_service_pb2.DESCRIPTOR.services_by_name["QueryService"].full_name,
    "prediction": prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name,
}
SETTING_VARIABLES = {"CHATDB_" + f.name.upper() for f in dataclasses.fields(Settings) if f.name != "extra"}
GPU = "nvidia.com/gpu"


def by_key(resources: list[Resource]) -> dict[tuple[str, str], Resource]:
    return {key(r): r for r in resources}


@pytest.fixture(scope="module", params=["base", "dev", "prod", "prod-finetune"])
def rendered(request: pytest.FixtureRequest) -> tuple[str, dict[tuple[str, str], Resource]]:
    directories = {"base": BASE, "dev": DEV, "prod": PROD, "prod-finetune": FINETUNE}
    return request.param, by_key(render(directories[request.param]))


def chatdb_deployment(resources: dict[tuple[str, str], Resource], service: str) -> Resource:
    return resources["Deployment", f"chatdb-{service}"]


def container(resource: Resource) -> dict[str, Any]:
    spec = pod_spec(resource)
    assert spec is not None
    (only,) = spec["containers"]
    return only


def config_data(resources: dict[tuple[str, str], Resource]) -> dict[str, str]:
    data: dict[str, str] = resources["ConfigMap", "chatdb-config"]["data"]
    return data


def env(resource: Resource) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container(resource).get("env", [])}


# --- files and references ----------------------------------------------------------------------

def test_every_yaml_file_parses_and_every_resource_has_kind_and_name() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) > 20
    for path in files:
        for document in yaml.safe_load_all(path.read_text()):
            assert isinstance(document, dict), path
            assert "kind" in document, path
            if document["kind"] != "Kustomization":
                assert document["metadata"]["name"], path


def test_every_file_a_kustomization_names_exists_and_every_manifest_is_used() -> None:
    named: set[Path] = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        directory = kustomization.parent
        config = load_kustomization(directory)
        paths = [directory / r for r in config.get("resources", [])]
        paths += [directory / p["path"] for p in config.get("patches", []) if "path" in p]
        for path in paths:
            assert path.exists(), f"{kustomization}: {path.name} does not exist"
            named.add(path.resolve() / "kustomization.yaml" if path.is_dir() else path.resolve())
    orphans = [p for p in K8S.rglob("*.yaml") if p.resolve() not in named and p.name != "kustomization.yaml"]
    assert orphans == []
    kustomizations = {p.resolve() for p in K8S.rglob("kustomization.yaml")}
    assert kustomizations - named == {(DEV / "kustomization.yaml").resolve(),
                                      (FINETUNE / "kustomization.yaml").resolve()}


def test_overlay_patches_target_resources_that_exist_in_the_base() -> None:
    base = by_key(render(BASE))
    for overlay in (DEV, PROD, FINETUNE):
        for patch in load_kustomization(overlay).get("patches", []):
            if "target" in patch:
                assert any(kind == patch["target"]["kind"] for kind, _ in base), patch
                continue
            for document in yaml.safe_load_all((overlay / patch["path"]).read_text()):
                assert key(document) in base, f"{overlay.name}/{patch['path']} patches {key(document)}"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("directory", [BASE, DEV, PROD, FINETUNE], ids=["base", "dev", "prod", "prod-finetune"])
def test_the_subset_renders_what_kubectl_kustomize_renders(directory: Path) -> None:
    output = subprocess.run(["kubectl", "kustomize", str(directory)], check=True, capture_output=True, text=True,
                            timeout=120).stdout
    expected = {key(r): _normalised(r) for r in yaml.safe_load_all(output) if r}
    assert {key(r): _normalised(r) for r in render(directory)} == expected


def _normalised(value: Any, field: str = "") -> Any:
    """Order-insensitive for lists that kustomize may reorder when merging; Secret data
    decoded (kubectl wraps long base64 lines)."""
    if isinstance(value, dict) and value.get("kind") == "Secret":
        value = {**value, "data": {k: base64.b64decode(v) for k, v in value.get("data", {}).items()}}
    if isinstance(value, dict):
        return {k: _normalised(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalised(v) for v in value]
        return sorted(items, key=lambda item: str(item.get(MERGE_KEYS[field], item))) if field in MERGE_KEYS else items
    return value


# --- each service --------------------------------------------------------------------------------

@pytest.mark.parametrize("service", list(FULL_NAMES))
def test_deployment_serves_its_service_with_grpc_probes(rendered: tuple[str, Any], service: str) -> None:
    _, resources = rendered
    deployment = chatdb_deployment(resources, service)
    main = container(deployment)
    assert main["command"] == ["chatdb"] and main["args"] == ["serve", service]
    assert {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"} in main["ports"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert main[probe]["grpc"] == {"port": GRPC_PORT, "service": FULL_NAMES[service]}, probe
    assert config_data(resources)["CHATDB_PORT"] == str(GRPC_PORT)
    assert config_data(resources)["CHATDB_HOST"] == "0.0.0.0"


def _hardened(pod: dict[str, Any], main: dict[str, Any], data_dir: str) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    hardening = main["securityContext"]
    assert hardening["allowPrivilegeEscalation"] is False
    assert hardening["readOnlyRootFilesystem"] is True
    assert hardening["capabilities"] == {"drop": ["ALL"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    for writable in ("/tmp", data_dir):
        assert "emptyDir" in volumes[mounts[writable]], writable
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(main["resources"][kind]), kind
    sources = [next(iter(source.values()))["name"] for source in main["envFrom"]]
    assert sources == ["chatdb-config", "chatdb-secrets"]


@pytest.mark.parametrize("service", list(FULL_NAMES))
def test_pods_are_hardened_and_drain_before_they_are_killed(rendered: tuple[str, Any], service: str) -> None:
    _, resources = rendered
    deployment = chatdb_deployment(resources, service)
    pod = pod_spec(deployment)
    assert pod is not None
    _hardened(pod, container(deployment), config_data(resources)["CHATDB_DATA_DIR"])
    assert pod["terminationGracePeriodSeconds"] > float(config_data(resources)["CHATDB_GRACE_S"])
    account = resources["ServiceAccount", pod["serviceAccountName"]]
    assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("service", list(FULL_NAMES))
def test_each_deployment_has_a_service_on_port_grpc(rendered: tuple[str, Any], service: str) -> None:
    _, resources = rendered
    deployment = chatdb_deployment(resources, service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = resources["Service", f"chatdb-{service}"]
    assert svc["spec"]["selector"].items() <= labels.items()
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [("grpc", GRPC_PORT, "grpc")]
    assert svc["spec"]["clusterIP"] == "None", "headless, so gRPC clients balance over the pods themselves"


AUTOSCALING_SIGNALS = {
    "schema": {("Resource", "cpu")},
    "query": {("Pods", "chatdb_asks_in_flight"), ("Resource", "cpu")},
    "prediction": {("Pods", "vllm_num_requests_waiting")},
}
"""What each HorizontalPodAutoscaler scales on (training: its KEDA ScaledObject, on the job queue)."""


def _signals(hpa: dict[str, Any]) -> set[tuple[str, str]]:
    """(metric type, metric or resource name) of each of an HPA's metrics."""
    found = set()
    for metric in hpa["metrics"]:
        if metric["type"] == "Pods":
            found.add(("Pods", metric["pods"]["metric"]["name"]))
        else:
            found.add((metric["type"], metric["resource"]["name"]))
    return found


@pytest.mark.parametrize("service", list(FULL_NAMES))
def test_autoscaling_and_disruption_budgets_in_base_and_prod(rendered: tuple[str, Any], service: str) -> None:
    variant, resources = rendered
    name = f"chatdb-{service}"
    if variant == "dev":
        assert not {("HorizontalPodAutoscaler", name), ("ScaledObject", name), ("PodDisruptionBudget", name)} \
            & set(resources)
        assert chatdb_deployment(resources, service)["spec"]["replicas"] == 1
        return
    assert "replicas" not in chatdb_deployment(resources, service)["spec"], "the autoscaler owns the replica count"
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    if service == "training":
        assert ("HorizontalPodAutoscaler", name) not in resources, "KEDA creates and owns training's HPA"
        scaled = resources["ScaledObject", name]["spec"]
        assert scaled["scaleTargetRef"] == target
        assert 2 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"]
        (trigger,) = scaled["triggers"]
        assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
        assert "chatdb_training_jobs_queued" in trigger["metadata"]["query"]
        assert "chatdb_training_jobs_running" in trigger["metadata"]["query"]
        assert trigger["metadata"]["serverAddress"].startswith("http")
    else:
        hpa = resources["HorizontalPodAutoscaler", name]["spec"]
        assert hpa["scaleTargetRef"] == target
        assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        assert _signals(hpa) == AUTOSCALING_SIGNALS[service]
        for metric in hpa["metrics"]:
            if metric["type"] == "Pods":
                assert metric["pods"]["target"]["type"] == "AverageValue"
    pdb = resources["PodDisruptionBudget", name]["spec"]
    assert pdb["minAvailable"] == 1
    template_labels = chatdb_deployment(resources, service)["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= template_labels.items()


# --- settings and wiring -------------------------------------------------------------------------

def test_every_chatdb_variable_is_a_real_setting(rendered: tuple[str, Any]) -> None:
    _, resources = rendered
    names: set[str] = set()
    for resource in resources.values():
        if resource["kind"] in {"ConfigMap", "Secret"}:
            names |= set(resource.get("data", {}))
        spec = pod_spec(resource)
        for main in (spec or {}).get("containers", []):
            names |= {e["name"] for e in main.get("env", [])}
    unknown = {n for n in names if n.startswith("CHATDB_")} - SETTING_VARIABLES - CLIENT_VARIABLES
    assert unknown == set()


def test_services_find_each_other_by_service_dns_names(rendered: tuple[str, Any]) -> None:
    _, resources = rendered
    config = config_data(resources)
    for service in ("schema", "training", "prediction"):
        address = config[f"CHATDB_{service.upper()}_ADDRESS"]
        assert address.startswith("dns:///"), "gRPC resolves the name itself and balances over its pods"
        host, port = address.removeprefix("dns:///").split(":")
        assert ("Service", host) in resources
        assert int(port) == resources["Service", host]["spec"]["ports"][0]["port"]
        assert resources["Service", host]["spec"]["clusterIP"] == "None", "headless: one address per pod"
    assert config["CHATDB_MILVUS_URI"].startswith("http://")


def test_the_migration_job_runs_chatdb_migrate_hardened(rendered: tuple[str, Any]) -> None:
    _, resources = rendered
    job = resources["Job", "chatdb-migrate"]
    pod = pod_spec(job)
    assert pod is not None
    main = container(job)
    assert main["args"] == ["migrate"] and main["image"].split(":")[0].endswith("chatdb")
    _hardened(pod, main, config_data(resources)["CHATDB_DATA_DIR"])
    assert pod["restartPolicy"] == "OnFailure"
    # Applied alone before the rollout (by label), it must bring everything it uses.
    step_one = {k for k, r in resources.items()
                if r["metadata"].get("labels", {}).get("app.kubernetes.io/component") in {"config", "migrate"}}
    assert {("ServiceAccount", pod["serviceAccountName"]), ("ConfigMap", "chatdb-config"), ("Job", "chatdb-migrate")} \
        <= step_one


def test_no_secret_values_ship_for_production() -> None:
    resources = by_key(render(PROD))
    assert not [k for k in resources if k[0] == "Secret"]
    assert "chatdb-secrets" in (K8S / "README.md").read_text()


def test_development_secrets_point_at_postgres_through_asyncpg() -> None:
    resources = by_key(render(DEV))
    secret = {k: base64.b64decode(v).decode() for k, v in resources["Secret", "chatdb-secrets"]["data"].items()}
    assert secret["CHATDB_METADATA_URL"].startswith("postgresql+asyncpg://")
    host = re.match(r"postgresql\+asyncpg://[^@]+@([^:/]+)", secret["CHATDB_METADATA_URL"])
    assert host is not None and ("Service", host.group(1)) in resources
    assert len(base64.urlsafe_b64decode(secret["CHATDB_SECRET_KEY"])) == 32  # a Fernet key
    for name in ("CHATDB_BOOTSTRAP_ADMIN_KEY", "CHATDB_SERVICE_KEY"):  # API keys the key store accepts
        assert re.fullmatch(r"chatdb_[a-z0-9]{16}_[A-Za-z0-9_-]{20,}", secret[name]), name


def test_production_instructions_create_the_bootstrap_and_service_keys() -> None:
    guide = (K8S / "README.md").read_text()
    assert 'CHATDB_BOOTSTRAP_ADMIN_KEY="$(chatdb keys secret)"' in guide
    assert 'CHATDB_SERVICE_KEY="$(chatdb keys secret)"' in guide


# --- GPUs ----------------------------------------------------------------------------------------

def _gpu_workloads(resources: dict[tuple[str, str], Resource]) -> set[str]:
    found = set()
    for (_, name), resource in resources.items():
        spec = pod_spec(resource)
        if spec is None:
            continue
        wants_gpu = any(GPU in c["resources"].get(kind, {})
                        for c in spec["containers"] for kind in ("limits", "requests"))
        if wants_gpu or "nodeSelector" in spec or "tolerations" in spec:
            found.add(name)
    return found


def test_prediction_runs_vllm_on_gpu_nodes_in_production() -> None:
    resources = by_key(render(PROD))
    assert _gpu_workloads(resources) == {"chatdb-prediction"}
    prediction = chatdb_deployment(resources, "prediction")
    pod = pod_spec(prediction)
    assert pod is not None
    main = container(prediction)
    assert main["resources"]["limits"][GPU] == 1
    assert any(t["key"] == GPU and t["effect"] == "NoSchedule" for t in pod["tolerations"])
    assert pod["nodeSelector"]
    assert env(prediction)["CHATDB_PREDICTION_BACKEND"] == "vllm"
    model_path = env(prediction)["CHATDB_MODEL_PATH"]
    mount = next(m for m in main["volumeMounts"] if model_path.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in resources
    assert main["image"].split(":")[0].endswith("chatdb-gpu")


def test_the_finetune_variant_trains_on_a_gpu_with_the_finetune_extra_and_the_base_model_mounted() -> None:
    resources = by_key(render(FINETUNE))
    assert _gpu_workloads(resources) == {"chatdb-prediction", "chatdb-training"}
    training = chatdb_deployment(resources, "training")
    pod, main = pod_spec(training), container(training)
    assert pod is not None
    assert main["resources"]["limits"][GPU] == main["resources"]["requests"][GPU] == 1
    assert any(t["key"] == GPU and t["effect"] == "NoSchedule" for t in pod["tolerations"])
    assert main["image"] == container(chatdb_deployment(resources, "prediction"))["image"]
    assert main["image"].split(":")[0].endswith("chatdb-gpu")
    assert re.search(r'pip install "\.\[[a-z,]*finetune[a-z,]*gpu[a-z,]*\]"', (K8S / "Dockerfile").read_text())
    model_path = env(training)["CHATDB_MODEL_PATH"]
    assert model_path == env(chatdb_deployment(resources, "prediction"))["CHATDB_MODEL_PATH"]
    mount = next(m for m in main["volumeMounts"] if model_path.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    claim = resources["PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # adapters written here, served by prediction
    assert config_data(resources)["CHATDB_MODEL_STORE"].startswith(mount["mountPath"] + "/")
    assert {k: v for k, v in resources.items() if k != ("Deployment", "chatdb-training")} == {
        k: v for k, v in by_key(render(PROD)).items() if k != ("Deployment", "chatdb-training")}


def test_development_needs_no_gpu_and_uses_the_template_backend() -> None:
    resources = by_key(render(DEV))
    assert _gpu_workloads(resources) == set()
    prediction = chatdb_deployment(resources, "prediction")
    assert env(prediction) == {"CHATDB_PREDICTION_BACKEND": "template"}
    assert not [k for k in resources if k[0] == "PersistentVolumeClaim"]
    claims = [v for r in resources.values() for v in (pod_spec(r) or {}).get("volumes", [])
              if "persistentVolumeClaim" in v]
    assert claims == []


# --- the image -----------------------------------------------------------------------------------

def test_the_image_is_multi_stage_non_root_with_a_gpu_variant() -> None:
    dockerfile = (K8S / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\S+)", dockerfile, flags=re.MULTILINE)
    assert {name for _, name in stages} >= {"build-cpu", "build-gpu", "runtime", "gpu", "cpu"}
    assert all(image in {"${PYTHON_IMAGE}", "${NODE_IMAGE}", "build-base", "runtime"} for image, _ in stages)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, flags=re.MULTILINE)
    assert stages[-1][1] == "cpu", "the default target is the CPU image"
    assert re.search(r"^USER 10001:10001$", dockerfile, flags=re.MULTILINE)
    assert 'pip install ".[embeddings]"' in dockerfile
    assert re.search(r'pip install "\.\[[a-z,]*gpu[a-z,]*\]"', dockerfile)
    assert 'ENTRYPOINT ["chatdb"]' in dockerfile
    ignore = [line for line in (K8S / "Dockerfile.dockerignore").read_text().splitlines()
              if line and not line.startswith("#")]
    assert ignore[0] == "**" and "!services/" in ignore
