"""IAM documents, one pure awacs function per document.

Resource ARNs come in as troposphere expressions (``GetAtt``/``Sub``), never as
hand-written ``arn:aws:`` strings, so every statement is scoped to this stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from awacs import ecr, logs, secretsmanager, ssm, sts
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import AWSHelperFn, Ref, Sub, encode_to_dict

from ..errors import ConfigError, shown

__all__ = [
    "assume_role",
    "check_statements",
    "deliver_flow_logs",
    "pull_ecr_images",
    "read_secrets",
    "write_logs",
]


def assume_role(service: str, *, source_account: bool = True) -> PolicyDocument:
    """Trust policy for an AWS service principal.

    With ``source_account``, ``aws:SourceAccount`` guards against the confused
    deputy: another account's resource cannot make the service assume this role.
    Only for services that set the key when they assume a role: a condition on a
    key the service leaves out denies every attempt.
    """
    statement = Statement(
        Effect=Allow,
        Principal=Principal("Service", [service]),
        Action=[sts.AssumeRole],
    )
    if source_account:
        statement.Condition = Condition(StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")}))
    return PolicyDocument(Version="2012-10-17", Statement=[statement])


def write_logs(log_group_arns: list[Any | AWSHelperFn]) -> PolicyDocument:
    """Create streams in and write events to the given log groups only.

    ``AWS::Logs::LogGroup`` ``Arn`` ends in ``:*``, which covers the group's streams.
    """
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents],
                Resource=log_group_arns,
            )
        ],
    )


def deliver_flow_logs(log_group_arn: Any) -> PolicyDocument:
    """What VPC Flow Logs needs to deliver into one existing log group."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Action=[logs.CreateLogStream, logs.PutLogEvents, logs.DescribeLogStreams],
                Resource=[log_group_arn],
            ),
            Statement(
                Effect=Allow,
                # The service checks the group exists; DescribeLogGroups is scoped by
                # account and Region only (log-group:*), not by one group.
                Action=[logs.DescribeLogGroups],
                Resource=[
                    Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")
                ],
            ),
        ],
    )


def pull_ecr_images(
    repository: str = "*", account: str = "${AWS::AccountId}", region: str = "${AWS::Region}"
) -> PolicyDocument:
    """Pull images from one private ECR repository, or all of an account's.

    GetAuthorizationToken takes no resource ("*" is the only form); the layer and
    manifest reads are scoped to the repository.

    Args:
        repository: its name. Default: ``"*"``, every repository.
        account: its account. Default: the stack's (``${AWS::AccountId}``).
        region: its Region. Default: the stack's (``${AWS::Region}``).
    """
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
            Statement(
                Effect=Allow,
                Action=[ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
                Resource=[
                    Sub(f"arn:${{AWS::Partition}}:ecr:{region}:{account}:repository/{repository}")
                ],
            ),
        ],
    )


# The six characters Secrets Manager appends to a secret's name in its ARN.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def read_secrets(arns: Sequence[str | tuple[str, object]]) -> PolicyDocument:
    """Read exactly the secrets and parameters ``arns`` name, as the ECS agent does.

    ``secretsmanager:GetSecretValue`` on each Secrets Manager secret,
    ``ssm:GetParameters`` on each SSM parameter. A secret's
    ``:json-key:version-stage:version-id`` suffix selects what ECS reads, not what IAM
    allows: the statement names the secret's ARN without it. A partial ARN (the
    secret's name without the six characters Secrets Manager appends, ``-AbCdEf``), which
    ECS takes, is granted as ``<name>-??????``: IAM matches the full ARN. An expression
    comes as (service, expression), granted as given; with no service known (``""``: an
    ``ImportValue``, a Parameter's ``Ref``) it gets both actions, IAM matching the one its
    ARN is of. Resources come sorted, each once, text first, so the bytes do not depend on
    the order they were added in.
    """
    by_service: dict[str, set[str]] = {"secretsmanager": set(), "ssm": set()}
    expressions: dict[str, dict[str, object]] = {"secretsmanager": {}, "ssm": {}, "": {}}
    for arn in arns:
        if not isinstance(arn, str):
            service, expression = arn
            expressions[service][json.dumps(encode_to_dict(expression), sort_keys=True)] = (
                expression
            )
            continue
        parts = arn.split(":")
        if parts[2] == "secretsmanager":
            full = _SECRET_SUFFIX.search(parts[6])
            arn = ":".join(parts[:7]) + ("" if full else "-??????")
        by_service[parts[2]].add(arn)
    statements = [
        Statement(
            Effect=Allow,
            Action=actions,
            Resource=[
                *sorted(by_service.get(service, ())),
                *(expressions[service][k] for k in sorted(expressions[service])),
            ],
        )
        for service, actions in (
            ("secretsmanager", [secretsmanager.GetSecretValue]),
            ("ssm", [ssm.GetParameters]),
            ("", [secretsmanager.GetSecretValue, ssm.GetParameters]),
        )
        if by_service.get(service) or expressions[service]
    ]
    return PolicyDocument(Version="2012-10-17", Statement=statements)


# IAM's Sid: "supports ASCII uppercase letters (A-Z), lowercase letters (a-z), and
# numbers (0-9)" (IAM JSON policy elements: Sid).
_SID = re.compile(r"[A-Za-z0-9]+")


def check_statements(statements: object) -> list[Statement]:
    """``statements`` as a role policy's statements, checked now.

    awacs checks a Statement only when the template renders, and IAM refuses an
    identity policy's statement without an effect, an action or a resource, or with a
    principal.

    Raises:
        ConfigError: naming ``statements`` or ``statements[<i>]``.
    """
    if isinstance(statements, str | bytes) or not (isinstance(statements, Sequence) and statements):
        got = type(statements).__name__
        if isinstance(statements, list | tuple):
            got = f"an empty {got}"
        raise ConfigError("statements", f"expected a non-empty list of awacs Statements, got {got}")
    sids: set[str] = set()
    for i, statement in enumerate(statements):
        where = f"statements[{i}]"
        if not isinstance(statement, Statement):
            raise ConfigError(where, f"expected an awacs Statement, got {type(statement).__name__}")
        props = statement.properties
        for needed in ("Effect", "Action or NotAction", "Resource or NotResource"):
            if not props.keys() & set(needed.split(" or ")):
                raise ConfigError(
                    where, f"has no {needed}; a role's policy needs it in every statement"
                )
        for field in ("Action", "NotAction", "Resource", "NotResource"):
            if field in props and isinstance(props[field], list) and not props[field]:
                raise ConfigError(where, f"has an empty {field} list; IAM needs at least one in it")
        if "Principal" in props or "NotPrincipal" in props:
            raise ConfigError(where, "has a Principal, which a role's own policy cannot have")
        sid = props.get("Sid")
        if sid is not None:
            if not (isinstance(sid, str) and _SID.fullmatch(sid)):
                raise ConfigError(
                    where,
                    f"has Sid {shown(sid)}; allowed: ASCII letters and digits (IAM's rule), "
                    "or none",
                )
            if sid in sids:
                raise ConfigError(where, f"has Sid {sid} of another statement; IAM wants each once")
            sids.add(sid)
        try:
            statement.JSONrepr()  # the rest of what awacs checks, else only at render time
        except (TypeError, ValueError) as e:
            raise ConfigError(where, shown(str(e), 120)) from None
    return list(statements)
