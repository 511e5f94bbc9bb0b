"""The change-set logic on CloudFormation's real answers where the emulator differs.

CloudFormation answers an update without changes with a FAILED change set (moto refuses
the CreateChangeSet call instead), pages long change sets, and reports Conditional
replacements; these answers are stubbed with botocore's Stubber, which checks every
request against the AWS API model. Also: what the commands refuse before any AWS call.
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra_gen import commands
from infra_gen import deploy as cf

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STACK = "demo"
CS_ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/infra-gen-1/abc"
NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


def cfn_client() -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("cloudformation")


def existing(stub: Stubber, parameters: list[str]) -> None:
    stub.add_response("describe_stacks", {"Stacks": [{
        "StackName": STACK, "StackStatus": "UPDATE_COMPLETE", "CreationTime": NOW,
        "Parameters": [{"ParameterKey": k, "ParameterValue": "x"} for k in parameters],
    }]}, {"StackName": STACK})  # fmt: skip


def test_failed_change_set_without_changes_is_no_change_and_is_deleted() -> None:
    cfn = cfn_client()
    sleeps: list[float] = []
    with Stubber(cfn) as stub:
        existing(stub, ["A", "B"])
        stub.add_response("create_change_set", {"Id": CS_ARN}, {
            "StackName": STACK, "ChangeSetName": ANY, "ChangeSetType": "UPDATE",
            "Parameters": [{"ParameterKey": "A", "ParameterValue": "1"},
                           {"ParameterKey": "B", "UsePreviousValue": True}],
            "Capabilities": ["CAPABILITY_IAM"], "Description": "Created by infra-gen",
            "TemplateBody": "{}",
        })  # fmt: skip
        stub.add_response("describe_change_set", {"Status": "CREATE_PENDING"},
                          {"ChangeSetName": CS_ARN})  # fmt: skip
        stub.add_response("describe_change_set",
                          {"Status": "FAILED", "StatusReason": NO_CHANGES},
                          {"ChangeSetName": CS_ARN})  # fmt: skip
        stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
        p = cf.preview(cfn, STACK, {"TemplateBody": "{}"}, ["A", "B", "C"], {"A": "1"},
                       sleep=sleeps.append)  # fmt: skip
        stub.assert_no_pending_responses()
    assert p.changes == () and p.change_set_type == "UPDATE"
    assert sleeps == [2.0]  # polled until the change set settled


def test_paged_changes_with_conditional_replacement_are_shown() -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        existing(stub, [])
        stub.add_response("create_change_set", {"Id": CS_ARN}, None)
        first = {"Status": "CREATE_COMPLETE", "NextToken": "2", "Changes": [{
            "Type": "Resource", "ResourceChange": {
                "Action": "Modify", "LogicalResourceId": "EcsService",
                "PhysicalResourceId": "arn:svc", "ResourceType": "AWS::ECS::Service",
                "Replacement": "False",
                "Details": [{"Target": {"Attribute": "Properties", "Name": "DesiredCount",
                                        "RequiresRecreation": "Never"}}]}}]}  # fmt: skip
        second = {"Changes": [{"Type": "Resource", "ResourceChange": {
            "Action": "Modify", "LogicalResourceId": "LoadBalancerTargetGroup",
            "ResourceType": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Replacement": "Conditional",
            "Details": [
                {"Target": {"Attribute": "Properties", "Name": "HealthCheckPath",
                            "RequiresRecreation": "Never"}},
                {"Target": {"Attribute": "Properties", "Name": "VpcId",
                            "RequiresRecreation": "Conditionally"}}]}}]}  # fmt: skip
        stub.add_response("describe_change_set", first, {"ChangeSetName": CS_ARN})
        stub.add_response("describe_change_set", second,
                          {"ChangeSetName": CS_ARN, "NextToken": "2"})  # fmt: skip
        stub.add_response("describe_stack_events", {"StackEvents": [{
            "StackId": "id", "EventId": "e1", "StackName": STACK, "Timestamp": NOW}]},
            {"StackName": STACK})  # fmt: skip
        p = cf.preview(cfn, STACK, {"TemplateBody": "{}"}, [], {}, sleep=lambda _: None)
    assert p.last_event_id == "e1"
    target_group = p.changes[1]
    assert (target_group.replacement, target_group.replaces) == ("Conditional", True)
    assert target_group.causes == ("VpcId", "HealthCheckPath")  # the cause first
    out = io.StringIO()
    commands._show_changes(p, out)
    assert out.getvalue().splitlines() == [
        "Stack demo: 2 changes to update, 1 REPLACEMENTS",
        "  !! Modify  LoadBalancerTargetGroup  AWS::ElasticLoadBalancingV2::TargetGroup  "
        "MAY REPLACE (VpcId, HealthCheckPath)",
        "     Modify  EcsService               AWS::ECS::Service",
    ]


def event(logical_id: str, status: str, reason: str = "",
          resource_type: str = "AWS::EC2::VPC") -> cf.Event:  # fmt: skip
    return cf.Event(f"{logical_id}{status}", NOW, logical_id, resource_type, status, reason)


def test_first_failure_is_the_cause_not_the_cancellations() -> None:
    events = [
        event("Vpc", "CREATE_IN_PROGRESS"),
        event("Queue", "CREATE_FAILED", "Resource creation cancelled"),
        event("Service", "CREATE_FAILED", "quota exceeded"),
        event("Other", "CREATE_FAILED", "later"),
    ]
    failure = cf.first_failure(events)
    assert failure is not None and (failure.logical_id, failure.reason) == (
        "Service", "quota exceeded"
    )  # fmt: skip
    only_stack = [event("demo", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed",
                        "AWS::CloudFormation::Stack")]  # fmt: skip
    assert cf.first_failure(only_stack) == only_stack[0]
    assert cf.first_failure([event("Vpc", "CREATE_COMPLETE")]) is None


def test_parameters_keep_previous_values_only_for_an_existing_stack() -> None:
    declared = ["DesiredCount", "NewOne", "ServiceImage"]
    previous = ["DesiredCount", "ServiceImage"]
    assert cf.parameters_for(declared, {"ServiceImage": "nginx"}, previous) == [
        {"ParameterKey": "DesiredCount", "UsePreviousValue": True},
        {"ParameterKey": "ServiceImage", "ParameterValue": "nginx"},
    ]  # NewOne is new to the stack: its default applies
    assert cf.parameters_for(declared, {}, None) == []
    with pytest.raises(cf.InputError, match="--parameter Nope: not a Parameter"):
        cf.parameters_for(declared, {"Nope": "1"}, None)


def test_body_limit_is_the_request_limit() -> None:
    fits = "x" * cf.INLINE_LIMIT
    assert cf.template_source(fits, s3_bucket=None, s3_prefix=None, s3=dict) == {
        "TemplateBody": fits
    }
    with pytest.raises(cf.InputError) as refused:
        cf.template_source(fits + "x", s3_bucket=None, s3_prefix=None, s3=dict)
    assert str(refused.value).startswith(
        "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket."
    )


def test_deploy_refuses_without_yes_when_stdin_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_aws(service: str) -> Any:
        raise AssertionError(f"no call expected, got {service}")

    code = commands.main(["deploy", "--stack-name", STACK], clients=no_aws,
                         stdin=io.StringIO("y\n"))  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        "infra-gen: error: stdin is not a terminal, so no one can confirm: pass --yes\n"
    )


def test_without_boto3_the_error_names_the_extra() -> None:
    # A fresh interpreter in which importing boto3 fails, as on an install without the extra.
    code = (
        "import sys; sys.modules['boto3'] = None\n"
        "from infra_gen.cli import main\n"
        "sys.exit(main(['diff', '--stack-name', 'demo']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "infra-gen: error: boto3 is not installed; install the extra: "
        "pip install 'infra-gen[deploy]'\n"
    )
