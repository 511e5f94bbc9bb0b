"""Real servers for the probe handler: nginx and dnsmasq on loopback, and a handler runner.

Loopback addresses 127.0.0.2 and up stand in for ECS task IPs, all on ``PORT``; each one
behaves as ``INSTANCES`` says. dnsmasq on ``DNS_ADDRESS`` answers for ``NAMESPACE`` the way
Cloud Map's private DNS does: one A record per instance of a service, NXDOMAIN for unknown
names. ``run_handler`` executes any code file (the module, or the string taken from a
template) in a child process whose /etc/resolv.conf is bind-mounted, inside a private mount
namespace, to point at that dnsmasq, so name resolution goes through the real libc resolver.

Needs root, ``unshare``, ``mount``, Debian's nginx-light (nginx plus its echo module, used
for delayed answers) and dnsmasq-base. ``unavailable_reason()`` says what is missing.

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
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PROBE_SOURCE = REPO / "lambda" / "probe.py"

NAMESPACE = "infra-gen.internal"
PORT = 18080
DNS_ADDRESS = "127.0.53.53"
# Receives DNS queries and never answers: resolution only ends by a timeout.
BLACKHOLE_DNS_ADDRESS = "127.0.53.54"

NGINX = "/usr/sbin/nginx"
DNSMASQ = "/usr/sbin/dnsmasq"
ECHO_MODULE = "/usr/lib/nginx/modules/ngx_http_echo_module.so"

SLOW_SECONDS = 0.4  # within every timeout the tests use
STALL_SECONDS = 5.0  # beyond every timeout the tests use
HUGE_BODY_BYTES = 4 * 1024 * 1024
TRICKLE_PIECES, TRICKLE_GAP_SECONDS = 8, 0.3  # 2.1 s of body, no gap near a timeout

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
# Service name -> its instances. Each fault runs alone ("<fault>") and beside two healthy
# instances ("<fault>-mixed"); "down" has only failing instances of several kinds.
SERVICES: dict[str, list[str]] = {
    "healthy": HEALTHY,
    "down": ["127.0.0.5", "127.0.0.10", "127.0.0.11"],
    "slow-many": ["127.0.0.6", "127.0.0.12", "127.0.0.13"],
    **{fault: [address] for fault, address in FAULTS.items()},
    **{f"{fault}-mixed": [*HEALTHY[:2], address] for fault, address in FAULTS.items()},
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
}


class HarnessError(RuntimeError):
    """A server of the harness did not start, or the handler's output is unusable."""


@functools.cache
def unavailable_reason() -> str | None:
    """Why the real-server probe tests cannot run here, or None when they can."""
    for path, package in ((NGINX, "nginx-light"), (DNSMASQ, "dnsmasq-base")):
        if not os.access(path, os.X_OK):
            return f"{path} not found (apt-get install {package})"
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

    @property
    def probes(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == "probe"]

    @property
    def discovery(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == "discovery"]

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
) -> RunResult:
    """Run ``handler(event, None)`` from the file at code_path, resolving through resolv_conf.

    The child gets only PATH and ``env``, as a Lambda function gets only its configured
    variables. Raises HarnessError when the child dies or prints a line that is not JSON.
    """
    if event is None:
        event = {"source": "aws.events", "detail-type": "Scheduled Event"}
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
        json.dumps(event),
    ]
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

    def env(self, service: str, **overrides: str) -> dict[str, str]:
        """The handler's environment for one service of the namespace, with short timeouts."""
        env = {
            "PROBE_STACK": "probe-test",
            "PROBE_SERVICE_NAME": service,
            "PROBE_NAMESPACE": self.namespace,
            "PROBE_PORT": str(self.port),
            "PROBE_TIMEOUT_SECONDS": "1",
        }
        env.update(overrides)
        return env

    def run(
        self, code_path: Path, env: Mapping[str, str], *, blackhole_dns: bool = False
    ) -> RunResult:
        resolv = self.blackhole_resolv_conf if blackhole_dns else self.resolv_conf
        return run_handler(code_path, env, resolv_conf=resolv)


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
        stack.callback(_stop_all, world._processes)
        world._processes.append(_start_dnsmasq(workdir, records))
        world._processes.append(_start_nginx(workdir))
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
        lambda: all(_tcp_accepts(address, PORT) for address in nginx_addresses),
    )
    return process


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


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


def _child_main(code_path: str, result_path: str, event_json: str) -> None:
    """Load code_path as module ``index`` and call its handler, like the Lambda runtime."""
    outcome: dict[str, Any] = {}
    status = 0
    started = time.perf_counter()
    try:
        spec = importlib.util.spec_from_file_location("index", code_path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        outcome["import_s"] = time.perf_counter() - started
        started = time.perf_counter()
        outcome["return"] = module.handler(json.loads(event_json), None)
    except BaseException:
        status = 1
        outcome["error"] = traceback.format_exc()
    outcome["duration_s"] = time.perf_counter() - started
    outcome.setdefault("import_s", outcome["duration_s"])
    sys.stdout.flush()
    Path(result_path).write_text(json.dumps(outcome, default=repr))
    # Lambda freezes the process after the handler returns instead of joining its threads;
    # exiting at once keeps a straggling worker (a blocked resolver) from holding the run.
    os._exit(status)


if __name__ == "__main__":
    _child_main(*sys.argv[1:4])
