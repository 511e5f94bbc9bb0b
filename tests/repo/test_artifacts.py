"""The reviewed artifacts in out/, the pins they were made with, and the pipeline that
publishes them.

When the generated infrastructure changes on purpose, refresh out/ with `make stack`
and commit it: the diff is the change to review.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out"
CONSTRAINTS = ROOT / "constraints" / "runtime.txt"
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
REFRESH = "make stack"


@pytest.mark.parametrize("name", ["stack.yaml", "stack.json"])
def test_reviewed_artifacts_are_what_the_generator_writes(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra_gen", "--check", str(OUT / name)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, (
        f"out/{name} is stale: run `{REFRESH}` and commit out/ "
        f"(diff of the committed file against the generated one below)\n{result.stderr[:4000]}"
    )


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pins_cover_every_runtime_dependency_and_are_installed() -> None:
    pins = _pins()
    seen: set[str] = set()
    todo = ["troposphere", "awacs"]
    while todo:
        name = _normal(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        assert name in pins, f"{name} is a runtime dependency without a pin in {CONSTRAINTS.name}"
        assert metadata.version(name) == pins[name], f"{name}: installed differs from the pin"
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    assert seen == set(pins), f"pins without a runtime use: {set(pins) - seen}"


def test_make_artifact_checks_lints_and_writes_checksums() -> None:
    result = subprocess.run(
        ["make", "artifact"], capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    sums = (OUT / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in sums] == ["stack.yaml", "stack.json"]
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((OUT / name).read_bytes()).hexdigest() == digest


def _steps() -> list[dict[str, object]]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return [step for job in jobs.values() for step in job["steps"]]


def test_workflow_pins_every_action_by_commit() -> None:
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses: (\S+)@(\S+)(.*)", text)
    assert uses
    for action, ref, comment in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action} is pinned by {ref}, not a commit"
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{action}: name the release"


def test_workflow_runs_make_artifact_and_publishes_out() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    for job in workflow["jobs"].values():
        assert {"name": "Check, lint and checksum the template", "run": "make artifact"} in job[
            "steps"
        ]
    published = [step["with"] for step in _steps() if "upload-artifact" in str(step.get("uses"))]
    released = [step["with"] for step in _steps() if "gh-release" in str(step.get("uses"))]
    for files in (published[0]["path"], released[0]["files"]):
        # stack.yaml and stack.json for a configuration, the one a generator prints.
        assert files.split() == ["out/stack.*", "out/SHA256SUMS"]
    assert workflow["jobs"]["release"]["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert workflow["permissions"] == {"contents": "read"}


def test_the_wheel_ships_every_package_of_the_source_tree() -> None:
    # setuptools installs only the packages pyproject.toml lists: a layer missing from
    # the list imports from a checkout (an editable install) and fails from the wheel.
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    src = ROOT / "src"
    on_disk = {".".join(init.parent.relative_to(src).parts) for init in src.rglob("__init__.py")}
    assert set(setup["packages"]) == on_disk | {"infra_gen.lambda_src"}
    assert setup["package-dir"]["infra_gen.lambda_src"] == "lambda"
