"""The VPC: public subnets, one per Availability Zone, routed to an internet gateway.

By default there is no NAT gateway: tasks get public IPs and pull their image through
the internet gateway; the probe reaches the tasks inside the VPC. The governed profile
adds private subnets, one per AZ, each with its own route table whose default route
goes to a NAT gateway (the one of its AZ, or the only one): the tasks and the probe run
there, the load balancer stays public.

An existing VPC (``network.vpc_id``, or a host template's through
:class:`ExistingNetwork`) replaces all of that: the stack then adds no VPC, subnet,
gateway, route table or route, and its other concerns use the VPC and subnets given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from troposphere import AWSObject, GetAtt, GetAZs, Parameter, Ref, Select, Sub, Tags, Template, ec2
from troposphere.iam import Policy, Role

from ..config import Config, ConfigError
from ..config.limits import MOST_SUBNETS
from ..config.sections import VPC_PARAMETER
from . import iam, ids
from .loggroups import LogSettings
from .params import GROUP_NETWORK, add_to_group

__all__ = ["NO_EGRESS", "ExistingNetwork", "Network", "add_network", "check_existing"]

# A rule no packet can match: it replaces the default allow-all egress of a group
# whose real egress rules are added by the concerns it talks to.
NO_EGRESS = ec2.SecurityGroupRule(
    IpProtocol="icmp",
    FromPort=252,
    ToPort=86,
    CidrIp="255.255.255.255/32",
    Description="Disallow all traffic",
)


@dataclass(frozen=True, eq=False)
class ExistingNetwork:
    """A host template's own VPC and subnets, for ``build_stack(template=host, network=...)``.

    The stack then adds no network of its own: its load balancer goes in
    ``public_subnets``, its tasks and probe in ``private_subnets`` under ``governed``
    (else in the public ones), its security groups and Cloud Map namespace in ``vpc``.
    """

    vpc: ec2.VPC
    """The host's VPC (DNS support and host names on, for Cloud Map)."""
    public_subnets: Sequence[ec2.Subnet]
    """2-6 of its subnets routed to an internet gateway, one per Availability Zone."""
    private_subnets: Sequence[ec2.Subnet] = ()
    """With ``governed``: 2-6 subnets whose egress is a NAT gateway; else none."""
    depends_on: Sequence[AWSObject] = ()
    """What must exist before the subnets reach the internet (the host's routes,
    gateway attachment, route table associations): the load balancer and the service
    wait for it."""


def check_existing(host: object, existing: object, cfg: Config) -> ExistingNetwork:
    """``existing`` checked against the host template that holds it and ``cfg``.

    Raises:
        ConfigError: no host, another type, an object the host does not hold, too few or
            too many subnets, private subnets the profile has no use for (or none where it
            needs them); named by the handle's field.
    """
    if not isinstance(existing, ExistingNetwork):
        raise ConfigError("network", f"expected an ExistingNetwork, got {type(existing).__name__}")
    if not isinstance(host, Template):
        raise ConfigError(
            "network", "is a host template's VPC: pass that template too (template=host)"
        )
    _held(host, "network.vpc", [existing.vpc], ec2.VPC)
    private = cfg.profile.private_tasks
    for key, subnets, wanted in (
        ("network.public_subnets", existing.public_subnets, True),
        ("network.private_subnets", existing.private_subnets, private),
    ):
        if not isinstance(subnets, list | tuple):
            raise ConfigError(key, f"expected a list of ec2.Subnet, got {type(subnets).__name__}")
        if not wanted and subnets:
            raise ConfigError(
                key,
                "runs tasks in private subnets, which only governed = true has; "
                "leave it empty (the tasks run in the public subnets) or set governed = true",
            )
        if wanted and not 2 <= len(subnets) <= MOST_SUBNETS:
            raise ConfigError(
                key,
                f"has {len(subnets)} subnet(s); allowed 2-{MOST_SUBNETS}, one per "
                "Availability Zone",
            )
        _held(host, key, subnets, ec2.Subnet)
        vpc = {"Ref": existing.vpc.title}
        for subnet in subnets:
            given = subnet.properties.get("VpcId")
            to_dict = getattr(given, "to_dict", None)
            if isinstance(given, Ref) and to_dict is not None and to_dict() != vpc:
                raise ConfigError(key, f"{subnet.title} is in another VPC than {vpc['Ref']}")
    titles = [s.title for s in [*existing.public_subnets, *existing.private_subnets]]
    for index, title in enumerate(titles):
        if title in titles[:index]:
            raise ConfigError("network", f"names subnet {title} twice; each subnet once")
    if not isinstance(existing.depends_on, list | tuple):
        raise ConfigError(
            "network.depends_on",
            f"expected a list of resources, got {type(existing.depends_on).__name__}",
        )
    _held(host, "network.depends_on", existing.depends_on, AWSObject)
    return existing


def _held(host: Template, key: str, objects: Sequence[object], kind: type) -> None:
    """Refuse an object that is not a ``kind`` the host template holds."""
    for obj in objects:
        if not isinstance(obj, kind):
            raise ConfigError(
                key, f"expected a troposphere {kind.__name__}, got {type(obj).__name__}"
            )
        title = getattr(obj, "title", None)
        if host.resources.get(title) is not obj:
            raise ConfigError(
                key, f"{title} is not a resource of the host template; add it there first"
            )


@dataclass(frozen=True, eq=False)
class _GivenIds:
    """An existing VPC's IDs: text given at generation time, or Parameters' ``Ref``."""

    vpc_id: object
    public_subnet_ids: object
    private_subnet_ids: object


@dataclass(frozen=True, eq=False)
class Network:
    """What the other concerns need of the network."""

    vpc: ec2.VPC | None
    """The VPC (DNS support and host names on, for Cloud Map): the stack's, a host
    template's, or None for one given by ID or Parameter (``network.vpc_id``)."""
    subnets: tuple[ec2.Subnet, ...]
    """The public subnets, one per Availability Zone, in AZ order."""
    default_route: ec2.Route | None
    """The route to the internet gateway: depend on it for anything that needs the
    internet. None when the VPC is not the stack's own."""
    route_table_associations: tuple[AWSObject, ...] = ()
    """The subnets' links to the public route table; until they exist a subnet uses the
    VPC's main route table, which has no route to the internet. A host template's VPC:
    what its routes need (:attr:`ExistingNetwork.depends_on`)."""

    private_subnets: tuple[ec2.Subnet, ...] = ()
    """The private subnets (governed profile only), one per AZ, in AZ order."""
    private_routes: tuple[ec2.Route | ec2.SubnetRouteTableAssociation, ...] = ()
    """Their NAT default routes and route table associations."""
    given: _GivenIds | None = field(default=None, repr=False)
    """An existing VPC's IDs, as text or Parameters (``network.vpc_id``)."""

    @property
    def owns_vpc(self) -> bool:
        """Whether the VPC, its subnets and routes are the stack's own."""
        return self.default_route is not None

    @property
    def vpc_id(self) -> object:
        """The VPC's ID: a ``Ref``, or text for one given at generation time."""
        if self.given is not None:
            return self.given.vpc_id
        assert self.vpc is not None  # one or the other, by construction
        return self.vpc.ref()

    @property
    def task_subnet_ids(self) -> object:
        """The subnets the tasks and the probe run in: a list of ``Ref`` (or IDs), or a
        list Parameter's ``Ref``.

        The private ones when there are, else the public ones.
        """
        if self.given is not None:
            return self.given.private_subnet_ids or self.given.public_subnet_ids
        return [s.ref() for s in self.private_subnets or self.subnets]

    @property
    def task_egress(self) -> list[AWSObject]:
        """What must exist before anything in the task subnets reaches the internet."""
        return list(self.private_routes) or self.internet

    @property
    def internet(self) -> list[AWSObject]:
        """What must exist before anything in the subnets reaches the internet.

        The default route and every subnet's association with its table (none for a VPC
        given by ID). Use it as ``DependsOn``.
        """
        route = [self.default_route] if self.default_route is not None else []
        return [*route, *self.route_table_associations]

    @property
    def subnet_ids(self) -> object:
        """Every public subnet, for a resource's ``Subnets``/``SubnetIds``: a list of
        ``Ref`` (or IDs), or a list Parameter's ``Ref``."""
        if self.given is not None:
            return self.given.public_subnet_ids
        return [s.ref() for s in self.subnets]


def _existing(t: Template, cfg: Config, host: ExistingNetwork | None) -> Network:
    """The handle of a VPC the stack does not own: a host's, by ID or by Parameter."""
    if host is not None:
        return Network(
            vpc=host.vpc,
            subnets=tuple(host.public_subnets),
            default_route=None,
            route_table_associations=tuple(host.depends_on),
            private_subnets=tuple(host.private_subnets),
        )
    net = cfg.network
    if net.vpc_id != VPC_PARAMETER:
        given = _GivenIds(
            vpc_id=net.vpc_id,
            public_subnet_ids=list(net.public_subnet_ids),
            private_subnet_ids=list(net.private_subnet_ids),
        )
        return Network(vpc=None, subnets=(), default_route=None, given=given)
    # The AWS-specific types are the constraint: CloudFormation refuses an ID that does
    # not exist in the account and Region before it touches a resource.
    specs = [
        (ids.Network.VPC_ID, "AWS::EC2::VPC::Id", "The existing VPC the stack runs in."),
        (
            ids.Network.PUBLIC_SUBNET_IDS,
            "List<AWS::EC2::Subnet::Id>",
            "Subnets of that VPC routed to an internet gateway, one per AZ (2 or more): "
            "the load balancer's"
            + ("." if cfg.profile.private_tasks else ", the tasks' and the probe's."),
        ),
    ]
    if cfg.profile.private_tasks:
        specs.append(
            (
                ids.Network.PRIVATE_SUBNET_IDS,
                "List<AWS::EC2::Subnet::Id>",
                "Subnets of that VPC whose egress is a NAT gateway, one per AZ (2 or more): "
                "the tasks' and the probe's.",
            )
        )
    refs = []
    for name, kind, description in specs:
        refs.append(t.add_parameter(Parameter(name, Type=kind, Description=description)).ref())
        add_to_group(t, name, GROUP_NETWORK)
    given = _GivenIds(
        vpc_id=refs[0],
        public_subnet_ids=refs[1],
        private_subnet_ids=refs[2] if len(refs) > 2 else [],
    )
    return Network(vpc=None, subnets=(), default_route=None, given=given)


def add_network(
    t: Template,
    cfg: Config,
    *,
    log_settings: LogSettings,
    existing: ExistingNetwork | None = None,
) -> Network:
    """Add the VPC, its public subnets and routes, and flow logs when configured.

    Args:
        t: the template it adds to.
        cfg: reads ``[network]``, ``security.flow_logs`` and ``profile`` (private
            subnets behind NAT).
        log_settings: the flow log group's retention and key.
        existing: a host template's VPC and subnets, checked by ``build_stack``. Default:
            None (``network.vpc_id``'s, else the stack's own).

    Returns:
        The network's handle.

    Template cost: about 1.7 KB of compact JSON (default configuration); an existing VPC
    by ID none of its own, by Parameter about 0.2 KB (1.6 KB less than its own VPC).
    """
    if existing is not None or cfg.network.existing:
        network = _existing(t, cfg, existing)
        if cfg.security.flow_logs:
            _add_flow_logs(t, network.vpc_id, log_settings)
        return network
    vpc = t.add_resource(
        ec2.VPC(
            ids.Network.VPC,
            CidrBlock=cfg.network.vpc_cidr,
            # Both are required for Cloud Map private DNS names to resolve in the VPC.
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=Tags(Name=Sub("${AWS::StackName}")),
        )
    )
    igw = t.add_resource(ec2.InternetGateway(ids.Network.INTERNET_GATEWAY))
    attachment = t.add_resource(
        ec2.VPCGatewayAttachment(
            ids.Network.GATEWAY_ATTACHMENT, VpcId=vpc.ref(), InternetGatewayId=igw.ref()
        )
    )
    table = t.add_resource(ec2.RouteTable(ids.Network.ROUTE_TABLE, VpcId=vpc.ref()))
    route = t.add_resource(
        ec2.Route(
            ids.Network.DEFAULT_ROUTE,
            # The route cannot use the gateway before it is attached to the VPC.
            DependsOn=attachment,
            RouteTableId=table.ref(),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=igw.ref(),
        )
    )
    subnets, associations = [], []
    for index, cidr in enumerate(cfg.network.subnets):
        number = index + 1
        subnet = t.add_resource(
            ec2.Subnet(
                ids.Network.SUBNET.format(number),
                VpcId=vpc.ref(),
                CidrBlock=cidr,
                **_zone(cfg, index),
                # Only what asks for a public IP gets one (the tasks do, explicitly).
                MapPublicIpOnLaunch=False,
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-public-{number}")),
            )
        )
        association = t.add_resource(
            ec2.SubnetRouteTableAssociation(
                ids.Network.SUBNET_ROUTE_TABLE.format(number),
                SubnetId=subnet.ref(),
                RouteTableId=table.ref(),
            )
        )
        subnets.append(subnet)
        associations.append(association)
    if cfg.security.flow_logs:
        _add_flow_logs(t, vpc.ref(), log_settings)
    network = Network(
        vpc=vpc,
        subnets=tuple(subnets),
        default_route=route,
        route_table_associations=tuple(associations),
    )
    return (
        _add_private_subnets(t, cfg, network, attachment) if cfg.profile.private_tasks else network
    )


def _add_private_subnets(
    t: Template, cfg: Config, network: Network, attachment: ec2.VPCGatewayAttachment
) -> Network:
    """Private subnets, each with its own route table whose default route goes to a NAT
    gateway in a public subnet: its AZ's (``per_az``), or the one (``one``).

    A table per subnet in both modes: switching between them changes only the routes'
    ``NatGatewayId`` (an update in place), never a subnet's association (a replacement).
    """
    assert network.vpc is not None  # the stack's own VPC
    vpc = network.vpc.ref()
    gateways = len(network.subnets) if cfg.network.nat_gateways == "per_az" else 1
    nats, tables, routes = [], [], []
    for index in range(len(network.subnets)):
        number = index + 1
        if index < gateways:
            # An address for a VPC in the same template waits for the gateway attachment.
            address = t.add_resource(
                ec2.EIP(ids.Network.NAT_ADDRESS.format(number), Domain="vpc", DependsOn=attachment)
            )
            nats.append(
                t.add_resource(
                    ec2.NatGateway(
                        ids.Network.NAT_GATEWAY.format(number),
                        AllocationId=GetAtt(address, "AllocationId"),
                        SubnetId=network.subnets[index].ref(),
                    )
                )
            )
        table = t.add_resource(
            ec2.RouteTable(ids.Network.PRIVATE_ROUTE_TABLE.format(number), VpcId=vpc)
        )
        routes.append(
            t.add_resource(
                ec2.Route(
                    ids.Network.PRIVATE_DEFAULT_ROUTE.format(number),
                    RouteTableId=table.ref(),
                    DestinationCidrBlock="0.0.0.0/0",
                    NatGatewayId=nats[min(index, gateways - 1)].ref(),
                )
            )
        )
        tables.append(table)
    subnets = []
    for index, cidr in enumerate(cfg.network.private_subnets):
        number = index + 1
        subnet = t.add_resource(
            ec2.Subnet(
                ids.Network.PRIVATE_SUBNET.format(number),
                VpcId=vpc,
                CidrBlock=cidr,
                **_zone(cfg, index),
                MapPublicIpOnLaunch=False,
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-private-{number}")),
            )
        )
        routes.append(
            t.add_resource(
                ec2.SubnetRouteTableAssociation(
                    ids.Network.PRIVATE_SUBNET_ROUTE_TABLE.format(number),
                    SubnetId=subnet.ref(),
                    RouteTableId=tables[index].ref(),
                )
            )
        )
        subnets.append(subnet)
    return replace(network, private_subnets=tuple(subnets), private_routes=tuple(routes))


def _zone(cfg: Config, index: int) -> dict[str, object]:
    """The subnet's AZ: a given AZ ID (names differ per account, IDs do not), or the
    Region's index-th AZ. Fargate is not offered in every AZ of some Regions."""
    ids = cfg.network.availability_zone_ids
    if ids:
        return {"AvailabilityZoneId": ids[index]}
    return {"AvailabilityZone": Select(index, GetAZs(""))}


def _add_flow_logs(t: Template, vpc_id: object, log_settings: LogSettings) -> None:
    group = t.add_resource(log_settings.log_group(ids.Network.FLOW_LOG_GROUP))
    role = t.add_resource(
        Role(
            ids.Network.FLOW_LOG_ROLE,
            AssumeRolePolicyDocument=iam.assume_role("vpc-flow-logs.amazonaws.com"),
            Policies=[
                Policy(
                    PolicyName="deliver-flow-logs",
                    PolicyDocument=iam.deliver_flow_logs(GetAtt(group, "Arn")),
                )
            ],
        )
    )
    t.add_resource(
        ec2.FlowLog(
            ids.Network.FLOW_LOG,
            ResourceId=vpc_id,
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=group.ref(),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
        )
    )
