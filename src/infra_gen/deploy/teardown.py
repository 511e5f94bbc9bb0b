"""What ``infra-gen delete`` reads and does: the stack's resources, what stays, deletion.

CloudFormation deletes every resource of a stack except those whose ``DeletionPolicy``
is ``Retain`` (or ``RetainExceptOnCreate``, or ``Snapshot``, which keeps a snapshot): log
groups and buckets a team keeps for their records. Those are listed with the commands that
remove them. A load balancer with deletion protection on fails the deletion; it is turned
off first only when the user says so. A function in the VPC holds network interfaces that
Lambda releases after the function is deleted: CloudFormation waits for them (it needs
``ec2:DescribeNetworkInterfaces``) before it deletes the subnets and security groups,
which can take 20 to 45 minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DeployError, one_line
from . import aws
from .aws import error_code
from .changeset import Interrupted, follow_commands, request_token

__all__ = [
    "LOAD_BALANCER_TYPE",
    "Kept",
    "Resource",
    "Teardown",
    "disable_deletion_protection",
    "read",
    "request_deletion",
    "stack_resources",
]

LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
_PROTECTION = "deletion_protection.enabled"
_KEPT_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")
# How to remove what stays, by type; {id} is the physical ID.
_REMOVE = {
    "AWS::Logs::LogGroup": "aws logs delete-log-group --log-group-name {id}",
    "AWS::S3::Bucket": "aws s3 rb s3://{id} --force (a versioned bucket: delete its object "
    "versions first, e.g. in the console's Empty)",
    "AWS::KMS::Key": "aws kms schedule-key-deletion --key-id {id} --pending-window-in-days 7",
    "AWS::SNS::Topic": "aws sns delete-topic --topic-arn {id}",
    LOAD_BALANCER_TYPE: "aws elbv2 delete-load-balancer --load-balancer-arn {id}",
}


@dataclass(frozen=True)
class Resource:
    """One resource of the stack, as ListStackResources lists it."""

    logical_id: str
    resource_type: str
    physical_id: str
    status: str


@dataclass(frozen=True)
class Kept:
    """A resource the deletion leaves in the account."""

    resource: Resource
    policy: str
    """Its DeletionPolicy: Retain, RetainExceptOnCreate or Snapshot."""

    @property
    def remove(self) -> str:
        """The command that removes it, or where to do so."""
        r = self.resource
        if self.policy == "Snapshot":
            return f"CloudFormation keeps a snapshot of {r.physical_id}; delete it in its service"
        command = _REMOVE.get(r.resource_type)
        if command is None:
            return f"delete {r.physical_id} in its service ({r.resource_type})"
        return command.format(id=r.physical_id)


@dataclass(frozen=True)
class Teardown:
    """What a deletion of the stack would do, read before it is asked."""

    stack_name: str
    stack_id: str
    status: str
    resources: tuple[Resource, ...]
    kept: tuple[Kept, ...]
    protected: tuple[str, ...]
    """ARNs of the load balancers whose deletion protection is on."""
    vpc_functions: tuple[str, ...]
    """Logical IDs of the functions in a VPC: their network interfaces delay the deletion."""


def stack_resources(cfn: Any, stack_name: str) -> Iterator[Resource]:
    """Every resource of the stack, through ListStackResources' pages (not the first 100
    that DescribeStackResources returns)."""
    for r in aws.stack_resources(cfn, stack_name):
        yield Resource(
            r.get("LogicalResourceId", ""),
            r.get("ResourceType", ""),
            r.get("PhysicalResourceId", ""),
            r.get("ResourceStatus", ""),
        )


Parse = Callable[[str], Mapping[str, Any]]
"""template text -> template data (YAML with CloudFormation's tags, or JSON)."""


def _template(cfn: Any, stack_name: str, parse: Parse) -> Mapping[str, Any]:
    """The stack's processed template as data."""
    body = cfn.get_template(StackName=stack_name, TemplateStage="Processed")["TemplateBody"]
    if isinstance(body, Mapping):  # botocore parses a JSON body
        return body
    return parse(body)


def _protected(elbv2: Any, arn: str) -> bool:
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    return any(a["Key"] == _PROTECTION and a["Value"] == "true" for a in attributes)


def read(cfn: Any, elbv2: Any, stack_name: str, parse: Parse) -> Teardown | None:
    """What deleting the stack involves; None when there is no such stack.

    Args:
        cfn: the CloudFormation client. Default: required.
        elbv2: the Elastic Load Balancing v2 client. Default: required.
        stack_name: the stack's name or ID. Default: required.
        parse: reads the stack's template text (a YAML template). Default: required.

    Raises:
        DeployError: the stack is busy (an operation in progress).
    """
    try:
        (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as e:
        if error_code(e) == "ValidationError" and "does not exist" in str(e):
            return None
        raise
    status = stack["StackStatus"]
    if status == "DELETE_COMPLETE":
        return None
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(
            f"stack {stack_name} is {status}: wait for it to finish ({follow_commands(stack_name)})"
        )
    resources = tuple(stack_resources(cfn, stack_name))
    declared = _template(cfn, stack_name, parse).get("Resources", {}) or {}
    kept = tuple(
        Kept(r, str(declared[r.logical_id].get("DeletionPolicy")))
        for r in resources
        if isinstance(declared.get(r.logical_id), Mapping)
        and declared[r.logical_id].get("DeletionPolicy") in _KEPT_POLICIES
        and r.physical_id
        and r.status != "DELETE_COMPLETE"
    )
    protected = tuple(
        r.physical_id
        for r in resources
        if r.resource_type == LOAD_BALANCER_TYPE
        and r.physical_id.startswith("arn:")
        and r.status != "DELETE_COMPLETE"
        and r.logical_id not in {k.resource.logical_id for k in kept}
        and _protected(elbv2, r.physical_id)
    )
    vpc_functions = tuple(
        r.logical_id
        for r in resources
        if r.resource_type == "AWS::Lambda::Function"
        and isinstance(declared.get(r.logical_id), Mapping)
        and "VpcConfig" in (declared[r.logical_id].get("Properties") or {})
    )
    return Teardown(stack_name, stack["StackId"], status, resources, kept, protected, vpc_functions)


def disable_deletion_protection(elbv2: Any, arns: tuple[str, ...]) -> None:
    """Turn deletion protection off on each load balancer.

    Raises:
        Interrupted: Ctrl-C part way: which may be off, and how to turn it on again.
    """
    done: list[str] = []
    for arn in arns:
        try:
            elbv2.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": _PROTECTION, "Value": "false"}]
            )
        except KeyboardInterrupt:
            raise Interrupted(
                "while deletion protection was being turned off; the stack was not "
                "deleted; on again: "
                + "; ".join(
                    f"aws elbv2 modify-load-balancer-attributes --load-balancer-arn {a} "
                    f"--attributes Key={_PROTECTION},Value=true"
                    for a in [*done, arn]
                )
            ) from None
        done.append(arn)


def request_deletion(cfn: Any, t: Teardown, *, role_arn: str = "") -> str:
    """DeleteStack; its ClientRequestToken, which the deletion's events carry.

    Raises:
        Interrupted: Ctrl-C while DeleteStack answered: the stack may be being deleted.
        DeployError: CloudFormation refused (nothing was deleted).
    """
    token = request_token()
    role = {"RoleARN": role_arn} if role_arn else {}
    try:
        cfn.delete_stack(StackName=t.stack_id, ClientRequestToken=token, **role)
    except KeyboardInterrupt:
        raise Interrupted(
            f"while DeleteStack answered: stack {t.stack_name} may be being deleted; follow "
            f"it: {follow_commands(t.stack_id, 'DELETE')}"
        ) from None
    except cfn.exceptions.ClientError as e:
        raise DeployError(
            f"cannot delete stack {t.stack_name}: {one_line(str(e))}; nothing was deleted"
        ) from None
    return token
