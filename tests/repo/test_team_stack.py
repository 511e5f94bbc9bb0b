"""A team's own stack through make stack, make artifact, make deploy-file and the
workflow's steps: a configuration file (``CONFIG``) or a generator script
(``GENERATOR``), never the defaults in their place.

make runs in a subprocess with ``OUT`` set to a temporary directory, so the committed
out/ is never written; the workflow's steps are read from its YAML and their scripts run
in bash with the variables the workflow sets (``infra-gen`` replaced by a recorder).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
TEAM = "[service]\ncpu = 512\nmemory = 1024\n"
# Over 51,200 bytes as YAML, under as compact JSON: deploy sends the JSON.
LARGE = (
    "[network]\naz_count = 3\n"
    "[security]\nflow_logs = true\nkms_logs = true\nalb_access_logs = true\n"
    '[service]\nimage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.0"\n'
)
GENERATOR = "examples/queue_grant_alarm.py"


def make(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CONFIG", "GENERATOR", "OUT")}
    return subprocess.run(
        ["make", "-s", "--no-print-directory", *argv],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env={**environ, **env},
    )


def generated(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=300, cwd=ROOT, check=True
    )
    return done.stdout


@pytest.fixture
def team(tmp_path: Path) -> Path:
    path = tmp_path / "stack.toml"
    path.write_text(TEAM)
    return path


def test_make_stack_writes_the_teams_configuration_not_the_defaults(
    team: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = make("stack", f"CONFIG={team}", f"OUT={out}")
    assert done.returncode == 0, done.stderr
    for fmt in ("yaml", "json"):
        written = (out / f"stack.{fmt}").read_text()
        assert written == generated("-m", "infra_gen", "--config", str(team), "--format", fmt)
        assert written != (ROOT / "out" / f"stack.{fmt}").read_text()  # not the defaults
    assert make("deploy-file", f"CONFIG={team}", f"OUT={out}").stdout == f"{out}/stack.yaml\n"


def test_make_artifact_checks_the_teams_stack_and_never_the_defaults(
    team: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # The committed defaults are stale for the team: refused, with the command that fixes it.
    for name in ("stack.yaml", "stack.json"):
        shutil.copy(ROOT / "out" / name, out / name)
    done = make("artifact", f"CONFIG={team}", f"OUT={out}")
    assert done.returncode == 2
    assert f"infra-gen: {out}/ is stale: run 'make stack CONFIG={team}'" in done.stderr
    assert not (out / "SHA256SUMS").exists()
    # The same variable through the environment, as the workflow passes it.
    assert make("stack", OUT=str(out), CONFIG=str(team)).returncode == 0
    done = make("artifact", OUT=str(out), CONFIG=str(team))
    assert done.returncode == 0, done.stderr
    sums = [line.split("  ")[1] for line in (out / "SHA256SUMS").read_text().splitlines()]
    assert sums == ["stack.yaml", "stack.json"]


def test_make_stack_takes_a_generator_scripts_output_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert make("stack", f"GENERATOR={GENERATOR}", f"OUT={out}").returncode == 0
    # The form the script prints: YAML when it fits a request, else compact JSON.
    name = "stack.json" if generated(GENERATOR).startswith("{") else "stack.yaml"
    assert [p.name for p in out.iterdir()] == [name]
    assert (out / name).read_text() == generated(GENERATOR)
    done = make("deploy-file", f"GENERATOR={GENERATOR}", f"OUT={out}")
    assert done.stdout == f"{out}/{name}\n"
    # --check of a generator: its output changed, the artifact is stale.
    (out / name).write_text(generated(GENERATOR) + "\n")
    done = make("artifact", f"GENERATOR={GENERATOR}", f"OUT={out}")
    assert done.returncode == 2 and "+++ generated" in done.stderr
    assert f"run 'make stack GENERATOR={GENERATOR}'" in done.stderr


@pytest.mark.parametrize(
    ("variables", "script", "message"),
    [
        ({"CONFIG": "missing.toml"}, None, "CONFIG='missing.toml': --config missing.toml: cannot "),
        ({"CONFIG": "{bad}"}, "[service]\ncpu = 3\n", "CONFIG='{bad}': service.cpu"),
        ({"GENERATOR": "{gen}"}, "import sys\nsys.exit(3)\n", "exited with status 3"),
        ({"GENERATOR": "{gen}"}, "print('garbage')\n", "its output: not a CloudFormation"),
        ({"GENERATOR": "{gen}"}, "pass\n", "printed nothing; it must print the template"),
        ({"GENERATOR": "{gen}"}, "import sys\nsys.stdout.buffer.write(b'\\xff')\n", "not UTF-8"),
        ({"GENERATOR": "nope.py"}, None, "GENERATOR='nope.py': no such file"),
        ({"CONFIG": "a.toml", "GENERATOR": "b.py"}, None, "give one of them"),
    ],
    ids=[
        "config-missing",
        "config-invalid",
        "generator-fails",
        "generator-garbage",
        "generator-silent",
        "generator-not-utf-8",
        "generator-missing",
        "both",
    ],
)
def test_a_bad_config_or_generator_is_one_line_and_writes_nothing(
    tmp_path: Path, variables: dict[str, str], script: str | None, message: str
) -> None:
    given = tmp_path / "given"
    if script is not None:
        given.write_text(script)
    env = {k: v.format(bad=given, gen=given) for k, v in variables.items()}
    out = tmp_path / "out"
    for target in ("stack", "artifact", "deploy-file"):
        done = make(target, f"OUT={out}", **env)
        assert done.returncode == 2, (target, done.stderr)
        (line,) = [x for x in done.stderr.splitlines() if x.startswith("infra-gen: ")]
        assert line.startswith("infra-gen: error: ")
        assert message.format(bad=given, gen=given) in line, line
        assert not out.exists()


# --------------------------------------------------------------------------------------
# The workflow's steps, run with a team's stack.
# --------------------------------------------------------------------------------------


def workflow() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text()))


def step(job: str, name: str) -> str:
    (found,) = [s for s in workflow()["jobs"][job]["steps"] if s.get("name") == name]
    return str(found["run"])


def test_the_workflow_passes_config_and_generator_to_every_job() -> None:
    flow = workflow()
    # YAML reads the key "on" as True.
    inputs = flow[True]["workflow_dispatch"]["inputs"]
    assert {"config", "generator"} <= set(inputs)
    assert flow["env"] == {
        "CONFIG": "${{ inputs.config || vars.CONFIG }}",
        "GENERATOR": "${{ inputs.generator || vars.GENERATOR }}",
    }
    for name, job in flow["jobs"].items():
        assert not {"CONFIG", "GENERATOR", "OUT"} & set(job.get("env", {})), name
        for s in job["steps"]:
            assert not {"CONFIG", "GENERATOR", "OUT"} & set(s.get("env", {})), (name, s)
            run = str(s.get("run", ""))
            # make reads them from the environment; none is reset on a command line.
            assert "CONFIG=" not in run and "GENERATOR=" not in run, (name, run)
        runs = [str(s.get("run", "")) for s in job["steps"]]
        assert "make artifact" in runs, name


def run_step(script: str, cwd: Path, env: dict[str, str], scratch: Path) -> dict[str, str]:
    """Run a step's script as GitHub does (bash -e), and return what it put in GITHUB_ENV
    (a file in ``scratch``)."""
    github_env = scratch / "github_env"
    github_env.write_text("")
    environ = {k: v for k, v in os.environ.items() if k not in ("CONFIG", "GENERATOR", "OUT")}
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**environ, **env, "GITHUB_ENV": str(github_env)},
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in github_env.read_text().splitlines())


def recorder(directory: Path) -> Path:
    """A stand-in for .venv/bin/infra-gen that records its arguments, one call a line."""
    log = directory / "calls"
    tool = directory / ".venv" / "bin" / "infra-gen"
    tool.parent.mkdir(parents=True)
    tool.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return log


@pytest.mark.parametrize(
    ("kind", "deploy_file", "from_s3"),
    [
        ("team", "stack.yaml", ""),
        ("large", "stack.json", ""),
        ("generator", "stack.json", "--resolve-s3"),
    ],
)
def test_the_plan_job_previews_and_plans_the_teams_template(
    tmp_path: Path, kind: str, deploy_file: str, from_s3: str
) -> None:
    out = tmp_path / "out"
    if kind == "generator":
        # Three services: over the limit in both forms, printed as compact JSON.
        variables = {"GENERATOR": "examples/three_services.py"}
    else:
        config = tmp_path / "stack.toml"
        config.write_text(TEAM if kind == "team" else LARGE)
        variables = {"CONFIG": str(config)}
    env = {**variables, "OUT": str(out)}
    assert make("stack", **env).returncode == 0
    # The job's own steps, in order, with the workflow's environment.
    assert make("artifact", **env).returncode == 0
    chosen = run_step(step("plan", "Choose the template deploy sends"), ROOT, env, tmp_path)
    assert chosen == {"TEMPLATE": f"{out}/{deploy_file}", "FROM_S3": from_s3}
    work = tmp_path / "job"
    log = recorder(work)
    run_step(
        step("plan", "Preflight and plan"),
        work,
        {**chosen, "STACK_NAME": "team-stack", **env},
        tmp_path,
    )
    calls = log.read_text().splitlines()
    tail = f" {from_s3}" if from_s3 else ""
    assert calls == [
        f"preflight --stack-name team-stack --template-file {out}/{deploy_file}{tail}",
        f"diff --stack-name team-stack --template-file {out}/{deploy_file}{tail} "
        "--plan-out plan.json",
    ]


def test_the_deploy_job_compares_the_plan_with_the_file_deploy_sends() -> None:
    script = step("deploy", "Download the plan reviewed in the pull request")
    assert "template=$(make -s deploy-file)" in script
    assert '"$(jq -r .template_sha256 plan/plan.json)" = "$(sha256sum < "$template"' in script
    assert "out/stack.yaml" not in script  # not the default's file
