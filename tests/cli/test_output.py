"""``-o`` onto what is not a regular file: devices, FIFOs, sockets, links, directories.

Each case runs as root in a private mount namespace over a tmpfs ``/dev`` made for it
(tests/support/private_dev.py), so a wrong rename could only ever replace a node of that tmpfs,
never the machine's ``/dev/null``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HELPER = Path(__file__).resolve().parents[1] / "support" / "private_dev.py"
RUN = f"{shlex.quote(sys.executable)} -m infra_gen"
TEMPLATE_START = "AWSTemplateFormatVersion: '2010-09-09'\n"
# What tests/support/private_dev.py makes, as it must still be after every run.
NODES = {
    "dir": "dir",
    "fd": "link",
    "fifo": "fifo",
    "full": "c 1,7",
    "loop7": "b 7,7",
    "null": "c 1,3",
    "null-link": "link",
    "socket": "socket",
    "stderr": "link",
    "stdin": "link",
    "stdout": "link",
}


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root for a private mount namespace"
    if shutil.which("unshare") is None:
        return "needs unshare (util-linux)"
    return None


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=str(_unavailable()))


def in_private_dev(snippet: str) -> dict[str, Any]:
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, str(HELPER), snippet],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_dev_null_is_written_not_replaced() -> None:
    r = in_private_dev(f"{RUN} -o /dev/null")
    assert (r["code"], r["stdout"], r["stderr"]) == (0, "", "")
    assert r["nodes"] == NODES


def test_a_link_to_dev_null_is_written_through_and_kept() -> None:
    r = in_private_dev(f"{RUN} -o /dev/null-link")
    assert (r["code"], r["stderr"]) == (0, "")
    assert r["nodes"] == NODES


def test_dev_full_is_one_line_no_space() -> None:
    r = in_private_dev(f"{RUN} -o /dev/full")
    assert r["code"] == 2
    assert r["stdout"] == ""
    assert r["stderr"] == "infra-gen: error: cannot write /dev/full: No space left on device\n"
    assert r["nodes"] == NODES


def test_dev_stdout_into_a_pipe_is_the_template() -> None:
    r = in_private_dev(f"{RUN} -o /dev/stdout | cat")
    assert r["code"] == 0, r["stderr"]
    assert r["stdout"].startswith(TEMPLATE_START)
    assert r["stderr"] == ""
    assert r["nodes"] == NODES


def test_dev_stderr_a_link_is_written_in_place() -> None:
    r = in_private_dev(f"{RUN} -o /dev/stderr")
    assert r["code"] == 0
    assert r["stdout"] == ""
    assert r["stderr"].startswith(TEMPLATE_START)
    assert r["nodes"] == NODES


def test_dev_stdout_appending_to_a_file_keeps_what_came_before() -> None:
    # The shell's `>>` stays in force: the template follows the line already written.
    r = in_private_dev(
        f"echo header > /tmp/ig-append.$$ && {RUN} -o /dev/fd/1 >> /tmp/ig-append.$$ && "
        "cat /tmp/ig-append.$$; rm -f /tmp/ig-append.$$"
    )
    assert r["code"] == 0, r["stderr"]
    assert r["stdout"].startswith("header\n" + TEMPLATE_START)


def test_a_fifo_is_written_for_its_reader_and_stays_a_fifo() -> None:
    r = in_private_dev(f"cat /dev/fifo & {RUN} -o /dev/fifo; code=$?; wait; exit $code")
    assert r["code"] == 0, r["stderr"]
    assert r["stdout"].startswith(TEMPLATE_START)
    assert r["nodes"] == NODES


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "/dev/socket",
            "-o /dev/socket: is a socket; allowed: a regular file, a new path, "
            "a character device or a FIFO",
        ),
        (
            "/dev/loop7",
            "-o /dev/loop7: is a block device; allowed: a regular file, a new path, "
            "a character device or a FIFO",
        ),
        ("/dev/dir", "-o /dev/dir: is a directory; give a file name, e.g. -o /dev/dir/stack.yaml"),
        (
            "/dev/dir/",
            "-o /dev/dir/: is a directory; give a file name, e.g. -o /dev/dir/stack.yaml",
        ),
    ],
)
def test_what_cannot_take_a_template_is_refused_in_one_line(target: str, message: str) -> None:
    r = in_private_dev(f"{RUN} -o {target}")
    assert r["code"] == 2
    assert r["stdout"] == ""
    assert r["stderr"] == f"infra-gen: error: {message}\n"
    assert r["nodes"] == NODES
