"""Target tracking auto scaling of the service (Application Auto Scaling).

The service's task count moves between the ``MinTasks`` and ``MaxTasks`` Parameters,
following two targets: average CPU and load balancer requests per task. Whichever
asks for more tasks wins; the service scales in only when both allow it.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Join, Ref, Template
from troposphere import applicationautoscaling as aas

from ..config import Config
from . import ids
from .loadbalancer import LoadBalancer
from .params import GROUP_SERVICE, add_parameter
from .service import Service

__all__ = ["Scaling", "add_scaling"]


# Application Auto Scaling's limit for the count; the old DesiredCount's range.
_MOST_TASKS = 100


@dataclass(frozen=True, eq=False)
class Scaling:
    """The service's scalable target and its target tracking policies."""

    target: aas.ScalableTarget
    """The scalable target: the service's desired count between MinTasks and MaxTasks."""
    cpu_policy: aas.ScalingPolicy
    """Tracks average CPU at ``scaling.cpu_percent``."""
    requests_policy: aas.ScalingPolicy | None
    """Tracks ALB requests per task at ``scaling.requests_per_target``; ``None`` for a
    service without a target group."""


def add_scaling(
    t: Template,
    cfg: Config,
    *,
    service: Service,
    load_balancer: LoadBalancer | None,
    scope: str = "",
) -> Scaling:
    """Add the MinTasks/MaxTasks Parameters, the scalable target and its two policies.

    Args:
        t: the template it adds to.
        cfg: reads ``[scaling]`` and ``service.desired_count``.
        service: the service whose task count it moves.
        load_balancer: the load balancer and the service's target group; ``None`` for a
            service without one, scaled on CPU alone.
        scope: prefix of its logical IDs. Default: ``""``, the first service. Under a
            scope the range is fixed, ``service.desired_count`` to ``scaling.max_tasks``,
            without Parameters.

    Returns:
        The scaling handle.

    Template cost: about 1.5 KB of compact JSON; under a scope about 1.2 KB.
    """
    s = cfg.scaling
    if scope:
        low: object = cfg.service.desired_count
        high: object = s.max_tasks
    else:
        low, high = _add_parameters(t, cfg)
    target = t.add_resource(
        aas.ScalableTarget(
            scope + ids.Scaling.TARGET,
            # No RoleARN: Application Auto Scaling uses (and creates on first use) its
            # service-linked role AWSServiceRoleForApplicationAutoScaling_ECSService.
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=Join(
                "/", ["service", service.cluster.ref(), GetAtt(service.service, "Name")]
            ),
            # Registering moves the service's count into this range: on create from
            # the 1 task ECS starts with to MinTasks.
            MinCapacity=low,
            MaxCapacity=high,
        )
    )
    cpu = _policy(
        t,
        scope + ids.Scaling.CPU_POLICY,
        "average-cpu",
        target,
        cfg,
        aas.PredefinedMetricSpecification(PredefinedMetricType="ECSServiceAverageCPUUtilization"),
        s.cpu_percent,
    )
    if load_balancer is None:
        return Scaling(target=target, cpu_policy=cpu, requests_policy=None)
    requests = _policy(
        t,
        scope + ids.Scaling.REQUESTS_POLICY,
        "requests-per-task",
        target,
        cfg,
        aas.PredefinedMetricSpecification(
            PredefinedMetricType="ALBRequestCountPerTarget",
            # app/<load balancer>/<id>/targetgroup/<target group>/<id>
            ResourceLabel=Join(
                "/",
                [
                    GetAtt(load_balancer.load_balancer, "LoadBalancerFullName"),
                    GetAtt(load_balancer.target_group, "TargetGroupFullName"),
                ],
            ),
        ),
        s.requests_per_target,
    )
    return Scaling(target=target, cpu_policy=cpu, requests_policy=requests)


def _add_parameters(t: Template, cfg: Config) -> tuple[Ref, Ref]:
    s = cfg.scaling
    # CloudFormation cannot compare two Parameters (Rules have no numeric comparison),
    # so the ranges meet at scaling.max_tasks: MinTasks <= it <= MaxTasks, and no pair
    # of values can put the minimum above the maximum.
    low = add_parameter(
        t,
        ids.Scaling.MIN_TASKS,
        group=GROUP_SERVICE,
        description=f"Tasks always running; scaling never goes below. 1..{s.max_tasks}.",
        Type="Number",
        Default=cfg.service.desired_count,
        MinValue=1,
        MaxValue=s.max_tasks,
    )
    high = add_parameter(
        t,
        ids.Scaling.MAX_TASKS,
        group=GROUP_SERVICE,
        description=f"Tasks scaling may add up to. {s.max_tasks}..{_MOST_TASKS}.",
        Type="Number",
        Default=s.max_tasks,
        MinValue=s.max_tasks,
        MaxValue=_MOST_TASKS,
    )
    return low.ref(), high.ref()


def _policy(
    t: Template,
    logical_id: str,
    name: str,
    target: aas.ScalableTarget,
    cfg: Config,
    metric: aas.PredefinedMetricSpecification,
    value: float,
) -> aas.ScalingPolicy:
    return t.add_resource(
        aas.ScalingPolicy(
            logical_id,
            PolicyName=name,  # unique per scalable target
            PolicyType="TargetTrackingScaling",
            ScalingTargetId=target.ref(),
            TargetTrackingScalingPolicyConfiguration=aas.TargetTrackingScalingPolicyConfiguration(
                PredefinedMetricSpecification=metric,
                TargetValue=value,
                ScaleOutCooldown=cfg.scaling.scale_out_cooldown_seconds,
                ScaleInCooldown=cfg.scaling.scale_in_cooldown_seconds,
            ),
        )
    )
