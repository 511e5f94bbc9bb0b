"""Real servers for the probe handler: nginx and dnsmasq on loopback, and a handler runner.

Loopback addresses 127.0.0.2 and up stand in for ECS task IPs, all on ``PORT``; each one
behaves as ``INSTANCES`` says. dnsmasq on ``DNS_ADDRESS`` answers for ``NAMESPACE`` the way
Cloud Map's private DNS does: one A record per instance of a service, NXDOMAIN for unknown
names. ``run_handler`` executes any code file (the module, or the string taken from a
template) in a child process whose /etc/resolv.conf is bind-mounted, inside a private mount
namespace, to point at that dnsmasq, so name resolution goes through the real libc resolver.

Beside nginx, real servers that answer HTTP/1.1 in other ways: uvicorn with httptools
(chunks, 204, 304; ``asgi_app.py``), Node's http module (103 Early Hints before the answer;
``early_hints.js``) and a server-first SMTP-like banner.

Needs root, ``unshare``, ``mount``, Debian's nginx-light (nginx plus its echo module, used
for delayed answers), dnsmasq-base, Node at ``NODE`` and uvicorn with httptools (the test
extra). ``unavailable_reason()`` says what is missing.

Run as a script, this file is the child side of ``run_handler``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROBE_SOURCE = REPO / "lambda" / "probe.py"

NAMESPACE = "infra-gen.internal"
# Two suites can run their servers at once, each in a slot of its own: its own port for
# the tasks and its own addresses for the resolvers (tox runs the probe's tests under two
# interpreters side by side). Within a slot, suites take turns on a lock
# (tests/conftest.py, bench/bench_probe.py).
# Under pytest-xdist each worker has a world of its own: gw0 the slot given, gw1 two more
# (probe-newest, beside the test environment, takes slot 1).
SLOT = int(os.environ.get("PROBE_HARNESS_SLOT", "0")) + 2 * int(
    os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
)
LOCK_PATH = f"/tmp/infra_gen_probe-{SLOT}.lock"
PORT = 18080 + SLOT
ALT_PORT = 18180 + SLOT  # another service's own port, with its own path (ALT_PATH)
ALT_PATH = "/healthz"
_RESOLVERS = f"127.0.{53 + SLOT}"  # resolv.conf takes no port: resolvers differ by address
DNS_ADDRESS = f"{_RESOLVERS}.53"
# Receives DNS queries and never answers: resolution only ends by a timeout.
BLACKHOLE_DNS_ADDRESS = f"{_RESOLVERS}.54"

NGINX = "/usr/sbin/nginx"
DNSMASQ = "/usr/sbin/dnsmasq"
NODE = "/usr/bin/node"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

SLOW_SECONDS = 0.4  # within every timeout the tests use
STALL_SECONDS = 5.0  # beyond every timeout the tests use
HUGE_BODY_BYTES = 4 * 1024 * 1024
TRICKLE_PIECES, TRICKLE_GAP_SECONDS = 8, 0.3  # 2.1 s of body, no gap near a timeout

# Eight tasks that answer like a healthy service doing a little work: after TASK_SECONDS.
FLEET = [f"127.0.0.{70 + index}" for index in range(8)]
TASK_SECONDS = 0.2
FLEET_SERVICES = 40  # fleet-0 ... fleet-39, each name resolving to all of FLEET
# Lambda's CPU share at 128 MB: 128 / 1,769 MB of one vCPU (its documented 1 vCPU point).
LAMBDA_128_CPU_SHARE = 128 / 1769

# What each address does. "silent" is a socket that accepts connections and never reads;
# "refused" has nothing listening. The others are nginx server blocks.
INSTANCES: dict[str, str] = {
    "127.0.0.2": "ok",
    "127.0.0.3": "ok",
    "127.0.0.4": "ok",
    "127.0.0.5": "http_503",
    "127.0.0.6": "slow",
    "127.0.0.7": "stalled",
    "127.0.0.8": "trickle",
    "127.0.0.9": "huge",
    "127.0.0.10": "silent",
    "127.0.0.11": "refused",
    "127.0.0.12": "slow",
    "127.0.0.13": "slow",
    "127.0.0.83": "http11-only",
    **{address: "task" for address in FLEET},
}
HEALTHY = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
FAULTS = {
    "refused": "127.0.0.11",
    "http-503": "127.0.0.5",
    "silent": "127.0.0.10",
    "stalled": "127.0.0.7",
    "trickle": "127.0.0.8",
    "huge": "127.0.0.9",
    "slow": "127.0.0.6",
}
# Real servers of other kinds, each on its own address: uvicorn (chunks; 204 and 304 on their
# paths), Node (103 Early Hints; chunks on /chunked) and a banner sent before any request.
UVICORN = "127.0.0.80"
EARLY_HINTS = "127.0.0.81"
BANNER = "127.0.0.82"
BANNER_LINE = b"220 smtp ready\r\n"
HTTP11_ONLY = "127.0.0.83"  # nginx answering 426 to HTTP/1.0, as Envoy does by default
# Python servers on further addresses, for what nginx never does. Each reads the request,
# then sends what HOSTILE says and closes; trickles send one byte per TRICKLE_BYTE_SECONDS
# and floods send as fast as the client reads, both until the client leaves.
TRICKLE_BYTE_SECONDS = 0.05
OK_HEAD = b"HTTP/1.1 200 OK\r\n"
CHUNKED_HEAD = OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
CHUNKED_BODY_BYTES = 300
FLOOD_HEADERS, FLOOD_HEADER_BYTES = 98, 64 * 1024


def _trickle(conn: socket.socket, head: bytes, repeat: bytes) -> None:
    conn.sendall(head)
    until = time.monotonic() + 30
    while time.monotonic() < until:
        for byte in repeat:
            conn.sendall(bytes([byte]))
            time.sleep(TRICKLE_BYTE_SECONDS)


def _flood(conn: socket.socket, head: bytes, repeat: bytes) -> None:
    conn.sendall(head)
    block = repeat * (65536 // len(repeat))
    for _ in range(4096):  # 256 MB at most, should a client never stop reading
        conn.sendall(block)


def _send_and_hold(conn: socket.socket, data: bytes) -> None:
    """Send data and keep the connection open until the client closes it (at most 5 s)."""
    conn.sendall(data)
    while conn.recv(4096):
        pass


def _banner(conn: socket.socket) -> None:
    """A server-first protocol (SMTP): its banner comes before any request is read."""
    with conn:
        try:
            conn.settimeout(5)
            _send_and_hold(conn, BANNER_LINE)
        except OSError:
            pass


def _header_flood(conn: socket.socket) -> None:
    conn.sendall(OK_HEAD)
    for index in range(FLOOD_HEADERS):
        conn.sendall(b"X-Flood-%d: %s\r\n" % (index, b"a" * FLOOD_HEADER_BYTES))
    conn.sendall(b"Content-Length: 2\r\n\r\nok")


HOSTILE: dict[str, Callable[[socket.socket], None]] = {
    "no-response": lambda conn: None,
    "truncated-status": lambda conn: conn.sendall(b"HTTP/1.1 200"),
    "truncated-headers": lambda conn: conn.sendall(OK_HEAD + b"Content-Type: text/plain\r\n"),
    "short-body": lambda conn: conn.sendall(OK_HEAD + b"Content-Length: 100\r\n\r\n" + b"d" * 10),
    "cut-chunk": lambda conn: conn.sendall(CHUNKED_HEAD + b"64\r\n" + b"e" * 10),
    "not-http": lambda conn: conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n"),
    "bad-chunk-size": lambda conn: conn.sendall(CHUNKED_HEAD + b"zz\r\n"),
    "conflicting-lengths": lambda conn: conn.sendall(
        OK_HEAD + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    ),
    "chunked": lambda conn: conn.sendall(
        CHUNKED_HEAD
        + b"64\r\n"
        + b"a" * 100
        + b"\r\nC8;name=value\r\n"
        + b"b" * 200
        + b"\r\n0\r\nX-Checksum: none\r\n\r\n"
    ),
    "close-delimited": lambda conn: conn.sendall(OK_HEAD + b"\r\n" + b"c" * 100),
    "interim-then-ok": lambda conn: conn.sendall(
        CONTINUE
        + b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        + OK_HEAD
        + b"Content-Length: 2\r\n\r\nok"
    ),
    "trickle-status": lambda conn: _trickle(conn, b"", b"HTTP/1.1 200 " + b"O" * 4096),
    "trickle-headers": lambda conn: _trickle(conn, OK_HEAD, b"X-Slow: yes\r\n"),
    "trickle-chunks": lambda conn: _trickle(conn, CHUNKED_HEAD, b"1\r\nx\r\n"),
    "trickle-continue": lambda conn: _trickle(conn, b"", CONTINUE),
    "continue-flood": lambda conn: _flood(conn, b"", CONTINUE),
    "trailer-flood": lambda conn: _flood(
        conn, CHUNKED_HEAD + b"2\r\nok\r\n0\r\n", b"X-Trailer: flood\r\n"
    ),
    "header-flood": _header_flood,
    "chunk-flood": lambda conn: _flood(conn, CHUNKED_HEAD, b"1\r\nx\r\n"),
    "nul-in-name": lambda conn: conn.sendall(OK_HEAD + b"X-A\0b: 1\r\nContent-Length: 2\r\n\r\nok"),
    "space-in-name": lambda conn: conn.sendall(OK_HEAD + b"X A: 1\r\nContent-Length: 2\r\n\r\nok"),
    "separator-in-name": lambda conn: conn.sendall(
        OK_HEAD + b"X(A): 1\r\nContent-Length: 2\r\n\r\nok"
    ),
    "nul-in-value": lambda conn: conn.sendall(OK_HEAD + b"X-A: \0\r\nContent-Length: 2\r\n\r\nok"),
    "bare-cr-in-value": lambda conn: conn.sendall(
        OK_HEAD + b"X-A: 1\r2\r\nContent-Length: 2\r\n\r\nok"
    ),
    "status-999": lambda conn: conn.sendall(b"HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\nok"),
    # Complete answers on a connection the server keeps open despite Connection: close:
    # only their framing ends them before the deadline.
    "length-held": lambda conn: _send_and_hold(conn, OK_HEAD + b"Content-Length: 2\r\n\r\nok"),
    "chunks-held": lambda conn: _send_and_hold(conn, CHUNKED_HEAD + b"2\r\nok\r\n0\r\n\r\n"),
    "no-content-held": lambda conn: _send_and_hold(conn, b"HTTP/1.1 204 No Content\r\n\r\n"),
    "not-modified-held": lambda conn: _send_and_hold(
        conn, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"
    ),
    # What cannot be an answer, on a connection held open: judged at once.
    "bare-lf-held": lambda conn: _send_and_hold(conn, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
    "lone-cr-held": lambda conn: _send_and_hold(conn, b"HTTP/1.1 200 OK\rX"),
    "nul-held": lambda conn: _send_and_hold(conn, b"HTTP/1.1 200 OK\r\nX-A: \0"),
    "switching-held": lambda conn: _send_and_hold(
        conn, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"
    ),
    "gzip-coding": lambda conn: conn.sendall(
        OK_HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    ),
    "length-and-chunks": lambda conn: conn.sendall(
        OK_HEAD + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    ),
    "cut-trailers": lambda conn: conn.sendall(CHUNKED_HEAD + b"2\r\nok\r\n0\r\nX-T: 1\r\n"),
    "folded-field": lambda conn: conn.sendall(
        OK_HEAD + b"X-A: 1\r\n  continued\r\nContent-Length: 2\r\n\r\nok"
    ),
}
HOSTILE_ADDRESSES = {kind: f"127.0.0.{20 + index}" for index, kind in enumerate(HOSTILE)}
HEADER_FLOOD_8 = [f"127.0.0.{60 + index}" for index in range(8)]
# Those that trickle a head: each only ends at the deadline (trickle-chunks sends its whole
# head at once and ends as a bad response: chunks are never an answer to HTTP/1.0).
TRICKLING = [
    address
    for kind, address in HOSTILE_ADDRESSES.items()
    if kind.startswith("trickle-") and kind != "trickle-chunks"
]

# UDP resolvers that misbehave, each on its own address with its own resolv.conf; every
# one that answers at all says the name is at HEALTHY[0].
HOSTILE_RESOLVERS = {
    kind: f"{_RESOLVERS}.{60 + index}"
    for index, kind in enumerate(
        [
            "wrong-id",
            "garbage",
            "servfail",
            "compression-loop",
            "truncated-answer",
            "flood-then-answer",
            "truncated-then-tcp",
            "truncated-then-closed",
            "truncated-then-refused",
            "other-question",
            "other-name",
            "not-a-response",
            "nxdomain-then-answer",
        ]
    )
}

# Service name -> its instances. Each fault runs alone ("<fault>") and beside two healthy
# instances ("<fault>-mixed"); "down" has only failing instances of several kinds.
SERVICES: dict[str, list[str]] = {
    "healthy": HEALTHY,
    "down": ["127.0.0.5", "127.0.0.10", "127.0.0.11"],
    "slow-many": ["127.0.0.6", "127.0.0.12", "127.0.0.13"],
    **{fault: [address] for fault, address in FAULTS.items()},
    **{f"{fault}-mixed": [*HEALTHY[:2], address] for fault, address in FAULTS.items()},
    **{f"hostile-{kind}": [address] for kind, address in HOSTILE_ADDRESSES.items()},
    "header-flood-8": HEADER_FLOOD_8,
    "trickling": [*TRICKLING, FAULTS["stalled"], FAULTS["trickle"]],
    "trickling-mixed": [HEALTHY[0], *TRICKLING],
    "v6-only": [],  # a name with an AAAA record and no A record
    "alt": [HEALTHY[0]],
    "uvicorn": [UVICORN],
    "uvicorn-2": [UVICORN],
    "early-hints": [EARLY_HINTS],
    "early-hints-2": [EARLY_HINTS],
    "banner": [BANNER],
    "http11-only": [HTTP11_ONLY],
    **{f"fleet-{index}": FLEET for index in range(FLEET_SERVICES)},
}

# Every nginx instance sends 421 unless the Host header names a service of the namespace,
# so a probe that does not send the discovery name as Host fails against every instance.
_NGINX_LOCATIONS = {
    "ok": """
        location / { return 200 "ok\\n"; }
        location = /moved { return 301 /; }
        location /private/ { return 403; }""",
    "http_503": "location / { return 503; }",
    "slow": f'location / {{ echo_sleep {SLOW_SECONDS}; echo "slow"; }}',
    "stalled": f'location / {{ echo_sleep {STALL_SECONDS}; echo "late"; }}',
    "trickle": "location / { "
    + f"echo_flush; echo_sleep {TRICKLE_GAP_SECONDS}; echo piece; " * TRICKLE_PIECES
    + "}",
    "huge": "location / { try_files /huge.bin =404; }",
    "task": f'location / {{ echo_sleep {TASK_SECONDS}; echo "ok"; }}',
    "http11-only": """
        location / {
            if ($server_protocol = "HTTP/1.0") { return 426; }
            return 200 "ok\\n";
        }""",
}


class HarnessError(RuntimeError):
    """A server of the harness did not start, or the handler's output is unusable."""


@functools.cache
def unavailable_reason() -> str | None:
    """Why the real-server probe tests cannot run here, or None when they can."""
    for path, package in ((NGINX, "nginx-light"), (DNSMASQ, "dnsmasq-base"), (NODE, "nodejs")):
        if not os.access(path, os.X_OK):
            return f"{path} not found (apt-get install {package})"
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("httptools") is None:
        return "uvicorn or httptools not installed (pip install -e '.[test]')"
    if not os.path.exists(ECHO_MODULE):
        return f"{ECHO_MODULE} not found (apt-get install nginx-light)"
    for tool in ("unshare", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install util-linux mount)"
    check = subprocess.run(
        ["unshare", "--mount", "--", "mount", "--bind", "/etc/hostname", "/etc/hostname"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        return f"no private mount namespace (needs root): {check.stderr.strip()}"
    return None


@contextlib.contextmanager
def cpu_share(share: float) -> Iterator[Path]:
    """A CPU cgroup that holds its processes to share of one core, as Lambda holds a
    function to its memory's share; yields the cgroup.procs file to join; removes it.

    cgroup v1 (cpu.cfs_quota_us over a 100 ms cpu.cfs_period_us) or v2 (cpu.max). Its
    weight is the highest, as Lambda's share is the function's own: the machine's other
    load (the suite's other worker, other suites) takes nothing of it, the quota caps it."""
    name = f"infra-gen-probe-{os.getpid()}"
    period = 100_000
    quota = round(share * period)
    v1 = Path("/sys/fs/cgroup/cpu")
    if (v1 / "cpu.cfs_quota_us").exists():
        group = v1 / name
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text(str(period))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
        (group / "cpu.shares").write_text("262144")
    else:
        group = Path("/sys/fs/cgroup") / name
        group.mkdir()
        (group / "cpu.max").write_text(f"{quota} {period}")
        (group / "cpu.weight").write_text("10000")
    try:
        yield group / "cgroup.procs"
    finally:
        for _ in range(50):  # a killed child may take a moment to leave
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


@dataclass(frozen=True)
class RunResult:
    """One handler run: what it printed, returned or raised, and how long the call took."""

    exit_status: int  # 0 returned, 1 raised, anything else: the child process died
    stdout_lines: list[str]
    lines: list[Any]  # stdout_lines parsed as JSON
    return_value: Any
    error: str | None  # the traceback when the handler raised
    duration_s: float  # the handler call alone, without interpreter start or import
    import_s: float
    stderr: str
    # One entry per handler call in the process: its outcome and what the process held
    # after it (threads, open fds, child processes), with the counts before the first.
    runs: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, tuple[int, int, int]]:
        """The handler's return value: service -> (tasks found, answered, failed)."""
        return {
            entry["Service"]: (
                entry["DiscoveredInstances"],
                entry["SuccessfulRequests"],
                entry["FailedRequests"],
            )
            for entry in self.return_value
        }

    @property
    def answered(self) -> int:
        return sum(answered for _, answered, _ in self.counts.values())

    @property
    def failed(self) -> int:
        return sum(failed for _, _, failed in self.counts.values())

    @property
    def probes(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == "probe"]

    @property
    def discovery(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == "discovery"]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("level") == "ERROR"]

    @property
    def emf(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if "_aws" in line]


def run_handler(
    code_path: Path,
    env: Mapping[str, str],
    *,
    resolv_conf: Path,
    event: Any = None,
    timeout: float = 60.0,
    remaining_ms: int | None = None,
    runs: int = 1,
    patch: str | None = None,
    cgroup: Path | None = None,
) -> RunResult:
    """Run ``handler(event, context)`` from the file at code_path, resolving through resolv_conf.

    The child gets only PATH and ``env``, as a Lambda function gets only its configured
    variables. context is None, or with remaining_ms a fake Lambda context whose
    ``get_remaining_time_in_millis()`` counts down from it. runs > 1 calls the handler that
    many times in one process, as a warm container does. patch is Python run in the child
    after the import, with the module as ``module`` (to break something on purpose).
    cgroup is the cgroup.procs file of a cpu_share group: the child, start-up included,
    runs at that share. Raises HarnessError when the child dies or prints a line that is not JSON.
    """
    if event is None:
        event = {"source": "aws.events", "detail-type": "Scheduled Event"}
    options = {"event": event, "remaining_ms": remaining_ms, "runs": runs, "patch": patch}
    workdir = resolv_conf.parent
    result_path = workdir / f"result-{os.getpid()}-{time.monotonic_ns()}.json"
    command = [
        "unshare",
        "--mount",
        "--",
        "sh",
        "-c",
        'mount --bind "$0" /etc/resolv.conf && exec "$@"',
        str(resolv_conf),
        sys.executable,
        str(Path(__file__).resolve()),
        str(Path(code_path).resolve()),
        str(result_path),
        json.dumps(options),
    ]
    if cgroup is not None:
        command = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup), *command]
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    child_env.update(env)
    completed = subprocess.run(
        command, env=child_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    try:
        outcome = json.loads(result_path.read_text())
    except FileNotFoundError:
        raise HarnessError(
            f"child exited {completed.returncode} without a result:\n{completed.stderr}"
        ) from None
    finally:
        result_path.unlink(missing_ok=True)
    stdout_lines = completed.stdout.splitlines()
    lines = []
    for text in stdout_lines:
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            raise HarnessError(f"handler printed a line that is not JSON: {text!r}") from None
    return RunResult(
        exit_status=completed.returncode,
        stdout_lines=stdout_lines,
        lines=lines,
        return_value=outcome.get("return"),
        error=outcome.get("error"),
        duration_s=outcome["duration_s"],
        import_s=outcome["import_s"],
        stderr=completed.stderr,
        runs=outcome.get("runs", []),
        baseline=outcome.get("baseline", {}),
    )


@dataclass
class ProbeWorld:
    """Running servers plus the resolver configurations that reach them."""

    workdir: Path
    resolv_conf: Path
    blackhole_resolv_conf: Path
    records: dict[str, list[str]]
    namespace: str = NAMESPACE
    port: int = PORT
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    def env(self, service: str, path: str = "", **overrides: str) -> dict[str, str]:
        """The handler's environment for the services named (comma-separated) of the
        namespace, each requested on the world's port and path, with short timeouts."""
        env = {
            "PROBE_STACK": "probe-test",
            "PROBE_SERVICE_NAMES": ",".join(
                f"{name}:{self.port}{path}" for name in service.split(",")
            ),
            "PROBE_NAMESPACE": self.namespace,
            "PROBE_TIMEOUT_SECONDS": "1",
        }
        env.update(overrides)
        return env

    def run(
        self,
        code_path: Path,
        env: Mapping[str, str],
        *,
        blackhole_dns: bool = False,
        resolver: str | None = None,
        **options: Any,
    ) -> RunResult:
        """Run the handler; resolver names one of HOSTILE_RESOLVERS instead of dnsmasq."""
        resolv = self.blackhole_resolv_conf if blackhole_dns else self.resolv_conf
        if resolver is not None:
            resolv = self.workdir / f"resolv-{resolver}.conf"
        return run_handler(code_path, env, resolv_conf=resolv, **options)


@contextlib.contextmanager
def start_world(
    workdir: Path, extra_records: Mapping[str, list[str]] | None = None
) -> Iterator[ProbeWorld]:
    """Start nginx, dnsmasq and the silent sockets; stop them all on exit.

    extra_records adds services (name -> addresses) answered by servers the caller runs.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    records = {**SERVICES, **(extra_records or {})}
    resolv_conf = workdir / "resolv.conf"
    # One quick try: an unknown name must fail at once, not after the default 5 s x 2.
    resolv_conf.write_text(f"nameserver {DNS_ADDRESS}\noptions timeout:1 attempts:1\n")
    blackhole_resolv_conf = workdir / "blackhole-resolv.conf"
    blackhole_resolv_conf.write_text(
        f"nameserver {BLACKHOLE_DNS_ADDRESS}\noptions timeout:5 attempts:2\n"
    )
    world = ProbeWorld(workdir, resolv_conf, blackhole_resolv_conf, records)
    with contextlib.ExitStack() as stack:
        for address, kind in INSTANCES.items():
            if kind == "silent":
                stack.enter_context(_silent_listener(address, PORT))
        blackhole = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        blackhole.bind((BLACKHOLE_DNS_ADDRESS, 53))
        stop = threading.Event()
        for kind, address in HOSTILE_ADDRESSES.items():
            _serve_tcp(stack, stop, address, PORT, functools.partial(_http_conn, HOSTILE[kind]))
        _serve_tcp(stack, stop, BANNER, PORT, _banner)
        for address in HEADER_FLOOD_8:
            _serve_tcp(stack, stop, address, PORT, functools.partial(_http_conn, _header_flood))
        for kind, address in HOSTILE_RESOLVERS.items():
            (workdir / f"resolv-{kind}.conf").write_text(
                f"nameserver {address}\noptions timeout:5 attempts:2\n"
            )
            _serve_dns(stack, stop, kind, address)
        stack.callback(stop.set)  # first on exit: the server threads then end and are joined
        stack.callback(_stop_all, world._processes)
        world._processes.append(_start_dnsmasq(workdir, records))
        world._processes.append(_start_nginx(workdir))
        world._processes.append(_start_uvicorn(workdir))
        world._processes.append(_start_early_hints(workdir))
        yield world


@contextlib.contextmanager
def _silent_listener(address: str, port: int) -> Iterator[socket.socket]:
    # The kernel completes handshakes into the backlog, so connect and send succeed and
    # the answer never comes. A large backlog keeps later connects from being dropped.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(socket.SOMAXCONN)
        yield sock


def _serve_tcp(
    stack: contextlib.ExitStack,
    stop: threading.Event,
    address: str,
    port: int,
    handle: Callable[[socket.socket], None],
) -> None:
    """Accept on address:port in a thread until stop; each connection in a thread of its own."""
    listener = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(socket.SOMAXCONN)
    listener.settimeout(0.1)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    stack.callback(thread.join)


def _http_conn(behaviour: Callable[[socket.socket], None], conn: socket.socket) -> None:
    with conn:
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            behaviour(conn)
            conn.shutdown(socket.SHUT_WR)  # a FIN, not a reset: the request was read
        except OSError:
            pass  # the client left, as it should at its deadline


def _dns_reply(
    query: bytes, *, answers: int = 1, flags: int = 0x8180, other_name: bool = False
) -> bytes:
    """The answer to query: HEALTHY[0] as its A record, or flags and no record.

    other_name: the record's name is written out as another name, not the question's."""
    end = query.index(b"\0", 12) + 5  # the question: its name, type and class
    owner = b"\5other\0" if other_name else b"\xc0\x0c"
    record = owner + struct.pack(">HHIH", 1, 1, 10, 4) + socket.inet_aton(HEALTHY[0])
    header = query[:2] + struct.pack(">HHHHH", flags, 1, answers, 0, 0)
    return header + query[12:end] + record * answers


def _hostile_replies(kind: str, query: bytes) -> list[bytes]:
    good = _dns_reply(query)
    wrong_id = bytes([query[0] ^ 0xFF]) + good[1:]
    return {
        "wrong-id": [wrong_id],
        "garbage": [os.urandom(40)],
        "servfail": [_dns_reply(query, answers=0, flags=0x8182)],
        # The answer's name is a pointer to itself.
        "compression-loop": [
            good[: len(good) - 16] + b"\xc0" + bytes([len(good) - 16]) + good[len(good) - 14 :]
        ],
        "truncated-answer": [good[:-6]],
        "flood-then-answer": [wrong_id] * 100 + [good],  # within a socket buffer
        "truncated-then-tcp": [_dns_reply(query, answers=0, flags=0x8380)],
        "truncated-then-closed": [_dns_reply(query, answers=0, flags=0x8380)],
        "truncated-then-refused": [_dns_reply(query, answers=0, flags=0x8380)],
        # The question of another name, the ID of this query: ignored, as libc does.
        "other-question": [_dns_reply(query[:13] + b"x" + query[14:])],
        # This question, answered with an A record of another name.
        "other-name": [_dns_reply(query, other_name=True)],
        # The query sent back (no QR bit), then the answer.
        "not-a-response": [query, good],
        # NXDOMAIN: the lookup ends there, whatever comes after.
        "nxdomain-then-answer": [_dns_reply(query, answers=0, flags=0x8183), good],
    }[kind]


def _serve_dns(stack: contextlib.ExitStack, stop: threading.Event, kind: str, address: str) -> None:
    udp = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    udp.bind((address, 53))
    udp.settimeout(0.1)

    def serve() -> None:
        while not stop.is_set():
            try:
                query, client = udp.recvfrom(512)
                for reply in _hostile_replies(kind, query):
                    udp.sendto(reply, client)
            except (TimeoutError, OSError, ValueError):
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    stack.callback(thread.join)
    if kind == "truncated-then-tcp":  # the full answer over TCP, as a truncated one asks

        def tcp_answer(conn: socket.socket) -> None:
            with conn:
                size = struct.unpack(">H", conn.recv(2))[0]
                query = conn.recv(size)
                reply = _dns_reply(query)
                conn.sendall(struct.pack(">H", len(reply)) + reply)

        _serve_tcp(stack, stop, address, 53, tcp_answer)
    if kind == "truncated-then-closed":  # accepts the TCP retry and closes it at once
        _serve_tcp(stack, stop, address, 53, lambda conn: conn.close())


def _start_dnsmasq(workdir: Path, records: Mapping[str, list[str]]) -> subprocess.Popen[bytes]:
    lines = [
        "port=53",
        f"listen-address={DNS_ADDRESS}",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        # Answer only from this file, NXDOMAIN for any other name of the namespace.
        f"local=/{NAMESPACE}/",
        "log-queries",
    ]
    for service, addresses in sorted(records.items()):
        lines += [f"host-record={service}.{NAMESPACE},{address}" for address in addresses]
    lines.append(f"host-record=v6-only.{NAMESPACE},fd00::1")
    config = workdir / "dnsmasq.conf"
    config.write_text("\n".join(lines) + "\n")
    process = _spawn(
        [
            DNSMASQ,
            "--keep-in-foreground",
            f"--conf-file={config}",
            "--pid-file=",
            "--log-facility=-",
            "--user=root",
        ],
        workdir / "dnsmasq.log",
    )
    _wait_until(process, "dnsmasq", workdir / "dnsmasq.log", _dns_answers)
    return process


def _start_nginx(workdir: Path) -> subprocess.Popen[bytes]:
    html = workdir / "html"
    html.mkdir(exist_ok=True)
    with open(html / "huge.bin", "wb") as body:
        body.truncate(HUGE_BODY_BYTES)
    servers = []
    for address, kind in INSTANCES.items():
        if kind in _NGINX_LOCATIONS:
            servers.append(
                f"""
    server {{ listen {address}:{PORT} default_server; return 421; }}
    server {{
        listen {address}:{PORT};
        server_name *.{NAMESPACE};
        root {html};
        {_NGINX_LOCATIONS[kind]}
    }}"""
            )
    # HEALTHY[0] is a task of another service too, on its own port: healthy on its own path
    # only, so a probe of / there, or of ALT_PATH on PORT, fails.
    servers.append(
        f"""
    server {{ listen {HEALTHY[0]}:{ALT_PORT} default_server; return 421; }}
    server {{
        listen {HEALTHY[0]}:{ALT_PORT};
        server_name *.{NAMESPACE};
        location = {ALT_PATH} {{ return 200 "alt\\n"; }}
        location / {{ return 404; }}
    }}"""
    )
    temp_paths = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = workdir / "nginx.conf"
    # One process in the foreground, so it is our child and reads files as root.
    config.write_text(
        f"""load_module {ECHO_MODULE};
daemon off;
master_process off;
pid {workdir / "nginx.pid"};
error_log {workdir / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    log_format probe '$server_addr "$host" "$request" $status $body_bytes_sent';
    access_log {workdir / "nginx-access.log"} probe;
{temp_paths}
    default_type text/plain;
{"".join(servers)}
}}
"""
    )
    log = workdir / "nginx.log"
    process = _spawn(
        [NGINX, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"), "-c", str(config)],
        log,
    )
    nginx_addresses = [a for a, kind in INSTANCES.items() if kind in _NGINX_LOCATIONS]
    _wait_until(
        process,
        "nginx",
        workdir / "nginx-error.log",
        lambda: (
            all(_tcp_accepts(address, PORT) for address in nginx_addresses)
            and _tcp_accepts(HEALTHY[0], ALT_PORT)
        ),
    )
    return process


def _start_uvicorn(workdir: Path) -> subprocess.Popen[bytes]:
    log = workdir / "uvicorn.log"
    process = _spawn(
        [sys.executable, "-m", "uvicorn", "tests.support.asgi_app:app", "--host", UVICORN]
        + ["--port", str(PORT), "--http", "httptools", "--lifespan", "off", "--no-access-log"],
        log,
        cwd=REPO,
    )
    _wait_until(process, "uvicorn", log, lambda: _tcp_accepts(UVICORN, PORT))
    return process


def _start_early_hints(workdir: Path) -> subprocess.Popen[bytes]:
    log = workdir / "early-hints.log"
    script = Path(__file__).resolve().parent / "early_hints.js"
    process = _spawn([NODE, str(script), EARLY_HINTS, str(PORT)], log)
    _wait_until(process, "node", log, lambda: _tcp_accepts(EARLY_HINTS, PORT))
    return process


def _spawn(command: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)


def _wait_until(process: subprocess.Popen[bytes], name: str, log: Path, ready: Any) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(f"{name} exited {process.returncode}:\n{log.read_text()}")
        if ready():
            return
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise HarnessError(f"{name} did not become ready in 10 s:\n{log.read_text()}")


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tcp_accepts(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _dns_answers() -> bool:
    """True once dnsmasq answers a query (any answer, NXDOMAIN included)."""
    question = b"".join(
        bytes([len(label)]) + label.encode() for label in f"ready.{NAMESPACE}".split(".")
    )
    query = (
        struct.pack(">6H", 0x1D1D, 0x0100, 1, 0, 0, 0) + question + b"\0" + struct.pack(">2H", 1, 1)
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(query, (DNS_ADDRESS, 53))
            return sock.recv(512)[:2] == query[:2]
        except OSError:
            return False


class _Context:
    """The part of the Lambda context the probe reads."""

    def __init__(self, remaining_ms: int) -> None:
        self._until = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._until - time.monotonic()) * 1000))


def _peak_rss_kb() -> int:
    """Peak RSS of this program: VmHWM restarts at exec, unlike getrusage's ru_maxrss, which
    keeps that of the process it was forked from (pytest's, hundreds of MB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise HarnessError("no VmHWM in /proc/self/status")


def _held() -> dict[str, int]:
    """Peak memory, threads (the kernel's count), open fds and child processes."""
    try:
        os.waitpid(-1, os.WNOHANG)
        children = 1  # running, or ended and not reaped: either outlived its run
    except ChildProcessError:
        children = 0
    return {
        "max_rss_kb": _peak_rss_kb(),
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
        "children": children,
    }


def _child_main(code_path: str, result_path: str, options_json: str) -> None:
    """Load code_path as module ``index`` and call its handler, like the Lambda runtime."""
    options = json.loads(options_json)
    outcome: dict[str, Any] = {"runs": []}
    status = 0
    started = time.perf_counter()
    try:
        spec = importlib.util.spec_from_file_location("index", code_path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        outcome["import_s"] = time.perf_counter() - started
        if options["patch"]:
            exec(options["patch"], {"module": module})
        outcome["baseline"] = _held()
        for _ in range(options["runs"]):
            run: dict[str, Any] = {}
            remaining = options["remaining_ms"]
            context = None if remaining is None else _Context(remaining)
            started = time.perf_counter()
            try:
                run["return"] = module.handler(options["event"], context)
            except Exception:
                run["error"] = traceback.format_exc()
            run["duration_s"] = time.perf_counter() - started
            run.update(_held())
            outcome["runs"].append(run)
        last = outcome["runs"][-1]
        outcome.update({k: last[k] for k in ("return", "error", "duration_s") if k in last})
        status = 1 if "error" in last else 0
    except BaseException:
        status = 1
        outcome["error"] = traceback.format_exc()
        outcome.setdefault("duration_s", time.perf_counter() - started)
    outcome.setdefault("import_s", outcome["duration_s"])
    sys.stdout.flush()
    Path(result_path).write_text(json.dumps(outcome, default=repr))
    # Lambda freezes the process after the handler returns instead of joining its threads;
    # exiting at once keeps anything the handler left behind from holding the run.
    os._exit(status)


if __name__ == "__main__":
    _child_main(*sys.argv[1:4])
