"""checkov from its own environment (``CHECKOV_BIN``), over several templates in one run.

checkov takes seconds to start and a fraction of that per template, so the suite runs it
once per set of templates and reads each template's checks out of the one report.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest


def checkov_bin() -> str:
    """The checkov executable of ``CHECKOV_BIN``; the test fails, not skips, without it."""
    path = os.environ.get("CHECKOV_BIN", "")
    if not path:
        pytest.fail(
            "CHECKOV_BIN is not set: the security tests need checkov. Run them through tox "
            "(tox run -e checkov,test), or install checkov in its own venv and set "
            "CHECKOV_BIN=/path/to/venv/bin/checkov",
            pytrace=False,
        )
    if not os.access(path, os.X_OK):
        pytest.fail(f"CHECKOV_BIN={path} is not an executable checkov", pytrace=False)
    return path


def scan(templates: Mapping[str, str], workdir: Path) -> dict[str, dict[str, Any]]:
    """Run checkov once over every template (name -> YAML or JSON text).

    Returns:
        name -> that template's report: checkov's own, its results cut to the checks of
        that template's file; ``summary`` still counts the resources of the whole run.
    """
    files = {}
    for name, text in templates.items():
        path = workdir / (f"{name}.json" if text.startswith("{") else f"{name}.yaml")
        path.write_text(text, encoding="utf-8")
        files[path.name] = name
    # Hermetic: no config file from the working or home directory, no CKV_* skip
    # variables, no platform download; only the checks that ship with checkov.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "BC_"))}
    env["HOME"] = str(workdir)
    done = subprocess.run(
        [checkov_bin(), *(arg for f in sorted(files) for arg in ("-f", f))]
        + ["--framework", "cloudformation", "-o", "json", "--skip-download"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no JSON report (exit {done.returncode}):\n{done.stderr}")
    assert report["check_type"] == "cloudformation"
    reports = {}
    for file, name in files.items():
        results = {
            kind: [c for c in checks if Path(c["file_path"]).name == file]
            if kind != "parsing_errors"
            else checks
            for kind, checks in report["results"].items()
        }
        reports[name] = {**report, "results": results}
    return reports
