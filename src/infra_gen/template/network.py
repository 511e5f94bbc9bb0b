"""The VPC: public subnets, one per Availability Zone, routed to an internet gateway.

By default there is no NAT gateway: tasks get public IPs and pull their image through
the internet gateway; the probe reaches the tasks inside the VPC. The governed profile
adds private subnets, one per AZ, whose egress goes through NAT gateways (one per AZ,
or one): the tasks and the probe run there, the load balancer stays public.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from troposphere import GetAtt, GetAZs, Ref, Select, Sub, Tags, Template, ec2
from troposphere.iam import Policy, Role

from ..config import Config
from . import iam, ids
from .loggroups import LogSettings

__all__ = ["NO_EGRESS", "Network", "add_network"]

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
class Network:
    """What the other concerns need of the network."""

    vpc: ec2.VPC
    """The VPC (DNS support and host names on, for Cloud Map)."""
    subnets: tuple[ec2.Subnet, ...]
    """The public subnets, one per Availability Zone, in AZ order."""
    default_route: ec2.Route
    """The route to the internet gateway: depend on it for anything that needs the internet."""
    route_table_associations: tuple[ec2.SubnetRouteTableAssociation, ...] = ()
    """The subnets' links to the public route table; until they exist a subnet uses the
    VPC's main route table, which has no route to the internet."""

    private_subnets: tuple[ec2.Subnet, ...] = ()
    """The private subnets (governed profile only), one per AZ, in AZ order."""
    private_routes: tuple[ec2.Route | ec2.SubnetRouteTableAssociation, ...] = ()
    """Their NAT default routes and route table associations."""

    @property
    def task_subnet_ids(self) -> list[Ref]:
        """``Ref`` of the subnets the tasks and the probe run in.

        The private ones when there are, else the public ones.
        """
        return [s.ref() for s in self.private_subnets or self.subnets]

    @property
    def task_egress(self) -> list[ec2.Route | ec2.SubnetRouteTableAssociation]:
        """What must exist before anything in the task subnets reaches the internet."""
        return list(self.private_routes) or self.internet

    @property
    def internet(self) -> list[ec2.Route | ec2.SubnetRouteTableAssociation]:
        """What must exist before anything in the subnets reaches the internet.

        The default route and every subnet's association with its table. Use it as
        ``DependsOn``.
        """
        return [self.default_route, *self.route_table_associations]

    @property
    def subnet_ids(self) -> list[Ref]:
        """``Ref`` of every subnet, for a resource's ``Subnets``/``SubnetIds``."""
        return [s.ref() for s in self.subnets]


def add_network(t: Template, cfg: Config, *, log_settings: LogSettings) -> Network:
    """Add the VPC, its public subnets and routes, and flow logs when configured.

    Args:
        t: the template it adds to.
        cfg: reads ``[network]``, ``security.flow_logs`` and ``profile`` (private
            subnets behind NAT).
        log_settings: the flow log group's retention and key.

    Returns:
        The network's handle.

    Template cost: about 1.7 KB of compact JSON (default configuration).
    """
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
        _add_flow_logs(t, vpc, log_settings)
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
    """Private subnets routed to NAT gateways in the public ones: per AZ, or one."""
    vpc = network.vpc.ref()
    gateways = len(network.subnets) if cfg.network.nat_gateways == "per_az" else 1
    tables, routes = [], []
    for index in range(gateways):
        number = index + 1
        # An address for a VPC in the same template waits for the gateway attachment.
        address = t.add_resource(
            ec2.EIP(ids.Network.NAT_ADDRESS.format(number), Domain="vpc", DependsOn=attachment)
        )
        nat = t.add_resource(
            ec2.NatGateway(
                ids.Network.NAT_GATEWAY.format(number),
                AllocationId=GetAtt(address, "AllocationId"),
                SubnetId=network.subnets[index].ref(),
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
                    NatGatewayId=nat.ref(),
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
                    RouteTableId=tables[min(index, gateways - 1)].ref(),
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


def _add_flow_logs(t: Template, vpc: ec2.VPC, log_settings: LogSettings) -> None:
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
            ResourceId=vpc.ref(),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=group.ref(),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
        )
    )
