"""Least-privilege awacs statements for a service's tasks on one resource, in one call.

Each function takes a troposphere resource of a common type (``s3.Bucket``,
``dynamodb.Table``, ``sqs.Queue``, ``sns.Topic``, ``secretsmanager.Secret``,
``ssm.Parameter``, ``kms.Key``) or an ARN, and returns the statements to give
:meth:`infra_gen.Service.grant`, as CDK's ``table.grantReadWriteData(role)`` does::

    from infra_gen import grants
    stack.service.grant(t, grants.read_write(table))

An ARN may be text (its type is read from it) or an intrinsic (``Sub``, ``GetAtt``,
``ImportValue``, ...) with ``kind=`` saying what it names: one of :data:`KINDS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from awacs import dynamodb, kms, s3, secretsmanager, sns, sqs, ssm
from awacs.aws import Action, Allow, Statement
from troposphere import AWSHelperFn, AWSObject, BaseAWSObject, GetAtt, Join, Ref, Sub
from troposphere import dynamodb as t_dynamodb
from troposphere import kms as t_kms
from troposphere import s3 as t_s3
from troposphere import secretsmanager as t_secretsmanager
from troposphere import sns as t_sns
from troposphere import sqs as t_sqs
from troposphere import ssm as t_ssm

from ..errors import ConfigError, shown

__all__ = ["KINDS", "consume", "decrypt", "publish", "read", "read_write", "send", "write"]

# What each kind grants, operation -> actions; read_write is read then write.
#
# S3: the Service Authorization Reference, "Actions, resources, and condition keys for
# Amazon S3" (docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html):
# ListBucket takes the bucket's ARN, the object actions the objects' (<bucket ARN>/*).
# CDK's grantRead/grantWrite name the same actions by wildcards (s3:GetObject*, s3:List*,
# s3:PutObject*, s3:Abort*, s3:DeleteObject*), broader than least privilege.
_BUCKET: dict[str, list[Action]] = {
    "read": [s3.ListBucket, s3.GetObject],
    "write": [s3.PutObject, s3.DeleteObject, s3.AbortMultipartUpload],
}
# The actions S3 authorizes on the bucket itself; the rest act on its objects.
_BUCKET_LEVEL = {s3.ListBucket.JSONrepr()}
# DynamoDB: CDK's Table.grantReadData / grantWriteData (aws-cdk-lib aws-dynamodb
# lib/perms.ts, READ_DATA_ACTIONS, WRITE_DATA_ACTIONS, DESCRIBE_TABLE), on the table and
# its indexes (<table ARN>/index/*), and "IAM policy to grant read-only permissions on
# items in a DynamoDB table" (docs.aws.amazon.com/amazondynamodb/latest/developerguide/
# read-only-permissions-on-table-items.html).
_TABLE: dict[str, list[Action]] = {
    "read": [
        dynamodb.BatchGetItem,
        dynamodb.GetRecords,
        dynamodb.GetShardIterator,
        dynamodb.Query,
        dynamodb.GetItem,
        dynamodb.Scan,
        dynamodb.ConditionCheckItem,
        dynamodb.DescribeTable,
    ],
    "write": [
        dynamodb.BatchWriteItem,
        dynamodb.PutItem,
        dynamodb.UpdateItem,
        dynamodb.DeleteItem,
        dynamodb.DescribeTable,
    ],
}
# SQS: CDK's Queue.grantSendMessages / grantConsumeMessages, each action on the queue's
# ARN per "Actions, resources, and condition keys for Amazon SQS"
# (docs.aws.amazon.com/IAM/latest/UserGuide/list_amazonsqs.html).
_QUEUE: dict[str, list[Action]] = {
    "send": [sqs.SendMessage, sqs.GetQueueAttributes, sqs.GetQueueUrl],
    "consume": [
        sqs.ReceiveMessage,
        sqs.ChangeMessageVisibility,
        sqs.GetQueueUrl,
        sqs.DeleteMessage,
        sqs.GetQueueAttributes,
    ],
}
# SNS: CDK's Topic.grantPublish; "Actions, resources, and condition keys for Amazon SNS"
# (docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html).
_TOPIC: dict[str, list[Action]] = {"publish": [sns.Publish]}
# Secrets Manager: CDK's Secret.grantRead / grantWrite; "Actions, resources, and condition
# keys for AWS Secrets Manager" (docs.aws.amazon.com/service-authorization/latest/
# reference/list_awssecretsmanager.html).
_SECRET: dict[str, list[Action]] = {
    "read": [secretsmanager.GetSecretValue, secretsmanager.DescribeSecret],
    "write": [
        secretsmanager.PutSecretValue,
        secretsmanager.UpdateSecret,
        secretsmanager.UpdateSecretVersionStage,
    ],
}
# SSM: CDK's StringParameter.grantRead / grantWrite, without ssm:DescribeParameters, which
# takes no resource but "*" ("Actions, resources, and condition keys for AWS Systems
# Manager", docs.aws.amazon.com/service-authorization/latest/reference/
# list_awssystemsmanager.html) and would list every parameter of the account.
_PARAMETER: dict[str, list[Action]] = {
    "read": [ssm.GetParameter, ssm.GetParameters, ssm.GetParameterHistory],
    "write": [ssm.PutParameter],
}
# KMS: CDK's Key.grantDecrypt; "Actions, resources, and condition keys for AWS Key
# Management Service" (docs.aws.amazon.com/service-authorization/latest/reference/
# list_awskeymanagementservice.html).
_KEY: dict[str, list[Action]] = {"decrypt": [kms.Decrypt]}

# kind -> (troposphere class, ARN service, ARN resource pattern, operations).
_KINDS: dict[str, tuple[type[AWSObject], str, str, dict[str, list[Action]]]] = {
    "bucket": (t_s3.Bucket, "s3", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", _BUCKET),
    "key": (t_kms.Key, "kms", r"key/[A-Za-z0-9-]+", _KEY),
    "parameter": (t_ssm.Parameter, "ssm", r"parameter/[A-Za-z0-9/_.-]+", _PARAMETER),
    "queue": (t_sqs.Queue, "sqs", r"[A-Za-z0-9_-]{1,80}(\.fifo)?", _QUEUE),
    "secret": (t_secretsmanager.Secret, "secretsmanager", r"secret:[A-Za-z0-9/_+=.@-]+", _SECRET),
    "table": (t_dynamodb.Table, "dynamodb", r"table/[A-Za-z0-9_.-]{3,255}", _TABLE),
    "topic": (t_sns.Topic, "sns", r"[A-Za-z0-9_-]{1,256}(\.fifo)?", _TOPIC),
}
# The kinds whose resources' Ref is their ARN.
_REF_IS_ARN = ("secret", "topic")
KINDS = tuple(_KINDS)
"""What ``kind=`` may name: bucket, key, parameter, queue, secret, table, topic."""

_ARN = re.compile(r"arn:(aws|aws-cn|aws-us-gov):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|):(.+)")
# The six characters Secrets Manager appends to a secret's name in its ARN.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def read(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role read ``resource``: a bucket, table, secret or parameter.

    ``kind`` names what an intrinsic ARN is (one of :data:`KINDS`); a resource or a text
    ARN says it itself. Raises :class:`ConfigError` naming ``resource`` or ``kind``.
    """
    return _grant("read", resource, kind)


def write(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role write ``resource``: a bucket, table, secret or parameter."""
    return _grant("write", resource, kind)


def read_write(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role read and write ``resource``, as :func:`read` and
    :func:`write` together."""
    return _grant("read_write", resource, kind)


def send(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role send messages to the SQS queue ``resource``."""
    return _grant("send", resource, kind)


def consume(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role receive, keep and delete messages of the queue ``resource``."""
    return _grant("consume", resource, kind)


def publish(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role publish to the SNS topic ``resource``."""
    return _grant("publish", resource, kind)


def decrypt(resource: object, *, kind: str | None = None) -> list[Statement]:
    """Statements that let a role decrypt with the KMS key ``resource``."""
    return _grant("decrypt", resource, kind)


def _grant(operation: str, resource: object, kind: str | None) -> list[Statement]:
    kind, arn = _resolve(resource, kind)
    operations = _KINDS[kind][3]
    if operation == "read_write" and "read" in operations:
        actions = _unique([*operations["read"], *operations["write"]])
    elif operation in operations:
        actions = operations[operation]
    else:
        allowed = [*operations, "read_write"] if "read" in operations else list(operations)
        raise ConfigError(
            "resource",
            f"{_what(resource)} is a {kind}, which has no {operation}; "
            f"allowed for a {kind}: {', '.join(allowed)}",
        )
    if kind == "bucket":
        on_bucket = [a for a in actions if a.JSONrepr() in _BUCKET_LEVEL]
        on_objects = [a for a in actions if a.JSONrepr() not in _BUCKET_LEVEL]
        pairs = [(on_bucket, [arn]), (on_objects, [_objects(resource, arn)])]
        return [Statement(Effect=Allow, Action=a, Resource=r) for a, r in pairs if a]
    resources = [arn, _suffixed(arn, "/index/*")] if kind == "table" else [arn]
    return [Statement(Effect=Allow, Action=list(actions), Resource=resources)]


def _resolve(resource: object, kind: object) -> tuple[str, Any]:
    """The kind ``resource`` is and its ARN, as a policy names it; else a ConfigError."""
    if kind is not None and (not isinstance(kind, str) or kind not in _KINDS):
        raise ConfigError("kind", f"{shown(kind)} is not allowed; allowed: {', '.join(KINDS)}")
    if isinstance(resource, AWSObject):
        found = [k for k, (cls, *_) in _KINDS.items() if isinstance(resource, cls)]
        if not found:
            raise ConfigError("resource", f"{_what(resource)} is not allowed; allowed: {_ALLOWED}")
        _check_kind(kind, found[0], resource)
        return found[0], _arn_of(resource)
    if isinstance(resource, AWSHelperFn):
        if kind is None:
            raise ConfigError(
                "kind",
                f"missing for the intrinsic ARN {_what(resource)}; allowed: {', '.join(KINDS)}",
            )
        if isinstance(resource, Ref) and kind not in _REF_IS_ARN:
            # A bucket's, table's, queue's, key's or parameter's Ref is its name or ID: IAM
            # would match nothing. A Parameter holding an ARN is Sub("${Name}").
            target = resource.data["Ref"]
            raise ConfigError(
                "resource",
                f"{_what(resource)} is no ARN: the Ref of a {kind} is its name or ID; allowed: "
                f"the {_KINDS[kind][0].__module__.rpartition('.')[2]}.{_KINDS[kind][0].__name__} "
                f"itself, GetAtt({target}, 'Arn'), or Sub('${{{target}}}') for a Parameter "
                "that holds an ARN",
            )
        return str(kind), resource
    if isinstance(resource, str):
        return _text_arn(resource, kind)
    raise ConfigError("resource", f"{_what(resource)} is not allowed; allowed: {_ALLOWED}")


_ALLOWED = (
    "an s3.Bucket, dynamodb.Table, sqs.Queue, sns.Topic, secretsmanager.Secret, "
    "ssm.Parameter or kms.Key, or an ARN (text, or an intrinsic with kind=)"
)


def _text_arn(arn: str, kind: object) -> tuple[str, str]:
    match = _ARN.fullmatch(arn)
    parts = arn.split(":")
    found = [
        k
        for k, (_, service, pattern, _) in _KINDS.items()
        if match
        and match[2] == service
        # A secret's ARN may carry ECS's :json-key:version-stage:version-id suffix.
        and re.fullmatch(pattern, ":".join(parts[5:7]) if service == "secretsmanager" else match[5])
    ]
    if not found:
        raise ConfigError(
            "resource",
            f"{shown(arn)} is not allowed; allowed: the ARN of an S3 bucket, DynamoDB table, "
            "SQS queue, SNS topic, Secrets Manager secret, SSM parameter or KMS key",
        )
    _check_kind(kind, found[0], arn)
    if found[0] == "secret":
        # IAM matches a secret's full ARN; a partial one (no six-character suffix, which
        # ECS and the SDKs accept) needs the wildcard, and the JSON key selects nothing.
        arn = ":".join(parts[:7]) + ("" if _SECRET_SUFFIX.search(parts[6]) else "-??????")
    return found[0], arn


def _check_kind(kind: object, found: str, resource: object) -> None:
    if kind is not None and kind != found:
        raise ConfigError(
            "kind", f"{shown(kind)} differs from {_what(resource)}, a {found}; allowed: {found}"
        )


def _arn_of(resource: AWSObject) -> Any:
    """The ARN of a resource of this template, by what CloudFormation returns for it."""
    if isinstance(resource, t_sns.Topic | t_secretsmanager.Secret):
        return Ref(resource)  # Ref returns the ARN of a topic and of a secret
    if isinstance(resource, t_ssm.Parameter):
        # A parameter returns its name only; a name that starts with "/" has it in the ARN.
        name = resource.properties.get("Name")
        if isinstance(name, AWSHelperFn):
            raise ConfigError(
                "resource",
                f"{_what(resource)} has a Name of {_what(name)}, which cannot be put into its "
                "ARN here; allowed: a Name of text, or its ARN with kind='parameter'",
            )
        sep = "" if isinstance(name, str) and name.startswith("/") else "/"
        return Sub(
            f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{sep}${{Name}}",
            Name=Ref(resource),
        )
    return GetAtt(resource, "Arn")


def _objects(resource: object, arn: Any) -> Any:
    """The ARN of every object in a bucket."""
    if isinstance(resource, t_s3.Bucket):
        return Sub("arn:${AWS::Partition}:s3:::${Bucket}/*", Bucket=Ref(resource))
    return _suffixed(arn, "/*")


def _suffixed(arn: Any, suffix: str) -> Any:
    if isinstance(arn, str):
        return arn + suffix
    if isinstance(arn, GetAtt):
        return Sub(f"${{Arn}}{suffix}", Arn=arn)
    return Join("", [arn, suffix])


def _unique(actions: Sequence[Action]) -> list[Action]:
    return list({a.JSONrepr(): a for a in actions}.values())


def _what(value: object) -> str:
    """A value as an error line shows it: a resource or an intrinsic by what it is."""
    if isinstance(value, BaseAWSObject):
        return f"{type(value).__module__.rpartition('.')[2]}.{type(value).__name__}({value.title})"
    return shown(value)  # an intrinsic as it renders: Ref(Table), Sub('arn:...')
