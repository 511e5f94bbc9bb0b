"""The API reference builds from the docstrings without a warning (make docs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_api_reference_builds_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "build-docs.sh"), str(tmp_path)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Warning" not in result.stderr, result.stderr[-2000:]
    package = (tmp_path / "infra_gen.html").read_text(encoding="utf-8")
    for name in ("build_stack", "Stack", "AlarmSpec", "check_size", "with_changes"):
        assert name in package, name
    alarms = (tmp_path / "infra_gen" / "template" / "alarms.html").read_text(encoding="utf-8")
    assert "notifying the topic on ALARM and on OK" in alarms
    assert (tmp_path / "infra_gen" / "template" / "ids.html").exists()
