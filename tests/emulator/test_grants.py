"""infra_gen.grants' statements, as the emulator's IAM takes a policy document.

moto validates a document on CreatePolicy as IAM does (version, effect, action format,
resource ARNs); intrinsics do not resolve there, so the resources are text ARNs here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from troposphere import encode_to_dict

from devtools.emulator import Api
from infra_gen import grants

ACCOUNT = "123456789012"
ARNS = {
    "bucket": "arn:aws:s3:::reports-archive",
    "key": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "parameter": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/jobs/limit",
    "queue": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs",
    "secret": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db",
    "table": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/jobs",
    "topic": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts",
}
CASES = [
    (kind, operation)
    for kind, operations in {
        "bucket": ["read", "write", "read_write"],
        "key": ["decrypt"],
        "parameter": ["read", "write", "read_write"],
        "queue": ["send", "consume"],
        "secret": ["read", "write", "read_write"],
        "table": ["read", "write", "read_write"],
        "topic": ["publish"],
    }.items()
    for operation in operations
]


def _document(statements: list[Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": encode_to_dict(statements)})


@pytest.mark.parametrize(("kind", "operation"), CASES, ids=lambda c: str(c))
def test_the_emulators_iam_takes_each_grant(api: Api, kind: str, operation: str) -> None:
    statements = getattr(grants, operation)(ARNS[kind])
    name = f"grant-{kind}-{operation}".replace("_", "-")
    policy = api("iam").create_policy(PolicyName=name, PolicyDocument=_document(statements))
    assert policy["Policy"]["PolicyName"] == name


def test_the_emulators_iam_refuses_a_malformed_document(api: Api) -> None:
    # The check above can fail: the same validation refuses an action without a prefix.
    (statement,) = encode_to_dict(grants.publish(ARNS["topic"]))
    statement["Action"] = ["Publish"]
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        api("iam").create_policy(PolicyName="malformed", PolicyDocument=document)
