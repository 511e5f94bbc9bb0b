"""infra_gen.grants: least-privilege statements per resource type, granted and linted."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import pytest
from troposphere import (
    GetAtt,
    ImportValue,
    Parameter,
    Ref,
    Sub,
    dynamodb,
    encode_to_dict,
    kms,
    s3,
    secretsmanager,
    sns,
    sqs,
    ssm,
)
from troposphere.logs import LogGroup

import infra_gen
from infra_gen import ConfigError, build_stack, grants, render
from tests.support.stack import lint_findings

TABLE_ARN = {"Fn::GetAtt": ["Table", "Arn"]}
BUCKET_ARN = {"Fn::GetAtt": ["Bucket", "Arn"]}
OBJECTS = {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/*", {"Bucket": {"Ref": "Bucket"}}]}
TABLE = [TABLE_ARN, {"Fn::Sub": ["${Arn}/index/*", {"Arn": TABLE_ARN}]}]
QUEUE = [{"Fn::GetAtt": ["Queue", "Arn"]}]
PARAMETER = [
    {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}",
            {"Name": {"Ref": "Parameter"}},
        ]
    }
]
DYNAMODB_READ = [
    "dynamodb:BatchGetItem",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
]
DYNAMODB_WRITE = [
    "dynamodb:BatchWriteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]
S3_WRITE = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
SECRET_READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
SECRET_WRITE = [
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
]
SSM_READ = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"]


def _allow(actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Action": actions, "Effect": "Allow", "Resource": resources}


# (resource, operation) -> the statements its policy holds, exactly.
EXPECTED: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("Bucket", "read"): [
        _allow(["s3:ListBucket"], [BUCKET_ARN]),
        _allow(["s3:GetObject"], [OBJECTS]),
    ],
    ("Bucket", "write"): [_allow(S3_WRITE, [OBJECTS])],
    ("Bucket", "read_write"): [
        _allow(["s3:ListBucket"], [BUCKET_ARN]),
        _allow(["s3:GetObject", *S3_WRITE], [OBJECTS]),
    ],
    ("Table", "read"): [_allow(DYNAMODB_READ, TABLE)],
    ("Table", "write"): [_allow([*DYNAMODB_WRITE, "dynamodb:DescribeTable"], TABLE)],
    ("Table", "read_write"): [_allow([*DYNAMODB_READ, *DYNAMODB_WRITE], TABLE)],
    ("Queue", "send"): [
        _allow(["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], QUEUE)
    ],
    ("Queue", "consume"): [
        _allow(
            [
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
            QUEUE,
        )
    ],
    ("Topic", "publish"): [_allow(["sns:Publish"], [{"Ref": "Topic"}])],
    ("Secret", "read"): [_allow(SECRET_READ, [{"Ref": "Secret"}])],
    ("Secret", "write"): [_allow(SECRET_WRITE, [{"Ref": "Secret"}])],
    ("Secret", "read_write"): [_allow([*SECRET_READ, *SECRET_WRITE], [{"Ref": "Secret"}])],
    ("Parameter", "read"): [_allow(SSM_READ, PARAMETER)],
    ("Parameter", "write"): [_allow(["ssm:PutParameter"], PARAMETER)],
    ("Parameter", "read_write"): [_allow([*SSM_READ, "ssm:PutParameter"], PARAMETER)],
    ("Key", "decrypt"): [_allow(["kms:Decrypt"], [{"Fn::GetAtt": ["Key", "Arn"]}])],
}


def _resources() -> dict[str, Any]:
    """One resource of each type, as cfn-lint takes them."""
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    return {
        "Bucket": s3.Bucket("Bucket"),
        "Table": dynamodb.Table(
            "Table",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                dynamodb.AttributeDefinition(AttributeName="id", AttributeType="S")
            ],
            KeySchema=[dynamodb.KeySchema(AttributeName="id", KeyType="HASH")],
        ),
        "Queue": sqs.Queue("Queue", SqsManagedSseEnabled=True),
        "Topic": sns.Topic("Topic"),
        "Secret": secretsmanager.Secret(
            "Secret", GenerateSecretString=secretsmanager.GenerateSecretString()
        ),
        "Parameter": ssm.Parameter("Parameter", Name="/jobs/limit", Type="String", Value="10"),
        "Key": kms.Key("Key", EnableKeyRotation=True, KeyPolicy=key_policy),
    }


@functools.cache
def _granted() -> tuple[str, dict[tuple[str, str], list[dict[str, Any]]]]:
    """A default stack with an added service granted each operation on each type, one
    policy per grant: the YAML and each grant's statements as rendered."""
    stack = build_stack()
    t = stack.template
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    made = {name: t.add_resource(r) for name, r in _resources().items()}
    for name, operation in EXPECTED:
        function: Callable[..., Any] = getattr(grants, operation)
        api.grant(t, function(made[name]))
    role = json.loads(render(t, "json"))["Resources"]["ApiEcsTaskRole"]["Properties"]
    policies = {p["PolicyName"]: p["PolicyDocument"]["Statement"] for p in role["Policies"]}
    rendered = {case: policies[f"grant-{i}"] for i, case in enumerate(EXPECTED, 1)}
    return render(t, "yaml"), rendered


def test_every_grant_of_every_type_lints_clean_in_a_default_stack() -> None:
    yaml_text, _ = _granted()
    assert lint_findings(yaml_text) == []


@pytest.mark.parametrize("case", list(EXPECTED), ids=lambda c: f"{c[0]}-{c[1]}")
def test_a_grant_holds_exactly_the_documented_actions_on_its_resources(
    case: tuple[str, str],
) -> None:
    assert _granted()[1][case] == EXPECTED[case]


def test_the_first_service_and_the_default_template_are_untouched() -> None:
    stack = build_stack()
    before = render(stack.template, "yaml")
    grants.read_write(stack.template.add_resource(_resources()["Table"]))
    del stack.template.resources["Table"]
    assert render(stack.template, "yaml") == before  # returning statements adds nothing


def test_infra_gen_grants_is_the_module() -> None:
    assert infra_gen.grants is grants
    assert "grants" in infra_gen.__all__
    assert grants.read is infra_gen.grants.read


def _json(statements: list[Any]) -> list[dict[str, Any]]:
    encoded: list[dict[str, Any]] = encode_to_dict(statements)
    return encoded


def test_a_text_arn_says_its_own_kind() -> None:
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/jobs"
    assert _json(grants.write(table)) == [
        _allow([*DYNAMODB_WRITE, "dynamodb:DescribeTable"], [table, f"{table}/index/*"])
    ]
    assert _json(grants.read("arn:aws-cn:s3:::my-bucket")) == [
        _allow(["s3:ListBucket"], ["arn:aws-cn:s3:::my-bucket"]),
        _allow(["s3:GetObject"], ["arn:aws-cn:s3:::my-bucket/*"]),
    ]
    queue = "arn:aws:sqs:eu-west-1:123456789012:jobs.fifo"
    assert _json(grants.send(queue, kind="queue"))[0]["Resource"] == [queue]
    topic = "arn:aws:sns:eu-west-1:123456789012:alerts"
    assert _json(grants.publish(topic)) == [_allow(["sns:Publish"], [topic])]
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert _json(grants.decrypt(key)) == [_allow(["kms:Decrypt"], [key])]
    parameter = "arn:aws:ssm:eu-west-1:123456789012:parameter/jobs/limit"
    assert _json(grants.read(parameter)) == [_allow(SSM_READ, [parameter])]


def test_a_secret_arn_is_granted_as_iam_matches_it() -> None:
    base = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"
    # A partial ARN matches the full one through the six characters Secrets Manager adds;
    # ECS's JSON key and version select a value, not what IAM allows.
    assert _json(grants.read(base))[0]["Resource"] == [f"{base}-??????"]
    assert _json(grants.read(f"{base}-AbCdEf:password::"))[0]["Resource"] == [f"{base}-AbCdEf"]


def test_an_intrinsic_arn_takes_its_kind() -> None:
    arn = ImportValue("shared-table-arn")
    assert _json(grants.read(arn, kind="table"))[0]["Resource"] == [
        {"Fn::ImportValue": "shared-table-arn"},
        {"Fn::Join": ["", [{"Fn::ImportValue": "shared-table-arn"}, "/index/*"]]},
    ]
    bucket = Sub("arn:${AWS::Partition}:s3:::shared-${AWS::Region}")
    assert _json(grants.write(bucket, kind="bucket"))[0]["Resource"] == [
        {"Fn::Join": ["", [bucket.to_dict(), "/*"]]}
    ]
    assert _json(grants.consume(GetAtt("Jobs", "Arn"), kind="queue"))[0]["Resource"] == [
        {"Fn::GetAtt": ["Jobs", "Arn"]}
    ]


def test_a_parameter_named_without_a_slash_gets_one_in_its_arn() -> None:
    plain = ssm.Parameter("Plain", Type="String", Value="1")
    (statement,) = _json(grants.read(plain))
    assert statement["Resource"][0]["Fn::Sub"][0].endswith(":parameter/${Name}")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: grants.publish(_resources()["Table"]),
            "resource: dynamodb.Table(Table) is a table, which has no publish; "
            "allowed for a table: read, write, read_write",
        ),
        (
            lambda: grants.read(_resources()["Queue"]),
            "resource: sqs.Queue(Queue) is a queue, which has no read; "
            "allowed for a queue: send, consume",
        ),
        (
            lambda: grants.read_write(_resources()["Key"]),
            "resource: kms.Key(Key) is a key, which has no read_write; allowed for a key: decrypt",
        ),
        (
            lambda: grants.read(LogGroup("Logs")),
            "resource: logs.LogGroup(Logs) is not allowed; allowed: an s3.Bucket, dynamodb.Table, "
            "sqs.Queue, sns.Topic, secretsmanager.Secret, ssm.Parameter or kms.Key, or an ARN "
            "(text, or an intrinsic with kind=)",
        ),
        (
            lambda: grants.read(Ref("Table")),
            "kind: missing for the intrinsic ARN Ref(Table); "
            "allowed: bucket, key, parameter, queue, secret, table, topic",
        ),
        (
            lambda: grants.read(Ref("Table"), kind="tables"),
            "kind: 'tables' is not allowed; "
            "allowed: bucket, key, parameter, queue, secret, table, topic",
        ),
        (
            lambda: grants.read(_resources()["Bucket"], kind="table"),
            "kind: 'table' differs from s3.Bucket(Bucket), a bucket; allowed: bucket",
        ),
        (
            lambda: grants.read("arn:aws:sqs:eu-west-1:123456789012:jobs", kind="table"),
            "kind: 'table' differs from 'arn:aws:sqs:eu-west-1:123456789012:jobs', a queue; "
            "allowed: queue",
        ),
        (
            lambda: grants.read("arn:aws:lambda:eu-west-1:123456789012:function:f"),
            "resource: 'arn:aws:lambda:eu-west-1:123456789012:function:f' is not allowed; "
            "allowed: the ARN of an S3 bucket, DynamoDB table, SQS queue, SNS topic, Secrets "
            "Manager secret, SSM parameter or KMS key",
        ),
        (
            lambda: grants.read("arn:aws:dynamodb:eu-west-1:123456789012:table/t/index/i"),
            "resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t/index/i' is not allowed",
        ),
        (
            lambda: grants.read(Ref("Table"), kind=["table"]),
            "kind: ['table'] is not allowed; allowed: bucket, key, parameter",
        ),
        (
            lambda: grants.read(Parameter("TableArn", Type="String")),
            "resource: troposphere.Parameter(TableArn) is not allowed; allowed: an s3.Bucket",
        ),
        (
            lambda: grants.read(None),
            "resource: None is not allowed; allowed: an s3.Bucket",
        ),
        (
            lambda: grants.read(ssm.Parameter("P", Name=Ref("N"), Type="String", Value="1")),
            "resource: ssm.Parameter(P) has a Name of Ref(N), which cannot be put "
            "into its ARN here; allowed: a Name of text, or its ARN with kind='parameter'",
        ),
    ],
)
def test_a_wrong_argument_is_refused_in_one_line_naming_it(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        call()
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value) and " at 0x" not in str(error.value)
