"""Operating like the AWS CLI: retries, change-set names and tokens, the end of this deploy,
every ECS service in progress, paged alarms, the template URL's partition, --role-arn."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra_gen import cli as commands
from infra_gen.deploy import aws, verify
from infra_gen.deploy import changeset as cf
from infra_gen.deploy import preflight as pf
from infra_gen.deploy.changeset import Event, Preview
from infra_gen.deploy.ecs_events import EcsFollower
from tests.support.refusals import one_error_line

STACK = "demo"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.parametrize(
    ("environ", "mode", "attempts"),
    [
        ({}, "standard", None),  # the mode's own 3 attempts
        ({"AWS_RETRY_MODE": "adaptive"}, "adaptive", None),
        ({"AWS_RETRY_MODE": "legacy", "AWS_MAX_ATTEMPTS": "7"}, "legacy", 7),
        ({"AWS_MAX_ATTEMPTS": "10"}, "standard", 10),
    ],
)
def test_clients_retry_in_standard_mode_unless_told(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], mode: str, attempts: int | None
) -> None:
    for name in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    env = {"AWS_REGION": "us-east-1", **environ}
    client = aws.Clients(env)("cloudformation")
    expected = (
        {"mode": mode} if attempts is None else {"mode": mode, "total_max_attempts": attempts}
    )
    assert client.meta.config.retries == expected


def test_a_retry_mode_botocore_does_not_know_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_RETRY_MODE", "fast")
    code = commands.main(["verify", "--stack-name", STACK], stdout=io.StringIO())
    assert code == 2
    assert capsys.readouterr().err == (
        "infra-gen: error: AWS_RETRY_MODE='fast': not a retry mode; allowed: standard, "
        "adaptive, legacy\n"
    )


def test_change_set_names_do_not_collide_within_a_second() -> None:
    names = {cf.change_set_name() for _ in range(200)}
    assert len(names) == 200
    for name in names:  # CloudFormation: a letter, then letters, digits and hyphens, <= 128
        assert name[0].isalpha() and len(name) <= 128
        assert all(c.isalnum() or c == "-" for c in name)


def _event(n: int, logical_id: str, status: str, token: str = "", **more: Any) -> dict[str, Any]:
    kind = "AWS::CloudFormation::Stack" if logical_id == STACK else "AWS::SNS::Topic"
    e = {
        "StackId": "id",
        "EventId": f"e{n}",
        "StackName": STACK,
        "Timestamp": T0 + timedelta(seconds=n),
        "LogicalResourceId": logical_id,
        "ResourceType": kind,
        "ResourceStatus": status,
        **more,
    }
    if token:
        e["ClientRequestToken"] = token
    return e


def _stack(status: str) -> dict[str, Any]:
    return {"Stacks": [{"StackName": STACK, "StackStatus": status, "CreationTime": T0}]}


def test_the_end_is_this_deploys_own_event_not_the_previous_update_complete() -> None:
    cfn = _client("cloudformation")
    p = Preview(STACK, "arn:cs", "UPDATE", (), "e1")
    seen: list[str] = []
    with Stubber(cfn) as stub:
        # Just after ExecuteChangeSet, DescribeStacks may still answer the last update's
        # UPDATE_COMPLETE, and no event of this run exists yet: not the end.
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK})
        stub.add_response(
            "describe_stack_events",
            {"StackEvents": [_event(1, STACK, "UPDATE_COMPLETE", "earlier-run")]},
            {"StackName": STACK},
        )
        stub.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": STACK})
        stub.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    _event(3, "Topic", "UPDATE_COMPLETE", "tok"),
                    _event(2, STACK, "UPDATE_IN_PROGRESS", "tok"),
                    _event(1, STACK, "UPDATE_COMPLETE", "earlier-run"),
                ]
            },
            {"StackName": STACK},
        )
        stub.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK})
        stub.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    _event(4, STACK, "UPDATE_COMPLETE", "tok"),
                    _event(3, "Topic", "UPDATE_COMPLETE", "tok"),
                ]
            },
            {"StackName": STACK},
        )
        status = cf.watch(
            cfn,
            p,
            lambda e: seen.append(e.event_id),
            lambda: None,
            token="tok",
            sleep=lambda _: None,
        )
        stub.assert_no_pending_responses()
    assert status == "UPDATE_COMPLETE"
    assert seen == ["e2", "e3", "e4"]


def test_execute_sends_a_client_request_token_the_watch_expects() -> None:
    cfn = _client("cloudformation")
    p = Preview(STACK, "arn:cs", "UPDATE", (), "e1")
    with Stubber(cfn) as stub:
        stub.add_response(
            "execute_change_set",
            {},
            {"ChangeSetName": "arn:cs", "StackName": STACK, "ClientRequestToken": ANY},
        )
        token = cf.execute(cfn, p)
    assert token.startswith("infra-gen-") and len(token) <= 128
    assert cf.request_token() != cf.request_token()


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("cn-north-1", "s3.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "s3.cn-northwest-1.amazonaws.com.cn"),
        ("eu-west-1", "s3.eu-west-1.amazonaws.com"),
        ("us-gov-west-1", "s3.us-gov-west-1.amazonaws.com"),
    ],
)
def test_the_template_url_is_on_the_s3_clients_own_endpoint(
    monkeypatch: pytest.MonkeyPatch, region: str, host: str
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    s3 = boto3.client(
        "s3", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(s3) as stub:
        stub.add_response("put_object", {}, {"Bucket": "my-bucket", "Key": ANY, "Body": ANY})
        found = cf.template_source("{}", s3_bucket="my-bucket", s3_prefix=None, s3=lambda: s3)
    assert found["TemplateURL"].startswith(f"https://{host}/my-bucket/")


def test_role_arn_goes_to_the_change_set(capsys: pytest.CaptureFixture[str]) -> None:
    cfn = _client("cloudformation")
    role = "arn:aws:iam::123456789012:role/cfn-deploy"
    with Stubber(cfn) as stub:
        stub.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
        )
        stub.add_client_error(
            "create_change_set",
            "ValidationError",
            "Role is invalid",
            expected_params={
                "StackName": STACK,
                "ChangeSetName": ANY,
                "ChangeSetType": "CREATE",
                "Parameters": [],
                "Capabilities": ["CAPABILITY_IAM"],
                "Description": "Created by infra-gen",
                "RoleARN": role,
                "TemplateBody": "{}",
            },
        )
        with pytest.raises(Exception, match="Role is invalid"):
            cf.preview(cfn, STACK, {"TemplateBody": "{}"}, [], {}, role_arn=role)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("value", ["arn:aws:iam::12:role/x", "role/x", "arn:aws:s3:::b"])
def test_a_role_arn_that_is_no_role_is_refused(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    line = one_error_line(capsys, ["deploy", "--stack-name", STACK, "--role-arn", value])
    assert line.startswith(f"argument --role-arn: {value!r} is not an IAM role ARN; allowed: ")


@pytest.mark.parametrize("value", ["\u00b2", "0", "-1", "x", "", "1.5"])
def test_fail_fast_stops_says_the_option_and_what_is_allowed(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    line = one_error_line(capsys, ["deploy", "--stack-name", STACK, "--fail-fast-stops", value])
    assert line == (
        f"argument --fail-fast-stops: {value!r}: expected a whole number from 1 to 999999 "
        "(digits 0-9) (see infra-gen deploy --help)"
    )


@pytest.mark.parametrize("value", ["0", "0.5", "301", "nan", "inf"])
def test_poll_interval_is_bounded(capsys: pytest.CaptureFixture[str], value: str) -> None:
    line = one_error_line(capsys, ["deploy", "--stack-name", STACK, "--poll-interval", value])
    assert line == (
        f"argument --poll-interval: {value!r}: expected seconds, a number from 1 to 300 "
        "(see infra-gen deploy --help)"
    )


def _service(n: int) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:service/cluster/svc{n}"


def test_the_ecs_follower_follows_every_service_in_progress_through_every_page() -> None:
    cfn, ecs = _client("cloudformation"), _client("ecs")
    follower = EcsFollower(cfn, lambda: ecs, STACK)

    def event(logical_id: str, status: str) -> Event:
        return Event("e", T0, logical_id, "AWS::ECS::Service", status, "")

    follower.on_event(event("ApiService", "UPDATE_IN_PROGRESS"))
    follower.on_event(event("WebService", "UPDATE_IN_PROGRESS"))

    def summary(logical_id: str, physical: str, kind: str = "AWS::ECS::Service") -> dict[str, Any]:
        return {
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical,
            "ResourceType": kind,
            "LastUpdatedTimestamp": T0,
            "ResourceStatus": "UPDATE_IN_PROGRESS",
        }

    with Stubber(cfn) as cfn_stub, Stubber(ecs) as ecs_stub:
        # The services are on the second page (past the first 100 resources).
        filler = [summary(f"Topic{i}", f"arn:topic{i}", "AWS::SNS::Topic") for i in range(100)]
        cfn_stub.add_response(
            "list_stack_resources",
            {"StackResourceSummaries": filler, "NextToken": "page2"},
            {"StackName": STACK},
        )
        cfn_stub.add_response(
            "list_stack_resources",
            {
                "StackResourceSummaries": [
                    summary("ApiService", _service(1)),
                    summary("WebService", _service(2)),
                ]
            },
            {"StackName": STACK, "NextToken": "page2"},
        )
        for n in (1, 2):
            ecs_stub.add_response(
                "describe_services",
                {
                    "services": [
                        {
                            "serviceArn": _service(n),
                            "events": [
                                {"id": f"ev{n}", "createdAt": T0, "message": f"svc{n} started"}
                            ],
                        }
                    ]
                },
                {"cluster": "cluster", "services": [_service(n)]},
            )
            ecs_stub.add_response(
                "list_tasks",
                {"taskArns": []},
                {"cluster": "cluster", "serviceName": f"svc{n}", "desiredStatus": "STOPPED"},
            )
        notes = follower.poll()
        assert [n.text for n in notes] == ["svc1 started", "svc2 started"]
        # One service completes: the other is still followed.
        follower.on_event(event("ApiService", "UPDATE_COMPLETE"))
        assert follower.following
        ecs_stub.add_response(
            "describe_services",
            {"services": [{"serviceArn": _service(2), "events": []}]},
            {"cluster": "cluster", "services": [_service(2)]},
        )
        ecs_stub.add_response(
            "list_tasks",
            {"taskArns": []},
            {"cluster": "cluster", "serviceName": "svc2", "desiredStatus": "STOPPED"},
        )
        assert follower.poll() == []
        cfn_stub.assert_no_pending_responses()
        ecs_stub.assert_no_pending_responses()
    follower.on_event(event("WebService", "UPDATE_COMPLETE"))
    assert not follower.following


def test_verify_reads_every_page_of_describe_alarms() -> None:
    cloudwatch = _client("cloudwatch")
    names = [f"alarm{i}" for i in range(60)]

    def alarm(name: str, state: str) -> dict[str, Any]:
        return {"AlarmName": name, "StateValue": state, "StateReason": "why"}

    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [alarm(n, "OK") for n in names[:50]], "NextToken": "more"},
            {"AlarmNames": names, "AlarmTypes": ["MetricAlarm"]},
        )
        stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [alarm(n, "ALARM" if n == "alarm59" else "OK") for n in names[50:]]},
            {"AlarmNames": names, "AlarmTypes": ["MetricAlarm"], "NextToken": "more"},
        )
        check = verify._alarms(cloudwatch, names)
        stub.assert_no_pending_responses()
    assert not check.ok
    assert check.detail.splitlines() == ["1 of 60 not OK", "alarm59 ALARM: why"]


@pytest.mark.parametrize(
    ("strategy", "tasks", "spot"),
    [
        (
            [
                {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},
                {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
            ],
            10,
            5,
        ),
        ([{"CapacityProvider": "FARGATE", "Weight": 1}], 10, 0),
        ([{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}], 4, 4),
        (
            [
                {"CapacityProvider": "FARGATE", "Weight": 3},
                {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
            ],
            10,
            3,
        ),
        ({"Ref": "Strategy"}, 7, 7),  # not written out: all of them may be
    ],
)
def test_spot_tasks_follow_the_strategy(strategy: Any, tasks: int, spot: int) -> None:
    assert pf._spot_tasks(strategy, tasks) == spot


def test_a_quota_it_could_not_compute_is_not_checked_as_a_warning() -> None:
    template = {"Resources": {"Svc": {"Type": "AWS::ECS::Service", "Properties": {}}}}
    for check in (pf._vcpu_quota, pf._spot_quota):
        finding = check(object(), {}, "us-east-1", template)
        assert finding.status == "warn"
        assert finding.detail.startswith("not checked: ")


def test_role_arn_does_not_apply_to_a_plan(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["deploy", "--stack-name", STACK, "--yes", "--plan", "plan.json"]
    line = one_error_line(capsys, [*argv, "--role-arn", "arn:aws:iam::123456789012:role/r"])
    assert line == (
        "--role-arn does not apply with --plan, which runs the plan's change set as it is: "
        "make a new plan with it"
    )
