"""Monitoring and autoscaling in k8s/ hold together with what ChatDB exports: every PromQL expression
(alerts, dashboard, KEDA trigger, prometheus-adapter rules) parses and reads only series ChatDB
(or its vLLM engine) really exports; the custom metrics the HPAs read are the adapter's; every
service pod is scraped on its metrics port; the dashboard ships as a labelled ConfigMap."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from tests.unit.k8s.kustomize import Resource, key, pod_spec, render
from tests.unit.k8s.promql import PromQLError, parse

K8S = Path(__file__).resolve().parents[3] / "k8s"
BASE, DEV, PROD = K8S / "base", K8S / "overlays" / "dev", K8S / "overlays" / "prod"
DASHBOARD = BASE / "monitoring" / "chatdb-dashboard.json"
SERVICES = ("schema", "training", "query", "prediction")
METRIC_MODULES = ("chatdb_server.server.rpc_metrics", "chatdb_server.resilience.metrics",
                  "chatdb_server.query.metrics", "chatdb_server.training.metrics", "chatdb_server.retrieval.metrics")
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum", "_created"),
            "info": ("_info",), "summary": ("", "_count", "_sum", "_created")}
VLLM_SERIES_USED = {"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:prompt_tokens_total",
                    "vllm:generation_tokens_total"}
"""The vLLM series k8s/ reads; held to vLLM's own definitions where vLLM is installed."""
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$namespace": "chatdb"}
ADAPTER_TEMPLATE = {"<<.LabelMatchers>>": 'namespace="chatdb",pod="chatdb-query-0"', "<<.GroupBy>>": "pod"}


@cache
def chatdb_series() -> frozenset[str]:
    """The sample names ChatDB's metrics produce, from prometheus_client's registry."""
    for module in METRIC_MODULES:
        importlib.import_module(module)
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("chatdb_"):
            names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return frozenset(names)


@cache
def vllm_series() -> frozenset[str]:
    """The sample names vLLM's Prometheus stat logger registers (read from its source where vLLM is
    installed; otherwise the ones k8s/ uses, which tests/integration/prediction/test_vllm_metrics.py scrapes)."""
    spec = importlib.util.find_spec("vllm")
    if spec is None or spec.submodule_search_locations is None:
        return frozenset(VLLM_SERIES_USED)
    source = (Path(next(iter(spec.submodule_search_locations))) / "v1" / "metrics" / "loggers.py").read_text()
    names = set()
    for kind, name in re.findall(r"_(gauge|counter|histogram)_cls\(\s*name=\"(vllm:[\w:]+)\"", source):
        names |= {name + suffix for suffix in SUFFIXES[kind]}
    assert len(names) > 20, "vLLM's metric definitions were not found where expected"
    return frozenset(names)


def exported() -> frozenset[str]:
    return chatdb_series() | vllm_series()


def by_key(resources: list[Resource]) -> dict[tuple[str, str], Resource]:
    return {key(r): r for r in resources}


def adapter_rules(resources: dict[tuple[str, str], Resource]) -> list[dict[str, Any]]:
    config = yaml.safe_load(resources["ConfigMap", "chatdb-prometheus-adapter"]["data"]["config.yaml"])
    rules: list[dict[str, Any]] = config["rules"]
    return rules


def expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every expression k8s/ holds, template variables filled in."""
    found: list[tuple[str, str]] = []
    for overlay in (BASE, PROD):
        resources = by_key(render(overlay))
        for group in resources["PrometheusRule", "chatdb"]["spec"]["groups"]:
            found += [(f"{overlay.name}: alert {rule['alert']}", rule["expr"]) for rule in group["rules"]]
        for trigger in resources["ScaledObject", "chatdb-training"]["spec"]["triggers"]:
            found.append((f"{overlay.name}: ScaledObject trigger {trigger['name']}", trigger["metadata"]["query"]))
        for rule in adapter_rules(resources):
            series = parse(rule["seriesQuery"]).metrics
            assert len(series) == 1, rule["seriesQuery"]
            query = rule["metricsQuery"].replace("<<.Series>>", next(iter(series)))
            for template, value in ADAPTER_TEMPLATE.items():
                query = query.replace(template, value)
            found += [(f"{overlay.name}: adapter seriesQuery", rule["seriesQuery"]),
                      (f"{overlay.name}: adapter metricsQuery", query)]
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((f"dashboard: {panel['title']} {target['refId']}", expr))
    return found


# --- PromQL -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "expr"), expressions(), ids=[w for w, _ in expressions()])
def test_every_expression_parses_and_reads_only_exported_series(where: str, expr: str) -> None:
    metrics = parse(expr).metrics
    assert metrics, f"{where} names no metric"
    assert metrics <= exported(), f"{where} reads series nobody exports: {sorted(metrics - exported())}"


def test_every_expression_parses_in_prometheus_own_grammar_too() -> None:
    promql_parser = pytest.importorskip("promql_parser")  # the Rust port of Prometheus' parser, where installed
    refused = []
    for where, expr in expressions():
        try:
            promql_parser.parse(expr)
        except ValueError as error:
            refused.append(f"{where}: {error}")
    assert refused == []


def test_the_check_refuses_bad_syntax_misused_ranges_and_unknown_series() -> None:
    for broken in ("sum by (type (chatdb_training_jobs_queued)", "rate(chatdb_rpc_handled_total)",
                   "sum(chatdb_asks_in_flight[5m])", "chatdb_asks_in_flight{pod=x}", "histogram_quantil(0.9, x)"):
        with pytest.raises(PromQLError):
            parse(broken)
    assert parse("rate(chatdb_asks_in_flight_total[5m])").metrics - exported() == {"chatdb_asks_in_flight_total"}
    assert {"chatdb_asks_in_flight", "chatdb_ask_stage_seconds_bucket", "chatdb_result_cache_hits_total",
            "chatdb_training_jobs_queued", "chatdb_embedding_batch_size_bucket"} <= chatdb_series()
    assert vllm_series() >= VLLM_SERIES_USED


def test_the_dashboard_variables_read_exported_series() -> None:
    variables = json.loads(DASHBOARD.read_text())["templating"]["list"]
    queries = [v["definition"] for v in variables if v["type"] == "query"]
    assert queries
    for query in queries:
        match = re.fullmatch(r"label_values\((\w+), *(\w+)\)", query)
        assert match is not None and match.group(1) in exported(), query


# --- alerts -----------------------------------------------------------------------------------------

def test_the_alerts_cover_degradation_errors_latency_and_a_stuck_queue() -> None:
    (group,) = by_key(render(PROD))["PrometheusRule", "chatdb"]["spec"]["groups"]
    rules = {rule["alert"]: rule for rule in group["rules"]}
    degraded = rules["ChatDBDegraded"]
    assert "chatdb_degradation_level" in degraded["expr"] and re.search(r">= *2\b", degraded["expr"])
    assert degraded["for"] == "5m"
    assert "chatdb_rpc_handled_total" in rules["ChatDBErrorRatioHigh"]["expr"]
    assert "/" in rules["ChatDBErrorRatioHigh"]["expr"]
    latency = rules["ChatDBAskLatencyHigh"]["expr"]
    assert "histogram_quantile(0.99" in latency and "chatdb_rpc_duration_seconds_bucket" in latency
    assert "chatdb_training_oldest_queued_seconds" in rules["ChatDBTrainingQueueStuck"]["expr"]
    for rule in group["rules"]:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


# --- autoscaling ------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", [BASE, PROD], ids=["base", "prod"])
def test_the_custom_metrics_the_hpas_read_are_the_adapters(overlay: Path) -> None:
    resources = by_key(render(overlay))
    read = {m["pods"]["metric"]["name"] for (kind, _), r in resources.items() if kind == "HorizontalPodAutoscaler"
            for m in r["spec"]["metrics"] if m["type"] == "Pods"}
    served = {rule["name"]["as"] for rule in adapter_rules(resources)}
    assert read == served == {"chatdb_asks_in_flight", "vllm_num_requests_waiting"}
    for rule in adapter_rules(resources):
        (series,) = parse(rule["seriesQuery"]).metrics
        assert re.fullmatch(rule["name"]["matches"], series), rule
        assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}


def test_the_production_training_trigger_counts_its_own_namespace_only() -> None:
    resources = by_key(render(PROD))
    (trigger,) = resources["ScaledObject", "chatdb-training"]["spec"]["triggers"]
    namespace = resources["Deployment", "chatdb-training"]["metadata"]["namespace"]
    selectors = re.findall(r"chatdb_training_jobs_\w+\{([^}]*)\}", trigger["metadata"]["query"])
    assert selectors and all(f'namespace="{namespace}"' in s for s in selectors)


# --- scraping -----------------------------------------------------------------------------------------

def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
        if expression["operator"] == "Exists" and not present:
            return False
    return True


@pytest.mark.parametrize("overlay", [BASE, PROD], ids=["base", "prod"])
def test_every_service_pod_is_scraped_on_its_metrics_port(overlay: Path) -> None:
    resources = by_key(render(overlay))
    monitor = resources["PodMonitor", "chatdb"]["spec"]
    (endpoint,) = monitor["podMetricsEndpoints"]
    metrics_port = int(resources["ConfigMap", "chatdb-config"]["data"]["CHATDB_METRICS_PORT"])
    scraped = set()
    for (_, name), resource in resources.items():
        spec = pod_spec(resource)
        if spec is None or not _matches(monitor["selector"], resource["spec"]["template"]["metadata"]["labels"]):
            continue
        scraped.add(name)
        ports = {p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
        assert ports.get(endpoint["port"]) == metrics_port, name
    assert scraped == {f"chatdb-{service}" for service in SERVICES}


def test_development_ships_no_operator_resources_but_keeps_the_configmaps() -> None:
    kinds = {kind for kind, _ in by_key(render(DEV))}
    assert not kinds & {"PodMonitor", "PrometheusRule", "ScaledObject", "HorizontalPodAutoscaler"}
    resources = by_key(render(DEV))
    assert ("ConfigMap", "chatdb-grafana-dashboard") in resources
    assert ("ConfigMap", "chatdb-prometheus-adapter") in resources


# --- the dashboard and the image ------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", [BASE, DEV, PROD], ids=["base", "dev", "prod"])
def test_the_dashboard_ships_as_a_labelled_configmap_of_the_json_file(overlay: Path) -> None:
    config_map = by_key(render(overlay))["ConfigMap", "chatdb-grafana-dashboard"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["data"] == {DASHBOARD.name: DASHBOARD.read_text()}
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] == "ChatDB"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(p["targets"] and p["datasource"]["uid"] == "${datasource}" for p in panels)


def test_the_image_serves_metrics_by_default_on_the_configured_port() -> None:
    dockerfile = (K8S / "Dockerfile").read_text()
    port = by_key(render(BASE))["ConfigMap", "chatdb-config"]["data"]["CHATDB_METRICS_PORT"]
    assert re.search(rf"^\s+CHATDB_METRICS_PORT={port} \\$", dockerfile, flags=re.MULTILINE)
    assert re.search(rf"^EXPOSE .*\b{port}\b", dockerfile, flags=re.MULTILINE)


def test_the_guide_explains_monitoring_and_each_autoscaling_signal() -> None:
    guide = (K8S / "README.md").read_text()
    assert "## Monitoring" in guide and "## Autoscaling" in guide
    for needed in ("chatdb_asks_in_flight", "vllm:num_requests_waiting", "chatdb_training_jobs_queued",
                   "Prometheus Operator", "prometheus-adapter", "KEDA"):
        assert needed in guide, needed
