"""``verify --wait`` and ``verify --format json``, on the Stubber answers of support/verify."""

from __future__ import annotations

import io
import json
import re
import time

import pytest

from infra_gen import cli as commands
from infra_gen.deploy.verify import Check, verify_until
from tests.support.documentation import DOCS
from tests.support.verify import FUNCTION, HEALTHY, STACK, run, stubbed

README = DOCS  # README and docs/: the output shown there


def in_readme(out: str) -> bool:
    """README shows this output; the local server's port and the seconds left may differ."""

    def masked(text: str) -> str:
        return re.sub(r"127\.0\.0\.1:\d+|\d+s left", "X", text)

    return masked(out) in masked(README)


def test_wait_waits_through_a_releases_bake(
    site: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site["status"] = 200
    url = f"http://127.0.0.1:{site['port']}"
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    # Every task runs, but the old revision's deployment is still there: a canary bakes.
    stubs = stubbed(url, probe=HEALTHY, s=stubbed(url, probe=HEALTHY, deployments=2))
    out = io.StringIO()
    with stubs:
        code = commands.main(
            ["verify", "--stack-name", STACK, "--wait", "1800", "--interval", "60"],
            clients=stubs,
            stdout=out,
        )
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"Stack {STACK}: not healthy yet (tasks); checking again in 60s, ")
    assert lines[-1] == f"Stack {STACK}: healthy"
    assert sleeps == [60.0]
    # Without --wait, the bake is a failed check that says why.
    with stubbed(url, probe=HEALTHY, deployments=2) as once:
        code, text = run(once)
    assert code != 0
    assert (
        "FAIL tasks        2 running of 2 desired (0 pending); 2 deployments: a release is "
        "shifting traffic or baking"
    ) in text


def test_wait_checks_again_until_healthy(
    site: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site["status"] = 200
    url = f"http://127.0.0.1:{site['port']}"
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    # Tasks still starting, then all running.
    stubs = stubbed(url, probe=HEALTHY, s=stubbed(url, probe=HEALTHY, running=1))
    out = io.StringIO()
    with stubs:
        code = commands.main(
            ["verify", "--stack-name", STACK, "--wait", "300", "--interval", "15"],
            clients=stubs,
            stdout=out,
        )
    assert code == 0
    assert in_readme(out.getvalue())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"Stack {STACK}: not healthy yet (tasks); checking again in 15s, ")
    assert lines[1:] == [
        "ok   stack        CREATE_COMPLETE",
        f"ok   service URL  {url} answered HTTP 200",
        f"ok   probe        {FUNCTION}: 2 tasks found, 2 answered, 0 failed",
        "ok   tasks        2 running of 2 desired (0 pending)",
        "ok   alarms       2 alarms OK",
        f"Stack {STACK}: healthy",
    ]
    assert sleeps == [15.0]


def test_wait_gives_up_at_the_deadline_with_the_last_answer() -> None:
    now = [0.0]
    sleeps: list[float] = []
    attempts: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def attempt() -> list[Check]:
        attempts.append(now[0])
        return [Check("tasks", False, f"attempt {len(attempts)}")]

    checks = verify_until(attempt, 25, interval=10, sleep=sleep, clock=lambda: now[0])
    assert attempts == [0, 10, 20, 25]  # the last one at the deadline, none after it
    assert sleeps == [10, 10, 5]
    assert checks == [Check("tasks", False, "attempt 4")]
    assert verify_until(attempt, 0, sleep=sleep, clock=lambda: now[0]) == [
        Check("tasks", False, "attempt 5")
    ]  # --wait 0 (the default): one answer


def test_json_is_one_object_per_check_and_keeps_the_exit_status(
    site: dict[str, int],
) -> None:
    site["status"] = 503
    url = f"http://127.0.0.1:{site['port']}"
    out = io.StringIO()
    stubs = stubbed(url, probe=HEALTHY)
    with stubs:
        code = commands.main(
            ["verify", "--stack-name", STACK, "--format", "json"], clients=stubs, stdout=out
        )
    assert code == 1
    assert in_readme(out.getvalue())
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(o["check"], o["ok"]) for o in objects] == [
        ("stack", True),
        ("service URL", False),
        ("probe", True),
        ("tasks", True),
        ("alarms", True),
    ]
    assert objects[1] == {
        "check": "service URL",
        "ok": False,
        "detail": f"{url} answered HTTP 503",
        "where": "target group health in the EC2 console (Target groups)",
    }
    site["status"] = 200
    code, _ = run(stubbed(url, probe=HEALTHY))
    assert code == 0


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_wait_must_be_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["verify", "--stack-name", STACK, "--wait", value]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"argument --wait: {value!r}: expected seconds, a number from 0 to 3600" in line
