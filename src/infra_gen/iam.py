"""IAM documents, one pure awacs function per document.

Resource ARNs come in as troposphere expressions (``GetAtt``/``Sub``), never as
hand-written ``arn:aws:`` strings, so every statement is scoped to this stack.
"""

from __future__ import annotations

from typing import Any

from awacs import ecr, logs, sts
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import AWSHelperFn, Ref, Sub

__all__ = ["assume_role", "deliver_flow_logs", "pull_ecr_images", "write_logs"]


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
        statement.Condition = Condition(
            StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})
        )
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
                Resource=[Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")],
            ),
        ],
    )


def pull_ecr_images(repository: str = "*") -> PolicyDocument:
    """Pull images from the account's private ECR ``repository`` in the stack's Region
    (``*``: every repository).

    GetAuthorizationToken takes no resource ("*" is the only form); the layer and
    manifest reads are scoped to the repository.
    """
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
            Statement(
                Effect=Allow,
                Action=[ecr.BatchGetImage, ecr.GetDownloadUrlForLayer],
                Resource=[
                    Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}"
                        f":repository/{repository}")
                ],
            ),  # fmt: skip
        ],
    )
