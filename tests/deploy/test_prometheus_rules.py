"""The alerting and recording rules (deploy/prometheus/): valid for Prometheus, each alert
proven to fire and to stay quiet by promtool's unit tests, each pointing to the README, and
every series they read one the service exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from quart import Quart

from tests.support.http import internal_headers

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "deploy" / "prometheus"
RULES = RULES_DIR / "cart-rules.yml"
RULE_TESTS = RULES_DIR / "cart-rules.test.yml"
NOT_INSTALLED = (
    "promtool is not installed: the test command installs Debian's prometheus when it runs as "
    "root (apt-get install prometheus)"
)
# The series Prometheus itself makes for each target.
PROMETHEUS_OWN = {"up"}
SERIES_SUFFIXES = {"counter": ("", "_total"), "histogram": ("_bucket", "_count", "_sum")}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip(NOT_INSTALLED)
    return subprocess.run(
        [binary, *args],
        cwd=RULES_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_and_stays_quiet_in_promtools_unit_tests() -> None:
    result = promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_each_alert_has_a_test_that_fires_it_and_one_that_keeps_it_quiet() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    names = {alert["alert"] for alert in alerts()}
    assert names - fired == set(), "alerts no test makes fire"
    assert names - quiet == set(), "alerts no test keeps quiet"


def test_each_alert_says_where_the_readme_tells_what_to_do() -> None:
    readme = (ROOT / "README.md").read_text()
    anchors = {
        re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)
    }
    for alert in alerts():
        runbook = alert["annotations"]["runbook"]
        match = re.match(r"README\.md#([\w-]+): ", runbook)
        assert match, f"{alert['alert']}: {runbook!r}"
        assert match.group(1) in anchors, f"{alert['alert']}: no heading for #{match.group(1)}"
        if match.group(1) == "alerts":
            assert f"`{alert['alert']}`" in readme, "the README's Alerts say nothing of it"
        assert alert["labels"]["severity"] in {"page", "ticket"}


async def test_the_rules_read_only_series_the_service_exports(app: Quart) -> None:
    response = await app.test_client().get("/metrics", headers=internal_headers(app))
    scrape = await response.get_data(as_text=True)
    exported = set(PROMETHEUS_OWN)
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", scrape, re.MULTILINE):
        exported |= {name + suffix for suffix in SERIES_SUFFIXES.get(kind, ("",))}
    read = {
        name
        for rule in rules()
        for name in re.findall(r"[A-Za-z_:][\w:]*", rule["expr"])
        # The service's names; recorded rules have colons, PromQL's words and labels neither
        # prefix.
        if name.startswith(("cart_", "http_")) or name in PROMETHEUS_OWN
    }
    assert "cart_mail_dead" in read and "http_request_duration_seconds_bucket" in read
    assert read - exported == set()
