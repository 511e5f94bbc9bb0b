"""Probe each task of a Cloud Map service over HTTP; log JSON lines and EMF metrics.

Configured by PROBE_* environment variables (see _config). PROBE_TIMEOUT_SECONDS bounds
the name lookup, and each request from connect to last body byte.
No healthy task does not fail the invocation: health is alarmed from the metrics, Lambda
Errors means the probe itself broke, and a raise would make async invocations retry.
"""

import concurrent.futures
import http.client
import json
import os
import socket
import time

MAX_WORKERS = 32
READ_CHUNK = 16384  # small reads re-apply the deadline however slowly a body trickles
# Past the deadline, wait only this long: a trickling header is bounded per read only.
GRACE_SECONDS = 0.25
GAI_ERRORS = {
    socket.EAI_NONAME: "name_not_found",
    socket.EAI_NODATA: "no_address",
    socket.EAI_AGAIN: "dns_unavailable",
}


def _config():
    env = os.environ
    return {
        "stack": env["PROBE_STACK"],  # a dimension: stacks in one account stay apart
        "service": env["PROBE_SERVICE_NAME"],
        "namespace": env["PROBE_NAMESPACE"],
        "port": int(env.get("PROBE_PORT", "80")),
        "path": env.get("PROBE_PATH", "/"),
        "timeout": float(env.get("PROBE_TIMEOUT_SECONDS", "2")),
        "max_body": int(env.get("PROBE_MAX_BODY_BYTES", "65536")),
        "metric_namespace": env.get("PROBE_METRIC_NAMESPACE", "InfraGen/Probe"),
    }


def _log(record):
    print(json.dumps(record, separators=(",", ":")), flush=True)


def _remaining(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _discover(pool, name, cfg):
    # getaddrinfo has no timeout of its own; in a worker the run can stop waiting for it.
    future = pool.submit(socket.getaddrinfo, name, cfg["port"], socket.AF_INET, socket.SOCK_STREAM)
    try:
        return sorted({info[4][0] for info in future.result(cfg["timeout"])}, key=socket.inet_aton)
    except TimeoutError as exc:
        error, detail = "dns_timeout", exc
    except socket.gaierror as exc:
        error, detail = GAI_ERRORS.get(exc.errno, "dns_error"), exc
    except Exception as exc:
        error, detail = f"unexpected:{type(exc).__name__}", exc
    # No address: one line says why, and the run reports zero instances.
    _log({"level": "WARNING", "event": "discovery", "service": cfg["service"], "name": name,
          "instances": 0, "error": error, "detail": str(detail)})  # fmt: skip
    return []


def _probe(address, name, cfg, deadline):
    started = time.monotonic()
    status, received, error, conn = None, 0, None, None
    host = name if cfg["port"] == 80 else f"{name}:{cfg['port']}"
    try:
        conn = http.client.HTTPConnection(address, cfg["port"], timeout=_remaining(deadline))
        headers = {"Host": host, "User-Agent": "infra-gen-probe", "Connection": "close"}
        conn.request("GET", cfg["path"], headers=headers)
        sock = conn.sock  # getresponse() drops conn.sock when the server closes
        sock.settimeout(_remaining(deadline))
        response = conn.getresponse()
        status = response.status
        if not 200 <= status < 400:
            error = f"http_{status}"
        while error is None:
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(min(READ_CHUNK, cfg["max_body"] + 1 - received))
            if not chunk:
                # A body cut short of its Content-Length ends like a complete one.
                error = "incomplete_body" if response.length else None
                break
            received += len(chunk)
            if received > cfg["max_body"]:
                error = "body_too_large"
    except ConnectionRefusedError:
        error = "connection_refused"
    except TimeoutError:
        error = "timeout"
    except http.client.HTTPException:
        error = "bad_response"
    except OSError:
        error = "connection_error"
    except Exception as exc:  # a probe bug must cost one probe, not the run
        error = f"unexpected:{type(exc).__name__}"
    finally:
        if conn is not None:
            conn.close()
    return _record(cfg, address, status, time.monotonic() - started, received, error)


def _record(cfg, address, status, seconds, received, error):
    return {"level": "INFO" if error is None else "WARNING", "event": "probe",
            "service": cfg["service"], "address": address, "port": cfg["port"],
            "ok": error is None, "status": status, "latency_ms": round(seconds * 1000, 1),
            "bytes": received, "error": error}  # fmt: skip


def _probe_all(pool, addresses, name, cfg):
    # One deadline for all: a run costs one request's latency, however many tasks.
    deadline = time.monotonic() + cfg["timeout"]
    futures = [pool.submit(_probe, address, name, cfg, deadline) for address in addresses]
    concurrent.futures.wait(futures, deadline + GRACE_SECONDS - time.monotonic())
    return [
        f.result() if f.done() else _record(cfg, address, None, cfg["timeout"], 0, "timeout")
        for address, f in zip(addresses, futures, strict=True)
    ]


def _emit_metrics(cfg, timestamp_ms, discovered, records):
    latencies = [record["latency_ms"] for record in records if record["ok"]]
    counts = {"DiscoveredInstances": discovered, "SuccessfulRequests": len(latencies),
              "FailedRequests": len(records) - len(latencies)}  # fmt: skip
    metrics = [{"Name": name, "Unit": "Count"} for name in counts]
    directive = {"Namespace": cfg["metric_namespace"], "Dimensions": [["Stack", "Service"]],
                 "Metrics": metrics}  # fmt: skip
    document = {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [directive]},
                "Stack": cfg["stack"], "Service": cfg["service"], **counts}  # fmt: skip
    # EMF wants every declared metric present, and at most 100 values in an array.
    if latencies:
        metrics.append({"Name": "Latency", "Unit": "Milliseconds"})
        document["Latency"] = latencies[:100]
    _log(document)


def handler(event, context):
    cfg = _config()
    name = f"{cfg['service']}.{cfg['namespace']}"
    timestamp_ms = int(time.time() * 1000)
    discovered, records = 0, []
    pool = concurrent.futures.ThreadPoolExecutor(MAX_WORKERS)
    try:
        addresses = _discover(pool, name, cfg)
        discovered = len(addresses)
        records = _probe_all(pool, addresses, name, cfg)
        for record in records:
            _log(record)
    finally:
        # Never wait for a straggler: a resolver or a request past its deadline.
        pool.shutdown(wait=False, cancel_futures=True)
        _emit_metrics(cfg, timestamp_ms, discovered, records)
    ok = sum(record["ok"] for record in records)
    return {"service": cfg["service"], "instances": discovered, "ok": ok,
            "failed": len(records) - ok}  # fmt: skip
