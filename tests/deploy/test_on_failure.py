"""A first create that cannot get stuck: OnStackFailure on a new stack, and the way out.

CloudFormation's answers are stubbed with botocore's Stubber, which checks every request
against the AWS API model (moto takes ``OnStackFailure`` and always rolls back).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra_gen import Config, build_template, render
from infra_gen import cli as commands
from infra_gen.deploy import changeset as cf
from infra_gen.deploy import recovery
from tests.support.refusals import one_error_line
from tests.support.stack import CERTIFICATE, GOVERNED, template

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STACK = "web"
CS_ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/infra-gen-1/abc"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1"
UNPROTECT = (
    'aws elbv2 modify-load-balancer-attributes --load-balancer-arn "$(aws cloudformation '
    "describe-stack-resource --stack-name web --logical-resource-id LoadBalancer --query "
    'StackResourceDetail.PhysicalResourceId --output text)" --attributes '
    "Key=deletion_protection.enabled,Value=false"
)


def cfn_client() -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("cloudformation")


@pytest.fixture(scope="module")
def governed_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("governed") / "governed.json"
    path.write_text(render(build_template(Config.from_mapping(GOVERNED)), "json"))
    return path


def _creates(stub: Stubber, on_failure: str | None) -> None:
    stub.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
    )
    expected: dict[str, Any] = {
        "StackName": STACK,
        "ChangeSetName": ANY,
        "ChangeSetType": "CREATE",
        "Parameters": ANY,
        "Capabilities": ["CAPABILITY_IAM"],
        "Description": "Created by infra-gen",
        "TemplateBody": ANY,
    }
    if on_failure is not None:
        expected["OnStackFailure"] = on_failure
    stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": STACK_ID}, expected)
    stub.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "LoadBalancer",
                        "ResourceType": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    },
                }
            ],
        },
        {"ChangeSetName": CS_ARN},
    )
    stub.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK})


def _event(n: int, logical_id: str, resource_type: str, status: str, reason: str = "") -> Any:
    return {
        "StackId": STACK_ID,
        "EventId": f"e{n}",
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "Timestamp": NOW,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def _fails_keeping_what_it_made(stub: Stubber) -> None:
    stub.add_response(
        "execute_change_set",
        {},
        {"ChangeSetName": CS_ARN, "StackName": STACK, "ClientRequestToken": ANY},
    )
    stub.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": STACK, "StackStatus": "CREATE_FAILED", "CreationTime": NOW}]},
        {"StackName": STACK},
    )
    events = [  # newest first, as the API lists them
        _event(3, STACK, "AWS::CloudFormation::Stack", "CREATE_FAILED", "resources failed"),
        _event(
            2,
            "LoadBalancerHttpsListener",
            "AWS::ElasticLoadBalancingV2::Listener",
            "CREATE_FAILED",
            "Certificate not found",
        ),
        _event(1, "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "CREATE_COMPLETE"),
    ]
    stub.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK})


def test_a_new_governed_stack_keeps_what_it_made_and_says_how_to_delete_it(
    governed_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfn = cfn_client()
    out = io.StringIO()
    with Stubber(cfn) as stub:
        _creates(stub, "DO_NOTHING")
        _fails_keeping_what_it_made(stub)
        code = commands.main(
            [
                "deploy",
                "--stack-name",
                STACK,
                "--template-file",
                str(governed_file),
                "--parameter",
                f"CertificateArn={CERTIFICATE}",
                "--yes",
                "--skip-preflight",
            ],
            clients=lambda _: cfn,
            stdout=out,
        )
        stub.assert_no_pending_responses()
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "If the create fails, the stack keeps what it made (OnStackFailure DO_NOTHING): "
        "deletion protection is on for LoadBalancer from the start." in out.getvalue()
    )
    assert err.splitlines()[-1] == (
        f"infra-gen: left behind: stack {STACK} is left CREATE_FAILED: it kept what it made "
        "(OnStackFailure DO_NOTHING): fix the cause and deploy again, which retries what "
        "failed, or delete it; deletion protection on LoadBalancer must be turned off first: "
        f"{UNPROTECT}; then aws cloudformation delete-stack --stack-name {STACK}"
    )


def test_the_default_stack_rolls_back_unless_its_load_balancer_is_protected() -> None:
    default = json.loads(render(build_template(Config()), "json"))
    assert recovery.choose(None, default, {}) == ("ROLLBACK", [])
    assert recovery.choose(None, default, {"DeletionProtection": "true"}) == (
        "DO_NOTHING",
        ["LoadBalancer"],
    )
    assert recovery.choose("DELETE", default, {}) == ("DELETE", [])
    assert recovery.choose(None, template(Config.from_mapping(GOVERNED)), {}) == (
        "DO_NOTHING",
        ["LoadBalancer"],
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            "ROLLBACK_FAILED",
            f"stack {STACK} is left ROLLBACK_FAILED: delete it; deletion protection on "
            f"LoadBalancer must be turned off first: {UNPROTECT}; then aws cloudformation "
            f"delete-stack --stack-name {STACK}",
        ),
        (
            "DELETE_FAILED",
            f"stack {STACK} is left DELETE_FAILED: delete it; deletion protection on "
            f"LoadBalancer must be turned off first: {UNPROTECT}; then aws cloudformation "
            f"delete-stack --stack-name {STACK}",
        ),
    ],
)
def test_a_protected_stack_that_failed_to_roll_back_is_unprotected_then_deleted(
    status: str, expected: str
) -> None:
    p = cf.Preview(STACK, CS_ARN, "CREATE", (), "")
    assert cf.left_behind(p, status, ["LoadBalancer"]) == expected
    # Unprotected, the old hint stands.
    assert cf.left_behind(p, status) == (
        f"stack {STACK} is left {status}: " + cf._BLOCKED[status].format(name=STACK)  # noqa: SLF001
    )


def test_an_update_sends_no_on_stack_failure(capsys: pytest.CaptureFixture[str]) -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": STACK, "StackStatus": "UPDATE_COMPLETE", "CreationTime": NOW}
                ]
            },
            {"StackName": STACK},
        )
        stub.add_response(
            "create_change_set",
            {"Id": CS_ARN},
            {
                "StackName": STACK,
                "ChangeSetName": ANY,
                "ChangeSetType": "UPDATE",
                "Parameters": ANY,
                "Capabilities": ["CAPABILITY_IAM"],
                "Description": "Created by infra-gen",
                "TemplateBody": ANY,
            },
        )
        stub.add_response(
            "describe_change_set",
            {"Status": "FAILED", "StatusReason": "No updates are to be performed."},
            {"ChangeSetName": CS_ARN},
        )
        stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
        code = commands.main(
            ["diff", "--stack-name", STACK, "--on-failure", "DELETE"],
            clients=lambda _: cfn,
            stdout=io.StringIO(),
        )
        stub.assert_no_pending_responses()
    assert (code, capsys.readouterr().err) == (0, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--on-failure", "rollback"],
            "'rollback' is not allowed; allowed: ROLLBACK, DELETE, DO_NOTHING",
        ),
        (
            ["--on-failure", "DO_NOTHING\n"],
            "'DO_NOTHING\\n' is not allowed; allowed: ROLLBACK, DELETE, DO_NOTHING",
        ),
        (["--on-failure", ""], "'' is not allowed; allowed: ROLLBACK, DELETE, DO_NOTHING"),
    ],
)
def test_a_bad_on_failure_is_one_line_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("deploy", "diff"):
        line = one_error_line(capsys, [command, "--stack-name", STACK, "--yes", *argv])
        assert line == f"argument --on-failure: {message} (see infra-gen {command} --help)"


def test_on_failure_does_not_apply_to_a_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error_line(
        capsys,
        [
            "deploy",
            "--stack-name",
            STACK,
            "--yes",
            "--plan",
            str(tmp_path / "plan.json"),
            "--on-failure",
            "DELETE",
        ],
    )
    assert line.startswith("--on-failure does not apply with --plan"), line


def test_a_kept_create_without_protection_is_retried_or_deleted_in_one_command() -> None:
    p = cf.Preview(STACK, CS_ARN, "CREATE", (), "")
    assert cf.left_behind(p, "CREATE_FAILED") == (
        f"stack {STACK} is left CREATE_FAILED: it kept what it made (OnStackFailure "
        "DO_NOTHING): fix the cause and deploy again, which retries what failed, or delete "
        f"it: aws cloudformation delete-stack --stack-name {STACK}"
    )


def test_what_a_failed_create_will_leave_is_said_before_it_runs() -> None:
    assert recovery.announce("ROLLBACK", []) is None  # CloudFormation's usual
    assert recovery.announce(None, ["LoadBalancer"]) is None  # a plan's: not known here
    assert recovery.announce("ROLLBACK", ["LoadBalancer"]) == (
        "If the create fails, OnStackFailure ROLLBACK cannot delete LoadBalancer (deletion "
        "protection is on): the stack would be left ROLLBACK_FAILED."
    )
    assert recovery.announce("DELETE", []) == (
        "If the create fails, the stack is deleted (OnStackFailure DELETE)."
    )
