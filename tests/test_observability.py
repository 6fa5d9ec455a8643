"""The operators' dashboard and alerts (deploy/k8s/observability/) stay true to GET /metrics.

A panel or an alert on a metric the gateway does not export shows "No data" or never fires, and
nobody notices until the night it should have: renaming a metric must fail here instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient

from core.app.metrics import WorkflowEnds
from tests.support.phone import UssdPhone

OBSERVABILITY = Path(__file__).resolve().parent.parent / "deploy" / "k8s" / "observability"
DASHBOARD = OBSERVABILITY / "grafana-dashboard.json"
RULES = OBSERVABILITY / "prometheus-rules.yaml"
SCRAPE = OBSERVABILITY / "prometheus-scrape.yaml"
GATEWAY = OBSERVABILITY.parent / "base" / "gateway-deployment.yaml"
METRIC = re.compile(r"\b(?:omniroute|process|python)_[a-z0-9_]+\b")
# What the lead asked to be woken for, each by the metric its alert must read.
PAGED = {
    "5xx rate": 'status=~"5.."',
    "p99 over 100 ms": "omniroute_http_request_seconds_bucket",
    "outbox backlog": "omniroute_outbox_unsent_events",
    "relay lag": "omniroute_outbox_oldest_unsent_seconds",
    "messages waiting to be sent": "omniroute_deliveries_oldest_queued_seconds",
    "dead letters": "omniroute_events_dead_lettered_total",
    "payment callbacks": 'route="/webhooks/{provider}"',
    "readiness": 'route="/readyz"',
}


def dashboard_queries() -> dict[str, list[str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return {
        panel["title"]: [target["expr"] for target in panel.get("targets", [])]
        for panel in dashboard["panels"]
        if panel["type"] != "row"
    }


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def every_query() -> dict[str, list[str]]:
    """Each panel's queries and each alert's expression, by title."""
    queries = dashboard_queries()
    return queries | {rule["alert"]: [rule["expr"]] for rule in alert_rules()}


def exported(exposition: str) -> set[str]:
    """Every sample name /metrics shows, and those its families declare (a counter no label
    combination has reached yet is declared, `# TYPE omniroute_payments_total counter`)."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


async def test_every_panel_and_alert_reads_a_metric_the_gateway_exports(
    client: TestClient[Any, Any], ngozi: UssdPhone
) -> None:
    await ngozi.dial()
    await ngozi.press("1")
    assert (await client.get("/readyz")).status == 200
    scrape = await client.get("/metrics")
    assert scrape.status == 200
    # Exported only with Temporal (absent here): tests/integration/workflows/test_real_server.py
    names = exported(await scrape.text()) | {WorkflowEnds.NAME}

    for title, exprs in every_query().items():
        assert exprs, f"{title} has no query"
        for expr in exprs:
            read = set(METRIC.findall(expr))
            assert read, f"{title}: {expr} reads no metric"
            assert read <= names, f"{title} reads {sorted(read - names)}, not exported"


def test_every_panel_and_alert_query_parses_as_promql() -> None:
    """A bracket left open or a label value unquoted passes the check above and is refused by
    Prometheus when the rules load (every alert of the file gone) or shows as a panel's error.
    Prometheus' own grammar, through promql-parser (PyPI): not a dependency yet, so skipped
    where it is not installed."""
    promql = pytest.importorskip("promql_parser", reason="needs promql-parser (PyPI)")
    for title, exprs in every_query().items():
        for expr in exprs:
            # Grafana's interval variables ($__rate_interval…) are a duration once substituted.
            substituted = re.sub(r"\$__\w+", "5m", expr)
            try:
                promql.parse(substituted)
            except ValueError as exc:
                pytest.fail(f"{title}: {exc}: {expr}")


def test_the_dashboard_is_a_provisionable_grafana_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["description"], panel["title"]


def test_every_alert_says_how_urgent_it_is_and_what_happened() -> None:
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["expr"].strip(), rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"page", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
    paging = " ".join(rule["expr"] for rule in rules if rule["labels"]["severity"] == "page")
    for what, reads in PAGED.items():
        assert reads in paging, f"nothing pages for {what}"


def test_kustomize_ships_the_dashboard_and_the_rules() -> None:
    kustomization = yaml.safe_load((OBSERVABILITY / "kustomization.yaml").read_text())
    shipped = {f for generated in kustomization["configMapGenerator"] for f in generated["files"]}
    assert shipped == {DASHBOARD.name, RULES.name}
    base = yaml.safe_load((OBSERVABILITY.parent / "base" / "kustomization.yaml").read_text())
    assert "../observability" in base["resources"]


def test_the_scrape_job_sends_the_metrics_token_to_the_pods_the_gateway_annotates() -> None:
    """With OMNIROUTE_METRICS_TOKEN set, a scrape without it gets 401 and every panel goes
    blank: the annotations cannot carry the token, so the documented job must send it."""
    (job,) = yaml.safe_load(SCRAPE.read_text())["scrape_configs"]
    assert job["authorization"]["type"] == "Bearer"
    assert job["authorization"]["credentials_file"]
    (deployment,) = yaml.safe_load_all(GATEWAY.read_text())
    pod = deployment["spec"]["template"]["metadata"]
    assert pod["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["annotations"]["prometheus.io/path"] == "/metrics"
    kept = {r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"}
    assert pod["labels"]["app.kubernetes.io/name"] in kept
