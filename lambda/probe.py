"""Probe every task of each Cloud Map service over HTTP; log JSON lines, one EMF line each.

One thread. All lookups, then all requests of every service at once, each end by
PROBE_TIMEOUT_SECONDS and by Lambda's remaining time less MARGIN, and a run closes or kills
all it started. Why:
- getaddrinfo cannot be cancelled: in a thread it outlives the run when the resolver hangs.
  It runs in a child process (posix_spawn, safe beside the runtime's threads) killed and
  reaped at the deadline; a stub resolver would redo libc (search list, hosts, TCP retry).
- http.client bounds each read, not a request, closes a Connection: close socket under its
  caller from 3.13 on (every healthy task failed) and imports ssl and email. Requests are
  non-blocking sockets multiplexed by selectors, read by a strict HTTP/1.1 parser.
"""

import errno
import os
import selectors
import socket
import sys
import time

MARGIN = 0.5  # seconds of Lambda's time kept to write the metrics
HEAD_LIMIT = 65536  # status lines, headers and trailers of a response, 1xx included
LOOKUP = """import socket as s, sys
try: print(*{a[4][0] for a in s.getaddrinfo(sys.argv[1], 80, s.AF_INET, s.SOCK_STREAM)})
except s.gaierror as e: print(e.errno)"""
# JSON escapes; json itself would import re, and double the import time of the module.
ESCAPES = {**{c: f"\\u{c:04x}" for c in range(32)}, ord('"'): '\\"', ord("\\"): "\\\\"}
GAI_ERRORS = {socket.EAI_NONAME: "name_not_found", socket.EAI_NODATA: "no_address",
              socket.EAI_AGAIN: "dns_unavailable"}  # fmt: skip


class Fail(Exception):
    """Ends a request, or the configuration; args[0] says why."""


def _config(env):
    def get(name, default=None, kind=str, valid=bool, allowed="must be set"):
        text = env.get(name, default)
        try:
            value = kind(text or "")
        except ValueError:
            value = None
        if not text or value is None or not valid(value):  # nan fails every comparison
            raise Fail(f"{name}={text!r} {allowed}" if text else f"{name} must be set, not empty")
        return value

    def visible(text):  # makes a valid request line and Host header
        return all("!" <= c <= "~" for c in text)

    def names(text):  # PROBE_SERVICE_NAMES: "web,api"; PROBE_SERVICE_NAME: one name
        listed = text.split(",")
        unique = len(set(listed)) == len(listed)
        return listed if unique and all(name and visible(name) for name in listed) else None

    plural = "PROBE_SERVICE_NAMES" in env or "PROBE_SERVICE_NAME" not in env
    if plural and "PROBE_SERVICE_NAME" in env:
        raise Fail("PROBE_SERVICE_NAMES and PROBE_SERVICE_NAME are both set: set one")
    services = get("PROBE_SERVICE_NAMES" if plural else "PROBE_SERVICE_NAME", None, names,
                   allowed="must be distinct visible ASCII names, comma-separated")
    return {"stack": get("PROBE_STACK"), "services": services,
            "namespace": get("PROBE_NAMESPACE", None, str, visible, "must be visible ASCII"),
            "port": get("PROBE_PORT", "80", int, lambda v: 0 < v < 65536, "must be 1-65535"),
            "path": get("PROBE_PATH", "/", str, lambda v: v[0] == "/" and visible(v),
                        "must start with / and be visible ASCII"),
            "timeout": get("PROBE_TIMEOUT_SECONDS", "2", float, lambda v: 0 < v <= 900,
                           "must be seconds above 0, at most 900"),
            "max_body": get("PROBE_MAX_BODY_BYTES", "65536", int, lambda v: v > 0,
                            "must be bytes above 0"),
            "metric_namespace": get("PROBE_METRIC_NAMESPACE", "InfraGen/Probe", str,
                                    lambda v: len(v) < 256, "must be 1-255 characters"),
            }  # fmt: skip


def _json(value):
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json(key)}:{_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(_json, value)) + "]"
    if isinstance(value, str):
        return '"' + value.translate(ESCAPES) + '"'
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    return repr(value)  # int, or float: JSON's notation, and never nan or inf here


def _log(record):
    print(_json(record), flush=True)


def _wait(sel, until):
    left = until - time.monotonic()
    return sel.select(left) if left > 0 else None


def _discover(cfg, until):
    """The sorted addresses of each service's name, looked up by one child each, at once."""
    found, children = {}, {}
    with selectors.DefaultSelector() as sel:
        try:
            for service in cfg["services"]:
                name = f"{service}.{cfg['namespace']}"
                argv = [sys.executable, "-I", "-S", "-c", LOOKUP, name]
                read_end, write_end = os.pipe()
                pipe = open(read_end, "rb", 0)
                with open(write_end, "wb", 0) as child_out:
                    try:
                        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[
                            (os.POSIX_SPAWN_DUP2, child_out.fileno(), 1)])  # fmt: skip
                    except BaseException:
                        pipe.close()
                        raise
                children[service] = [pid, pipe, b"", None]
                sel.register(pipe, selectors.EVENT_READ, service)
            while sel.get_map() and (events := _wait(sel, until)):
                for key, _ in events:
                    child = children[key.data]
                    child[3] = child[1].read(65536)
                    child[2] += child[3]
                    if child[3] == b"":
                        sel.unregister(child[1])
        finally:
            for pid, pipe, _, _ in children.values():
                os.kill(pid, 9)  # SIGKILL: ended or past the deadline, it never outlives the run
                os.waitpid(pid, 0)
                pipe.close()
    for service, (_, _, out, data) in children.items():
        words = out.split() or [b"0"]
        if data == b"" and words[0][:1] != b"-" and words[0] != b"0":
            found[service] = sorted({word.decode() for word in words}, key=socket.inet_aton)
            continue
        error = "dns_timeout" if data != b"" else GAI_ERRORS.get(int(words[0]), "dns_error")
        _log({"level": "WARNING", "event": "discovery", "service": service,
              "name": f"{service}.{cfg['namespace']}", "instances": 0, "error": error})  # fmt: skip
        found[service] = []
    return found


class Request:
    """One GET. parser takes what the socket receives (b"" at its end), yields for more."""

    def __init__(self, service, address, cfg, request):
        self.service, self.address, self.out = service, address, request[service]
        self.max_body = cfg["max_body"]
        self.buf, self.seen, self.status, self.body, self.budget = bytearray(), 0, None, 0, 0
        self.sock, self.parser = socket.socket(), self.response()
        next(self.parser)

    def more(self, error):
        data = yield
        if not data:
            raise Fail(error if self.seen else "empty_response")
        self.seen += len(data)
        self.buf += data

    def line(self, error, head=True):
        limit, scan = HEAD_LIMIT - self.budget if head else 1024, 0
        while (end := self.buf.find(b"\n", scan)) < 0 and len(self.buf) <= limit:
            scan = len(self.buf)
            yield from self.more(error)
        if not 0 <= end < limit:
            raise Fail("headers_too_large" if head else "bad_response")
        line = bytes(self.buf[:end]).removesuffix(b"\r")
        del self.buf[: end + 1]
        self.budget += end + 1 if head else 0
        return line

    def fields(self, error):
        fields = {}
        while line := (yield from self.line(error)):
            name, colon, value = line.partition(b":")
            if line[0] in b" \t":  # obsolete line folding continues a field
                continue
            if not colon or not name or name != name.strip():
                raise Fail("bad_response")
            fields[name.lower()] = fields.get(name.lower(), b"") + b"," + value
        return fields

    def response(self):
        status = 100
        while status < 200 and status != 101:  # interim responses: skipped, in the budget
            version, _, rest = (yield from self.line("incomplete_head")).partition(b" ")
            if version not in (b"HTTP/1.1", b"HTTP/1.0") or rest[3:4].strip() or not (
                    rest[:3].isdigit() and b"100" <= rest[:3] < b"600"):  # fmt: skip
                raise Fail("bad_response")
            status = int(rest[:3])
            self.status = status if status >= 200 or status == 101 else None
            fields = yield from self.fields("incomplete_head")
        if not 200 <= status < 400:
            raise Fail(f"http_{status}")
        lengths = {v.strip() for v in fields.get(b"content-length", b"").split(b",")} - {b""}
        if status in (204, 304):
            return
        if fields.get(b"transfer-encoding", b"").split(b",")[-1].strip().lower() == b"chunked":
            while True:
                size = (yield from self.line("incomplete_body", False)).partition(b";")[0].strip()
                if not size or size.strip(b"0123456789abcdefABCDEF"):
                    raise Fail("bad_response")
                if not int(size, 16):
                    break
                yield from self.read(int(size, 16))
                if (yield from self.line("incomplete_body", False)):
                    raise Fail("bad_response")
            yield from self.fields("incomplete_body")  # trailer fields, in the budget
        elif b"transfer-encoding" in fields or not lengths:
            yield from self.read(None)  # the body ends with the connection
        elif len(lengths) == 1 and (length := lengths.pop()).isdigit():
            yield from self.read(int(length))
        else:
            raise Fail("bad_response")

    def read(self, size):
        while size != 0:
            if not self.buf:
                try:
                    yield from self.more("incomplete_body")
                except Fail:
                    if size is None:
                        return
                    raise
            take = min(len(self.buf), size or len(self.buf))
            del self.buf[:take]
            self.body, size = self.body + take, size and size - take
            if self.body > self.max_body:
                self.body = self.max_body + 1
                raise Fail("body_too_large")


def _probe_all(cfg, found, until):
    """Request every address of every service at once; the records by service."""
    request, started, records = {}, time.monotonic(), {}
    for service in found:
        name = f"{service}.{cfg['namespace']}"
        host = name if cfg["port"] == 80 else f"{name}:{cfg['port']}"
        request[service] = (f"GET {cfg['path']} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: "
                            "infra-gen-probe\r\nConnection: close\r\n\r\n").encode()  # fmt: skip

    def end(req, exc):
        error = exc and (exc.args[0] if isinstance(exc, Fail) else "connection_refused"
                         if isinstance(exc, ConnectionRefusedError) else "connection_error"
                         if isinstance(exc, OSError) else f"unexpected:{type(exc).__name__}"
                         )  # fmt: skip
        records[req.service, req.address] = {
            "level": "WARNING" if error else "INFO", "event": "probe", "service": req.service,
            "address": req.address, "port": cfg["port"], "ok": not error, "status": req.status,
            "latency_ms": round((time.monotonic() - started) * 1000, 1), "bytes": req.body,
            "error": error}  # fmt: skip
        req.parser.close()
        if req.sock in sel.get_map():
            sel.unregister(req.sock)
        req.sock.close()

    with selectors.DefaultSelector() as sel:
        try:
            for service, address in [(s, a) for s, addresses in found.items() for a in addresses]:
                req = Request(service, address, cfg, request)
                try:
                    sel.register(req.sock, selectors.EVENT_WRITE, req)
                    req.sock.setblocking(False)
                    code = req.sock.connect_ex((address, cfg["port"]))
                    if code not in (0, errno.EINPROGRESS):
                        raise OSError(code, os.strerror(code))
                except Exception as exc:
                    end(req, exc)
            while sel.get_map() and (events := _wait(sel, until)):
                for key, _ in events:
                    req = key.data
                    try:
                        if not req.out:
                            req.parser.send(req.sock.recv(65536))
                        elif code := req.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            raise OSError(code, os.strerror(code))
                        else:
                            req.out = req.out[req.sock.send(req.out) :]
                            if not req.out:
                                sel.modify(req.sock, selectors.EVENT_READ, req)
                    except StopIteration:
                        end(req, None)
                    except (BlockingIOError, InterruptedError):
                        pass
                    except Exception as exc:  # a bug costs one probe, not the run
                        end(req, exc)
        finally:
            for key in list(sel.get_map().values()):
                end(key.data, Fail("timeout"))
    return {service: [records[service, a] for a in found[service]] for service in found}


def _emit_metrics(cfg, timestamp_ms, service, run):
    records = run["records"]
    latencies = [record["latency_ms"] for record in records if record["ok"]]
    counts = {"DiscoveredInstances": run["discovered"], "SuccessfulRequests": len(latencies),
              "FailedRequests": len(records) - len(latencies)}  # fmt: skip
    if run["error"]:  # the counts of a broken run would read as an empty service
        counts, latencies = {"BrokenRuns": 1, "RunError": run["error"]}, []
    metrics = [{"Name": name, "Unit": "Count"} for name in counts if name != "RunError"]
    # EMF wants every declared metric present, and at most 100 values in an array.
    if latencies:
        metrics.append({"Name": "Latency", "Unit": "Milliseconds"})
        counts["Latency"] = latencies[:100]
    directive = {"Namespace": cfg["metric_namespace"], "Dimensions": [["Stack", "Service"]],
                 "Metrics": metrics}  # fmt: skip
    _log({"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]},
          "Stack": cfg["stack"], "Service": service, **counts})  # fmt: skip


try:
    CONFIG, CONFIG_ERROR = _config(os.environ), None
except Fail as exc:  # said by every invocation: Lambda would retry a failed init anyway
    CONFIG, CONFIG_ERROR = None, exc.args[0]


def handler(event, context):
    if CONFIG_ERROR:
        _log({"level": "ERROR", "event": "config", "error": CONFIG_ERROR})
        raise Fail(CONFIG_ERROR)  # Lambda Errors, alarmed
    cfg, timestamp_ms, started = CONFIG, int(time.time() * 1000), time.monotonic()
    runs = {service: {"discovered": 0, "records": [], "error": "interrupted"}
            for service in cfg["services"]}  # fmt: skip
    try:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        lambda_until = started + remaining() / 1000 - MARGIN if remaining else float("inf")
        found = _discover(cfg, min(started + cfg["timeout"], lambda_until))
        for service, addresses in found.items():
            runs[service]["discovered"] = len(addresses)
        until = min(time.monotonic() + cfg["timeout"], lambda_until)
        for service, records in _probe_all(cfg, found, until).items():
            runs[service].update(records=records, error=None)
            for record in records:
                _log(record)
    except Exception as exc:
        error = f"unexpected:{type(exc).__name__}"
        for service, run in runs.items():
            run["error"] = error
            _log({"level": "ERROR", "event": "run", "service": service, "error": error,
                  "detail": str(exc)})  # fmt: skip
        raise  # Lambda logs the traceback and counts an error, which is alarmed
    finally:
        for service, run in runs.items():  # one document per service: its own dimensions
            _emit_metrics(cfg, timestamp_ms, service, run)
    summary = [{"service": service, "instances": run["discovered"],
                "ok": sum(record["ok"] for record in run["records"]),
                "failed": sum(not record["ok"] for record in run["records"])}
               for service, run in runs.items()]  # fmt: skip
    return summary[0] if len(summary) == 1 else summary  # one service: its summary alone
