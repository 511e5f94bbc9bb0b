"""ECS-aware progress and ``--fail-fast``, through botocore's Stubber.

The emulator creates and updates a service at once (nothing is ever in progress) and
keeps no service events, deployments' rollout states or stopped tasks' reasons, so
CloudFormation's and ECS's answers during a failing update are stubbed here; the
Stubber checks every request against the AWS API model and the exact values expected,
in order, per client.
"""

from __future__ import annotations

import functools
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra_gen import cli as commands
from infra_gen.deploy import changeset as cf
from infra_gen.deploy import plan as planfile
from infra_gen.deploy.changeset import Change, Preview
from infra_gen.deploy.ecs_events import EcsFollower, fail_fast
from tests.support.documentation import DOCS

README = DOCS  # README and docs/: the output shown there
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
STACK = "demo"
CS_ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/infra-gen-1/abc"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/def"
CLUSTER = "demo-EcsCluster-1"
SERVICE_ARN = f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/demo-EcsService-1"
TASK = f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/"
CHANGE = Change(
    "Modify",
    "EcsTaskDefinition",
    "AWS::ECS::TaskDefinition",
    "arn:td",
    "True",
    ("ContainerDefinitions",),
)
EXITED = "Essential container in task exited"


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Clients:
    def __init__(self) -> None:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.cfn = session.client("cloudformation")
        self.ecs = session.client("ecs")
        self.stub = {"cloudformation": Stubber(self.cfn), "ecs": Stubber(self.ecs)}

    def __call__(self, service: str) -> Any:
        return {"cloudformation": self.cfn, "ecs": self.ecs}[service]

    def cfn_says(self, method: str, response: dict[str, Any], expected: dict[str, Any]) -> None:
        self.stub["cloudformation"].add_response(method, response, expected)

    def ecs_says(self, method: str, response: dict[str, Any], expected: dict[str, Any]) -> None:
        self.stub["ecs"].add_response(method, response, expected)


def stack(status: str) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "StackId": STACK_ID,
                "StackStatus": status,
                "CreationTime": T0,
                "LastUpdatedTime": T0,
            }
        ]
    }


def event(n: int, logical_id: str, status: str, reason: str = "") -> dict[str, Any]:
    kind = (
        "AWS::CloudFormation::Stack"
        if logical_id == STACK
        else ("AWS::ECS::Service" if logical_id == "EcsService" else "AWS::ECS::TaskDefinition")
    )
    e = {
        "StackId": "id",
        "EventId": f"e{n}",
        "StackName": STACK,
        "Timestamp": at(n),
        "LogicalResourceId": logical_id,
        "ResourceType": kind,
        "ResourceStatus": status,
    }
    if reason:
        e["ResourceStatusReason"] = reason
    return e


def stopped(n: int, reason: str, exit_code: int) -> dict[str, Any]:
    return {
        "taskArn": f"{TASK}task{n}",
        "createdAt": at(10 + n),
        "stoppedAt": at(20 + n),
        "stoppedReason": reason,
        "containers": [{"name": "nginx", "exitCode": exit_code}],
    }


def service(
    events: list[tuple[str, int, str]], deployments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceArn": SERVICE_ARN,
                "deployments": deployments or [],
                "events": [{"id": i, "createdAt": at(n), "message": m} for i, n, m in events][::-1],
            }
        ]
    }


SERVICES = {"cluster": CLUSTER, "services": [SERVICE_ARN]}
STOPPED = {"cluster": CLUSTER, "serviceName": "demo-EcsService-1", "desiredStatus": "STOPPED"}
OLD_EVENT = ("old", -600, "(service demo-EcsService-1) has reached a steady state.")
STARTED = ("ev1", 5, "(service demo-EcsService-1) has started 1 tasks: (task task1).")
UNHEALTHY = (
    "ev2",
    30,
    "(service demo-EcsService-1) has started 2 tasks: (task task2) (task task3).",
)


def the_plan_executes(c: Clients) -> None:
    """The plan's change set still matches the stack, and is executed."""
    c.cfn_says("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    c.cfn_says(
        "describe_stack_events",
        {"StackEvents": [event(0, STACK, "UPDATE_COMPLETE")]},
        {"StackName": STACK},
    )
    c.cfn_says(
        "describe_change_set",
        {
            "StackId": STACK_ID,
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "EcsTaskDefinition",
                        "PhysicalResourceId": "arn:td",
                        "ResourceType": "AWS::ECS::TaskDefinition",
                        "Replacement": "True",
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "ContainerDefinitions",
                                    "RequiresRecreation": "Always",
                                }
                            }
                        ],
                    },
                }
            ],
        },
        {"ChangeSetName": CS_ARN, "StackName": STACK},
    )
    c.cfn_says(
        "get_template",
        {"TemplateBody": "{}"},
        {"StackName": STACK_ID, "ChangeSetName": CS_ARN, "TemplateStage": "Original"},
    )
    c.cfn_says(
        "execute_change_set",
        {},
        {"ChangeSetName": CS_ARN, "StackName": STACK, "ClientRequestToken": ANY},
    )


RUNNING = [
    event(3, "EcsService", "UPDATE_IN_PROGRESS"),
    event(2, "EcsTaskDefinition", "UPDATE_COMPLETE"),
    event(1, STACK, "UPDATE_IN_PROGRESS", "User Initiated"),
    event(0, STACK, "UPDATE_COMPLETE"),
]


def the_service_is_in_progress(c: Clients) -> None:
    """A poll in which the stack's service is being updated: the follower finds it."""
    c.cfn_says("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK})
    c.cfn_says("describe_stack_events", {"StackEvents": RUNNING}, {"StackName": STACK})
    c.cfn_says(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "EcsService",
                    "PhysicalResourceId": SERVICE_ARN,
                    "ResourceType": "AWS::ECS::Service",
                    "LastUpdatedTimestamp": T0,
                    "ResourceStatus": "UPDATE_IN_PROGRESS",
                }
            ]
        },
        {"StackName": STACK},
    )


def a_failing_update(c: Clients) -> None:
    """An update whose new tasks exit: CloudFormation's and ECS's answers, poll by poll."""
    the_plan_executes(c)
    # Poll 1: the service is being updated; one task stopped.
    the_service_is_in_progress(c)
    running = RUNNING
    c.ecs_says("describe_services", service([OLD_EVENT, STARTED]), SERVICES)
    c.ecs_says("list_tasks", {"taskArns": [f"{TASK}task1"]}, STOPPED)
    c.ecs_says(
        "describe_tasks",
        {"tasks": [stopped(1, EXITED, 1)]},
        {"cluster": CLUSTER, "tasks": [f"{TASK}task1"]},
    )
    # Poll 2: the same events again plus a new one; two more tasks stopped the same way.
    c.cfn_says("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK})
    c.cfn_says("describe_stack_events", {"StackEvents": running}, {"StackName": STACK})
    c.ecs_says("describe_services", service([OLD_EVENT, STARTED, UNHEALTHY]), SERVICES)
    c.ecs_says("list_tasks", {"taskArns": [f"{TASK}task{n}" for n in (3, 2, 1)]}, STOPPED)
    c.ecs_says(
        "describe_tasks",
        {"tasks": [stopped(3, EXITED, 1), stopped(2, EXITED, 1)]},
        {"cluster": CLUSTER, "tasks": [f"{TASK}task3", f"{TASK}task2"]},
    )


def cancelled_and_rolled_back(c: Clients) -> None:
    c.cfn_says("cancel_update_stack", {}, {"StackName": STACK})
    rolling = [
        event(5, STACK, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled"),
        event(4, "EcsService", "UPDATE_FAILED", "Resource update cancelled"),
    ]
    c.cfn_says("describe_stacks", stack("UPDATE_ROLLBACK_IN_PROGRESS"), {"StackName": STACK})
    c.cfn_says(
        "describe_stack_events",
        {"StackEvents": [*rolling, event(3, "EcsService", "UPDATE_IN_PROGRESS")]},
        {"StackName": STACK},
    )
    c.cfn_says("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": STACK})
    c.cfn_says(
        "describe_stack_events",
        {"StackEvents": [event(6, STACK, "UPDATE_ROLLBACK_COMPLETE"), *rolling]},
        {"StackName": STACK},
    )


def plan_file(tmp_path: Path) -> Path:
    plan = planfile.Plan(
        stack_name=STACK,
        change_set_id=CS_ARN,
        change_set_type="UPDATE",
        template="{}",
        template_sha256=planfile.sha256("{}"),
        parameters={},
        changes=(CHANGE,),
        stack_status="UPDATE_COMPLETE",
        last_updated=T0.isoformat(),
        last_event_id="e0",
        stack_id=STACK_ID,
    )
    path = tmp_path / "plan.json"
    path.write_bytes(planfile.to_bytes(plan))
    return path


def deploy(c: Clients, path: Path, *flags: str) -> tuple[int, str]:
    out = io.StringIO()
    code = commands.main(
        ["deploy", "--stack-name", STACK, "--plan", str(path), "--yes", "--skip-preflight", *flags],
        clients=c,
        stdout=out,
    )
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cf, "watch", functools.partial(cf.watch, sleep=lambda _: None))


def test_fail_fast_cancels_the_update_after_three_tasks_stopped_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = Clients()
    a_failing_update(c)
    cancelled_and_rolled_back(c)
    with c.stub["cloudformation"], c.stub["ecs"]:
        code, out = deploy(c, plan_file(tmp_path), "--fail-fast")
        for s in c.stub.values():
            s.assert_no_pending_responses()  # CancelUpdateStack included
    assert code == 1
    ecs = [line.split(None, 2)[2] for line in out.splitlines() if " ECS " in line]
    # Each service event and each stopped task once, oldest first; not the older event.
    assert ecs == [
        f"ECS event                    {STARTED[2]}",
        f"ECS stopped                  task task1 stopped: {EXITED}; container nginx: exit code 1",
        f"ECS event                    {UNHEALTHY[2]}",
        f"ECS stopped                  task task2 stopped: {EXITED}; container nginx: exit code 1",
        f"ECS stopped                  task task3 stopped: {EXITED}; container nginx: exit code 1",
    ]
    assert any(
        line.endswith(
            f"FAIL-FAST                    cancelled the update of {STACK} "
            "(CancelUpdateStack); it rolls back"
        )
        for line in out.splitlines()
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"infra-gen: stack {STACK} is UPDATE_ROLLBACK_COMPLETE"
    assert err[1] == (
        "infra-gen: first failure: EcsService (AWS::ECS::Service) UPDATE_FAILED: "
        f"Resource update cancelled; ECS: {EXITED}; container nginx: exit code 1"
    )
    # README shows this run from the service's start on.
    start = out.index("     0s 1/1 UPDATE_IN_PROGRESS           EcsService")
    assert "\n".join([out[start:].rstrip("\n"), *err[:2]]) in README


def test_without_fail_fast_nothing_is_cancelled(tmp_path: Path) -> None:
    c = Clients()
    a_failing_update(c)
    # CloudFormation gives up by itself; no CancelUpdateStack in between.
    c.cfn_says("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": STACK})
    c.cfn_says(
        "describe_stack_events",
        {
            "StackEvents": [
                event(6, STACK, "UPDATE_ROLLBACK_COMPLETE"),
                event(5, STACK, "UPDATE_ROLLBACK_IN_PROGRESS", "Service did not stabilize"),
                event(4, "EcsService", "UPDATE_FAILED", "Service did not stabilize"),
                event(3, "EcsService", "UPDATE_IN_PROGRESS"),
            ]
        },
        {"StackName": STACK},
    )
    with c.stub["cloudformation"], c.stub["ecs"]:
        code, out = deploy(c, plan_file(tmp_path))
        c.stub["cloudformation"].assert_no_pending_responses()
    assert code == 1
    assert "FAIL-FAST" not in out


def test_circuit_breaker_is_named_and_a_new_stack_is_left_to_cloudformation() -> None:
    c = Clients()
    c.cfn_says(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "EcsService",
                    "PhysicalResourceId": SERVICE_ARN,
                    "ResourceType": "AWS::ECS::Service",
                    "LastUpdatedTimestamp": T0,
                    "ResourceStatus": "CREATE_IN_PROGRESS",
                }
            ]
        },
        {"StackName": STACK},
    )
    failed = {
        "id": "ecs-svc/1",
        "status": "PRIMARY",
        "rolloutState": "FAILED",
        "createdAt": at(2),
        "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
    }
    for _ in range(2):  # the same answer twice: named once
        c.ecs_says("describe_services", service([], [failed]), SERVICES)
        c.ecs_says("list_tasks", {"taskArns": []}, STOPPED)
    follower = EcsFollower(c.cfn, lambda: c.ecs, STACK, stops=3)
    follower.on_event(
        cf.Event("e1", at(1), "EcsService", "AWS::ECS::Service", "CREATE_IN_PROGRESS", "")
    )
    with c.stub["cloudformation"], c.stub["ecs"]:
        first, second = follower.poll(), follower.poll()
    assert [(n.kind, n.text) for n in first] == [
        (
            "circuit-breaker",
            "ECS deployment circuit breaker tripped: ECS deployment circuit "
            "breaker: tasks failed to start.",
        )
    ]
    assert second == []
    assert follower.tripped.startswith("ECS deployment circuit breaker tripped")
    # A stack being created cannot be cancelled: no call (the stub has no answer queued).
    with c.stub["cloudformation"]:
        said = fail_fast(c.cfn, Preview(STACK, CS_ARN, "CREATE", (), ""))
    assert said == (
        f"{STACK} is being created and cannot be cancelled: CloudFormation rolls "
        "it back when the service fails"
    )


def test_no_ecs_call_while_the_service_is_not_in_progress() -> None:
    c = Clients()
    follower = EcsFollower(c.cfn, lambda: c.ecs, STACK)
    with c.stub["cloudformation"], c.stub["ecs"]:  # any call would fail: nothing queued
        follower.on_event(cf.Event("e1", at(1), "Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", ""))
        assert follower.poll() == []
        follower.on_event(
            cf.Event("e2", at(2), "EcsService", "AWS::ECS::Service", "CREATE_COMPLETE", "")
        )
        assert follower.poll() == []


# --------------------------------------------------------------------------------------
# Canary: ECS's traffic-shift stages, and a rollback on an alarm.
# --------------------------------------------------------------------------------------

DEPLOYMENT_ARN = f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/demo/d1"
CANARY = {
    "strategy": "CANARY",
    "bakeTimeInMinutes": 15,
    "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 15},
}


def shifting(status: str, stage: str, weight: float, **more: Any) -> dict[str, Any]:
    return {
        "serviceDeployments": [
            {
                "serviceDeploymentArn": DEPLOYMENT_ARN,
                "createdAt": at(3),
                "status": status,
                "lifecycleStage": stage,
                "targetServiceRevision": {"requestedProductionTrafficWeight": weight},
                "deploymentConfiguration": CANARY,
                **more,
            }
        ]
    }


def a_canary_poll(c: Clients, answer: dict[str, Any]) -> None:
    """One poll of the canary service: its deployment's stage, no stopped task."""
    canary = service([])
    canary["services"][0]["deploymentConfiguration"] = {"strategy": "CANARY"}
    c.ecs_says("describe_services", canary, SERVICES)
    c.ecs_says(
        "list_service_deployments",
        {"serviceDeployments": [{"serviceDeploymentArn": DEPLOYMENT_ARN}]},
        {"cluster": CLUSTER, "service": SERVICE_ARN, "createdAt": {"after": at(1)}},
    )
    c.ecs_says("describe_service_deployments", answer, {"serviceDeploymentArns": [DEPLOYMENT_ARN]})
    c.ecs_says("list_tasks", {"taskArns": []}, STOPPED)


def test_a_canary_deploy_shows_each_traffic_shift_stage(tmp_path: Path) -> None:
    c = Clients()
    the_plan_executes(c)
    the_service_is_in_progress(c)
    a_canary_poll(c, shifting("IN_PROGRESS", "SCALE_UP", 0.0))
    for answer in (
        shifting("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 10.0),
        shifting("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 10.0),  # the same: shown once
        shifting("IN_PROGRESS", "BAKE_TIME", 100.0),
        shifting("SUCCESSFUL", "CLEAN_UP", 100.0),
    ):
        c.cfn_says("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK})
        c.cfn_says("describe_stack_events", {"StackEvents": RUNNING}, {"StackName": STACK})
        a_canary_poll(c, answer)
    c.cfn_says("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})
    c.cfn_says(
        "describe_stack_events",
        {
            "StackEvents": [
                event(5, STACK, "UPDATE_COMPLETE"),
                event(4, "EcsService", "UPDATE_COMPLETE"),
                *RUNNING,
            ]
        },
        {"StackName": STACK},
    )
    c.cfn_says("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": STACK})  # Outputs
    with c.stub["cloudformation"], c.stub["ecs"]:
        code, out = deploy(c, plan_file(tmp_path))
        for s in c.stub.values():
            s.assert_no_pending_responses()
    assert code == 0
    shifts = [line.split(None, 2)[2] for line in out.splitlines() if " ECS " in line]
    assert shifts == [
        "ECS shift                    starting the new revision's tasks",
        "ECS shift                    shifting production traffic: 10 % of production traffic "
        "on the new revision; the rest shifts after 15 min",
        "ECS shift                    baking: 100 % of production traffic on the new revision; "
        "the old revision stops after the 15 min bake",
        "ECS shift                    deployment complete: all traffic on the new revision, "
        "the old one stopped",
    ]
    # docs/deploy.md shows this run from the service's start on.
    start = out.index("     0s 1/1 UPDATE_IN_PROGRESS           EcsService")
    assert out[start:].rstrip("\n") in README


def test_a_rollback_names_its_reason_and_alarms_and_trips_fail_fast() -> None:
    c = Clients()
    c.cfn_says(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "EcsService",
                    "PhysicalResourceId": SERVICE_ARN,
                    "ResourceType": "AWS::ECS::Service",
                    "LastUpdatedTimestamp": T0,
                    "ResourceStatus": "UPDATE_IN_PROGRESS",
                }
            ]
        },
        {"StackName": STACK},
    )
    rolled_back = shifting(
        "ROLLBACK_IN_PROGRESS",
        "PRODUCTION_TRAFFIC_SHIFT",
        10.0,
        rollback={"reason": "CloudWatch alarm in ALARM state"},
        alarms={"status": "TRIGGERED", "triggeredAlarmNames": ["demo-AlarmTarget5xx-1"]},
    )
    a_canary_poll(c, rolled_back)
    follower = EcsFollower(c.cfn, lambda: c.ecs, STACK)
    follower.on_event(
        cf.Event("e1", at(1), "EcsService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", "")
    )
    with c.stub["cloudformation"], c.stub["ecs"]:
        notes = follower.poll()
    why = "CloudWatch alarm in ALARM state (alarms: demo-AlarmTarget5xx-1)"
    assert [(n.kind, n.text) for n in notes] == [("rollback", f"ROLLBACK_IN_PROGRESS: {why}")]
    assert follower.reason == why
    assert follower.tripped == f"ECS rolls the deployment back: {why}"
