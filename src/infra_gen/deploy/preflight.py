"""Read-only checks that predict a failed deploy before any change set exists.

Each check answers with :class:`Finding` lines: ``ok``, ``FAIL`` (the deploy would fail;
the line says what to do) or ``warn`` (the check could not decide, e.g. no permission
to read a quota; it does not block). The offline checks (the template within the
request limit, Parameter values within their constraints) need neither boto3 nor
credentials; the others make one read-only call each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..config.checks import PRIVATE_ECR_IMAGE
from ..template.budget import largest_parts, parts_line
from . import changeset
from .aws import Make, error_code, error_message
from .parameters import problems

__all__ = [
    "ECS_ROLE",
    "FARGATE_VCPU_QUOTA",
    "Finding",
    "offline",
    "online",
]

ECS_ROLE = "AWSServiceRoleForECS"
# Service Quotas: "Fargate On-Demand vCPU resource count", per account and Region.
FARGATE_VCPU_QUOTA = ("fargate", "L-3032A538")
# Service Quotas: "Fargate Spot vCPU resource count", per account and Region.
FARGATE_SPOT_VCPU_QUOTA = ("fargate", "L-36FBB829")
CPU_UNITS_PER_VCPU = 1024
_ACM_REGION = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):")


@dataclass(frozen=True)
class Finding:
    """One check's answer: ``ok``, ``FAIL`` or ``warn``, and what it saw."""

    check: str
    status: str
    """ok, FAIL or warn."""
    detail: str
    """What was seen; for a FAIL or warn also what to do."""

    @property
    def failed(self) -> bool:
        """Whether the deploy would fail."""
        return self.status == "FAIL"


def _ok(check: str, detail: str) -> Finding:
    return Finding(check, "ok", detail)


def _fail(check: str, detail: str) -> Finding:
    return Finding(check, "FAIL", detail)


# --------------------------------------------------------------------------------------
# Offline: the template and the Parameter values.
# --------------------------------------------------------------------------------------


def offline(
    template: Mapping[str, Any], body_size: int, values: Mapping[str, str], *, from_s3: bool
) -> list[Finding]:
    """The checks that need no AWS call: the template within the request limit, and every
    Parameter value valid.

    Args:
        template: the template as data. Default: required.
        body_size: the bytes of the template as sent. Default: required.
        values: each Parameter's value (:func:`~infra_gen.deploy.parameters.values_for`).
            Default: required.
        from_s3: the template goes through S3 (no request limit). Default: required.

    Returns:
        One finding for the template, then one per bad value (or one ``ok``).
    """
    findings = []
    if from_s3 or changeset.fits_inline(body_size):
        how = "from S3" if from_s3 else f"of {changeset.INLINE_LIMIT:,} in the request"
        findings.append(_ok("template", f"{body_size:,} bytes {how}"))
    else:
        largest = parts_line(largest_parts(template))
        findings.append(
            _fail(
                "template",
                f"{body_size:,} bytes, over the {changeset.INLINE_LIMIT:,}"
                f" a request may carry (largest, as compact JSON: {largest}): "
                "pass --s3-bucket",
            )
        )
    bad = []
    for name, spec in sorted(template.get("Parameters", {}).items()):
        if name not in values:
            bad.append(
                _fail(
                    "parameters",
                    f"{name} has no value and no default: pass --parameter {name}=VALUE",
                )
            )
            continue
        for problem in problems(spec, values[name]):
            bad.append(
                _fail(
                    "parameters",
                    f"{name}={values[name]!r} {problem.finding}: "
                    f"pass --parameter {name}=VALUE with a valid value",
                )
            )
    declared = template.get("Parameters", {})
    return findings + (bad or [_ok("parameters", f"{len(declared)} values valid")])


# --------------------------------------------------------------------------------------
# Online: one read-only call each.
# --------------------------------------------------------------------------------------


def _ecs_role(iam: Any) -> Finding:
    try:
        iam.get_role(RoleName=ECS_ROLE)
    except iam.exceptions.NoSuchEntityException:
        return _fail(
            "ECS role",
            f"no {ECS_ROLE} in the account, so the cluster cannot be "
            "created: aws iam create-service-linked-role --aws-service-name "
            "ecs.amazonaws.com",
        )
    return _ok("ECS role", f"{ECS_ROLE} exists")


def _certificate(acm: Any, arn: str, region: str) -> Finding:
    if not arn:
        return _ok("certificate", "none (CertificateArn is empty: HTTP only)")
    match = _ACM_REGION.match(arn)
    if match and match["region"] != region:
        return _fail(
            "certificate",
            f"{arn} is in {match['region']}, the stack in {region}: "
            f"a load balancer needs a certificate of its own Region; request or "
            f"import one in {region}",
        )
    try:
        cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    except acm.exceptions.ResourceNotFoundException:
        return _fail(
            "certificate",
            f"{arn} does not exist in {region}: check CertificateArn (aws acm list-certificates)",
        )
    status = cert.get("Status", "")
    if status != "ISSUED":
        return _fail(
            "certificate",
            f"{arn} is {status}, not ISSUED: complete its validation "
            "(aws acm describe-certificate) or pass another CertificateArn",
        )
    return _ok("certificate", f"{cert.get('DomainName', arn)} ISSUED in {region}")


def _zone_ids(template: Mapping[str, Any]) -> list[str]:
    found = set()
    for resource in template.get("Resources", {}).values():
        zone = resource.get("Properties", {}).get("AvailabilityZoneId")
        if resource.get("Type") == "AWS::EC2::Subnet" and isinstance(zone, str):
            found.add(zone)
    return sorted(found)


def _zones(ec2: Any, wanted: Sequence[str], region: str) -> Finding:
    if not wanted:
        return _ok("zones", "from Fn::GetAZs (network.availability_zone_ids not set)")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    have = sorted(z["ZoneId"] for z in zones if z.get("State", "available") == "available")
    missing = [z for z in wanted if z not in have]
    if missing:
        return _fail(
            "zones",
            f"{', '.join(missing)} not available in {region} (it has "
            f"{', '.join(have)}): set network.availability_zone_ids to IDs it "
            "has",
        )
    return _ok("zones", f"{', '.join(wanted)} available in {region}")


def _image(ecr: Any, image: str, region: str) -> Finding:
    match = PRIVATE_ECR_IMAGE.match(image)
    if match is None:
        return _ok("image", f"{image} is not in a private ECR registry: not checked")
    if match["region"] != region:
        return _fail(
            "image",
            f"{image} is in {match['region']}, the stack in {region}: the "
            "tasks may pull from this Region's ECR only; replicate the image or "
            "pass another ServiceImage",
        )
    repository = match["repository"]
    wanted = (
        {"imageDigest": match["digest"]}
        if match["digest"]
        else {"imageTag": match["tag"] or "latest"}
    )
    what = wanted.get("imageDigest") or wanted["imageTag"]
    try:
        ecr.describe_images(
            registryId=match["account"], repositoryName=repository, imageIds=[wanted]
        )
    except ecr.exceptions.RepositoryNotFoundException:
        return _fail(
            "image",
            f"repository {repository} does not exist in {region}: push the "
            "image first, or pass another ServiceImage",
        )
    except ecr.exceptions.ImageNotFoundException:
        return _fail(
            "image",
            f"{repository} has no image {what}: push it first "
            f"(aws ecr list-images --repository-name {repository})",
        )
    return _ok("image", f"{repository} has {what}")


def _names_of(value: Any) -> set[str]:
    """The logical IDs ``value`` reads an attribute of (``Fn::GetAtt``)."""
    if isinstance(value, dict):
        found = {value["Fn::GetAtt"][0]} if isinstance(value.get("Fn::GetAtt"), list) else set()
        return found.union(*(_names_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_names_of(v) for v in value))
    return set()


def _more_services(template: Mapping[str, Any]) -> list[tuple[str, int, float]]:
    """(logical ID, most tasks, vCPU a task) of each ECS service whose task size and count
    are written out (those a composing generator added): its scalable target's
    ``MaxCapacity``, else its ``DesiredCount``."""
    resources = template.get("Resources") or {}
    most = {}
    for r in resources.values():
        props = r.get("Properties") or {}
        if r.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget":
            for name in _names_of(props.get("ResourceId")):
                most[name] = props.get("MaxCapacity")
    found = []
    for name, r in sorted(resources.items()):
        props = r.get("Properties") or {}
        if r.get("Type") != "AWS::ECS::Service":
            continue
        task = resources.get((props.get("TaskDefinition") or {}).get("Ref", ""), {})
        cpu = (task.get("Properties") or {}).get("Cpu")
        tasks = most.get(name, props.get("DesiredCount"))
        if isinstance(cpu, str) and cpu.isdigit() and type(tasks) is int:
            found.append((name, tasks, int(cpu) / CPU_UNITS_PER_VCPU))
    return found


def _more_images(template: Mapping[str, Any]) -> dict[str, str]:
    """Task definition logical ID -> image, for each image written out in the template (a
    composing generator's services; the first one's is the ``ServiceImage`` Parameter)."""
    resources = template.get("Resources") or {}
    return {
        name: container["Image"]
        for name, r in sorted(resources.items())
        if r.get("Type") == "AWS::ECS::TaskDefinition"
        for container in (r.get("Properties") or {}).get("ContainerDefinitions") or []
        if isinstance(container, dict) and isinstance(container.get("Image"), str)
    }


def _images(ecr: Any, image: str, more: Mapping[str, str], region: str) -> Finding:
    """:func:`_image` for ``ServiceImage``, then for each other service's image of this
    Region's private ECR (another Region's is read there, by the service's own pull
    policy): the first that fails, else what each found."""
    first = _image(ecr, image, region)
    found = [first]
    for name, other in more.items():
        match = PRIVATE_ECR_IMAGE.match(other)
        if first.status != "ok" or match is None or match["region"] != region:
            continue
        finding = _image(ecr, other, region)
        if finding.status != "ok":
            return replace(
                finding,
                detail=finding.detail.replace(
                    "pass another ServiceImage", f"give {name} another image"
                ),
            )
        found.append(replace(finding, detail=f"{name}: {finding.detail}"))
    return first if len(found) == 1 else _ok("image", "; ".join(f.detail for f in found))


def _spot_tasks(strategy: Any, tasks: int) -> int:
    """How many of ``tasks`` a capacity provider strategy puts on FARGATE_SPOT: the bases
    first, the rest by weight (rounded up); all of them when the strategy is not written
    out (a Parameter or a condition decides it)."""
    if not isinstance(strategy, list) or not all(isinstance(x, dict) for x in strategy):
        return tasks
    items = [(x.get("CapacityProvider"), x.get("Base", 0), x.get("Weight", 0)) for x in strategy]
    if not all(type(b) is int and type(w) is int for _, b, w in items):
        return tasks
    if not any(p == "FARGATE_SPOT" for p, _, _ in items):
        return 0
    spot_base = sum(b for p, b, _ in items if p == "FARGATE_SPOT")
    rest = max(tasks - sum(b for _, b, _ in items), 0)
    total = sum(w for _, _, w in items)
    spot_weight = sum(w for p, _, w in items if p == "FARGATE_SPOT")
    share = math.ceil(rest * spot_weight / total) if total else 0
    return int(min(tasks, min(spot_base, tasks) + share))


def _fargate_services(
    values: Mapping[str, str], template: Mapping[str, Any]
) -> list[tuple[str, int, float, Any]] | None:
    """(logical ID, most tasks, vCPU a task, capacity provider strategy) of each ECS
    service; None when a service's size or count is known neither from the Parameters
    (MaxTasks, TaskSize) nor from the template."""
    resources = template.get("Resources") or {}
    written = {name: (tasks, each) for name, tasks, each in _more_services(template)}
    try:
        first = (
            int(float(values["MaxTasks"])),
            int(values["TaskSize"].split("/")[0]) / CPU_UNITS_PER_VCPU,
        )
    except (KeyError, ValueError, IndexError):
        first = None
    found = []
    for name, r in sorted(resources.items()):
        if r.get("Type") != "AWS::ECS::Service":
            continue
        strategy = (r.get("Properties") or {}).get("CapacityProviderStrategy")
        if name in written:
            found.append((name, *written[name], strategy))
        elif first is None:
            return None
        else:  # sized by the Parameters: named by them, and first
            found.insert(0, ("MaxTasks", *first, strategy))
    return found


def _quota(quotas: Any, code: tuple[str, str]) -> float:
    return float(quotas.get_service_quota(ServiceCode=code[0], QuotaCode=code[1])["Quota"]["Value"])


def _vcpu_quota(
    quotas: Any, values: Mapping[str, str], region: str, template: Mapping[str, Any]
) -> Finding:
    services = _fargate_services(values, template)
    if services is None:
        return Finding(
            "vCPU quota",
            "warn",
            "not checked: a service's task size or count is neither a Parameter "
            "(MaxTasks, TaskSize) nor written out in the template; make sure Fargate "
            f"On-Demand vCPU in {region} covers it (Service Quotas, fargate "
            f"{FARGATE_VCPU_QUOTA[1]})",
        )
    needed = sum(tasks * each for _, tasks, each, _ in services)
    what = " + ".join(f"{name} {tasks} x {each:g} vCPU" for name, tasks, each, _ in services)
    service, code = FARGATE_VCPU_QUOTA
    try:
        quota = _quota(quotas, FARGATE_VCPU_QUOTA)
    except quotas.exceptions.ClientError as e:
        return Finding(
            "vCPU quota",
            "warn",
            f"cannot read quota {code} ({error_code(e) or e}): "
            f"make sure Fargate On-Demand vCPU in {region} is at least "
            f"{needed:g}",
        )
    if quota < needed:
        return _fail(
            "vCPU quota",
            f"Fargate On-Demand vCPU quota {quota:g} in {region} is "
            f"below {what} = {needed:g}: lower MaxTasks or "
            f"TaskSize, or request more (Service Quotas, {service} {code})",
        )
    return _ok("vCPU quota", f"{quota:g} vCPU covers {what} = {needed:g} in {region}")


def _spot_quota(
    quotas: Any, values: Mapping[str, str], region: str, template: Mapping[str, Any]
) -> Finding:
    """The Fargate Spot vCPU quota against the tasks the strategies put on Spot. (The
    On-Demand check counts every task: Spot capacity may be short, and ECS then does
    not move tasks to On-Demand by itself.)"""
    name = "Spot quota"
    services = _fargate_services(values, template)
    code = FARGATE_SPOT_VCPU_QUOTA[1]
    if services is None:
        return Finding(
            name,
            "warn",
            "not checked: a service's task size or count is neither a Parameter nor "
            f"written out; make sure Fargate Spot vCPU in {region} covers it (fargate {code})",
        )
    spot = [(n, _spot_tasks(st, tasks), each) for n, tasks, each, st in services]
    spot = [(n, tasks, each) for n, tasks, each in spot if tasks]
    if not spot:
        return _ok(name, "no task runs on Fargate Spot")
    needed = sum(tasks * each for _, tasks, each in spot)
    what = " + ".join(f"{n} {tasks} x {each:g} vCPU on Spot" for n, tasks, each in spot)
    try:
        quota = _quota(quotas, FARGATE_SPOT_VCPU_QUOTA)
    except quotas.exceptions.ClientError as e:
        return Finding(
            name,
            "warn",
            f"cannot read quota {code} ({error_code(e) or e}): make sure Fargate Spot vCPU "
            f"in {region} is at least {needed:g}",
        )
    if quota < needed:
        return _fail(
            name,
            f"Fargate Spot vCPU quota {quota:g} in {region} is below {what} = {needed:g}: "
            f"lower the Spot weight or MaxTasks, or request more (Service Quotas, fargate "
            f"{code})",
        )
    return _ok(name, f"{quota:g} vCPU covers {what} = {needed:g} in {region}")


# --------------------------------------------------------------------------------------
# An existing VPC: what only AWS knows of the subnets given.
# --------------------------------------------------------------------------------------

# What a task in a subnet without a NAT route needs to pull a private ECR image and send
# its logs: ECR's two interface endpoints, S3's (the image layers), CloudWatch Logs'.
ENDPOINTS = ("ecr.api", "ecr.dkr", "s3", "logs")


@dataclass(frozen=True)
class GivenNetwork:
    """The existing VPC and subnets a template names (literal IDs, or Parameter values)."""

    vpc: str
    public: tuple[str, ...]
    """The load balancer's subnets."""
    tasks: tuple[str, ...]
    """The tasks' subnets: the private ones, or the public ones again."""
    private: bool
    """Whether the tasks run without public IPs (behind NAT or endpoints)."""


def _ids(value: Any, values: Mapping[str, str]) -> list[str] | None:
    """IDs as the template gives them: text, a list of text, or a Parameter's ``Ref``
    (its value, a list split at commas); None for a resource of the template itself."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in values:
        return [v.strip() for v in values[value["Ref"]].split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def given_network(template: Mapping[str, Any], values: Mapping[str, str]) -> GivenNetwork | None:
    """The existing VPC the template runs in, from its load balancer's subnets and its
    first ECS service's; None when the template makes its own (or a host's) VPC."""
    resources = template.get("Resources") or {}

    def first(kind: str) -> dict[str, Any]:
        found = [r for _, r in sorted(resources.items()) if r.get("Type") == kind]
        return (found[0].get("Properties") or {}) if found else {}

    balancer = first("AWS::ElasticLoadBalancingV2::LoadBalancer")
    group = first("AWS::EC2::SecurityGroup")
    awsvpc = (first("AWS::ECS::Service").get("NetworkConfiguration") or {}).get(
        "AwsvpcConfiguration"
    ) or {}
    vpc = _ids(group.get("VpcId"), values)
    public = _ids(balancer.get("Subnets"), values)
    tasks = _ids(awsvpc.get("Subnets"), values)
    if not vpc or public is None or tasks is None:
        return None
    private = awsvpc.get("AssignPublicIp") == "DISABLED"
    return GivenNetwork(vpc[0], tuple(public), tuple(tasks), private)


def _default_route(tables: Sequence[Mapping[str, Any]], subnet: str, vpc: str) -> dict[str, Any]:
    """The 0.0.0.0/0 route of ``subnet``'s table: its own, else the VPC's main table."""
    own = [t for t in tables if any(a.get("SubnetId") == subnet for a in t.get("Associations", []))]
    main = [
        t
        for t in tables
        if t.get("VpcId") == vpc and any(a.get("Main") for a in t.get("Associations", []))
    ]
    for table in own or main:
        for route in table.get("Routes", []):
            if (
                route.get("DestinationCidrBlock") == "0.0.0.0/0"
                and route.get("State") != "blackhole"
            ):
                return dict(route)
    return {}


def _network(ec2: Any, given: GivenNetwork, region: str) -> list[Finding]:
    """The subnets in the VPC and in distinct AZs, public ones routed to an internet
    gateway, the tasks' private ones to a NAT gateway (or the endpoints they need)."""
    every = sorted(set(given.public) | set(given.tasks))
    try:
        subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=every)["Subnets"]}
    except ec2.exceptions.ClientError as e:
        # InvalidSubnetID.NotFound, or .Malformed for a value CloudFormation would refuse.
        if not error_code(e).startswith("InvalidSubnetID"):
            raise
        return [_fail("subnets", f"{', '.join(every)}: {error_message(e)}")]
    missing = [s for s in every if s not in subnets]
    if missing:
        return [_fail("subnets", f"{', '.join(missing)} not found in {region}")]
    outside = [s for s in every if subnets[s].get("VpcId") != given.vpc]
    if outside:
        where = ", ".join(f"{s} is in {subnets[s].get('VpcId')}" for s in outside)
        return [_fail("subnets", f"not all in {given.vpc}: {where}; give subnets of that VPC")]
    findings = [_ok("subnets", f"{len(every)} subnets in {given.vpc}"), _vpc_dns(ec2, given.vpc)]
    groups = [("public subnets", given.public)]
    if given.private:
        groups.append(("private subnets", given.tasks))
    for name, group in groups:
        zones = [subnets[s].get("AvailabilityZone", "") for s in group]
        twice = sorted({z for z in zones if zones.count(z) > 1})
        if twice:
            findings.append(
                _fail(
                    "subnet zones",
                    f"{name} {', '.join(group)} share {', '.join(twice)}: give one subnet per "
                    "Availability Zone, in two zones at least",
                )
            )
        else:
            findings.append(_ok("subnet zones", f"{name} in {', '.join(zones)}"))
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [given.vpc]}])[
        "RouteTables"
    ]
    not_public = [
        s
        for s in given.public
        if not _default_route(tables, s, given.vpc).get("GatewayId", "").startswith("igw-")
    ]
    if not_public:
        findings.append(
            _fail(
                "routes",
                f"public subnets {', '.join(not_public)} have no 0.0.0.0/0 route to an "
                "internet gateway: an internet-facing load balancer needs one in each",
            )
        )
    else:
        findings.append(_ok("routes", "public subnets routed to an internet gateway"))
    if given.private:
        findings.append(_private_routes(ec2, tables, given, region))
    return findings


def _vpc_dns(ec2: Any, vpc: str) -> Finding:
    """DNS support and host names on: Cloud Map's private names resolve only then."""
    off = []
    for option, attribute, key in (
        ("dns-support", "enableDnsSupport", "EnableDnsSupport"),
        ("dns-hostnames", "enableDnsHostnames", "EnableDnsHostnames"),
    ):
        if not ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attribute)[key]["Value"]:
            off.append(option)
    if off:
        flags = " ".join(f"--enable-{option}" for option in off)
        return _fail(
            "VPC DNS",
            f"{vpc} has {' and '.join(off)} off: Cloud Map's names do not resolve in it and the "
            f"probe finds no task; aws ec2 modify-vpc-attribute --vpc-id {vpc} {flags} "
            "(one option a call)",
        )
    return _ok("VPC DNS", f"{vpc} has DNS support and host names on")


def _private_routes(
    ec2: Any, tables: Sequence[Mapping[str, Any]], given: GivenNetwork, region: str
) -> Finding:
    no_nat = [
        s
        for s in given.tasks
        if not _default_route(tables, s, given.vpc).get("NatGatewayId", "").startswith("nat-")
    ]
    if not no_nat:
        return _ok("routes", "private subnets routed to a NAT gateway")
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [given.vpc]}])[
        "VpcEndpoints"
    ]
    prefix = f"com.amazonaws.{region}."
    have = {e.get("ServiceName", "").removeprefix(prefix) for e in endpoints}
    lacking = [f"com.amazonaws.{region}.{name}" for name in ENDPOINTS if name not in have]
    if not lacking:
        return Finding(
            "routes",
            "warn",
            f"private subnets {', '.join(no_nat)} have no NAT route, and {given.vpc} has the "
            "ECR, S3 and Logs endpoints: enough for a private ECR image only",
        )
    return _fail(
        "routes",
        f"private subnets {', '.join(no_nat)} have no 0.0.0.0/0 route to a NAT gateway: "
        f"add one, or VPC endpoints {', '.join(lacking)} (a private ECR image only)",
    )


def online(
    clients: Make, template: Mapping[str, Any], values: Mapping[str, str], region: str
) -> list[Finding]:
    """The checks that read the account: role, certificate, zones, an existing VPC's
    subnets and routes, image, quota.

    Args:
        clients: service name -> boto3 client. Default: required.
        template: the template as data. Default: required.
        values: each Parameter's value. Default: required.
        region: the stack's Region. Default: required.

    Returns:
        One finding per check. A check its caller may not make (AccessDenied) is a
        warning naming the call, not an error: the others still answer.
    """
    checks: list[tuple[str, str, Callable[[Any], Finding | list[Finding]]]] = [
        ("ECS role", "iam", _ecs_role),
        ("certificate", "acm", lambda c: _certificate(c, values.get("CertificateArn", ""), region)),
        ("zones", "ec2", lambda c: _zones(c, _zone_ids(template), region)),
        (
            "image",
            "ecr",
            lambda c: _images(c, values.get("ServiceImage", ""), _more_images(template), region),
        ),
        ("vCPU quota", "service-quotas", lambda c: _vcpu_quota(c, values, region, template)),
        ("Spot quota", "service-quotas", lambda c: _spot_quota(c, values, region, template)),
    ]
    given = given_network(template, values)
    findings = []
    if given is not None:
        # Findings of their own, one a line, after the zones check (which reads AZ IDs).
        checks.insert(3, ("network", "ec2", lambda c: _network(c, given, region)))
    for name, service, run in checks:
        client = clients(service)
        try:
            found = run(client)
            findings.extend(found if isinstance(found, list) else [found])
        except client.exceptions.ClientError as e:
            if "AccessDenied" not in error_code(e):
                raise
            findings.append(Finding(name, "warn", f"cannot check: {e}"))
    return findings
