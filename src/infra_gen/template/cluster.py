"""The ECS cluster on Fargate and what every service in it shares: the execution role.

The cluster's default capacity provider strategy spreads tasks over FARGATE and
FARGATE_SPOT. Each service names the same strategy itself: ECS applies a cluster's
default only when a service is created, so a changed mix reaches a running service
only through the service's own strategy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from troposphere import (
    Equals,
    GetAtt,
    If,
    Join,
    NoValue,
    Parameter,
    Ref,
    Select,
    Split,
    Template,
    ecs,
    logs,
)
from troposphere.iam import Policy, Role

from ..config import Config
from ..config.checks import PRIVATE_ECR_IMAGE
from . import iam, ids

__all__ = ["Cluster", "add_cluster", "private_repository", "strategy"]

READ_SECRETS = "read-secrets"  # the execution role's policy for containers' secrets


@dataclass(frozen=True, eq=False)
class Cluster:
    """The cluster and the execution role its services share, with the lists it names."""

    cluster: ecs.Cluster
    """The cluster (FARGATE and FARGATE_SPOT, Container Insights on)."""
    execution_role: Role
    """What ECS does for every service's tasks: log writes, image pulls, secret reads."""
    log_group_arns: list[object]
    """The log groups the role writes to: the list its ``write-service-logs`` policy names."""
    secret_arns: list[str | tuple[str, object]] = field(default_factory=list)
    """The secrets and parameters the role reads, for every service's containers: ARNs
    as text, or (service, expression) (:func:`iam.read_secrets`)."""
    read_secrets: Policy = field(
        default_factory=lambda: Policy(PolicyName=READ_SECRETS, PolicyDocument=iam.read_secrets([]))
    )
    """The ``read-secrets`` policy; on the role once a container has a secret."""

    def add_log_group(self, log_group: logs.LogGroup) -> None:
        """Let the tasks' log driver write to ``log_group`` too."""
        self.log_group_arns.append(GetAtt(log_group, "Arn"))

    def allow_pull(self, scope: str, image: str) -> None:
        """Let the tasks pull ``image`` too when it is in a private ECR registry.

        The policy is ``pull-<scope>-image``; a public image needs nothing.
        """
        found = PRIVATE_ECR_IMAGE.match(image)
        if found:
            self.execution_role.Policies.append(
                Policy(
                    PolicyName=f"pull-{scope}-image",
                    PolicyDocument=iam.pull_ecr_images(
                        found["repository"], found["account"], found["region"]
                    ),
                )
            )

    def allow_pull_parameter(self, t: Template, scope: str, image: Parameter, default: str) -> None:
        """Let the tasks pull the image of Parameter ``image`` when it names this account's
        private ECR in the stack's Region, as the first service's ``ServiceImage``.

        The policy is ``pull-<scope>-image``, under Condition ``<scope>IsPrivateEcrImage``:
        the repository of ``default`` when that is private (the Parameter's pattern keeps
        it there), else any of the account's.
        """
        condition = scope + ids.Service.PRIVATE_ECR_IMAGE
        t.add_condition(condition, _is_own_registry(image.ref()))
        self.execution_role.Policies.append(_pull_if(condition, f"pull-{scope}-image", default))

    def allow_secrets(self, arns: Iterable[str | tuple[str, object]]) -> None:
        """Let the tasks read the secrets or parameters ``arns`` as well: ARNs as text, or
        (service, expression) (:func:`iam.read_secrets`).

        The ``read-secrets`` policy names every ARN given so far and moves to the end of
        the role's policies.
        """
        self.secret_arns.extend(arns)
        self.read_secrets.PolicyDocument = iam.read_secrets(self.secret_arns)
        policies = self.execution_role.properties.setdefault("Policies", [])
        policies[:] = [p for p in policies if p is not self.read_secrets]
        policies.append(self.read_secrets)


def add_cluster(t: Template, cfg: Config, *, image: object, log_group: logs.LogGroup) -> Cluster:
    """Add the cluster and the execution role its services share.

    Args:
        t: the template it adds to.
        cfg: reads ``[cluster]`` and ``service.image`` (the repository it may pull).
        image: the first service's image, a Parameter's ``Ref``: pulls are allowed
            when it is in this account's private ECR.
        log_group: the first service's log group, the first the role writes to.

    Returns:
        The cluster's handle.
    """
    cluster = t.add_resource(
        ecs.Cluster(
            ids.Service.CLUSTER,
            CapacityProviders=["FARGATE", "FARGATE_SPOT"],
            DefaultCapacityProviderStrategy=strategy(cfg),
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    t.add_condition(ids.Service.PRIVATE_ECR_IMAGE, _is_own_registry(image))
    log_group_arns: list[object] = [GetAtt(log_group, "Arn")]
    role = t.add_resource(
        Role(
            ids.Service.EXECUTION_ROLE,
            AssumeRolePolicyDocument=iam.assume_role("ecs-tasks.amazonaws.com"),
            # Public images (ECR Public, Docker Hub) need no pull permissions; an image
            # of this account's ECR gets read access to the account's repositories.
            # The awslogs driver writes to the services' log groups only.
            Policies=[
                Policy(
                    PolicyName="write-service-logs",
                    PolicyDocument=iam.write_logs(log_group_arns),
                ),
                _pull_if(ids.Service.PRIVATE_ECR_IMAGE, "pull-image", cfg.service.image),
            ],
        )
    )
    return Cluster(cluster=cluster, execution_role=role, log_group_arns=log_group_arns)


def _is_own_registry(image: object) -> Equals:
    """Whether the image ``image`` is in this account's private ECR registry of the
    stack's Region: its registry host is <account>.dkr.ecr.<region>.<URL suffix>."""
    registry = Select(0, Split("/", image))
    own_registry = Join(
        ".", [Ref("AWS::AccountId"), "dkr.ecr", Ref("AWS::Region"), Ref("AWS::URLSuffix")]
    )
    return Equals(registry, own_registry)


def _pull_if(condition: str, name: str, default: str) -> If:
    """Policy ``name``, pulls from the repository of ``default`` when private, else from
    any of the account's, when ``condition`` holds."""
    repository = private_repository(default) or "*"
    return If(
        condition, Policy(PolicyName=name, PolicyDocument=iam.pull_ecr_images(repository)), NoValue
    )


def strategy(cfg: Config) -> list[ecs.CapacityProviderStrategyItem]:
    """The capacity provider strategy of the cluster and of each of its services."""
    return [
        ecs.CapacityProviderStrategyItem(
            CapacityProvider="FARGATE",
            Weight=cfg.cluster.fargate_weight,
            Base=cfg.cluster.fargate_base,
        ),
        ecs.CapacityProviderStrategyItem(
            CapacityProvider="FARGATE_SPOT", Weight=cfg.cluster.fargate_spot_weight
        ),
    ]


def private_repository(image: str) -> str:
    """The repository of an image in an ECR private registry, else ``""``."""
    found = PRIVATE_ECR_IMAGE.match(image)
    return found["repository"] if found else ""
