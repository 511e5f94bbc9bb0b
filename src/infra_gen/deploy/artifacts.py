"""``--resolve-s3``: the managed artifact bucket, made on first use, and uploads to it.

The bucket is the only resource of its own stack,
:data:`~infra_gen.template.ids.ArtifactStack.STACK_NAME` (one per account and
Region), whose template the caller renders (``infra_gen.template.artifacts``). A
template is uploaded under its SHA-256 (``templates/<sha256>.template``), only to a
bucket of the stack's own account (``ExpectedBucketOwner``), and named in the change
set by a URL on the S3 client's own endpoint, which is right in every partition
(``s3.cn-north-1.amazonaws.com.cn`` in China).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from ..errors import DeployError, one_line
from ..template.ids import ArtifactStack
from .changeset import Sleep, describe_stack, object_url

__all__ = ["KEY_PREFIX", "STACK_NAME", "artifact_bucket", "upload"]

STACK_NAME = ArtifactStack.STACK_NAME
# As infra_gen.template.artifacts.KEY_PREFIX, which its lifecycle rule expires.
KEY_PREFIX = "templates/"
_READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")


def artifact_bucket(
    cfn: Any,
    template: str,
    *,
    on_create: Callable[[], None] = lambda: None,
    sleep: Sleep = time.sleep,
    interval: float = 2.0,
    timeout: float = 600.0,
) -> tuple[str, str]:
    """The managed bucket's name and account, its stack created first when there is none.

    Args:
        cfn: the CloudFormation client. Default: required.
        template: the artifact stack's template as text. Default: required.
        on_create: called before the stack is created. Default: nothing.
        sleep, interval, timeout: how to wait for the stack. Default: 2 s, 600 s.

    Returns:
        (bucket name, account ID of the stack).

    Raises:
        DeployError: the stack failed, or is in a state that has no bucket to use.
    """
    stack = describe_stack(cfn, STACK_NAME)
    if stack is None:
        on_create()
        cfn.create_stack(
            StackName=STACK_NAME,
            TemplateBody=template,
            OnFailure="DELETE",
            Tags=[{"Key": "infra-gen:purpose", "Value": "artifact bucket"}],
        )
        deadline = time.monotonic() + timeout
        while True:
            stack = describe_stack(cfn, STACK_NAME)
            status = "DELETE_COMPLETE" if stack is None else str(stack["StackStatus"])
            if not status.endswith("_IN_PROGRESS"):
                break
            if time.monotonic() > deadline:
                raise DeployError(
                    f"stack {STACK_NAME} still {status} after {timeout:.0f} s: follow it "
                    f"with aws cloudformation describe-stack-events --stack-name {STACK_NAME}"
                )
            sleep(interval)
    status = str(stack["StackStatus"]) if stack is not None else "DELETE_COMPLETE"
    if stack is None or status not in _READY:
        raise DeployError(
            f"stack {STACK_NAME} (the artifact bucket of --resolve-s3) is {status}, not "
            f"usable: see aws cloudformation describe-stack-events --stack-name {STACK_NAME}"
        )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
    name = outputs.get(ArtifactStack.BUCKET_NAME)
    if not name:
        raise DeployError(
            f"stack {STACK_NAME} has no Output {ArtifactStack.BUCKET_NAME}: it is not "
            "infra-gen's artifact bucket stack; delete it or choose --s3-bucket"
        )
    return str(name), str(stack["StackId"]).split(":")[4]


def upload(s3: Any, bucket: str, owner: str, text: str) -> dict[str, str]:
    """Upload a template under its SHA-256; CreateChangeSet's ``TemplateURL`` argument.

    The upload goes only to a bucket that ``owner`` (an account ID) owns: a bucket of
    that name in another account is refused by S3 (403).
    """
    data = text.encode()
    key = f"{KEY_PREFIX}{hashlib.sha256(data).hexdigest()}.template"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=data, ExpectedBucketOwner=owner)
    except s3.exceptions.ClientError as e:
        raise DeployError(
            f"cannot upload the template to s3://{bucket}/{key}: {one_line(str(e))}"
        ) from None
    return {"TemplateURL": object_url(s3, bucket, key)}
