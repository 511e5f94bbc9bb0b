"""``make emulator``: the emulator as a user starts it, and the commands run against it as
separate processes, with only the environment it prints (docs/deploy.md, "Try it on a
laptop")."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_emulator_runs_the_devtools_module_on_a_port() -> None:
    done = subprocess.run(
        ["make", "-n", "emulator", "PORT=5123"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("python -m devtools.emulator --port 5123")


def test_the_emulator_a_user_starts_takes_every_command_end_to_end(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "devtools.emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        printed = []
        for line in server.stdout:
            printed.append(line)
            if line.startswith("Ctrl-C stops it"):
                break
        # Only what it printed, on a clean environment: no AWS_* of the machine.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none")
        for line in printed:
            found = re.fullmatch(r"  export (AWS_[A-Z_]+)=(\S+)\n", line)
            if found:
                env[found[1]] = found[2]
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")

        def infra_gen(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "infra_gen", *argv],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )

        deployed = infra_gen("deploy", "--stack-name", "demo", "--yes")
        assert deployed.returncode == 0, deployed.stderr
        assert "Stack demo: CREATE_COMPLETE" in deployed.stdout
        diff = infra_gen("diff", "--stack-name", "demo", "--parameter", "MinTasks=3")
        assert diff.returncode == 1, diff.stderr
        assert diff.stdout.splitlines()[0] == "Stack demo: 1 changes to update"
        preflight = infra_gen("preflight", "--stack-name", "demo")
        assert preflight.returncode == 0, preflight.stderr
        assert "ok   ECS role     AWSServiceRoleForECS exists" in preflight.stdout
        verified = infra_gen("verify", "--stack-name", "demo", "--timeout", "2")
        # The emulator has no load balancer on the network and runs no function: those
        # two checks fail; the stack, its tasks and its alarms are read.
        assert verified.returncode == 1
        assert verified.stdout.splitlines()[-1] == "Stack demo: NOT healthy (service URL, probe)"
        assert "ok   tasks        2 running of 2 desired (0 pending)" in verified.stdout
        deleted = infra_gen("delete", "--stack-name", "demo", "--yes", "--poll-interval", "1")
        assert deleted.returncode == 0, deleted.stderr
        assert deleted.stdout.splitlines()[-1] == "Stack demo: DELETE_COMPLETE"
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
