"""README's promises: the library example runs and its two commands are the Makefile's."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from tests.support.documentation import DOCS, README, ROOT
from tests.support.stack import lint_findings

# What each README block must show: (a line of its output, a resource it adds or None).
BLOCKS = {
    "admit": ('"BastionEgressToService":', '"EcsServiceIngressFromBastion":'),  # JSON
    "add_alarm": ('"AlarmNoTraffic":', '"Namespace":"AWS/ApplicationELB"'),  # JSON
    "with_changes": ("service.memory: ", None),
    "add_service": ('"ApiLoadBalancerRule":', '"PROBE_SERVICE_NAMES":'),  # JSON: see README
    "grant": ("grant-1", None),  # YAML or JSON
    "add_secrets": ('"PolicyName":"read-secrets"', None),  # JSON
    "read_write": ("dynamodb:ConditionCheckItem", "- ${Arn}/index/*"),
}


def test_every_python_block_runs_and_the_templates_it_prints_lint_clean() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOCS, re.S)
    assert sorted(k for k in BLOCKS if any(f".{k}(" in b for b in blocks)) == sorted(BLOCKS)
    for block in blocks:
        result = subprocess.run(
            [sys.executable, "-c", block], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        keys = [k for k in BLOCKS if f".{k}(" in block]
        for expected in [e for key in keys for e in BLOCKS[key] if e]:
            assert expected in result.stdout, (keys, expected)
        key = ",".join(keys) or block.splitlines()[0]
        if result.stdout.startswith(("AWSTemplateFormatVersion", "{")):
            assert lint_findings(result.stdout) == [], key


def test_two_commands_exist_and_ci_runs_the_test_one() -> None:
    block = re.search(r"## The two commands.*?```sh\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]
    assert commands == ["make stack", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^stack:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert [
        line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))
    ] == ["make test"]


def test_every_public_name_is_documented() -> None:
    import infra_gen

    for name in (
        "build_stack",
        "build_template",
        "render",
        "check_size",
        "add_network",
        "add_probe",
        "add_alarms",
        "add_outputs",
        "AlarmSpec",
    ):
        assert name in infra_gen.__all__ and name in DOCS


def test_parameters_table_lists_every_parameter() -> None:
    from infra_gen import build_template

    doc = yaml.safe_load(build_template().to_json())
    for name in doc["Parameters"]:
        assert f"`{name}`" in DOCS, name


def test_every_checkov_skip_is_listed_with_its_resource() -> None:
    from infra_gen import Config
    from tests.support.stack import template

    table = DOCS.split("### checkov skips", 1)[1].split("###", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| CKV_")]
    hardened = {"security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True}}
    for cfg in (Config(), Config.from_mapping(hardened)):
        for logical_id, resource in template(cfg)["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                listed = [r for r in rows if skip["id"] in r.split("|")[1].strip().split(", ")]
                assert listed, skip["id"]
                where = listed[0].split("|")[2]
                assert logical_id in where or "log group" in where, (skip["id"], logical_id)
