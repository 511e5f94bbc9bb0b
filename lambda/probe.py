"""Probe every task of each Cloud Map service over HTTP; log JSON lines, one EMF line each.

One thread, one selector, one deadline. Each lookup and each request is a generator job
(see _run) on the same selector, and every job of a run ends by PROBE_TIMEOUT_SECONDS after
the run starts and by Lambda's remaining time less MARGIN, so the metrics always get written.

Names resolve in process: an A query over UDP to the nameservers of /etc/resolv.conf (in a
VPC function, the VPC resolver, which answers Cloud Map's private names), sent again every
RETRY seconds to the next nameserver, and the answer checked against the question. This
replaces a child process per lookup (a thread cannot cancel getaddrinfo): at 128 MB Lambda
gives the function 7.2 % of a core, where each child's 40-66 ms of CPU took 0.9 s, so from
two services on lookups missed the deadline, and 20 services outlived the function's
timeout; a query takes 0.6 ms of CPU there. No answer is retried over TCP: Cloud Map
answers with at most 8 A records, which a UDP answer holds many times over.

Requests are HTTP/1.1 GETs with Connection: close on non-blocking sockets, one a connection,
as a load balancer's health check asks: servers answer them in chunks or after 103 Early
Hints, and some refuse HTTP/1.0 (Envoy's 426). A response is read as RFC 9112 frames it:
1xx heads skipped, then a head and a body of Content-Length bytes, of chunks, or up to the
close; bytes that cannot be a head end it at once. (http.client bounds each read, not a
request, and from 3.13 on closes a Connection: close socket under its caller.)

The template carries this file without its comments and docstrings, within 12,288 bytes:
keep it small.
"""

import itertools
import json
import os
import re
import selectors
import socket
import struct
import time

MARGIN = 0.5  # seconds of Lambda's time kept to write the metrics
RETRY = 0.4  # seconds between the UDP queries of a lookup
HEAD_LIMIT = 65536  # bytes of a response's heads (1xx ones included) and trailers
READ = selectors.EVENT_READ
NAME = r"[\w-]{1,63}(\.[\w-]{1,63})*"  # a DNS name of labels as Cloud Map allows them
# A service: its Cloud Map name, then its port (80 without) and path (/ without; no comma).
SERVICE = NAME + r"(:[1-9][0-9]{0,4})?(/[!-+\--~]*)?"
# Each variable: its default, its pattern (ASCII), a number's type and bounds, what it must be.
SETTINGS = {
    "PROBE_STACK": (None, r"[!-~]{1,1024}", None, "visible ASCII"),
    "PROBE_SERVICE_NAMES": (None, rf"{SERVICE}(,{SERVICE})*", None,
        "DNS names, each with :port, /path or both, comma-separated"),
    "PROBE_NAMESPACE": (None, NAME, None, "a DNS name"),
    "PROBE_TIMEOUT_SECONDS": ("2", r"[0-9]{1,3}(\.[0-9]{1,3})?", (float, 0.001, 900),
        "seconds above 0, at most 900"),
    "PROBE_MAX_BODY_BYTES": ("65536", r"[0-9]{1,12}", (int, 1, 10**12), "bytes above 0"),
    "PROBE_METRIC_NAMESPACE": ("InfraGen/Probe", r"(?! *$)[\w .#:/-]{1,255}", None,
        "1-255 letters, digits, spaces or ._#:/-"),
}  # fmt: skip
# A response head: a status line (no 101: the probe asks for no upgrade), then fields, or
# folded lines.
HEAD = re.compile(rb"HTTP/1\.[01] (?!101)[1-5][0-9]{2}( [^\0\r\n]*)?"
                  rb"(\r\n([!#$%&'*+.^_`|~\w-]+:|[ \t])[^\0\r\n]*)*")
# Never in a head: NUL, a CR before anything but LF, an LF after anything but CR.
BAD = re.compile(rb"\0|\r.|(?<!\r)\n")
# A chunk's size line, after the CRLF that ends the head or the chunk before.
CHUNK = re.compile(rb"\r\n([0-9A-Fa-f]{1,15})(;[^\0\r\n]*)?\r\n")


class Fail(Exception):  # ends a request, a lookup or the configuration; args[0] says why
    pass


def _config(env):
    """The settings under their names without PROBE_, in lowercase: PROBE_STACK is stack."""
    cfg = {}
    for name, (default, pattern, number, allowed) in SETTINGS.items():
        text = env.get(name, default)
        if not text:
            raise Fail(f"{name} must be set")
        kind, low, high = number or (str, None, None)
        if not re.fullmatch(pattern, text, re.ASCII) or number and not low <= kind(text) <= high:
            raise Fail(f"{name}={text!r} must be {allowed}")
        cfg[name.removeprefix("PROBE_").lower()] = kind(text)
    found = re.findall(r"([^,:/]+):?([0-9]*)([^,]*)", text := cfg["service_names"])
    if any(int(port or 1) > 65535 for _, port, _ in found):
        raise Fail(f"PROBE_SERVICE_NAMES={text!r} must have ports 1-65535")
    # Each service's port and path; one named twice is probed once, on the last ones named.
    cfg["services"] = {name: (int(port or 80), path or "/") for name, port, path in found}
    return cfg


def _log(record):
    print(json.dumps(record, separators=(",", ":")), flush=True)


def _nameservers():
    """The nameservers among the first 3 of /etc/resolv.conf, as libc reads; else libc's."""
    with open("/etc/resolv.conf", encoding="latin-1") as conf:  # none: the run breaks
        return re.findall(r"^nameserver\s+(\S+)", conf.read(65536), re.M)[:3] or ["127.0.0.1"]


def _answer(msg, query):
    """The sorted addresses of msg's A records for the name query asks; None when msg
    answers another question (ignored, as libc does).

    A record counts when its name is the question's, written out or as a pointer to it."""
    question = query[12:]
    try:
        flags, count = struct.unpack_from(">H2xH", msg, 2)
        if flags & 0xF800 != 0x8000 or msg[4:6] != b"\0\1" or msg[12 : len(query)] != question:
            return None  # not a standard response to this one question
        # An error code (3: NXDOMAIN), or truncated: a UDP answer holds 60 A records, and
        # Cloud Map answers with at most 8, so no answer of it needs a retry over TCP.
        if flags & 0x20F:
            raise Fail("name_not_found" if flags & 0x20F == 3 else "dns_error")
        pos, found = len(query), set()
        for _ in range(count):
            start = pos
            while 0 < msg[pos] < 64:  # a label; a name ends with the root or a pointer
                pos += 1 + msg[pos]
            pos += 1 if msg[pos] < 64 else 2
            kind, klass, _, size = struct.unpack_from(">HHIH", msg, pos)
            pos += 10 + size
            if msg[start : pos - 10 - size] in (b"\xc0\x0c", question[:-4]) and (
                    kind, klass, size) == (1, 1, 4) and pos <= len(msg):  # fmt: skip
                found.add(msg[pos - 4 : pos])
    except (IndexError, struct.error):
        raise Fail("dns_error") from None  # malformed
    if not found:
        raise Fail("no_address")
    return [socket.inet_ntoa(address) for address in sorted(found)]


def _connect(sock, address, port, data):
    """Part of a job: connects sock and sends data (a request of at most a few KB, which
    a new connection's send buffer takes whole)."""
    sock.setblocking(False)
    sock.connect_ex((address, port))  # in progress, or failed: then sendall raises why
    yield sock, selectors.EVENT_WRITE, None
    sock.sendall(data)


def _receive(sock):
    """Part of a job: waits for sock and returns what came, b"" at the end of the stream."""
    yield sock, READ, None
    return sock.recv(65536)  # epoll said it is readable, and no one else reads it


def _section(sock, data, start, until, cut=None):
    """Part of a job: reads until data holds an empty line (CRLF CRLF) from start on, ending
    by until; returns data and where that CRLF CRLF starts. A head (cut None) must start as
    a status line; a close before the end fails as cut, else as a head cut or never begun."""
    while (end := data.find(b"\r\n\r\n", start)) < 0 and len(data) <= until:
        # At once, not at the deadline: e.g. an SMTP banner, or a head with bare LFs.
        if BAD.search(data, start) or not cut and not b"HTTP/1.".startswith(data[start:][:7]):
            raise Fail("bad_response")
        if not (more := (yield from _receive(sock))):
            raise Fail(cut or ("incomplete_head" if data else "empty_response"))
        data += more
    if not 0 <= end <= until - 4:
        raise Fail("headers_too_large")
    return data, end


def _head(head):
    """The status of a response head without its empty line, and its body's length: bytes
    (Content-Length; none after 1xx, 204 and 304), None up to the close, or "chunked".
    Fail("bad_response") unless HEAD matches it with one length or the chunked coding alone."""
    lengths = {v.strip() for v in re.findall(rb"\r\ncontent-length:([^\r]*)", head.lower())}
    codings = [v.strip() for v in re.findall(rb"\r\ntransfer-encoding:([^\r]*)", head.lower())]
    if not HEAD.fullmatch(head) or len(lengths) > 1 or not all(map(bytes.isdigit, lengths)) or (
            codings and (lengths or codings != [b"chunked"])):
        raise Fail("bad_response")  # RFC 9112 6.3: no length to trust
    status = int(head[9:12])
    if status < 200 or status in (204, 304):
        return status, 0
    return status, "chunked" if codings else int(lengths.pop()) if lengths else None


def _probe(cfg, service, address, port, request, records):
    """A job that requests address and records what came back."""
    started, status, size, data, end, sock = time.monotonic(), None, 0, b"", -4, socket.socket()
    try:  # no socket at all breaks the run (above): that error is alarmed
        yield from _connect(sock, address, port, request)
        while status is None or status < 200:  # 1xx heads come before the answer's
            data, end = yield from _section(sock, data, start := end + 4, HEAD_LIMIT)
            status, length = _head(data[start:end])
        if status >= 400:
            raise Fail(f"http_{status}")
        # The body: length bytes, up to the close (None), or chunks up to the last; size counts
        # it as sent, chunk sizes included. data: from the head's last CRLF on (a chunk's size
        # line follows a CRLF); base: the body's size before data; pos: where the next size
        # line starts, or where the body ends (after limit + 1 bytes, up to the close).
        data, base, limit, chunked = data[end + 2 :], -2, cfg["max_body_bytes"], length == "chunked"
        pos = 0 if chunked else 2 + (limit + 1 if length is None else length)
        while True:
            size = max(base + min(pos, len(data)), 0)
            if chunked and (chunk := CHUNK.match(data, pos)):
                pos = chunk.end() + int(chunk[1], 16)
                if pos == chunk.end():  # the last chunk
                    size = base + pos
                    break
            elif chunked and data.find(b"\n", pos + 2) > 0:
                raise Fail("bad_response")  # not a chunk's size line
            elif pos <= len(data) and not chunked or (size := base + len(data)) > limit:
                break  # all Content-Length bytes came, or more than limit
            elif more := (yield from _receive(sock)):
                shift = min(pos, len(data))  # chunk data is counted, never kept
                data, pos, base = data[shift:] + more, pos - shift, base + shift
            elif length is None:
                break  # the close ends it
            else:
                raise Fail("incomplete_body")  # closed before its end
        if size > limit:
            size = limit + 1
            raise Fail("body_too_large")
        if chunked:  # trailers, up to an empty line: they count against the heads' budget
            yield from _section(sock, data, pos - 2, pos + HEAD_LIMIT - end, "incomplete_body")
        error = None
    except Fail as exc:
        error = exc.args[0]
    except ConnectionRefusedError:
        error = "connection_refused"
    except OSError:
        error = "connection_error"
    except Exception as exc:  # a bug costs one probe, not the run
        error = f"unexpected:{type(exc).__name__}"
    finally:
        sock.close()
    records.append(dict(
        level="WARNING" if error else "INFO", event="probe", service=service, address=address,
        port=port, ok=not error, status=status,
        latency_ms=round((time.monotonic() - started) * 1000, 1), bytes=size, error=error))
    _log(records[-1])


def _discover(cfg, service, servers, records):
    """A job that looks service up, then returns a _probe job for each address."""
    name, (port, path) = f"{service}.{cfg['namespace']}", cfg["services"][service]
    request = (f"GET {path} HTTP/1.1\r\nHost: {name}:{port}\r\nUser-Agent: infra-gen-probe\r\n"
               "Connection: close\r\n\r\n").encode()  # fmt: skip
    labels = b"".join(bytes([len(label)]) + label for label in name.encode().split(b"."))
    # A random ID; recursion desired; one question: name, type A, class IN.
    query = os.urandom(2) + b"\1\0\0\1\0\0\0\0\0\0" + labels + b"\0\0\1\0\1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.setblocking(False)
            for server in itertools.cycle(servers):  # until an answer, or the deadline
                try:
                    socket.inet_pton(socket.AF_INET, server)  # a name would make sendto look it up
                    udp.sendto(query, (server, 53))
                except OSError:
                    pass  # not an IPv4 address, or no route to it: the next try asks the next one
                wake = time.monotonic() + RETRY
                while (yield udp, READ, wake):  # at wake, 0: ask again
                    try:
                        msg, (address, source) = udp.recvfrom(65535)
                    except OSError:  # woken for a datagram the kernel then dropped
                        continue
                    if source == 53 and address in servers and msg[:2] == query[:2]:
                        if answer := _answer(msg, query):
                            return [_probe(cfg, service, a, port, request, records) for a in answer]
    except Fail as exc:  # the deadline's timeout included
        error = "dns_timeout" if exc.args[0] == "timeout" else exc.args[0]
        _log(dict(level="WARNING", event="discovery", service=service, name=name, instances=0,
                  error=error))  # fmt: skip
        return []


def _run(jobs, until):
    """Runs generator jobs on one selector until each ends or until passes.

    A job yields (socket, event, wake time or None) and is sent the events that came, or 0
    at its wake time; the jobs it returns start at once. At until, each job left is thrown
    Fail("timeout"), which it records; if the run breaks first, Fail("run_broken")."""
    waiting, sel, cut = {}, selectors.DefaultSelector(), "run_broken"  # job: (socket, wake)

    def step(job, value):
        if job in waiting:  # before the job can close its socket
            sel.unregister(waiting.pop(job)[0])
        try:
            sock, event, wake = job.throw(value) if isinstance(value, Fail) else job.send(value)
        except StopIteration as done:
            for new in done.value or []:
                step(new, None)
            return
        sel.register(sock, event, job)
        waiting[job] = sock, wake or until

    try:
        for job in jobs:
            step(job, None)
        while waiting and time.monotonic() < until:
            for key, events in sel.select(min(w for _, w in waiting.values()) - time.monotonic()):
                step(key.data, events)
            for job, (_, wake) in list(waiting.items()):
                if wake < until and wake <= time.monotonic():
                    step(job, 0)
        cut = "timeout"
    finally:
        for job in list(waiting):
            step(job, Fail(cut))
        sel.close()


try:
    CONFIG, CONFIG_ERROR = _config(os.environ), None
except Fail as exc:  # said by every invocation: Lambda would retry a failed init anyway
    CONFIG, CONFIG_ERROR = None, exc.args[0]


def handler(event, context):
    """Probes every service once; returns each one's counts, as its EMF line has them."""
    # A bad configuration, or a run that breaks, raises: Lambda logs the error and counts it
    # in Errors, which is alarmed. A broken run writes no counts: they would read as no tasks.
    if CONFIG_ERROR:
        raise Fail(CONFIG_ERROR)
    cfg, timestamp, started = CONFIG, int(time.time() * 1000), time.monotonic()
    until = started + cfg["timeout_seconds"]
    if remaining := getattr(context, "get_remaining_time_in_millis", None):
        until = min(until, started + remaining() / 1000 - MARGIN)
    runs = {service: [] for service in cfg["services"]}  # the records of each service
    servers = _nameservers()
    _run([_discover(cfg, service, servers, records) for service, records in runs.items()], until)
    summary = []
    for service, records in runs.items():  # each task found has one record, ok or not
        latencies = [record["latency_ms"] for record in records if record["ok"]]
        counts = dict(DiscoveredInstances=len(records), SuccessfulRequests=len(latencies),
                      FailedRequests=len(records) - len(latencies))  # fmt: skip
        summary.append(dict(Service=service, **counts))
        # One document per service: its own dimensions.
        directive = dict(Namespace=cfg["metric_namespace"], Dimensions=[["Stack", "Service"]],
                         Metrics=[dict(Name=name, Unit="Count") for name in counts])
        if latencies:  # EMF wants each declared metric present, and at most 100 values in one
            directive["Metrics"].append(dict(Name="Latency", Unit="Milliseconds"))
            counts["Latency"] = latencies[:100]
        _log(dict(_aws=dict(Timestamp=timestamp, CloudWatchMetrics=[directive]),
                  Stack=cfg["stack"], Service=service, **counts))  # fmt: skip
    return summary
