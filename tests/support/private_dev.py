"""Run a shell snippet over a fresh tmpfs ``/dev``, inside a private mount namespace.

Usage (as root): ``unshare --mount --propagation private python private_dev.py SNIPPET``.
The machine's ``/dev`` is never written: the tmpfs hides it in this namespace only,
and goes with it. Prints one JSON object: the snippet's exit status, stdout and stderr
(as text), and the kind of every node below ``/dev`` afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys


def kind(path: str) -> str:
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        letter = "c" if stat.S_ISCHR(mode) else "b"
        rdev = os.lstat(path).st_rdev
        return f"{letter} {os.major(rdev)},{os.minor(rdev)}"
    for test, name in (
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISDIR, "dir"),
        (stat.S_ISREG, "file"),
    ):
        if test(mode):
            return name
    return "other"


def main(snippet: str) -> int:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/dev"], check=True)
    os.mknod("/dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod("/dev/full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    os.mknod("/dev/loop7", 0o660 | stat.S_IFBLK, os.makedev(7, 7))
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("null-link", "/dev/null"),
    ):
        os.symlink(target, f"/dev/{name}")
    os.mkfifo("/dev/fifo")
    os.mkdir("/dev/dir")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("/dev/socket")
    done = subprocess.run(["sh", "-c", snippet], capture_output=True, timeout=120)
    nodes = {name: kind(f"/dev/{name}") for name in sorted(os.listdir("/dev"))}
    print(
        json.dumps(
            {
                "code": done.returncode,
                "stdout": done.stdout.decode("utf-8", "replace"),
                "stderr": done.stderr.decode("utf-8", "replace"),
                "nodes": nodes,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
