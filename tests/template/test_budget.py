"""What fits in a request: README's table, measured.

CloudFormation takes at most 51,200 bytes of template in a request. README's table
gives the bytes of each documented composition in both forms, the form
``infra-gen deploy`` sends (:func:`render_inline`: YAML if it fits, else compact JSON)
and how it deploys (inline, or from S3 with ``--resolve-s3``); this module builds each
one and compares, so the table cannot drift from the templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from infra_gen import Stack, TemplateTooLarge, build_stack, render, render_inline
from infra_gen.template.budget import INLINE_TEMPLATE_LIMIT
from tests.support.documentation import README
from tests.support.stack import DOMAIN, GOVERNED, GOVERNED_DOMAIN, full_service

# The production configuration: AZ IDs across three zones, a private ECR image, and
# every log protected (VPC flow logs, KMS-encrypted log groups, load balancer access logs).
PRODUCTION = {
    "network": {"az_count": 3, "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4"]},
    "service": {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.0"},
    "security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True},
}
# Canary: ECS shifts traffic between two target groups (an alternate group, a rule, a role).
CANARY_IMAGE = {**PRODUCTION["service"], "deployment": "canary"}
GOVERNED_LARGEST = {
    **GOVERNED,
    "security": {"kms_logs": True},
    "network": {
        "az_count": 3,
        "nat_gateways": "one",
        "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4"],
    },
}

# An existing VPC whose IDs are Parameters given at deploy time (the larger of its two
# forms: IDs given at generation time take a few hundred bytes fewer).
EXISTING_VPC = {"network": {"vpc_id": "parameter"}}
GOVERNED_EXISTING_VPC = {**GOVERNED, "network": {"vpc_id": "parameter"}}


def minimal_service(stack: Stack) -> Stack:
    """The fewest bytes a routed service takes: unscaled, its two probe alarms only."""
    stack.add_service(
        "Svc1",
        {"name": "svc1", "image": "traefik/whoami:v1.10", "desired_count": 1},
        path_pattern="/svc1/*",
        priority=1,
    )
    return stack


def worker(stack: Stack) -> Stack:
    """The fewest bytes any service takes: no route, not probed, unscaled, no alarm."""
    stack.add_service(
        "Svc1",
        {"name": "svc1", "image": "traefik/whoami:v1.10", "desired_count": 1},
        path_pattern=None,
        probe_path=None,
    )
    return stack


def composed(cfg: dict, services: int) -> Stack:
    stack = build_stack(cfg)
    for n in range(1, services + 1):
        full_service(stack, n)
    return stack


COMPOSITIONS: dict[str, Callable[[], Stack]] = {
    "default": lambda: build_stack(),
    "production": lambda: build_stack(PRODUCTION),
    "governed": lambda: build_stack(GOVERNED),
    "governed, 3 AZs, one NAT gateway, KMS": lambda: build_stack(GOVERNED_LARGEST),
    "default in an existing VPC, IDs as Parameters": lambda: build_stack(EXISTING_VPC),
    "governed in an existing VPC, IDs as Parameters": lambda: build_stack(GOVERNED_EXISTING_VPC),
    "default + a domain": lambda: build_stack(DOMAIN),
    "governed + a domain": lambda: build_stack(GOVERNED_DOMAIN),
    "default, canary": lambda: build_stack({"service": {"deployment": "canary"}}),
    "production, canary": lambda: build_stack({**PRODUCTION, "service": CANARY_IMAGE}),
    "default + 1 service, unscaled, its two probe alarms": lambda: minimal_service(build_stack()),
    "default + 1 worker: no route, not probed, unscaled": lambda: worker(build_stack()),
    "default + 1 fully alarmed service": lambda: composed({}, 1),
    "production + 1 fully alarmed service": lambda: composed(PRODUCTION, 1),
    "default + 2 fully alarmed services": lambda: composed({}, 2),
}
FURTHER = "each further fully alarmed service"


def _table() -> dict[str, list[str]]:
    start = README.index("| composition | YAML | compact JSON | deploy sends | deploys with |")
    rows = {}
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        label, *cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[label.strip("`")] = cells
    return rows


def _form(stack: Stack) -> list[str]:
    """What deploy sends, and how: inline when that fits, else from the managed bucket."""
    try:
        text = render_inline(stack.template)
    except TemplateTooLarge:
        return ["JSON", "`--resolve-s3`"]  # over in both forms: the smaller goes to S3
    return ["YAML" if text == render(stack.template, "yaml") else "JSON", "inline"]


def _bytes(text: str) -> int:
    return len(text.encode())


@pytest.mark.parametrize("label", COMPOSITIONS)
def test_the_table_gives_each_compositions_bytes_and_form(label: str) -> None:
    stack = COMPOSITIONS[label]()
    yaml_size = _bytes(render(stack.template, "yaml"))
    json_size = _bytes(render(stack.template, "json"))
    measured = [f"{yaml_size:,}", f"{json_size:,}", *_form(stack)]
    assert _table().get(label) == measured, f"README's row: | {label} | {' | '.join(measured)} |"


def test_the_table_gives_what_each_further_service_costs() -> None:
    one, two = composed({}, 1).template, composed({}, 2).template
    cost = [f"+{_bytes(render(two, fmt)) - _bytes(render(one, fmt)):,}" for fmt in ("yaml", "json")]
    row = f"| {FURTHER} | {' | '.join(cost)} | | |"
    assert _table().get(FURTHER) == [*cost, "", ""], f"README's row: {row}"


def test_the_form_deploy_sends_is_the_smallest_that_fits() -> None:
    for label, build in COMPOSITIONS.items():
        t = build().template
        yaml_size, json_size = _bytes(render(t, "yaml")), _bytes(render(t, "json"))
        assert json_size < yaml_size, label  # the probe's code as indented lines
        form = _form(build())
        assert form == (
            ["YAML", "inline"]
            if yaml_size <= INLINE_TEMPLATE_LIMIT
            else ["JSON", "inline"]
            if json_size <= INLINE_TEMPLATE_LIMIT
            else ["JSON", "`--resolve-s3`"]
        ), label


def test_every_row_of_the_table_is_measured() -> None:
    assert set(_table()) == {*COMPOSITIONS, FURTHER}
    assert re.search(r"\| default \| [0-9,]+ \| [0-9,]+ \| YAML \| inline \|", README)
