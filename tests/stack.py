"""Helpers for template tests: build, parse, select, lint."""

from __future__ import annotations

import json
from typing import Any

from cfnlint.api import ManualArgs, lint

from infra_gen import Config, build_template, render

# Regions the lint covers: the default one plus two with a different feature set.
LINT_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def template(cfg: Config | None = None) -> dict[str, Any]:
    return json.loads(render(build_template(cfg), "json"))


def of_type(t: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == resource_type}


def props(t: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return t["Resources"][logical_id].get("Properties", {})


def lint_findings(text: str) -> list[str]:
    """Every cfn-lint error and warning (the CLI's default rule set) for ``text``."""
    return [str(m) for m in lint(text, config=ManualArgs(regions=LINT_REGIONS))]


def refs(value: Any) -> set[str]:
    """Logical IDs a value refers to through Ref / Fn::GetAtt / ${...} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found
