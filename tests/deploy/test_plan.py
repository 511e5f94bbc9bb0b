"""``deploy --plan`` on CloudFormation's answers the emulator cannot give, through
botocore's Stubber (each request checked against the AWS API model): a change set that
is gone, and one CloudFormation made OBSOLETE when the stack changed."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra_gen import cli as commands
from infra_gen.deploy import plan as planfile
from infra_gen.deploy.changeset import Change, Preview

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STACK = "demo"
CS_ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/infra-gen-1/abc"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/def"
TEMPLATE = "Resources: {}\n"
CHANGE = Change("Modify", "EcsService", "AWS::ECS::Service", "arn:svc", "False", ())


def cfn_client() -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("cloudformation")


def a_plan(tmp_path: Path) -> Path:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        stub.add_response(
            "describe_change_set",
            {
                "StackId": STACK_ID,
                "Parameters": [{"ParameterKey": "MinTasks", "ParameterValue": "3"}],
                "Capabilities": ["CAPABILITY_IAM"],
            },
            {"ChangeSetName": CS_ARN},
        )
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "StackId": STACK_ID,
                        "StackStatus": "UPDATE_COMPLETE",
                        "CreationTime": NOW,
                        "LastUpdatedTime": NOW,
                    }
                ]
            },
            {"StackName": STACK},
        )
        made = planfile.make_plan(
            cfn,
            Preview(STACK, CS_ARN, "UPDATE", (CHANGE,), "e1"),
            TEMPLATE,
            {"MinTasks": "2", "MaxTasks": "10"},
        )
    assert made.parameters == {"MaxTasks": "10", "MinTasks": "3"}  # the change set's answer wins
    path = tmp_path / "plan.json"
    path.write_bytes(planfile.to_bytes(made))
    return path


def unchanged_stack(stub: Stubber) -> None:
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackId": STACK_ID,
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": NOW,
                    "LastUpdatedTime": NOW,
                }
            ]
        },
        {"StackName": STACK},
    )
    stub.add_response(
        "describe_stack_events",
        {"StackEvents": [{"StackId": "id", "EventId": "e1", "StackName": STACK, "Timestamp": NOW}]},
        {"StackName": STACK},
    )


def deploy(path: Path, cfn: Any) -> int:
    def clients(service: str) -> Any:
        assert service == "cloudformation", f"no {service} call expected before the check"
        return cfn

    return commands.main(
        ["deploy", "--stack-name", STACK, "--plan", str(path), "--yes"],
        clients=clients,
        stdout=io.StringIO(),
    )


def test_a_change_set_that_is_gone_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, cfn = a_plan(tmp_path), cfn_client()
    with Stubber(cfn) as stub:
        unchanged_stack(stub)
        stub.add_client_error(
            "describe_change_set",
            "ChangeSetNotFound",
            f"ChangeSet [{CS_ARN}] does not exist",
            404,
            expected_params={"ChangeSetName": CS_ARN, "StackName": STACK},
        )
        assert deploy(path, cfn) == 1
        stub.assert_no_pending_responses()
    assert capsys.readouterr().err == (
        f"infra-gen: error: change set {CS_ARN} no longer exists: make a new plan: "
        "infra-gen diff --plan-out\n"
    )


@pytest.mark.parametrize("execution", ["OBSOLETE", "EXECUTE_FAILED", "UNAVAILABLE"])
def test_a_change_set_not_available_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], execution: str
) -> None:
    path, cfn = a_plan(tmp_path), cfn_client()
    with Stubber(cfn) as stub:
        unchanged_stack(stub)
        stub.add_response(
            "describe_change_set",
            {"Status": "CREATE_COMPLETE", "ExecutionStatus": execution},
            {"ChangeSetName": CS_ARN, "StackName": STACK},
        )
        assert deploy(path, cfn) == 1
    assert capsys.readouterr().err == (
        f"infra-gen: error: change set {CS_ARN} is CREATE_COMPLETE/{execution}, not available "
        "to execute: make a new plan: infra-gen diff --plan-out\n"
    )


def test_a_change_set_with_other_changes_than_the_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, cfn = a_plan(tmp_path), cfn_client()
    with Stubber(cfn) as stub:
        unchanged_stack(stub)
        stub.add_response(
            "describe_change_set",
            {
                "StackId": STACK_ID,
                "Status": "CREATE_COMPLETE",
                "ExecutionStatus": "AVAILABLE",
                "Parameters": [{"ParameterKey": "MinTasks", "ParameterValue": "3"}],
                "Capabilities": ["CAPABILITY_IAM"],
                "Changes": [
                    {
                        "Type": "Resource",
                        "ResourceChange": {
                            "Action": "Remove",
                            "LogicalResourceId": "EcsService",
                            "ResourceType": "AWS::ECS::Service",
                        },
                    }
                ],
            },
            {"ChangeSetName": CS_ARN, "StackName": STACK},
        )
        stub.add_response(
            "get_template",
            {"TemplateBody": TEMPLATE},
            {"StackName": STACK_ID, "ChangeSetName": CS_ARN, "TemplateStage": "Original"},
        )
        assert deploy(path, cfn) == 1
        stub.assert_no_pending_responses()
    assert capsys.readouterr().err == (
        f"infra-gen: error: change set {CS_ARN} lists other changes than the plan file: "
        "make a new plan: infra-gen diff --plan-out\n"
    )
