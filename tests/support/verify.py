"""verify's world through botocore's Stubber: one stack's AWS answers, and a local site.

The Stubber checks each request's parameters against the AWS API model and against the
exact values expected, and each answer against the model's output shape.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber

from infra_gen import cli as commands

STACK = "demo"
CLUSTER = "demo-EcsCluster-1"
SERVICE = "demo-EcsService-1"
FUNCTION = "demo-ProbeFunction-1"
LOG_GROUP = "demo-ProbeLogGroup-1"
ALARMS = ["demo-AlarmProbeErrors-1", "demo-AlarmRunningTasks-1"]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@contextlib.contextmanager
def serving_site() -> Iterator[dict[str, Any]]:
    """A local HTTP server answering with the status in ``site["status"]``, or for a path
    in ``site["paths"]`` with the status it maps to; with ``site["location"]`` as its
    Location header when that is set."""
    state: dict[str, Any] = {"status": 200, "paths": {}, "location": ""}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(state["paths"].get(self.path, state["status"]))
            if state["location"]:
                self.send_header("Location", state["location"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["port"] = server.server_address[1]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Stubs:
    def __init__(self) -> None:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.clients = {
            s: session.client(s) for s in ("cloudformation", "lambda", "ecs", "cloudwatch")
        }
        self.stubs = {s: Stubber(c) for s, c in self.clients.items()}

    def __call__(self, service: str) -> Any:
        return self.clients[service]

    def add(
        self, service: str, method: str, response: dict[str, Any], expected: dict[str, Any]
    ) -> None:
        self.stubs[service].add_response(method, response, expected)

    def __enter__(self) -> Stubs:
        for s in self.stubs.values():
            s.activate()
        return self

    def __exit__(self, *_: Any) -> None:
        for s in self.stubs.values():
            s.assert_no_pending_responses()
            s.deactivate()


def stubbed(
    url: str,
    *,
    probe: list[dict[str, Any]] | None = None,
    function_error: str = "",
    running: int = 2,
    alarm_states: tuple[str, ...] = ("OK", "OK"),
    status: str = "CREATE_COMPLETE",
    s: Stubs | None = None,
    services: Sequence[tuple[str, str, int]] = (),
    outputs: dict[str, str] | None = None,
    deployments: int = 1,
) -> Stubs:
    """The AWS answers of one run of verify, each request checked.

    Args:
        url: the stack's ServiceUrl Output.
        probe: what the probe function returns. Default: None.
        function_error: the function's error message instead. Default: none.
        running: running tasks of 2. Default: 2.
        alarm_states: the two alarms' states. Default: both OK.
        status: the stack's status. Default: CREATE_COMPLETE.
        s: answers to add these after. Default: new Stubs.
        services: (logical ID, ARN, running of 2) of each ECS service of a composed
            stack. Default: the one service.
        outputs: the stack's other Outputs (key -> value). Default: none.
        deployments: the service's deployments (two while a release bakes). Default: 1.
    """
    s = s or Stubs()
    s.add(
        "cloudformation",
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackStatus": status,
                    "CreationTime": NOW,
                    "Outputs": [
                        {"OutputKey": "ServiceUrl", "OutputValue": url},
                        {"OutputKey": "ClusterName", "OutputValue": CLUSTER},
                        {"OutputKey": "ServiceName", "OutputValue": SERVICE},
                        *({"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()),
                    ],
                }
            ]
        },
        {"StackName": STACK},
    )
    summaries = [
        {
            "LogicalResourceId": "ProbeFunction",
            "PhysicalResourceId": FUNCTION,
            "ResourceType": "AWS::Lambda::Function",
        },
        {
            "LogicalResourceId": "ProbeLogGroup",
            "PhysicalResourceId": LOG_GROUP,
            "ResourceType": "AWS::Logs::LogGroup",
        },
        *(
            {
                "LogicalResourceId": n.split("-")[1],
                "PhysicalResourceId": n,
                "ResourceType": "AWS::CloudWatch::Alarm",
            }
            for n in ALARMS
        ),
        *(
            {
                "LogicalResourceId": logical,
                "PhysicalResourceId": arn,
                "ResourceType": "AWS::ECS::Service",
            }
            for logical, arn, _ in services
        ),
    ]
    for r in summaries:
        r.update(LastUpdatedTimestamp=NOW, ResourceStatus="CREATE_COMPLETE")
    s.add(
        "cloudformation",
        "list_stack_resources",
        {"StackResourceSummaries": summaries[:2], "NextToken": "page2"},
        {"StackName": STACK},
    )
    s.add(
        "cloudformation",
        "list_stack_resources",
        {"StackResourceSummaries": summaries[2:]},
        {"StackName": STACK, "NextToken": "page2"},
    )
    payload = (
        json.dumps({"errorMessage": function_error, "errorType": "KeyError"})
        if function_error
        else json.dumps(probe)
    ).encode()
    answer: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": StreamingBody(io.BytesIO(payload), len(payload)),
    }
    if function_error:
        answer["FunctionError"] = "Unhandled"
    s.add(
        "lambda",
        "invoke",
        answer,
        {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": b"{}"},
    )
    for name, up in [(arn, up) for _, arn, up in sorted(services)] or [(SERVICE, running)]:
        s.add(
            "ecs",
            "describe_services",
            {
                "services": [
                    {
                        "serviceName": name.rsplit("/", 1)[-1],
                        "desiredCount": 2,
                        "runningCount": up,
                        "pendingCount": 2 - up,
                        "deployments": [
                            {"id": f"ecs-svc/{n}", "status": "ACTIVE" if n else "PRIMARY"}
                            for n in range(deployments)
                        ],
                    }
                ]
            },
            {"cluster": CLUSTER, "services": [name]},
        )
    s.add(
        "cloudwatch",
        "describe_alarms",
        {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": v, "StateReason": f"Threshold crossed: {n}"}
                for n, v in zip(ALARMS, alarm_states, strict=True)
            ]
        },
        {"AlarmNames": ALARMS, "AlarmTypes": ["MetricAlarm"]},
    )
    return s


# What the probe function returns (lambda/probe.py; tests/deploy/test_verify.py's
# test_probe_answer_is_what_verify_reads holds the two together).
HEALTHY = [
    {"Service": "nginx", "DiscoveredInstances": 2, "SuccessfulRequests": 2, "FailedRequests": 0}
]


def run(stubs: Stubs) -> tuple[int, str]:
    out = io.StringIO()
    with stubs:
        code = commands.main(["verify", "--stack-name", STACK], clients=stubs, stdout=out)
    return code, out.getvalue()
