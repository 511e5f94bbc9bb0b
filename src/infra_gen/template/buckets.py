"""What every bucket of the templates has: private, owner-enforced, SSE-S3, TLS only."""

from __future__ import annotations

from typing import Any

from awacs import s3 as s3_actions
from awacs.aws import Bool, Condition, Principal, Statement
from troposphere import GetAtt, Sub, s3

__all__ = ["deny_insecure_transport", "private_bucket_settings"]


def private_bucket_settings() -> dict[str, Any]:
    """``s3.Bucket`` keyword arguments: SSE-S3 by default, every public access block on,
    and ``BucketOwnerEnforced`` (no ACLs: the bucket's account owns every object)."""
    return {
        "BucketEncryption": s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm="AES256"
                    )
                )
            ]
        ),
        "PublicAccessBlockConfiguration": s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        "OwnershipControls": s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
    }


def deny_insecure_transport(bucket: s3.Bucket) -> Statement:
    """The bucket policy statement that refuses any request made without TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect="Deny",
        Principal=Principal("*"),
        Action=[s3_actions.Action("*")],
        Resource=[GetAtt(bucket, "Arn"), Sub("${" + bucket.title + ".Arn}/*")],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )
