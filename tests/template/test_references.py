"""References wherever a container's value goes: intrinsics in environment and secrets,
what the execution role is granted for them, and refusals that show what was given."""

from __future__ import annotations

import json
from typing import Any

import pytest
from troposphere import (
    Equals,
    GetAtt,
    If,
    ImportValue,
    Join,
    Ref,
    Select,
    Split,
    Sub,
    Template,
    dynamodb,
    s3,
    secretsmanager,
    ssm,
)

from infra_gen import ConfigError, Stack, build_stack, render
from infra_gen.errors import shown
from tests.support.stack import lint_findings

ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
SSM_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
LITERAL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


def _stack() -> tuple[Stack, dict[str, Any]]:
    """The default stack with resources of the user's own that containers use."""
    stack = build_stack()
    t = stack.template
    made = {
        "bucket": t.add_resource(s3.Bucket("Bucket")),
        "table": t.add_resource(
            dynamodb.Table(
                "Table",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    dynamodb.AttributeDefinition(AttributeName="id", AttributeType="S")
                ],
                KeySchema=[dynamodb.KeySchema(AttributeName="id", KeyType="HASH")],
            )
        ),
        "secret": t.add_resource(
            secretsmanager.Secret(
                "DbSecret", GenerateSecretString=secretsmanager.GenerateSecretString()
            )
        ),
        "rooted": t.add_resource(
            ssm.Parameter("TokenParam", Name="/app/token", Type="String", Value="t")
        ),
        "plain": t.add_resource(ssm.Parameter("LevelParam", Type="String", Value="info")),
    }
    t.add_condition("Prod", Equals(Ref("AWS::AccountId"), "123456789012"))
    return stack, made


def _resources(t: Template) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render(t, "json"))["Resources"]
    return loaded


def _container(r: dict[str, Any], scope: str = "") -> dict[str, Any]:
    found: dict[str, Any] = r[scope + "EcsTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    return found


def _reads(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of the execution role's read-secrets policy."""
    (policy,) = [
        p
        for p in r["EcsTaskExecutionRole"]["Properties"]["Policies"]
        if p.get("PolicyName") == "read-secrets"
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_resources_of_the_template_reach_an_added_service_as_references() -> None:
    stack, made = _stack()
    bucket, table, secret = made["bucket"], made["table"], made["secret"]
    stack.add_service(
        "Api",
        {"name": "api"},
        path_pattern="/api/*",
        priority=10,
        environment={
            "BUCKET": Ref(bucket),
            "TABLE_ARN": GetAtt(table, "Arn"),
            "SITE": Sub("https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}"),
            "PAIR": Join("/", [Ref(bucket), Ref(table)]),
            "QUEUE": ImportValue("shared-queue-url"),
            "LEVEL": If("Prod", "warn", "debug"),
            "MODE": "api",
        },
        secrets={
            "DB": secret,  # the resource itself: its Ref is its ARN
            "DB_USER": Sub("${DbSecret}:username::"),  # its ARN and a JSON key
            "SHARED": ImportValue("shared-secret-arn"),
            "KEY": Sub(ARN + "api/key:password::"),  # partial name, JSON key
            "TOKEN": made["rooted"],  # Name "/app/token": parameter/app/token
            "LEVEL_NAME": Ref(made["plain"]),  # a made-up name, no leading "/"
            "OLD": LITERAL,
        },
    )
    r = _resources(stack.template)
    api = _container(r, "Api")
    assert api["Environment"] == [
        {"Name": "BUCKET", "Value": {"Ref": "Bucket"}},
        {"Name": "LEVEL", "Value": {"Fn::If": ["Prod", "warn", "debug"]}},
        {"Name": "MODE", "Value": "api"},
        {"Name": "PAIR", "Value": {"Fn::Join": ["/", [{"Ref": "Bucket"}, {"Ref": "Table"}]]}},
        {"Name": "QUEUE", "Value": {"Fn::ImportValue": "shared-queue-url"}},
        {
            "Name": "SITE",
            "Value": {"Fn::Sub": "https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}"},
        },
        {"Name": "TABLE_ARN", "Value": {"Fn::GetAtt": ["Table", "Arn"]}},
    ]
    assert {s["Name"]: s["ValueFrom"] for s in api["Secrets"]} == {
        "DB": {"Ref": "DbSecret"},
        "DB_USER": {"Fn::Sub": "${DbSecret}:username::"},
        "KEY": {"Fn::Sub": ARN + "api/key:password::"},
        "LEVEL_NAME": {"Fn::Sub": SSM_ARN + "/${LevelParam}"},
        "OLD": LITERAL,
        "SHARED": {"Fn::ImportValue": "shared-secret-arn"},
        "TOKEN": {"Fn::Sub": SSM_ARN + "${TokenParam}"},
    }
    # Exactly the secrets given: a JSON key dropped, a partial name completed.
    assert _reads(r) == [
        {
            "Action": ["secretsmanager:GetSecretValue"],
            "Effect": "Allow",
            "Resource": [
                LITERAL,
                {"Fn::Sub": ARN + "api/key-??????"},
                {"Ref": "DbSecret"},
            ],
        },
        {
            "Action": ["ssm:GetParameters"],
            "Effect": "Allow",
            "Resource": [
                {"Fn::Sub": SSM_ARN + "${TokenParam}"},
                {"Fn::Sub": SSM_ARN + "/${LevelParam}"},
            ],
        },
        {
            # Only the deployed stack knows which service's ARN it imports: both actions.
            "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
            "Effect": "Allow",
            "Resource": [{"Fn::ImportValue": "shared-secret-arn"}],
        },
    ]
    assert lint_findings(render(stack.template, "yaml")) == []


def test_the_first_service_takes_references_through_its_handle_each_granted_once() -> None:
    stack, made = _stack()
    t = stack.template
    stack.service.add_environment(t, {"BUCKET": Ref(made["bucket"]), "LEVEL": If("Prod", "w", "d")})
    stack.service.add_secrets(t, {"DB": Ref(made["secret"]), "KEY": Sub(ARN + "api/key")})
    api = stack.add_service(
        "Api", {"name": "api"}, path_pattern="/api/*", priority=10, secrets={"DB": made["secret"]}
    )
    partition, account = Ref("AWS::Partition"), Ref("AWS::AccountId")
    joined = Join(":", ["arn", partition, "secretsmanager", "us-east-1", account, "secret", "key"])
    api.add_secrets(t, {"KEY": joined})
    r = _resources(t)
    assert _container(r)["Environment"] == [
        {"Name": "BUCKET", "Value": {"Ref": "Bucket"}},
        {"Name": "LEVEL", "Value": {"Fn::If": ["Prod", "w", "d"]}},
    ]
    (statement,) = _reads(r)
    # The same secret by Ref and as itself is granted once; the partial name gets one
    # suffix however many times it is added.
    assert statement["Resource"] == [
        {"Fn::Sub": ARN + "api/key-??????"},
        {
            "Fn::Sub": [
                "arn:${Part1}:secretsmanager:us-east-1:${Part4}:secret:key-??????",
                {"Part1": {"Ref": "AWS::Partition"}, "Part4": {"Ref": "AWS::AccountId"}},
            ]
        },
        {"Ref": "DbSecret"},
    ]
    assert lint_findings(render(t, "yaml")) == []


# A secret made by another template, of the logical ID of the stack's own.
_FOREIGN = secretsmanager.Secret(
    "DbSecret", GenerateSecretString=secretsmanager.GenerateSecretString()
)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"environment": {"BUCKET": Ref("Missing")}},
            "environment.BUCKET: Ref(Missing) names "
            "Missing, which is no resource or Parameter of this template",
        ),
        ({"environment": {"BUCKET": Sub("${Missing.Arn}")}}, "environment.BUCKET: Sub('${Missin"),
        ({"environment": {"LEVEL": If("Nope", "a", "b")}}, "environment.LEVEL: If("),
        (
            {"environment": {"BUCKET": s3.Bucket("Bucket")}},
            "environment.BUCKET: AWS::S3::Bucket "
            "Bucket is not allowed; allowed: text or Ref, GetAtt, Sub, Join, ImportValue or If; "
            "for its name, Ref(Bucket)",
        ),
        ({"environment": {"X": [Ref("Bucket")]}}, "environment.X: a list is not allowed"),
        ({"environment": {"X": Select(0, Split(",", "a,b"))}}, "environment.X: Select("),
        ({"environment": {"1X": Ref("Bucket")}}, "environment.1X: is not a variable name"),
        ({"environment": {"X": 1}}, "environment.X: 1 is not allowed; allowed: text"),
        ({"secrets": {"DB": Ref("Bucket")}}, "secrets.DB: Ref(Bucket) is no secret's ARN"),
        ({"secrets": {"DB": GetAtt("Table", "Arn")}}, "secrets.DB: GetAtt(Table.Arn) is no"),
        ({"secrets": {"DB": Ref("AWS::Region")}}, "secrets.DB: Ref(AWS::Region) is no secret"),
        (
            {"secrets": {"DB": Sub("arn:${AWS::Partition}:s3:::${Bucket}/key")}},
            "secrets.DB: Sub('arn:${AWS::Partition}:s3:::${Bucket}/key') has no secret's ARN shape",
        ),
        ({"secrets": {"DB": Join("", ["arn:aws:s3:::", Ref("Bucket")])}}, "secrets.DB: Join("),
        (
            {"secrets": {"DB": Sub("db\n")}},
            "secrets.DB: 'db\\n' contains the control character U+000A",
        ),
        (
            {"secrets": {"DB": _FOREIGN}},
            "secrets.DB: AWS::SecretsManager::Secret DbSecret is not a resource of this template",
        ),
        ({"secrets": {"DB": s3.Bucket("Other")}}, "secrets.DB: AWS::S3::Bucket Other is not a"),
        ({"secrets": {"DB": 5}}, "secrets.DB: 5 is not allowed"),
        ({"secrets": {"DB": "arn:aws:s3:::bucket/key"}}, "secrets.DB: 'arn:aws:s3:::bucket/key'"),
        ({"secrets": {"X-Y": Ref("DbSecret")}}, "secrets.X-Y: is not a variable name"),
        (
            {"environment": {"DB": Ref("Bucket")}, "secrets": {"DB": Ref("DbSecret")}},
            "secrets.DB: DB is in environment too",
        ),
    ],
)
def test_a_bad_reference_is_one_line_naming_its_key_before_anything_is_added(
    options: dict[str, Any], message: str
) -> None:
    stack, _ = _stack()
    t = stack.template
    before = render(t, "json")
    with pytest.raises(ConfigError) as raised:
        stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10, **options)
    text = str(raised.value)
    assert text.startswith(message) and "\n" not in text and "0x" not in text
    assert render(t, "json") == before
    # The first service's handle refuses the same, setting nothing.
    key = "secrets" if "secrets" in options else "environment"
    add = stack.service.add_secrets if key == "secrets" else stack.service.add_environment
    if "environment" in options and "secrets" in options:
        return  # a name in both is a rule of add_service's two arguments
    with pytest.raises(ConfigError) as raised:
        add(t, options[key])
    assert str(raised.value) == text
    assert render(t, "json") == before


def test_a_parameter_whose_name_is_not_text_is_refused_by_name() -> None:
    stack, made = _stack()
    t = stack.template
    named = t.add_resource(
        ssm.Parameter("Named", Name=Sub("/${AWS::StackName}/x"), Type="String", Value="v")
    )
    before = render(t, "json")
    with pytest.raises(ConfigError, match=r"^secrets.X: Ref\(Named\) names a parameter whose "):
        stack.service.add_secrets(t, {"X": named})
    assert render(t, "json") == before


def test_an_error_shows_a_value_by_what_it_is_never_by_its_address() -> None:
    bucket = s3.Bucket("Bucket")
    assert shown(Ref(bucket)) == "Ref(Bucket)"
    assert shown(GetAtt("Table", "Arn")) == "GetAtt(Table.Arn)"
    assert shown(Sub("arn:${AWS::Partition}:x")) == "Sub('arn:${AWS::Partition}:x')"
    assert shown(ImportValue("q")) == 'ImportValue("q")'
    assert shown(bucket) == "AWS::S3::Bucket Bucket"
    assert shown([Ref(bucket)]) == "a list"
    assert shown(object()) == "an object"
    long = shown(Sub("x" * 500), 40)
    assert len(long) == 40 and long.endswith("...")
    assert shown("a\nb") == "'a\\nb'" and shown(1) == "1"
