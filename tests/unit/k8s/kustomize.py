"""A small, strict subset of kustomize in pure Python, enough to render k8s/.

It supports what the manifests use (resources, namespace, images, replicas, labels,
generators from literals and files without name hashes, with labels, strategic-merge
patches from files or inline with an optional kind/name target, ``$patch: delete``) and
refuses anything else, so a manifest that needs more fails here instead of rendering wrongly. Where
``kubectl kustomize`` is installed, tests compare the two renderings.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

# List fields that strategic merge patches merge element by element, and their merge keys.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "labels", "patches",
                    "generatorOptions", "secretGenerator", "configMapGenerator"}
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "StorageClass"}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


class UnsupportedKustomization(ValueError):
    """The kustomization uses a feature this subset does not implement."""


def load_kustomization(directory: Path) -> dict[str, Any]:
    """The kustomization.yaml of a directory."""
    loaded = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert isinstance(loaded, dict), f"{directory}/kustomization.yaml is not a mapping"
    return loaded


def key(resource: Resource) -> tuple[str, str]:
    """(kind, name) of a resource."""
    return resource["kind"], resource["metadata"]["name"]


def render(directory: Path) -> list[Resource]:
    """The resources a kustomization directory produces."""
    config = load_kustomization(directory)
    unknown = set(config) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedKustomization(f"{directory}: unsupported fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in config.get("resources", []):
        path = directory / entry
        if path.is_dir():
            resources.extend(render(path))
        elif path.is_file():
            resources.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
        else:
            raise FileNotFoundError(f"{directory}/kustomization.yaml: resource {entry} does not exist")
    resources.extend(_generated(directory, config))
    for patch in config.get("patches", []):
        resources = _apply_patch(directory, resources, patch)
    _set_labels(resources, config.get("labels", []))
    _set_images(resources, config.get("images", []))
    _set_replicas(resources, config.get("replicas", []))
    if "namespace" in config:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = config["namespace"]
    duplicates = {key(r) for r in resources if [key(o) for o in resources].count(key(r)) > 1}
    if duplicates:
        raise ValueError(f"{directory}: duplicate resources {sorted(duplicates)}")
    return resources


def _generated(directory: Path, config: dict[str, Any]) -> list[Resource]:
    generators = [("Secret", g) for g in config.get("secretGenerator", [])]
    generators += [("ConfigMap", g) for g in config.get("configMapGenerator", [])]
    if generators and not config.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise UnsupportedKustomization(f"{directory}: generators need disableNameSuffixHash: true here")
    shared_options = config.get("generatorOptions", {})
    if set(shared_options) - {"disableNameSuffixHash", "labels"}:
        raise UnsupportedKustomization(f"{directory}: generatorOptions {sorted(shared_options)}")
    made = []
    for kind, generator in generators:
        if set(generator) - {"name", "literals", "files", "options"}:
            raise UnsupportedKustomization(f"{directory}: generator {generator['name']} uses {sorted(generator)}")
        options = generator.get("options", {})
        if set(options) - {"labels"}:
            raise UnsupportedKustomization(f"{directory}: generator {generator['name']} options {sorted(options)}")
        pairs = dict(literal.split("=", 1) for literal in generator.get("literals", []))
        for entry in generator.get("files", []):
            if "=" in entry:
                raise UnsupportedKustomization(f"{directory}: generator file keys ({entry})")
            pairs[Path(entry).name] = (directory / entry).read_text()
        metadata: dict[str, Any] = {"name": generator["name"]}
        labels = {**shared_options.get("labels", {}), **options.get("labels", {})}
        if labels:
            metadata["labels"] = labels
        if kind == "Secret":
            data = {k: base64.b64encode(v.encode()).decode() for k, v in pairs.items()}
            made.append({"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque", "data": data})
        else:
            made.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": pairs})
    return made


def _apply_patch(directory: Path, resources: list[Resource], patch: dict[str, Any]) -> list[Resource]:
    if set(patch) - {"path", "patch", "target"}:
        raise UnsupportedKustomization(f"{directory}: patch fields {sorted(patch)}")
    if "path" in patch:
        path = directory / patch["path"]
        if not path.is_file():
            raise FileNotFoundError(f"{directory}/kustomization.yaml: patch {patch['path']} does not exist")
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    else:
        documents = [yaml.safe_load(patch["patch"])]
    target = patch.get("target")
    if target and set(target) - {"kind", "name"}:
        raise UnsupportedKustomization(f"{directory}: patch target {target}")
    for document in documents:
        if target:
            matches = [r for r in resources
                       if r["kind"] == target.get("kind", r["kind"]) and key(r)[1] == target.get("name", key(r)[1])]
        else:
            matches = [r for r in resources if key(r) == key(document)]
        if not matches:
            raise LookupError(f"{directory}: patch {patch.get('path', target)} matches no resource")
        for match in matches:
            if document.get("$patch") == "delete":
                resources = [r for r in resources if r is not match]
            else:
                merged = strategic_merge(match, {k: v for k, v in document.items() if k != "metadata"})
                resources = [merged if r is match else r for r in resources]
    return resources


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """``patch`` merged into ``base``: maps recursively, null deleting a key; lists in
    MERGE_KEYS element by element (``$patch: delete`` removing one); other lists replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for name, value in patch.items():
            if value is None:
                merged.pop(name, None)
            elif name in merged:
                merged[name] = strategic_merge(merged[name], value, name)
            else:
                merged[name] = _without_directives(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and field in MERGE_KEYS:
        merge_key = MERGE_KEYS[field]
        merged_list = copy.deepcopy(base)
        for item in patch:
            position = next((i for i, old in enumerate(merged_list) if old.get(merge_key) == item[merge_key]), None)
            if item.get("$patch") == "delete":
                if position is not None:
                    merged_list.pop(position)
            elif position is None:
                merged_list.append(_without_directives(item))
            else:
                merged_list[position] = strategic_merge(merged_list[position], item)
        return merged_list
    return _without_directives(patch)


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return value


def pod_spec(resource: Resource) -> dict[str, Any] | None:
    """The pod spec of a workload, or None."""
    if resource["kind"] not in POD_TEMPLATE_KINDS:
        return None
    spec: dict[str, Any] = resource["spec"]["template"]["spec"]
    return spec


def _set_labels(resources: list[Resource], labels: list[dict[str, Any]]) -> None:
    for entry in labels:
        if entry.get("includeSelectors") or entry.get("includeTemplates"):
            raise UnsupportedKustomization("labels on selectors or templates")
        for resource in resources:
            resource["metadata"].setdefault("labels", {}).update(entry["pairs"])


def _set_images(resources: list[Resource], images: list[dict[str, Any]]) -> None:
    by_name = {image["name"]: image for image in images}
    for resource in resources:
        spec = pod_spec(resource)
        for container in (spec or {}).get("containers", []) + (spec or {}).get("initContainers", []):
            name, _, tag = container["image"].partition(":")
            if name in by_name:
                image = by_name[name]
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"


def _set_replicas(resources: list[Resource], replicas: list[dict[str, Any]]) -> None:
    for entry in replicas:
        matches = [r for r in resources if r["kind"] == "Deployment" and key(r)[1] == entry["name"]]
        if not matches:
            raise LookupError(f"replicas: no Deployment {entry['name']}")
        for match in matches:
            match["spec"]["replicas"] = entry["count"]
