"""The ECS cluster on Fargate and the nginx service behind the load balancer.

The cluster's default capacity provider strategy spreads tasks over FARGATE and
FARGATE_SPOT; the service uses it (it names no launch type of its own).
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Select, Split, Tags, Template, ec2, ecs, logs
from troposphere.iam import Policy, Role

from . import iam
from .cloudmap import Discovery
from .config import FARGATE_TASK_SIZES, IMAGE_PATTERN, Config
from .loadbalancer import LoadBalancer
from .loggroups import LogSettings
from .network import Network
from .params import GROUP_SERVICE, add_parameter

__all__ = ["Service", "add_service"]

CLUSTER = "EcsCluster"
LOG_GROUP = "EcsServiceLogGroup"
EXECUTION_ROLE = "EcsTaskExecutionRole"
TASK_ROLE = "EcsTaskRole"
TASK_DEFINITION = "EcsTaskDefinition"
SECURITY_GROUP = "EcsServiceSecurityGroup"
INGRESS_FROM_LOAD_BALANCER = "EcsServiceIngressFromLoadBalancer"
LOAD_BALANCER_EGRESS = "EcsLoadBalancerEgressToService"
SERVICE = "EcsService"
IMAGE = "ServiceImage"
DESIRED_COUNT = "DesiredCount"
TASK_SIZE = "TaskSize"

# nginx's official image writes only here; with these on task storage the root
# file system can be read-only (documented by the image's maintainers).
_WRITABLE_PATHS = {"nginx-cache": "/var/cache/nginx", "nginx-run": "/var/run"}


@dataclass(frozen=True, eq=False)
class Service:
    cluster: ecs.Cluster
    service: ecs.Service
    task_definition: ecs.TaskDefinition
    security_group: ec2.SecurityGroup
    log_group: logs.LogGroup
    port: int
    """The container port, the only one the tasks' group ever opens."""

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

        Separate rule resources, so that neither group's definition refers to the
        other. The client concern calls this and owns the two logical IDs.
        """
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


def add_service(
    t: Template,
    cfg: Config,
    *,
    network: Network,
    load_balancer: LoadBalancer,
    discovery: Discovery,
    log_settings: LogSettings,
) -> Service:
    image, desired, cpu, memory = _add_parameters(t, cfg)
    port = cfg.service.container_port

    cluster = t.add_resource(
        ecs.Cluster(
            CLUSTER,
            CapacityProviders=["FARGATE", "FARGATE_SPOT"],
            DefaultCapacityProviderStrategy=[
                ecs.CapacityProviderStrategyItem(
                    CapacityProvider="FARGATE",
                    Weight=cfg.cluster.fargate_weight,
                    Base=cfg.cluster.fargate_base,
                ),
                ecs.CapacityProviderStrategyItem(
                    CapacityProvider="FARGATE_SPOT", Weight=cfg.cluster.fargate_spot_weight
                ),
            ],
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
        )
    )
    log_group = t.add_resource(log_settings.log_group(LOG_GROUP))
    execution_role = t.add_resource(
        Role(
            EXECUTION_ROLE,
            AssumeRolePolicyDocument=iam.assume_role("ecs-tasks.amazonaws.com"),
            # Public images (ECR Public, Docker Hub) need no pull permissions; the
            # awslogs driver needs to write to this service's log group only.
            Policies=[
                Policy(
                    PolicyName="write-service-logs",
                    PolicyDocument=iam.write_logs([GetAtt(log_group, "Arn")]),
                )
            ],
        )
    )
    # nginx calls no AWS API: the task role holds no permissions.
    task_role = t.add_resource(
        Role(TASK_ROLE, AssumeRolePolicyDocument=iam.assume_role("ecs-tasks.amazonaws.com"))
    )
    task_definition = t.add_resource(
        ecs.TaskDefinition(
            TASK_DEFINITION,
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
            Volumes=[ecs.Volume(Name=name) for name in sorted(_WRITABLE_PATHS)],
            ContainerDefinitions=[
                ecs.ContainerDefinition(
                    Name=cfg.service.name,
                    Image=image,
                    Essential=True,
                    ReadonlyRootFilesystem=True,
                    PortMappings=[
                        ecs.PortMapping(ContainerPort=port, Protocol="tcp", Name="http")
                    ],
                    MountPoints=[
                        ecs.MountPoint(SourceVolume=name, ContainerPath=path, ReadOnly=False)
                        for name, path in sorted(_WRITABLE_PATHS.items())
                    ],
                    LogConfiguration=ecs.LogConfiguration(
                        LogDriver="awslogs",
                        Options={
                            "awslogs-group": log_group.ref(),
                            "awslogs-region": Ref("AWS::Region"),
                            "awslogs-stream-prefix": cfg.service.name,
                        },
                    ),
                )
            ],
        )
    )

    group = t.add_resource(
        ec2.SecurityGroup(
            SECURITY_GROUP,
            GroupDescription="Service tasks: container port from the load balancer",
            VpcId=network.vpc.ref(),
            SecurityGroupEgress=[
                # Image pulls (ECR Public, Docker Hub) and the awslogs driver, both HTTPS.
                # DNS to the VPC resolver is not filtered by security groups.
                ec2.SecurityGroupRule(
                    IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0",
                    Description="HTTPS to image registries and CloudWatch Logs",
                )  # fmt: skip
            ],
        )
    )

    service = t.add_resource(
        ecs.Service(
            SERVICE,
            Cluster=cluster.ref(),
            TaskDefinition=task_definition.ref(),
            DesiredCount=desired,
            PlatformVersion="LATEST",
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    # No NAT gateway: a public IP is the tasks' way to the registry.
                    AssignPublicIp="ENABLED",
                    Subnets=network.subnet_ids,
                    SecurityGroups=[group.ref()],
                )
            ),
            LoadBalancers=[
                ecs.LoadBalancer(
                    ContainerName=cfg.service.name,
                    ContainerPort=port,
                    TargetGroupArn=load_balancer.target_group.ref(),
                )
            ],
            ServiceRegistries=[ecs.ServiceRegistry(RegistryArn=GetAtt(discovery.service, "Arn"))],
            HealthCheckGracePeriodSeconds=60,
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                # Start new tasks before stopping old ones; roll back a deployment
                # whose tasks never become healthy.
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            EnableECSManagedTags=True,
            PropagateTags="SERVICE",
            # A target group must belong to a load balancer before a service uses
            # it. Referencing the listener that forwards to it orders the service
            # after that listener; a DependsOn cannot name the conditional one.
            Tags=Tags({"infra-gen:listener": load_balancer.active_listener}),
        )
    )
    handle = Service(
        cluster=cluster,
        service=service,
        task_definition=task_definition,
        security_group=group,
        log_group=log_group,
        port=port,
    )
    handle.admit(
        t,
        load_balancer.security_group,
        ingress_id=INGRESS_FROM_LOAD_BALANCER,
        egress_id=LOAD_BALANCER_EGRESS,
        description="load balancer",
    )
    return handle


def _add_parameters(t: Template, cfg: Config) -> tuple[Ref, Ref, Select, Select]:
    image = add_parameter(
        t,
        IMAGE,
        group=GROUP_SERVICE,
        label="Container image",
        description="nginx image; the default is the official image's ECR Public mirror.",
        Type="String",
        Default=cfg.service.image,
        AllowedPattern=IMAGE_PATTERN,
        ConstraintDescription="must be an image reference like repository:tag",
    )
    desired = add_parameter(
        t,
        DESIRED_COUNT,
        group=GROUP_SERVICE,
        label="Desired task count",
        description="Tasks the service keeps running.",
        Type="Number",
        Default=cfg.service.desired_count,
        MinValue=1,
        MaxValue=100,
    )
    # One Parameter for the pair: CloudFormation then rejects a size Fargate does
    # not offer before any resource changes.
    size = add_parameter(
        t,
        TASK_SIZE,
        group=GROUP_SERVICE,
        label="Task size (CPU units/memory MiB)",
        description="Fargate task size as cpu/memory, e.g. 256/512 or 1024/4096.",
        Type="String",
        Default=f"{cfg.service.cpu}/{cfg.service.memory}",
        AllowedValues=[f"{c}/{m}" for c, sizes in FARGATE_TASK_SIZES.items() for m in sizes],
    )
    cpu = Select(0, Split("/", size.ref()))
    memory = Select(1, Split("/", size.ref()))
    return image.ref(), desired.ref(), cpu, memory


