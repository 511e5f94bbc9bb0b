"""The nginx service behind the load balancer: what every service of the stack has.

The first service (:func:`add_service`) brings the cluster and its shared execution
role (:mod:`.cluster`); a service added later (:mod:`.compose`) joins them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from awacs.aws import PolicyDocument, Statement
from troposphere import GetAtt, Ref, Select, Split, Sub, Tags, Template, ec2, ecs, logs
from troposphere import elasticloadbalancingv2 as elb
from troposphere.iam import Policy, Role

from ..config import (
    FARGATE_TASK_SIZES,
    IMAGE_PATTERN,
    LOGICAL_ID,
    Config,
    ConfigError,
)
from ..errors import shown
from . import iam, ids, references
from .cloudmap import Discovery
from .cluster import Cluster, add_cluster, private_repository, strategy
from .loadbalancer import LoadBalancer
from .loggroups import LogSettings
from .metrics import Metric
from .network import Network
from .params import GROUP_SERVICE, add_parameter

__all__ = ["Service", "add_service", "add_tasks", "image_pattern"]

# Exactly the Fargate sizes: ^(256/(512|1024|2048)|512/(1024|...)|...)$
TASK_SIZE_PATTERN = "^({})$".format(
    "|".join(f"{cpu}/({'|'.join(map(str, sizes))})" for cpu, sizes in FARGATE_TASK_SIZES.items())
)

# Where nginx writes: its pid and lock files under /run (the nginx.org packages'
# --pid-path and --lock-path; /var/run links to /run in Alpine and Debian) and its
# temporary files under /var/cache/nginx (--http-*-temp-path). Task storage here
# lets the root file system be read-only; logs go to stdout/stderr links. The default
# of an empty service.writable_paths (governed gives nginx-unprivileged's).
WRITABLE_PATHS = {"nginx-cache": "/var/cache/nginx", "nginx-run": "/run"}
# awslogs never blocks the container on a slow CloudWatch Logs: events go through a
# buffer, and only a full buffer drops them. Set here, not left to the account's
# default log driver mode.
LOG_MODE = {"mode": "non-blocking", "max-buffer-size": "25m"}


@dataclass(frozen=True, eq=False)
class Service:
    """One ECS service behind the load balancer; :meth:`admit` opens it to a client."""

    cluster: ecs.Cluster
    """The cluster (FARGATE and FARGATE_SPOT, Container Insights on)."""
    service: ecs.Service
    """The ECS service behind the target group, registered in Cloud Map."""
    task_definition: ecs.TaskDefinition
    """The nginx task definition (read-only root file system, awslogs)."""
    security_group: ec2.SecurityGroup
    """The tasks' group; clients get in through :meth:`admit`."""
    log_group: logs.LogGroup
    """The containers' log group."""
    port: int
    """The container port, the only one the tasks' group ever opens."""
    execution_role: Role | None = None
    """The tasks' execution role (log writes, private ECR pulls); shared by a scoped service."""
    task_role: Role | None = None
    """The tasks' own role (``EcsTaskRole``, ``<scope>EcsTaskRole``): no permissions but
    what :meth:`grant` adds; never shared with another service."""
    route: LoadBalancer | None = None
    """The load balancer as this service sees it: :attr:`LoadBalancer.target_group` is
    its target group, :attr:`LoadBalancer.rule` its listener rule (``None`` for a rolling
    first service, the listeners' default action), :attr:`LoadBalancer.alternate_target_group`
    the second group of a canary or linear one."""
    shared: Cluster | None = None
    """The cluster and execution role every service of the stack shares."""

    @property
    def target_group(self) -> elb.TargetGroup | None:
        """The target group the service's tasks register in (``None`` without a route)."""
        return self.route.target_group if self.route else None

    @property
    def rule(self) -> elb.ListenerRule | None:
        """The listener rule forwarding to it; ``None`` for a rolling first service."""
        return self.route.rule if self.route else None

    def target_metric(self, name: str, statistic: str = "Sum") -> Metric:
        """An ``AWS/ApplicationELB`` metric of this service's target group, e.g.
        ``HTTPCode_Target_5XX_Count``, ``UnHealthyHostCount``, ``TargetResponseTime``."""
        if self.route is None:
            raise ValueError("target_metric: the service has no load balancer route")
        return self.route.target_metric(name, statistic)

    def grant(self, t: Template, statements: Sequence[Statement]) -> Policy:
        """Let this service's tasks do what the awacs ``statements`` allow.

        A policy (``grant-<n>``, numbered from 1) on :attr:`task_role`, this service's
        alone; each call adds one. ``"*"`` resources are taken, as the actions that name no
        resource need (``cloudwatch:PutMetricData``, ...)::

            service.grant(t, [Statement(Effect=Allow, Action=[sqs.SendMessage],
                                        Resource=[queue.get_att("Arn")])])

        Returns:
            The policy.
        """
        _check_template(t)
        role = self.task_role
        if role is None or t.resources.get(role.title) is not role:
            raise ConfigError("t", "grant: the service's task role is not in this template")
        listed = iam.check_statements(statements)
        references.check_resources(t, "statements", listed)
        policies = role.properties.setdefault("Policies", [])
        policy = Policy(
            PolicyName=f"grant-{len(policies) + 1}",
            PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=listed),
        )
        policies.append(policy)
        return policy

    def add_environment(self, t: Template, variables: Mapping[str, object]) -> None:
        """Set the container's environment variables ``variables`` (name -> value).

        A value is text or a CloudFormation intrinsic (``Ref``, ``GetAtt``, ``Sub``,
        ``Join``, ``ImportValue``, ``If``) naming what ``t`` holds, e.g. ``{"BUCKET":
        Ref(bucket)}``. They are kept sorted by name. A bad name or value, or a name the
        container already sets, raises :class:`ConfigError` naming ``environment.<NAME>``;
        nothing is then set.
        """
        container = self._container(t)
        checked = references.environment(t, "environment", variables)
        self._check_unset(container, "environment", checked)
        added = [ecs.Environment(Name=n, Value=v) for n, v in checked.items()]
        container.Environment = sorted(
            [*container.properties.get("Environment", []), *added], key=lambda e: e.Name
        )

    def add_secrets(self, t: Template, secrets: Mapping[str, object]) -> None:
        """Give the container the secrets ``secrets``, which ECS reads at task start.

        Each maps a variable name to the ARN of a Secrets Manager secret (optionally with
        ``:json-key:version-stage:version-id``) or of an SSM parameter: as text, as a
        ``Sub`` or ``Join`` of that shape (``arn:${AWS::Partition}:secretsmanager:...``),
        as a ``secretsmanager.Secret`` or ``ssm.Parameter`` of ``t`` or its ``Ref``, or as
        an ``ImportValue``, ``If`` or a Parameter's ``Ref``. The shared execution role
        (``read-secrets``) may read exactly those, nothing broader: it reads every
        service's secrets, while each task sees only its own. A secret or SecureString
        parameter under a customer managed KMS key also needs ``kms:Decrypt`` on that key.
        A bad name or ARN, or a name the container already sets, raises
        :class:`ConfigError` naming ``secrets.<NAME>``; nothing is then given.
        """
        container = self._container(t)
        sources = references.secrets(t, "secrets", secrets)
        self._check_unset(container, "secrets", sources)
        if self.shared is None:
            raise ValueError("add_secrets: the service has no execution role")
        added = [ecs.Secret(Name=n, ValueFrom=s.value_from) for n, s in sources.items()]
        container.Secrets = sorted(
            [*container.properties.get("Secrets", []), *added], key=lambda e: e.Name
        )
        self.shared.allow_secrets(s.grant for s in sources.values())

    def _container(self, t: Template) -> ecs.ContainerDefinition:
        _check_template(t)
        if t.resources.get(self.task_definition.title) is not self.task_definition:
            raise ConfigError("t", "the service's task definition is not in this template")
        container: ecs.ContainerDefinition = self.task_definition.ContainerDefinitions[0]
        return container

    @staticmethod
    def _check_unset(
        container: ecs.ContainerDefinition, key: str, names: Mapping[str, object]
    ) -> None:
        for kind in ("Environment", "Secrets"):
            taken = {e.Name for e in container.properties.get(kind, [])}
            for name in names:
                if name in taken:
                    raise ConfigError(
                        f"{key}.{name}",
                        f"the container {container.Name} already sets {name} ({kind.lower()})",
                    )

    def metric(self, name: str, statistic: str = "Average") -> Metric:
        """An ``AWS/ECS`` metric of the service: ``CPUUtilization`` or ``MemoryUtilization``."""
        return Metric("AWS/ECS", name, self._dimensions, statistic)

    def insights_metric(self, name: str, statistic: str = "Average") -> Metric:
        """A Container Insights metric of the service.

        E.g. ``RunningTaskCount``, ``DesiredTaskCount``, ``NetworkRxBytes``.
        """
        return Metric("ECS/ContainerInsights", name, self._dimensions, statistic)

    @property
    def _dimensions(self) -> tuple[tuple[str, object], ...]:
        return (("ClusterName", self.cluster.ref()), ("ServiceName", GetAtt(self.service, "Name")))

    def admit(
        self,
        t: Template,
        client_group: ec2.SecurityGroup,
        *,
        ingress_id: str,
        egress_id: str,
        description: str,
    ) -> None:
        """Let ``client_group`` reach the tasks on the container port: both sides' rules.

        An ingress rule on the tasks' group and an egress rule on ``client_group``, separate
        resources, so that neither group's definition refers to the other. The load balancer
        and the probe are admitted this way; ``docs/library.md`` has a bastion's.

        Args:
            t: the template both groups are in.
            client_group: a troposphere ``ec2.SecurityGroup`` of ``t``.
            ingress_id: the ingress rule's logical ID; the client's concern owns it.
            egress_id: the egress rule's logical ID.
            description: the client's name: "Container port from the <description>".

        Raises:
            ConfigError: a client that is no security group, an ID not 1-255 letters and
                digits or already in ``t``, an empty description; nothing is added.
        """
        _check_template(t)
        if t.resources.get(self.security_group.title) is not self.security_group:
            raise ConfigError("t", "admit: the service's security group is not in this template")
        if not isinstance(client_group, ec2.SecurityGroup):
            raise ConfigError(
                "client_group",
                f"{shown(client_group)} is not allowed; allowed: "
                "a troposphere ec2.SecurityGroup of the template",
            )
        if t.resources.get(client_group.title) is not client_group:
            raise ConfigError(
                "client_group",
                f"ec2.SecurityGroup({client_group.title}) is not allowed: it is not this "
                "template's; allowed: a security group of the template",
            )
        for key, logical_id in (("ingress_id", ingress_id), ("egress_id", egress_id)):
            if not (isinstance(logical_id, str) and LOGICAL_ID.fullmatch(logical_id)):
                raise ConfigError(
                    key, f"{shown(logical_id)} is not allowed; allowed: 1-255 letters and digits"
                )
            if logical_id in t.resources or logical_id in t.parameters:
                raise ConfigError(key, f"{logical_id} is already in the template")
        if ingress_id == egress_id:
            raise ConfigError("egress_id", f"{egress_id} is ingress_id too")
        if not (isinstance(description, str) and description.strip()):
            raise ConfigError(
                "description",
                f"{shown(description)} is not allowed; allowed: the client's name, e.g. bastion",
            )
        t.add_resource(
            ec2.SecurityGroupIngress(
                ingress_id,
                GroupId=self.security_group.ref(),
                SourceSecurityGroupId=client_group.ref(),
                IpProtocol="tcp",
                FromPort=self.port,
                ToPort=self.port,
                Description=f"Container port from the {description}",
            )
        )
        t.add_resource(
            ec2.SecurityGroupEgress(
                egress_id,
                GroupId=client_group.ref(),
                DestinationSecurityGroupId=self.security_group.ref(),
                IpProtocol="tcp",
                FromPort=self.port,
                ToPort=self.port,
                Description="Container port of the service tasks",
            )
        )


def _check_template(t: object) -> None:
    """Refuse a ``t`` that is no troposphere Template."""
    if not isinstance(t, Template):
        raise ConfigError("t", f"{shown(t)} is not allowed; allowed: a troposphere Template")


def add_service(
    t: Template,
    cfg: Config,
    *,
    network: Network,
    load_balancer: LoadBalancer,
    discovery: Discovery,
    log_settings: LogSettings,
) -> Service:
    """Add the first service, the cluster it brings, and admit the load balancer to its tasks.

    Its task definition, roles, log group, security group and ECS service; the image
    and task size are Parameters, and the service names no task count
    (:func:`infra_gen.add_scaling` sets it). More: :meth:`infra_gen.Stack.add_service`.

    Args:
        t: the template it adds to.
        cfg: reads ``[service]``, ``[cluster]`` and ``profile``.
        network: the task subnets and VPC.
        load_balancer: the target group and listeners it serves behind.
        discovery: the Cloud Map service its tasks register in.
        log_settings: its log group's retention and key.

    Returns:
        The service's handle.

    Template cost: about 6.5 KB of compact JSON.
    """
    log_group = t.add_resource(log_settings.log_group(ids.Service.LOG_GROUP))
    image, cpu, memory = _add_parameters(t, cfg)
    # wget is busybox's in Alpine images, nginx's among them.
    port, path = cfg.service.container_port, cfg.service.health_check_path
    wget = f"wget -qO/dev/null http://127.0.0.1:{port}{path} || exit 1"
    shared = add_cluster(t, cfg, image=image, log_group=log_group)
    return add_tasks(
        t,
        cfg,
        shared=shared,
        log_group=log_group,
        task_size=(image, cpu, memory),
        network=network,
        route=load_balancer,
        discovery=discovery,
        health_check=["CMD-SHELL", wget],
        writable_paths=cfg.service.volumes,
    )


def add_tasks(
    t: Template,
    cfg: Config,
    *,
    shared: Cluster,
    log_group: logs.LogGroup,
    task_size: tuple[object, object, object],
    network: Network,
    route: LoadBalancer | None,
    discovery: Discovery,
    scope: str = "",
    writable_paths: Mapping[str, str] | None = None,
    desired_count: int | None = None,
    health_check: Sequence[str] | None = None,
) -> Service:
    """Add one service to the ``shared`` cluster and admit the load balancer to its tasks.

    Its task role, task definition, security group and ECS service, from ``cfg.service``.

    Args:
        scope: prefix of every logical ID it adds. Default: ``""``, the first service.
        task_size: the (image, cpu, memory) of its task definition, values or ``Ref``s.
        route: the load balancer as the service sees it (its target group and rule);
            ``None`` for a service the load balancer does not route to.
        writable_paths: volume name -> the path the image writes. Default: nginx's.
        desired_count: the task count it keeps. Default: ``None``, none named (the
            scalable target's to set).
        health_check: the container health check's command (ECS ``HealthCheck.Command``).
            Default: ``None``, none.

    Returns:
        The service's handle.
    """
    writable = WRITABLE_PATHS if writable_paths is None else writable_paths
    roles = shared.execution_role, _add_task_role(t, scope)
    task_definition = _add_task_definition(
        t, cfg, log_group, (scope, health_check), writable, roles, task_size
    )
    group = _add_security_group(t, network, scope)
    service = _add_ecs_service(
        t, cfg, shared.cluster, task_definition, group, network, route, discovery, scope
    )
    if desired_count is not None:
        service.DesiredCount = desired_count
    handle = Service(
        cluster=shared.cluster,
        service=service,
        task_definition=task_definition,
        security_group=group,
        log_group=log_group,
        port=cfg.service.container_port,
        execution_role=shared.execution_role,
        task_role=roles[1],
        route=route,
        shared=shared,
    )
    if route is None:
        return handle
    handle.admit(
        t,
        route.security_group,
        ingress_id=scope + ids.Service.INGRESS_FROM_LOAD_BALANCER,
        egress_id=scope + ids.Service.LOAD_BALANCER_EGRESS,
        description="load balancer",
    )
    return handle


def _add_task_definition(
    t: Template,
    cfg: Config,
    log_group: logs.LogGroup,
    named: tuple[str, Sequence[str] | None],
    writable: Mapping[str, str],
    roles: tuple[Role, Role],
    size: tuple[object, object, object],
) -> ecs.TaskDefinition:
    """The task definition of ``image`` at a ``size`` of (image, cpu, memory), under a
    (scope, container health check command)."""
    image, cpu, memory = size
    scope, health_check = named
    port = cfg.service.container_port
    execution_role, task_role = roles
    extra: dict[str, object] = {}  # settings beyond the default container's
    if cfg.profile.fixed_task_size:
        extra = {"Memory": int(cfg.service.memory)}  # CT.ECS.PR.7: a hard limit
    if cfg.service.user:
        extra["User"] = cfg.service.user  # CT.ECS.PR.3: not root
    if health_check:
        # ECS replaces a task whose server stops answering, and Cloud Map stops returning
        # it.
        extra["HealthCheck"] = ecs.HealthCheck(Command=list(health_check))
    return t.add_resource(
        ecs.TaskDefinition(
            scope + ids.Service.TASK_DEFINITION,
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=cpu,
            Memory=memory,
            # FARGATE_SPOT runs X86_64 only.
            RuntimePlatform=ecs.RuntimePlatform(
                OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"
            ),
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            Volumes=[ecs.Volume(Name=name) for name in sorted(writable)],
            ContainerDefinitions=[
                ecs.ContainerDefinition(
                    Name=cfg.service.name,
                    Image=image,
                    ReadonlyRootFilesystem=True,
                    **extra,
                    # Fargate's longest: all of Spot's two-minute notice to finish requests.
                    StopTimeout=120,
                    PortMappings=[ecs.PortMapping(ContainerPort=port, Protocol="tcp", Name="http")],
                    MountPoints=[
                        ecs.MountPoint(SourceVolume=name, ContainerPath=path)  # writable
                        for name, path in sorted(writable.items())
                    ],
                    LogConfiguration=ecs.LogConfiguration(
                        LogDriver="awslogs",
                        Options={
                            "awslogs-group": log_group.ref(),
                            "awslogs-region": Ref("AWS::Region"),
                            "awslogs-stream-prefix": cfg.service.name,
                            **LOG_MODE,
                        },
                    ),
                )
            ],
        )
    )


def _add_task_role(t: Template, scope: str) -> Role:
    # nginx calls no AWS API: the task role holds no permissions until a grant.
    return t.add_resource(
        Role(
            scope + ids.Service.TASK_ROLE,
            AssumeRolePolicyDocument=iam.assume_role("ecs-tasks.amazonaws.com"),
        )
    )


def _add_security_group(t: Template, network: Network, scope: str) -> ec2.SecurityGroup:
    return t.add_resource(
        ec2.SecurityGroup(
            scope + ids.Service.SECURITY_GROUP,
            GroupDescription="Service tasks: container port from the load balancer",
            VpcId=network.vpc_id,
            SecurityGroupEgress=[
                # Image pulls (ECR Public, Docker Hub) and the awslogs driver, both HTTPS.
                # DNS to the VPC resolver is not filtered by security groups.
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    CidrIp="0.0.0.0/0",
                    Description="HTTPS to image registries and CloudWatch Logs",
                )
            ],
        )
    )


def _add_ecs_service(
    t: Template,
    cfg: Config,
    cluster: ecs.Cluster,
    task_definition: ecs.TaskDefinition,
    group: ec2.SecurityGroup,
    network: Network,
    route: LoadBalancer | None,
    discovery: Discovery,
    scope: str,
) -> ecs.Service:
    depends_on: list[object] = []
    if cfg.profile.private_tasks:
        # The tasks pull through NAT: every private subnet's route must exist first.
        depends_on += network.task_egress
    order: dict[str, object] = {}
    if route is None:
        pass  # no load balancer: nothing to wait for
    elif route.rule is None:
        # A target group must belong to a load balancer before a service uses
        # it. Referencing the listener that forwards to it orders the service
        # after that listener; a DependsOn cannot name the conditional one.
        order["Tags"] = Tags({"infra-gen:listener": route.active_listener})
    elif route.alternate_target_group is None:
        # Another service's group belongs to the load balancer through its rule,
        # which is unconditional: a plain DependsOn orders the service after it. A
        # shifted service refers to its rule (ProductionListenerRule), which orders it.
        depends_on.append(route.rule)
    if depends_on:
        order["DependsOn"] = depends_on
    deployment = ecs.DeploymentConfiguration(
        # Start new tasks before stopping old ones; roll back a deployment
        # whose tasks never become healthy.
        MinimumHealthyPercent=100,
        MaximumPercent=200,
        DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
    )
    if route is not None and route.alternate_target_group is not None:
        deployment = _shifted_deployment(cfg)
    return t.add_resource(
        ecs.Service(
            scope + ids.Service.SERVICE,
            Cluster=cluster.ref(),
            TaskDefinition=task_definition.ref(),
            # No DesiredCount: CloudFormation then starts a new service with one task
            # (the scalable target raises it to MinTasks) and leaves the count that
            # scaling chose alone on every update.
            CapacityProviderStrategy=strategy(cfg),
            # No PlatformVersion: CloudFormation's default is LATEST (ECS.10, CT.ECS.PR.1).
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    # Default: no NAT gateway, a public IP is the tasks' way to the
                    # registry. Governed: private subnets behind NAT (ECS.2, CT.ECS.PR.9).
                    AssignPublicIp="DISABLED" if cfg.profile.private_tasks else "ENABLED",
                    Subnets=network.task_subnet_ids,
                    SecurityGroups=[group.ref()],
                )
            ),
            **_behind(t, cfg, route),
            ServiceRegistries=[ecs.ServiceRegistry(RegistryArn=GetAtt(discovery.service, "Arn"))],
            DeploymentConfiguration=deployment,
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            **order,
        )
    )


def _shifted_deployment(cfg: Config) -> ecs.DeploymentConfiguration:
    """Canary or linear: ECS starts the new revision beside the old one in the alternate
    target group, shifts the production rule's weights, and bakes. The circuit breaker is
    for rolling deployments only; the rollback alarms judge these."""
    s = cfg.service
    shift: dict[str, object] = {}
    if s.deployment == "canary":
        shift["CanaryConfiguration"] = ecs.CanaryConfiguration(
            CanaryPercent=s.canary_percent, CanaryBakeTimeInMinutes=s.canary_bake_minutes
        )
    else:
        shift["LinearConfiguration"] = ecs.LinearConfiguration(
            StepPercent=s.linear_step_percent, StepBakeTimeInMinutes=s.linear_step_minutes
        )
    return ecs.DeploymentConfiguration(
        Strategy=s.deployment.upper(), BakeTimeInMinutes=s.bake_minutes, **shift
    )


def _load_balancer_role(t: Template) -> Role:
    """The role ECS assumes to move a production rule's weights: one for every service
    that shifts traffic (docs/security.md says why its AWS managed policy)."""
    role = t.resources.get(ids.Service.LOAD_BALANCER_ROLE)
    if isinstance(role, Role):
        return role
    return t.add_resource(
        Role(
            ids.Service.LOAD_BALANCER_ROLE,
            # The trust policy of ECS's own guide, without aws:SourceAccount: the guide
            # does not say that ECS sets the key when it assumes this role.
            AssumeRolePolicyDocument=iam.assume_role("ecs.amazonaws.com", source_account=False),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/"
                    "AmazonECSInfrastructureRolePolicyForLoadBalancers"
                )
            ],
        )
    )


def _behind(t: Template, cfg: Config, route: LoadBalancer | None) -> dict[str, object]:
    """The ECS service's load balancer and grace period; none for a service without a
    route (ECS takes a grace period only with a load balancer or a health check). A
    canary or linear route names its second target group, the production rule ECS
    shifts and the role ECS shifts it with."""
    if route is None:
        return {}
    balancer = ecs.LoadBalancer(
        ContainerName=cfg.service.name,
        ContainerPort=cfg.service.container_port,
        TargetGroupArn=route.target_group.ref(),
    )
    if route.alternate_target_group is not None and route.rule is not None:
        balancer.AdvancedConfiguration = ecs.AdvancedConfiguration(
            AlternateTargetGroupArn=route.alternate_target_group.ref(),
            ProductionListenerRule=route.rule.ref(),
            RoleArn=GetAtt(_load_balancer_role(t), "Arn"),
        )
    return {"LoadBalancers": [balancer], "HealthCheckGracePeriodSeconds": 60}


def image_pattern(cfg: Config) -> str:
    """``ServiceImage``'s pattern: any image; with a private ``service.image``, the tags and
    digests of its repository only (the one the execution role may pull); governed, a
    digest required."""
    pattern, repository = IMAGE_PATTERN, private_repository(cfg.service.image)
    if repository:
        tail = pattern[pattern.index("(:[A-Za-z0-9_]") :]
        pattern = (
            r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
            + re.escape(repository).replace("\\-", "-")
            + tail
        )
    return pattern.replace(")?$", ")$") if cfg.profile.pinned_image else pattern


def _add_parameters(t: Template, cfg: Config) -> tuple[Ref, object, object]:
    image = add_parameter(
        t,
        ids.Service.IMAGE,
        group=GROUP_SERVICE,
        description="nginx image: public or in this account's ECR in this Region.",
        Type="String",
        Default=cfg.service.image,
        AllowedPattern=image_pattern(cfg),
        ConstraintDescription="must be an image reference like repository"
        + ("@sha256:digest" if cfg.profile.pinned_image else ":tag"),
    )
    if cfg.profile.fixed_task_size:
        # CT.ECS.PR.7 compares the container's Memory with a number: no Fn::Select, so
        # the size is fixed at generation.
        return image.ref(), str(cfg.service.cpu), str(cfg.service.memory)
    # One Parameter for the pair: CloudFormation then rejects a size Fargate does
    # not offer before any resource changes. A pattern, not AllowedValues: the list
    # would take twice the room in a template near the inline size limit.
    size = add_parameter(
        t,
        ids.Service.TASK_SIZE,
        group=GROUP_SERVICE,
        description="Fargate cpu/memory, e.g. 256/512 or 1024/4096.",
        Type="String",
        Default=f"{cfg.service.cpu}/{cfg.service.memory}",
        AllowedPattern=TASK_SIZE_PATTERN,
        ConstraintDescription="must be a Fargate size cpu/memory, e.g. 512/1024",
    )
    cpu = Select(0, Split("/", size.ref()))
    memory = Select(1, Split("/", size.ref()))
    return image.ref(), cpu, memory
