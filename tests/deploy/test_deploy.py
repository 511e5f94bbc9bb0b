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

from infra_gen import cli as commands
from infra_gen.cli.progress import show_changes
from infra_gen.deploy import aws, parameters
from infra_gen.deploy import changeset as cf
from infra_gen.errors import UsageError
from tests.support.refusals import one_error_line

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
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": NOW,
                    "Parameters": [{"ParameterKey": k, "ParameterValue": "x"} for k in parameters],
                }
            ]
        },
        {"StackName": STACK},
    )


def test_failed_change_set_without_changes_is_no_change_and_is_deleted() -> None:
    cfn = cfn_client()
    sleeps: list[float] = []
    with Stubber(cfn) as stub:
        existing(stub, ["A", "B"])
        stub.add_response(
            "create_change_set",
            {"Id": CS_ARN},
            {
                "StackName": STACK,
                "ChangeSetName": ANY,
                "ChangeSetType": "UPDATE",
                "Parameters": [
                    {"ParameterKey": "A", "ParameterValue": "1"},
                    {"ParameterKey": "B", "UsePreviousValue": True},
                ],
                "Capabilities": ["CAPABILITY_IAM"],
                "Description": "Created by infra-gen",
                "TemplateBody": "{}",
            },
        )
        stub.add_response(
            "describe_change_set", {"Status": "CREATE_PENDING"}, {"ChangeSetName": CS_ARN}
        )
        stub.add_response(
            "describe_change_set",
            {"Status": "FAILED", "StatusReason": NO_CHANGES},
            {"ChangeSetName": CS_ARN},
        )
        stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
        p = cf.preview(
            cfn, STACK, {"TemplateBody": "{}"}, ["A", "B", "C"], {"A": "1"}, sleep=sleeps.append
        )
        stub.assert_no_pending_responses()
    assert p.changes == () and p.change_set_type == "UPDATE"
    assert sleeps == [cf.CHANGE_SET_INTERVAL]  # polled until the change set settled


def test_paged_changes_with_conditional_replacement_are_shown() -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        existing(stub, [])
        stub.add_response("create_change_set", {"Id": CS_ARN}, None)
        first = {
            "Status": "CREATE_COMPLETE",
            "NextToken": "2",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "EcsService",
                        "PhysicalResourceId": "arn:svc",
                        "ResourceType": "AWS::ECS::Service",
                        "Replacement": "False",
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "DesiredCount",
                                    "RequiresRecreation": "Never",
                                }
                            }
                        ],
                    },
                }
            ],
        }
        second = {
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "LoadBalancerTargetGroup",
                        "ResourceType": "AWS::ElasticLoadBalancingV2::TargetGroup",
                        "Replacement": "Conditional",
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "HealthCheckPath",
                                    "RequiresRecreation": "Never",
                                }
                            },
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": "VpcId",
                                    "RequiresRecreation": "Conditionally",
                                }
                            },
                        ],
                    },
                }
            ]
        }
        stub.add_response("describe_change_set", first, {"ChangeSetName": CS_ARN})
        stub.add_response(
            "describe_change_set", second, {"ChangeSetName": CS_ARN, "NextToken": "2"}
        )
        stub.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    {"StackId": "id", "EventId": "e1", "StackName": STACK, "Timestamp": NOW}
                ]
            },
            {"StackName": STACK},
        )
        p = cf.preview(cfn, STACK, {"TemplateBody": "{}"}, [], {}, sleep=lambda _: None)
    assert p.last_event_id == "e1"
    target_group = p.changes[1]
    assert (target_group.replacement, target_group.replaces) == ("Conditional", True)
    assert target_group.causes == ("VpcId", "HealthCheckPath")  # the cause first
    out = io.StringIO()
    show_changes(p, out)
    assert out.getvalue().splitlines() == [
        "Stack demo: 2 changes to update, 1 REPLACEMENTS",
        "  !! Modify  LoadBalancerTargetGroup  AWS::ElasticLoadBalancingV2::TargetGroup  "
        "MAY REPLACE (VpcId, HealthCheckPath)",
        "     Modify  EcsService               AWS::ECS::Service",
    ]


def event(
    logical_id: str, status: str, reason: str = "", resource_type: str = "AWS::EC2::VPC"
) -> cf.Event:
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
        "Service",
        "quota exceeded",
    )
    only_stack = [
        event(
            "demo",
            "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed",
            "AWS::CloudFormation::Stack",
        )
    ]
    assert cf.first_failure(only_stack) == only_stack[0]
    assert cf.first_failure([event("Vpc", "CREATE_COMPLETE")]) is None


def test_parameters_keep_previous_values_only_for_an_existing_stack() -> None:
    declared = ["DesiredCount", "NewOne", "ServiceImage"]
    previous = ["DesiredCount", "ServiceImage"]
    assert parameters.parameters_for(declared, {"ServiceImage": "nginx"}, previous) == [
        {"ParameterKey": "DesiredCount", "UsePreviousValue": True},
        {"ParameterKey": "ServiceImage", "ParameterValue": "nginx"},
    ]  # NewOne is new to the stack: its default applies
    assert parameters.parameters_for(declared, {}, None) == []
    with pytest.raises(UsageError, match="--parameter Nope: not a Parameter"):
        parameters.parameters_for(declared, {"Nope": "1"}, None)


def test_body_limit_is_the_request_limit() -> None:
    fits = "x" * cf.INLINE_LIMIT
    assert cf.template_source(fits, s3_bucket=None, s3_prefix=None, s3=dict) == {
        "TemplateBody": fits
    }
    with pytest.raises(UsageError) as refused:
        cf.template_source(fits + "x", s3_bucket=None, s3_prefix=None, s3=dict)
    assert str(refused.value).startswith(
        "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket."
    )


def test_deploy_refuses_without_yes_when_stdin_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_aws(service: str) -> Any:
        raise AssertionError(f"no call expected, got {service}")

    code = commands.main(
        ["deploy", "--stack-name", STACK], clients=no_aws, stdin=io.StringIO("y\n")
    )
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
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "infra-gen: error: boto3 is not installed; install it, or the deploy extra (from a "
        "clone: .venv/bin/pip install -e '.[deploy]')\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["verify", "--stack-name", STACK, "--timeout", "-1"],
            "argument --timeout: '-1' is not allowed; allowed: seconds, more than 0 "
            "and at most 300",
        ),
        (["verify", "--stack-name", STACK, "--timeout", "nan"], "argument --timeout: 'nan' is not"),
        (["verify", "--stack-name", STACK, "--timeout", "inf"], "argument --timeout: 'inf' is not"),
        (
            ["diff"],
            "the following arguments are required: --stack-name (see infra-gen diff --help)",
        ),
        (
            ["diff", "--stack-name", "a_b"],
            "argument --stack-name: 'a_b' is not a stack name; "
            "allowed: 1-128 letters, digits and hyphens",
        ),
        (["diff", "--stack-name", "x" * 129], "is not a stack name"),
        (["diff", "--stack-name", "demo\nx"], "argument --stack-name: 'demo\\nx' is not a stack"),
        (
            ["diff", "--stack-name", STACK, "--parameter", "TaskSize=999/1"],
            "--parameter TaskSize='999/1': must be a Fargate",
        ),
        (
            ["diff", "--stack-name", STACK, "--parameter", "NoSuch=1"],
            "--parameter NoSuch: not a Parameter of the template; allowed: AlarmEmail,",
        ),
        (
            ["deploy", "--stack-name", STACK, "--yes", "--parameter", "MinTasks=0"],
            "--parameter MinTasks='0': ",
        ),
        (
            ["deploy", "--stack-name", STACK, "--yes", "--parameter", "DeletionProtection=yes"],
            "--parameter DeletionProtection='yes': ",
        ),
        (
            ["diff", "--stack-name", STACK, "--parameter", "ServiceImage=a\u2028b"],
            "--parameter ServiceImage='a\\u2028b': ",
        ),
        (
            ["diff", "--stack-name", STACK, "--s3-prefix", "stacks/"],
            "--s3-prefix needs --s3-bucket: it is a key prefix in that bucket",
        ),
        (
            ["deploy", "--stack-name", STACK, "--s3-bucket", "Bad_Bucket!"],
            "argument --s3-bucket: 'Bad_Bucket!' is not a bucket name; allowed: 3-63 lower-case "
            "letters, digits, dots and hyphens, a letter or digit at each end",
        ),
        (["diff", "--stack-name", STACK, "--s3-bucket", "ab"], "'ab' is not a bucket name"),
        (["diff", "--stack-name", STACK, "--s3-bucket", "a..b"], "'a..b' is not a bucket name"),
        (["diff", "--stack-name", STACK, "--s3-bucket", "10.0.0.1"], "is not a bucket name"),
        (["diff", "--stack-name", STACK, "--s3-bucket", "b" * 64], "is not a bucket name"),
        # A bad template is the error to report, before asking for a confirmation no one
        # can give without a terminal.
        (
            ["deploy", "--stack-name", STACK, "--template-file", "/nonexistent/stack.json"],
            "--template-file /nonexistent/stack.json: No such file or directory",
        ),
        (
            ["diff", "--stack-name", STACK, "--set", "alarms.email=ops\udcff@example.com"],
            "alarms.email: 'ops\\udcff@example.com' is not valid UTF-8",
        ),
        (
            ["diff", "--stack-name", STACK, "--parameter", "AlarmEmail=ops\udcff@example.com"],
            "--parameter 'AlarmEmail=ops\\udcff@example.com': not valid UTF-8",
        ),
    ],
)
def test_bad_input_is_one_line_before_any_aws_call(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in one_error_line(capsys, argv)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AWS_ENDPOINT_URL", "not a url", "AWS_ENDPOINT_URL='not a url': not an endpoint URL"),
        ("AWS_ENDPOINT_URL", "http://[::1", "AWS_ENDPOINT_URL='http://[::1': not an endpoint"),
        ("AWS_ENDPOINT_URL_CLOUDFORMATION", "ftp://x", "AWS_ENDPOINT_URL_CLOUDFORMATION='ftp://x'"),
        (
            "AWS_MAX_ATTEMPTS",
            "abc",
            "AWS_MAX_ATTEMPTS='abc': expected a whole number from 1 to 100",
        ),
        ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS='0': expected a whole number from 1 to 100"),
    ],
)
def test_a_malformed_aws_variable_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv(variable, value)
    code = commands.main(["verify", "--stack-name", STACK], stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"infra-gen: error: {message}") and err.count("\n") == 1, err


def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, **env: str) -> None:
    config = tmp_path / "config"
    config.write_text("[profile west]\nregion = ap-southeast-2\n")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("env", "region"),
    [
        ({"AWS_REGION": "eu-west-1"}, "eu-west-1"),  # boto3 alone ignores it
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-east-2", "AWS_PROFILE": "west"}, "us-east-2"),
        ({"AWS_PROFILE": "west"}, "ap-southeast-2"),
    ],
)
def test_region_is_read_as_the_aws_cli_reads_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, env: dict[str, str], region: str
) -> None:
    _aws_env(monkeypatch, tmp_path, **env)
    assert aws.Clients()("cloudformation").meta.region_name == region


def test_without_a_region_the_error_names_both_variables_and_the_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _aws_env(monkeypatch, tmp_path)
    assert commands.main(["verify", "--stack-name", STACK], stdout=io.StringIO()) == 2
    assert capsys.readouterr().err == (
        "infra-gen: error: no AWS Region: set AWS_REGION (or AWS_DEFAULT_REGION), or use a "
        "profile (AWS_PROFILE) that sets region\n"
    )


def test_help_says_where_the_region_comes_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _aws_env(monkeypatch, tmp_path, AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="us-east-2")
    assert commands.main(["deploy", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region" in text
    assert "(now eu-west-1, from AWS_REGION)" in text


def test_botocore_messages_are_folded_to_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        stub.add_client_error(
            "describe_stacks", "AccessDenied", "not allowed\nby policy X", http_status_code=403
        )
        code = commands.main(
            ["diff", "--stack-name", STACK], clients=lambda _: cfn, stdout=io.StringIO()
        )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "not allowed\\nby policy X" in err, err


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def _new_stack_change_set(stub: Stubber) -> None:
    stub.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist"
    )
    stub.add_response("create_change_set", {"Id": CS_ARN, "StackId": "arn:stack"}, None)
    stub.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Add",
                        "LogicalResourceId": "Vpc",
                        "ResourceType": "AWS::EC2::VPC",
                    },
                }
            ],
        },
        {"ChangeSetName": CS_ARN},
    )
    stub.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK})


def _deletes_the_new_stack(stub: Stubber) -> None:
    stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ARN})
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {"StackName": STACK, "StackStatus": "REVIEW_IN_PROGRESS", "CreationTime": NOW}
            ]
        },
        {"StackName": STACK},
    )
    stub.add_response("delete_stack", {}, {"StackName": STACK})


def test_a_reader_that_stops_early_still_gets_the_change_set_deleted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        _new_stack_change_set(stub)
        _deletes_the_new_stack(stub)
        code = commands.main(
            ["diff", "--stack-name", STACK], clients=lambda _: cfn, stdout=_ClosedPipe()
        )
        stub.assert_no_pending_responses()
    assert (code, capsys.readouterr().err) == (1, "")


def test_diff_with_set_builds_the_template_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra_gen.template import builder

    built: list[object] = []
    build = builder.build_template
    monkeypatch.setattr(builder, "build_template", lambda cfg: built.append(cfg) or build(cfg))
    cfn = cfn_client()
    with Stubber(cfn) as stub:  # a new stack: no value is kept, so no warning is due
        _new_stack_change_set(stub)
        _deletes_the_new_stack(stub)
        code = commands.main(
            ["diff", "--stack-name", STACK, "--set", "service.desired_count=3"],
            clients=lambda _: cfn,
            stdout=io.StringIO(),
        )
        stub.assert_no_pending_responses()
    assert (code, capsys.readouterr().err, len(built)) == (1, "", 1)


def test_an_unexpected_error_of_a_command_is_one_internal_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(service: str) -> Any:
        raise RuntimeError("no client\ntoday")

    out = io.StringIO()
    code = commands.main(["verify", "--stack-name", STACK], clients=broken, stdout=out)
    assert (code, out.getvalue()) == (70, "")
    assert capsys.readouterr().err == (
        "infra-gen: internal error: RuntimeError: no client\\ntoday (please report it)\n"
    )


def test_a_refused_execution_of_a_new_stack_deletes_what_it_made(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        _new_stack_change_set(stub)
        stub.add_client_error(
            "execute_change_set",
            "AccessDenied",
            "not authorized to perform cloudformation:ExecuteChangeSet",
            http_status_code=403,
        )
        _deletes_the_new_stack(stub)
        code = commands.main(
            ["deploy", "--stack-name", STACK, "--yes", "--skip-preflight"],
            clients=lambda _: cfn,
            stdout=io.StringIO(),
        )
        stub.assert_no_pending_responses()
    assert code == 1
    assert capsys.readouterr().err == (
        "infra-gen: error: cannot execute the change set: not authorized to perform "
        f"cloudformation:ExecuteChangeSet; deleted it and the empty stack {STACK} it made\n"
    )


def test_a_refused_execution_of_an_update_names_the_change_set_and_how_to_delete_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfn = cfn_client()
    with Stubber(cfn) as stub:
        existing(stub, [])
        stub.add_response("create_change_set", {"Id": CS_ARN}, None)
        stub.add_response(
            "describe_change_set",
            {
                "Status": "CREATE_COMPLETE",
                "Changes": [
                    {
                        "Type": "Resource",
                        "ResourceChange": {
                            "Action": "Modify",
                            "Replacement": "False",
                            "LogicalResourceId": "Vpc",
                            "ResourceType": "AWS::EC2::VPC",
                        },
                    }
                ],
            },
            {"ChangeSetName": CS_ARN},
        )
        stub.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK})
        stub.add_client_error("execute_change_set", "InvalidChangeSetStatus", "not executable")
        code = commands.main(
            ["deploy", "--stack-name", STACK, "--yes", "--skip-preflight"],
            clients=lambda _: cfn,
            stdout=io.StringIO(),
        )
        stub.assert_no_pending_responses()
    assert code == 1
    assert capsys.readouterr().err == (
        f"infra-gen: error: cannot execute the change set: not executable; stack {STACK} is "
        "unchanged; its change set is left: aws cloudformation delete-change-set "
        f"--change-set-name {CS_ARN} deletes it\n"
    )
