"""Validation of the custom resources the manifests use (PodMonitor, PrometheusRule, ScaledObject)
against their CRDs' schemas, offline.

kubernetes-validate ships the schemas of Kubernetes' own kinds only, and no package on PyPI or
npm ships these CRDs' schemas as JSON (npm's @kubernetes-models packages carry them compiled
into JavaScript validators), so ``crd_schemas/`` holds the ``openAPIV3Schema`` of each CRD
as the projects publish it (the ``$comment`` of each file names the source and version). As
kubernetes-validate's strict mode does, an object that declares its properties accepts no
others: a misspelt field is an error here, where the API server would drop it silently.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tests.unit.k8s.kustomize import Resource

SCHEMAS = Path(__file__).resolve().parent / "crd_schemas"


def schema_file(api_version: str, kind: str) -> Path:
    """Where the schema of ``kind`` in ``api_version`` (``group/version``) is kept."""
    group, _, version = api_version.rpartition("/")
    return SCHEMAS / f"{group}_{version}_{kind}.json"


def is_custom(resource: Resource) -> bool:
    """Whether ``resource`` is of a kind with a vendored CRD schema."""
    return schema_file(resource["apiVersion"], resource["kind"]).is_file()


@cache
def _validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = _strict(json.loads(schema_file(api_version, kind).read_text()))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return cls(schema)


def problems(resource: Resource) -> list[str]:
    """What is wrong with a custom resource, one line per error (empty when valid)."""
    validator = _validator(resource["apiVersion"], resource["kind"])
    return [f"{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(resource), key=lambda e: list(e.absolute_path))]


def _strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object that lists its properties and
    does not keep unknown fields (``x-kubernetes-preserve-unknown-fields``), its Go patterns in
    Python's syntax."""
    strict = copy.deepcopy(schema)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            if isinstance(node.get("pattern"), str) and node["pattern"].startswith("^(?i)"):
                # Go's regular expressions take inline flags anywhere; Python's only at the start.
                node["pattern"] = "(?i)^" + node["pattern"][len("^(?i)"):]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(strict)
    return strict
