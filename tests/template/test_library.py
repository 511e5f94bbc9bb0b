"""The library as other generators use it: one call for everything, or the add_*
functions composed by hand, with the same bytes."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import itertools
import textwrap
from typing import Any

import pytest
from troposphere import Template

import infra_gen
from infra_gen import (
    Config,
    ConfigError,
    add_alarms,
    add_dashboard,
    add_discovery,
    add_load_balancer,
    add_log_settings,
    add_network,
    add_outputs,
    add_permissions_boundary,
    add_probe,
    add_scaling,
    add_service,
    build_stack,
    build_template,
    new_template,
    render,
)
from infra_gen.template.params import GROUPS, add_parameter

HARDENED = {
    "network": {"az_count": 3},
    "security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True},
}


def compose(cfg: Config, swap_edges: bool = False, late: tuple[str, ...] = ()) -> Template:
    """The documented order by hand; ``swap_edges`` and ``late`` reorder what may move."""
    t = new_template(cfg)
    h: dict[str, Any] = {}
    h["log_settings"] = add_log_settings(t, cfg)
    h["network"] = add_network(t, cfg, log_settings=h["log_settings"])
    edge = [
        ("load_balancer", lambda: add_load_balancer(t, cfg, network=h["network"])),
        ("discovery", lambda: add_discovery(t, cfg, network=h["network"])),
    ]
    for name, add in reversed(edge) if swap_edges else edge:
        h[name] = add()
    h["service"] = add_service(
        t,
        cfg,
        network=h["network"],
        load_balancer=h["load_balancer"],
        discovery=h["discovery"],
        log_settings=h["log_settings"],
    )
    steps = {
        "scaling": lambda: add_scaling(
            t, cfg, service=h["service"], load_balancer=h["load_balancer"]
        ),
        "probe": lambda: add_probe(
            t,
            cfg,
            network=h["network"],
            discovery=h["discovery"],
            service=h["service"],
            log_settings=h["log_settings"],
        ),
        "outputs": lambda: add_outputs(
            t, load_balancer=h["load_balancer"], service=h["service"], discovery=h["discovery"]
        ),
        "alarms": lambda: add_alarms(
            t, cfg, load_balancer=h["load_balancer"], service=h["service"], probe=h["probe"]
        ),
        "dashboard": lambda: add_dashboard(
            t, load_balancer=h["load_balancer"], service=h["service"], probe=h["probe"]
        ),
    }
    for name in late or ("scaling", "probe", "alarms", "dashboard", "outputs"):
        h[name] = steps[name]()
    add_permissions_boundary(t)  # last: it reaches every role
    return t


# Orders the dependencies allow: alarms and dashboard need the probe.
ORDERS = [
    order
    for order in itertools.permutations(("scaling", "probe", "alarms", "dashboard", "outputs"))
    if order.index("probe") < min(order.index("alarms"), order.index("dashboard"))
]


@pytest.mark.parametrize("mapping", [{}, HARDENED], ids=["default", "hardened"])
def test_composing_the_documented_order_gives_the_built_bytes(mapping: dict) -> None:
    cfg = Config.from_mapping(mapping)
    built = build_template(cfg)
    for fmt in ("yaml", "json"):
        assert render(compose(cfg), fmt) == render(built, fmt)


@pytest.mark.parametrize("order", ORDERS[::7] + [ORDERS[-1]], ids=lambda o: "-".join(o))
def test_independent_concerns_in_another_order_give_the_same_bytes(order: tuple) -> None:
    expected = render(build_template(), "yaml")
    assert render(compose(Config(), swap_edges=True, late=order), "yaml") == expected


def test_parameter_groups_follow_the_console_order_whatever_comes_first() -> None:
    t = Template()
    for i, group in enumerate(("Mine", *reversed(GROUPS), "Late")):
        add_parameter(t, f"P{i}", group=group, description="x", Type="String", AllowedValues=["a"])
    labels = [
        g["Label"]["default"]
        for g in t.metadata["AWS::CloudFormation::Interface"]["ParameterGroups"]
    ]
    # The stack's groups in console order; another group keeps the place it came in at.
    assert labels == ["Mine", *GROUPS, "Late"]


def test_build_stack_hands_out_every_concern_of_the_template() -> None:
    stack = build_stack()
    t = stack.template
    assert render(t, "yaml") == render(build_template(), "yaml")
    # Each handle holds the very objects in the template: extending by object works.
    assert t.resources["NetworkVpc"] is stack.network.vpc
    assert t.resources["LoadBalancer"] is stack.load_balancer.load_balancer
    assert t.resources["DiscoveryService"] is stack.discovery.service
    assert t.resources["EcsService"] is stack.service.service
    assert t.resources["ScalingTarget"] is stack.scaling.target
    assert t.resources["ProbeFunction"] is stack.probe.function
    assert t.resources["AlarmTopic"] is stack.alarms.topic
    assert t.resources["Dashboard"] is stack.dashboard.dashboard
    assert set(t.outputs) == {o.title for o in vars(stack.outputs).values()} | {
        stack.dashboard.url.title
    }
    with pytest.raises(AttributeError):
        stack.service = stack.service  # type: ignore[misc]


def test_build_accepts_a_mapping_and_refuses_anything_else() -> None:
    mapping = {"service": {"cpu": 512, "memory": 1024}}
    assert render(build_template(mapping), "json") == render(
        build_template(Config.from_mapping(mapping)), "json"
    )
    with pytest.raises(ConfigError, match=r"^service.cpu: "):
        build_stack({"service": {"cpu": 3}})
    with pytest.raises(ConfigError, match=r"^config: expected a Config or a mapping"):
        build_template("service.cpu=512")  # type: ignore[arg-type]


def _undocumented(cls: type) -> list[str]:
    """Fields and public methods of a handle or config class without a docstring."""
    missing = []
    (node,) = ast.parse(textwrap.dedent(inspect.getsource(cls))).body
    assert isinstance(node, ast.ClassDef)
    for i, item in enumerate(node.body):
        if isinstance(item, ast.AnnAssign) and "ClassVar" not in ast.unparse(item.annotation):
            after = node.body[i + 1] if i + 1 < len(node.body) else None
            documented = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            if not documented:
                missing.append(f"{cls.__name__}.{ast.unparse(item.target)}")
    for name, member in vars(cls).items():
        function = member.fget if isinstance(member, property) else member
        if inspect.isfunction(function) and not name.startswith("_"):
            if not (function.__doc__ or "").strip():
                missing.append(f"{cls.__name__}.{name}")
    return missing


def test_every_public_function_handle_and_field_has_a_docstring() -> None:
    missing = []
    for name in infra_gen.__all__:
        obj = getattr(infra_gen, name)
        if inspect.ismodule(obj) or not callable(obj):
            continue
        doc = obj.__doc__ or ""
        # A dataclass without a docstring gets its signature as one.
        if not doc.strip() or doc.startswith(f"{name}("):
            missing.append(name)
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
            missing += _undocumented(obj)
    assert not missing


def test_the_public_api_is_one_table_that_type_checkers_read_too() -> None:
    exports: dict[str, str] = vars(infra_gen)["_EXPORTS"]
    assert infra_gen.__all__ == [*exports, "__version__", "ids"]
    assert len(set(infra_gen.__all__)) == len(infra_gen.__all__)
    # Each name comes from the module the table names, loaded on first use.
    for name, module in exports.items():
        value = getattr(infra_gen, name)
        assert getattr(importlib.import_module(f"infra_gen.{module}"), name) is value
    # The imports a type checker reads name the same objects, from the same modules.
    tree = ast.parse(inspect.getsource(infra_gen))
    (block,) = [n for n in tree.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n)]
    typed = {
        alias.asname: (node.module or "").removeprefix(".")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name  # an explicit re-export
    }
    assert typed == exports
    with pytest.raises(AttributeError, match="has no attribute 'AddedService'"):
        vars(infra_gen)["__getattr__"]("AddedService")
