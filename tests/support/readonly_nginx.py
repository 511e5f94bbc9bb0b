"""nginx as a read-only-root container runs it: the child side of ``run``.

``run`` starts this file under ``unshare --mount --net`` (the suite runs as root). In its
private mount namespace every file system but /proc, /sys and /dev is remounted read-only,
as Fargate mounts a container's root with ``ReadonlyRootFilesystem``; a tmpfs is then
mounted on each writable path, owned as the image's ``VOLUME`` directory is (or as Fargate
makes a volume without one: root, 0755). nginx starts as the container's user with a
configuration like nginx-unprivileged's (pid file and every ``*_temp_path`` under /tmp,
listening on the container port), and one GET of the probe's path is sent on the
namespace's own loopback. The outcome is one JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

NGINX = "/usr/sbin/nginx"
# The kernel's file systems, which a container runtime mounts for the container too.
_KERNEL = ("/proc", "/sys", "/dev")
START_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    """What became of one nginx start."""

    status: int | None
    """The HTTP status of the GET, or None when nothing answered."""
    exited: int | None
    """nginx's exit status when it stopped by itself before answering, else None."""
    stderr: str
    """nginx's standard error."""


def nginx_conf(port: int, html: Path) -> str:
    """A configuration like nginx-unprivileged's after its Dockerfile's edits."""
    # Its Dockerfile: pid /var/run/nginx.pid -> /tmp/nginx.pid, no `user`, listen 8080, and
    # these five temp paths added to http {}. Logs go to the standard streams (its
    # /var/log/nginx files are links to them).
    return f"""worker_processes 1;
error_log stderr notice;
pid /tmp/nginx.pid;
events {{ worker_connections 64; }}
http {{
    proxy_temp_path /tmp/proxy_temp;
    client_body_temp_path /tmp/client_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    access_log /dev/stdout;
    server {{
        listen 127.0.0.1:{port};
        root {html};
    }}
}}
"""


def run(
    *, user: str, port: int, path: str, writable: dict[str, tuple[int, int]], timeout: float = 60
) -> Outcome:
    """Start nginx as ``user`` on a read-only root with tmpfs volumes ``writable``
    (container path -> (owner uid, mode)), GET ``path`` on ``port``, stop it.

    Missing mount points are created first, as the image has them, and removed after.
    """
    made = [Path(p) for p in sorted(writable) if not Path(p).exists()]
    for directory in made:
        directory.mkdir(parents=True)
    # Outside every writable path and /tmp (which may be one): read-only in the namespace.
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="governed-nginx-") as name:
        site = Path(name)
        site.chmod(0o755)
        (site / "html").mkdir(mode=0o755)
        page = site / "html" / (path.strip("/") or "index.html")
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("ok\n")
        (site / "nginx.conf").write_text(nginx_conf(port, site / "html"))
        for entry in site.rglob("*"):
            entry.chmod(0o755 if entry.is_dir() else 0o644)
        spec = {"user": user, "port": port, "path": path, "writable": writable, "site": name}
        completed = subprocess.run(
            ["unshare", "--mount", "--net", "--", sys.executable, __file__, json.dumps(spec)],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    for directory in reversed(made):
        directory.rmdir()
    if completed.returncode != 0:
        raise RuntimeError(f"namespace child exited {completed.returncode}: {completed.stderr}")
    return Outcome(**json.loads(completed.stdout.splitlines()[-1]))


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4].encode().decode("unicode_escape")
            if not any(point == k or point.startswith(k + "/") for k in _KERNEL):
                points.append(point)
    return points


def _child(spec: dict[str, object]) -> Outcome:
    def sh(*command: str) -> None:
        subprocess.run(command, check=True, capture_output=True)

    sh("mount", "--make-rprivate", "/")
    sh("ip", "link", "set", "lo", "up")
    for point in _mount_points():
        # Per mount flags only: the file systems stay writable outside the namespace.
        sh("mount", "-o", "remount,bind,ro", point)
    writable = spec["writable"]
    assert isinstance(writable, dict)
    for container_path, (uid, mode) in sorted(writable.items()):
        sh("mount", "-t", "tmpfs", "-o", f"uid={uid},gid=0,mode={mode:o}", "tmpfs", container_path)
    try:
        Path(str(spec["site"]), "written").write_text("")
    except OSError:
        pass
    else:
        raise AssertionError("the root file system is still writable")
    nginx = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={spec['user']}",
            f"--regid={spec['user']}",
            "--clear-groups",
            NGINX,
            "-e",
            "stderr",
            "-c",
            f"{spec['site']}/nginx.conf",
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    status = exited = None
    url = f"http://127.0.0.1:{spec['port']}{spec['path']}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if nginx.poll() is not None:
            exited = nginx.returncode
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                status = response.status
            break
        except urllib.error.HTTPError as e:
            status = e.code
            break
        except OSError:
            time.sleep(0.05)
    if nginx.poll() is None:
        nginx.terminate()
    _, stderr = nginx.communicate(timeout=10)
    return Outcome(status=status, exited=exited, stderr=stderr)


if __name__ == "__main__":
    outcome = _child(json.loads(sys.argv[1]))
    print(json.dumps(outcome.__dict__))
