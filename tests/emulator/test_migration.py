"""The default stack turned governed in place: what ``diff`` says it replaces.

docs/security.md recommends a new governed stack beside the default one and a DNS
cut-over; the in-place path is documented in two steps, with every replacement each
implies. These tests hold that list to what ``infra-gen diff`` names against the
emulator (replacements from CloudFormation's own resource schemas, as
tests/support/commands.py emulates them), and the first step to what it is for: the
public subnets move to AZ IDs and new blocks once, so that the second step keeps them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools.emulator import Api
from tests.support.commands import run
from tests.support.stack import CERTIFICATE, GOVERNED

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]

IMAGE = GOVERNED["service"]["image"]
GOVERNED_PARAMETERS = [
    "--parameter",
    f"CertificateArn={CERTIFICATE}",
    # --set changes a Parameter's default only; the stack keeps its image unless told.
    "--parameter",
    f"ServiceImage={IMAGE}",
]
# What the governed profile replaces whatever the subnets do: the container's port
# (80 -> 8080) is the target group's and four security group rules'; the task
# definition takes the user, the fixed size and the writable paths.
REPLACED_BY_GOVERNED = {
    "EcsTaskDefinition": "ContainerDefinitions, Cpu, Memory, Volumes",
    "LoadBalancerTargetGroup": "Port",
    "EcsServiceIngressFromLoadBalancer": "FromPort, ToPort",
    "EcsLoadBalancerEgressToService": "FromPort, ToPort",
    "ProbeServiceIngress": "FromPort, ToPort",
    "ProbeEgressToService": "FromPort, ToPort",
}
# The public subnets of the default stack sit on Fn::GetAZs; governed names AZ IDs.
REPLACED_SUBNETS = {
    "NetworkPublicSubnet1": "AvailabilityZone, AvailabilityZoneId",
    "NetworkPublicSubnet2": "AvailabilityZone, AvailabilityZoneId",
    "NetworkPublicSubnet1RouteTableAssociation": "SubnetId",
    "NetworkPublicSubnet2RouteTableAssociation": "SubnetId",
}
# Step 1: the default profile with AZ IDs and public blocks that are not the current ones
# (10.0.0.0/20, 10.0.16.0/20) nor governed's private ones (the VPC's second half).
STEP_1 = {
    "network": {
        "availability_zone_ids": GOVERNED["network"]["availability_zone_ids"],
        "subnet_cidrs": ["10.0.32.0/20", "10.0.48.0/20"],
    }
}
STEP_2 = {
    **GOVERNED,
    "network": {
        **STEP_1["network"],
        "private_subnet_cidrs": ["10.0.128.0/20", "10.0.144.0/20"],
    },
}


def _sets(mapping: dict[str, Any]) -> list[str]:
    """A configuration as --set options."""
    options = []
    for section, value in mapping.items():
        if not isinstance(value, dict):
            options += ["--set", f"{section}={str(value).lower()}"]
            continue
        for key, v in value.items():
            shown = "[" + ", ".join(f'"{x}"' for x in v) + "]" if isinstance(v, list) else v
            options += ["--set", f"{section}.{key}={shown}"]
    return options


def _replaced(out: str) -> dict[str, str]:
    """Logical ID -> the properties that replace it, from diff's `!!` lines."""
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*!! Modify\s+(\S+)\s+\S+\s+(?:MAY )?REPLACE \(([^)]*)\)", line)
        if m:
            found[m[1]] = m[2]
    return found


def _diff(stack: str, *options: str) -> str:
    code, out = run("diff", "--stack-name", stack, *options)
    assert code == 1, out
    return out


def _deploy(stack: str, *options: str) -> None:
    code, out = run("deploy", "--stack-name", stack, "--yes", "--skip-preflight", *options)
    assert code == 0, out


def test_default_to_governed_in_one_step_names_every_replacement(emulator: Api) -> None:
    _deploy("ig-to-governed")
    out = _diff("ig-to-governed", *_sets(GOVERNED), *GOVERNED_PARAMETERS)
    assert _replaced(out) == {**REPLACED_BY_GOVERNED, **REPLACED_SUBNETS}
    assert out.splitlines()[0].endswith(f", {len(REPLACED_BY_GOVERNED) + 4} REPLACEMENTS")


def test_in_two_steps_the_second_keeps_the_public_subnets(emulator: Api) -> None:
    _deploy("ig-two-steps")
    # Step 1 moves the public subnets to AZ IDs and new blocks: replaced, but into
    # blocks that are free, which CloudFormation can create before deleting the old.
    assert _replaced(_diff("ig-two-steps", *_sets(STEP_1))) == {
        name: "AvailabilityZone, AvailabilityZoneId, CidrBlock"
        if name.endswith(("Subnet1", "Subnet2"))
        else "SubnetId"
        for name in REPLACED_SUBNETS
    }
    # The stack as step 1 leaves it, created as such (the emulator updates no subnet).
    _deploy("ig-after-step-1", *_sets(STEP_1))
    # Step 2, governed with those subnets: only what governed itself replaces.
    out = _diff("ig-after-step-1", *_sets(STEP_2), *GOVERNED_PARAMETERS)
    assert _replaced(out) == REPLACED_BY_GOVERNED
