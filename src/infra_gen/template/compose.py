"""Composition: services added to a built stack, their refusals, the host-template merge.

:meth:`infra_gen.Stack.add_service` checks a request here (:func:`check`) before
anything is added, then builds the service (:func:`add_service`); ``build_stack(cfg,
template=host)`` refuses a host that holds one of the stack's logical IDs or export
names (:func:`into_host`). The rules, in full: ``docs/library.md``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from troposphere import Output, Template, encode_to_dict, servicediscovery
from troposphere import ecs as ecs_resources
from troposphere import elasticloadbalancingv2 as elb
from troposphere.iam import Role

from ..config import Config, ConfigError, check_writable_paths
from ..config.checks import PROBE_PATH, check_text
from ..errors import shown
from . import ids, loadbalancer, references
from .alarms import GREATER_OR_EQUAL, LESS, Alarms, AlarmSpec
from .boundary import Boundary
from .cloudmap import Discovery
from .held import held_by
from .loadbalancer import LoadBalancer
from .loggroups import LogSettings
from .network import Network
from .outputs import SCOPED, ServiceOutputs, add_service_outputs, export_name, request_path
from .params import GROUP_SERVICE, add_parameter, add_to_group
from .probe import Probe
from .scaling import Scaling, add_scaling
from .service import Service, add_tasks, image_pattern

__all__ = [
    "HEALTH_CHECK_PATH",
    "AddedService",
    "Request",
    "add_service",
    "check",
    "into_host",
    "probe_alarms",
]

_SCOPE = re.compile(r"^[A-Z][A-Za-z0-9]{0,15}$")
# An ALB path pattern: up to 128 characters of a path, with * and ? wildcards, at most
# five of them in a rule (the quota "condition wildcards per rule").
_PATH_PATTERN = re.compile(r"/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}")
_PATH_WILDCARDS = 5
# CloudFormation's limits on a template's resources and Parameters.
MAX_RESOURCES = 500
MAX_PARAMETERS = 200
MAX_OUTPUTS = 200
# An added service's image Parameter, <scope>Image (with image_parameter=True): a suffix,
# as the scoped resources' IDs are the first service's under a prefix.
IMAGE_PARAMETER = "Image"
MAX_MAPPINGS = 200
_INTERFACE = "AWS::CloudFormation::Interface"
# A container health check as ECS runs it: ["CMD", executable, args...] or
# ["CMD-SHELL", "command line"]. The bounds on its size are ours.
_HEALTH_CHECK_FORMS = ("CMD", "CMD-SHELL")
_HEALTH_CHECK_PARTS = 32
_HEALTH_CHECK_CHARS = 1024


class _HealthCheckPath:
    """``probe_path``'s default: the service's own ``health_check_path``."""

    def __repr__(self) -> str:
        return "<its health_check_path>"


HEALTH_CHECK_PATH: Any = _HealthCheckPath()
"""``probe_path``'s default: the probe requests the service's ``health_check_path``."""


@dataclass(frozen=True)
class _Shape:
    """What an added service has, which decides the logical IDs it adds."""

    scaled: bool
    all_alarms: bool
    routed: bool
    probed: bool
    shifted: bool = False


@dataclass(frozen=True, eq=False, kw_only=True)
class AddedService(Service):
    """A service :meth:`infra_gen.Stack.add_service` added, with its own Outputs.

    A :class:`Service` with its own Cloud Map service, scaling and exported Outputs.
    """

    discovery: Discovery
    """Its Cloud Map service, in the stack's namespace."""
    scaling: Scaling | None
    """Its scalable target and policies when added with ``scaling``, else ``None``."""
    outputs: ServiceOutputs
    """Its exported Outputs: URL, ECS service and Cloud Map name."""


@dataclass(frozen=True, eq=False)
class Request:
    """An :meth:`infra_gen.Stack.add_service` call, checked: nothing in it is refused."""

    scope: str
    """The prefix of every logical ID the service adds."""
    cfg: Config
    """The stack's configuration with the call's ``[service]`` and ``[scaling]`` keys."""
    path_pattern: str | None
    """Its listener rule's path pattern; ``None`` for a service without a route."""
    priority: int | None
    """Its listener rule's priority; ``None`` without a route."""
    probe_path: str | None
    """The path the probe requests on it; ``None`` when it is not probed."""
    health_check: tuple[str, ...] | None
    """Its container health check's command; ``None`` for none."""
    image_parameter: bool
    """Whether its image is a Parameter, ``<scope>Image``."""
    writable_paths: Mapping[str, str] | None
    """Its task storage, volume name -> path; ``None`` for nginx's."""
    environment: Mapping[str, object]
    """Its container's variables, name -> text or an intrinsic function."""
    secrets: Mapping[str, object]
    """Its container's secrets, name -> ARN (text or an intrinsic function), or a
    secret or parameter of the template."""
    scaled: bool
    """Whether it gets a scalable target (``cfg.scaling``)."""
    all_alarms: bool
    """Whether it gets the first service's four alarms too."""
    dashboard: bool
    """Whether it gets two dashboard widgets."""


def check(
    t: Template,
    stack_cfg: Config,
    scope: str,
    service: Mapping[str, Any],
    *,
    path_pattern: str | None,
    priority: int | None,
    probe_path: object = HEALTH_CHECK_PATH,
    health_check: object = None,
    image_parameter: object = False,
    writable_paths: Mapping[str, str] | None,
    environment: Mapping[str, object] | None,
    secrets: Mapping[str, object] | None,
    scaling: Mapping[str, Any] | None,
    all_alarms: bool,
    dashboard: bool,
    discovery: Discovery,
    load_balancer: LoadBalancer,
    deployment: str = "rolling",
) -> Request:
    """The :meth:`infra_gen.Stack.add_service` call as a :class:`Request`, or its refusal.

    Args:
        t: the stack's template, which the call must not collide with.
        stack_cfg: the stack's configuration, under the call's ``service`` and ``scaling``.
        scope, service, path_pattern, priority, probe_path, health_check, image_parameter,
            writable_paths, environment, secrets, scaling, all_alarms, dashboard, deployment:
            as :meth:`infra_gen.Stack.add_service` takes them.
        discovery: the namespace whose Cloud Map names it must not take.
        load_balancer: the listeners whose priorities and path patterns it must not take.

    Returns:
        The checked request.

    Raises:
        ConfigError: a bad argument, or one that collides with what ``t`` holds (a
            logical ID, export name, Cloud Map name, listener priority or path pattern).
    """
    # Text only, matched whole: str(None) is "None", and $ matches before a final "\n".
    if not (isinstance(scope, str) and _SCOPE.fullmatch(scope)):
        raise ConfigError(
            "scope",
            f"{shown(scope)} is not allowed; a PascalCase name like "
            "Api (a capital letter, then up to 15 letters and digits)",
        )
    if scaling is not None and not isinstance(scaling, Mapping):
        raise ConfigError("scaling", f"{shown(scaling)} is not allowed; [scaling] keys, e.g. {{}}")
    if not isinstance(service, Mapping):
        raise ConfigError("service", f"{shown(service)} is not allowed; [service] keys, e.g. {{}}")
    if "deployment" in service:
        raise ConfigError("service.deployment", "is add_service's deployment= argument")
    service = {**service, "deployment": deployment}
    cfg = stack_cfg.with_changes({"service": service, "scaling": scaling or {}})
    shifted = cfg.service.deployment != "rolling"
    if shifted and (all_alarms is not True or path_pattern is None):
        raise ConfigError(
            "deployment",
            f"{deployment!r} needs a path_pattern and all_alarms=True: the load "
            "balancer's traffic to shift and the alarms that roll a shift back",
        )
    if cfg.service.log_retention_days != stack_cfg.service.log_retention_days:
        raise ConfigError(
            "service.log_retention_days",
            f"{cfg.service.log_retention_days} differs from the stack's "
            f"{stack_cfg.service.log_retention_days}: every log group keeps the days of "
            "the LogRetentionDays Parameter",
        )
    if path_pattern is None:
        if priority is not None:
            raise ConfigError(
                "priority",
                f"{shown(priority)} is not allowed without a path_pattern; allowed: None",
            )
    else:
        _check_route(path_pattern, priority)
    probed = _probe_path(cfg, probe_path)
    command = _health_check(health_check)
    for key, flag in (
        ("all_alarms", all_alarms),
        ("dashboard", dashboard),
        ("image_parameter", image_parameter),
    ):
        if not isinstance(flag, bool):
            raise ConfigError(key, f"{shown(flag)} is not allowed; allowed: a bool")
    call = f"add_service({scope!r}, ...)"
    shape = _Shape(
        scaled=scaling is not None,
        all_alarms=all_alarms,
        routed=path_pattern is not None,
        probed=probed is not None,
        shifted=shifted,
    )
    _check_ids(t, call, scope, _scoped_ids(scope, shape))
    if image_parameter:
        _check_parameter(t, call, scope)
    _check_names(t, call, cfg.service.name, discovery)
    if path_pattern is not None and priority is not None:
        _check_routes(t, call, path_pattern, priority, load_balancer)
    # None is the default; an empty list or string is a mistake, not "none".
    # Checked here, whole, before anything is added; the service sets them from the
    # values as given (an ssm.Parameter becomes its ARN there).
    variables = references.environment(t, "environment", {} if environment is None else environment)
    references.secrets(t, "secrets", {} if secrets is None else secrets)
    values: Mapping[str, object] = dict(secrets or {})
    if writable_paths is not None:
        writable_paths = check_writable_paths("writable_paths", writable_paths)
        if isinstance(service, Mapping) and "writable_paths" in service:
            raise ConfigError(
                "writable_paths",
                "is given twice, as the argument and as service.writable_paths; allowed: one",
            )
    both = sorted(variables.keys() & values.keys())
    if both:
        raise ConfigError(f"secrets.{both[0]}", f"{both[0]} is in environment too")
    return Request(
        scope=scope,
        cfg=cfg,
        path_pattern=path_pattern,
        priority=priority,
        probe_path=probed,
        health_check=command,
        image_parameter=bool(image_parameter),
        writable_paths=writable_paths,
        environment=variables,
        secrets=values,
        scaled=scaling is not None,
        all_alarms=all_alarms,
        dashboard=dashboard,
    )


def add_service(
    t: Template,
    request: Request,
    *,
    first: Service,
    network: Network,
    load_balancer: LoadBalancer,
    discovery: Discovery,
    log_settings: LogSettings,
) -> AddedService:
    """Add the service ``request`` describes to ``first``'s cluster.

    Its Cloud Map service, target group and listener rule, tasks, scaling, container
    settings and Outputs; image and task size are values, not Parameters, and the
    shared execution role writes to its log group and pulls its private ECR image.

    Args:
        t: the stack's template.
        request: a checked :meth:`infra_gen.Stack.add_service` call (:func:`check`).
        first: the stack's first service, whose cluster and execution role it shares.
        network, load_balancer, discovery, log_settings: the stack's handles.

    Returns:
        The added service's handle.
    """
    scope, cfg = request.scope, request.cfg
    if first.shared is None:
        raise ValueError("add_service: the first service has no cluster to share")
    own_discovery = discovery.add_service(
        t, scope=scope, name=cfg.service.name, dns_ttl=cfg.discovery.dns_ttl
    )
    route = None
    if request.path_pattern is not None and request.priority is not None:
        route = load_balancer.add_route(
            t,
            scope=scope,
            port=cfg.service.container_port,
            health_check_path=cfg.service.health_check_path,
            path_pattern=request.path_pattern,
            priority=request.priority,
            shifted=cfg.service.deployment != "rolling",
        )
    log_group = t.add_resource(log_settings.log_group(scope + ids.Service.LOG_GROUP))
    # A size budget: one more execution role would cost 1.6 KB of the template's
    # 51,200 bytes. What ECS does for the tasks may be shared; what the tasks may do
    # may not: each service has its own task role.
    first.shared.add_log_group(log_group)
    s = cfg.service
    image: object = s.image
    if request.image_parameter:
        parameter = add_parameter(
            t,
            scope + IMAGE_PARAMETER,
            group=GROUP_SERVICE,
            description=f"{scope} image: public or in this account's ECR in this Region.",
            Type="String",
            Default=s.image,
            AllowedPattern=image_pattern(cfg),
            ConstraintDescription="must be an image reference like repository"
            + ("@sha256:digest" if cfg.profile.pinned_image else ":tag"),
        )
        first.shared.allow_pull_parameter(t, scope, parameter, s.image)
        image = parameter.ref()
    else:
        first.shared.allow_pull(scope, s.image)
    service = add_tasks(
        t,
        cfg,
        shared=first.shared,
        log_group=log_group,
        task_size=(image, str(s.cpu), str(s.memory)),
        network=network,
        route=route,
        discovery=own_discovery,
        scope=scope,
        writable_paths=(
            cfg.service.volumes if request.writable_paths is None else request.writable_paths
        ),
        # Scaled, the scalable target sets the count, as for the first service.
        desired_count=None if request.scaled else s.desired_count,
        health_check=request.health_check,
    )
    scaling = None
    if request.scaled:
        scaling = add_scaling(t, cfg, service=service, load_balancer=route, scope=scope)
    if request.environment:
        service.add_environment(t, request.environment)
    if request.secrets:
        service.add_secrets(t, request.secrets)
    outputs = add_service_outputs(
        t,
        scope=scope,
        load_balancer=route or load_balancer,
        service=service,
        discovery=own_discovery,
        path_pattern=request.path_pattern,
    )
    held = {f.name: getattr(service, f.name) for f in fields(service)}
    return AddedService(**held, discovery=own_discovery, scaling=scaling, outputs=outputs)


def probe_alarms(
    cfg: Config, scope: str, service: AddedService, probe: Probe, alarms: Alarms
) -> list[AlarmSpec]:
    """An added service's alarms on what the probe sees of it (two rows: the size budget).

    Args:
        cfg: the stack's configuration (``alarms.probe_failed_requests``).
        scope: prefix of their logical IDs, named in their descriptions.
        service: the added service.
        probe: the probe's metrics.
        alarms: the stack's per-run period.

    Returns:
        The two specifications, for :meth:`infra_gen.Alarms.add_alarm`.
    """
    name, per_run = service.discovery.service_name, alarms.probe_period
    return [
        AlarmSpec(
            logical_id=scope + ids.Alarms.PROBE_FAILED_REQUESTS,
            metric=probe.metric("FailedRequests", service_name=name),
            comparison=GREATER_OR_EQUAL,
            threshold=cfg.alarms.probe_failed_requests,
            period=per_run,
            description=f"Probe requests to {scope} tasks fail. Look first at the probe log group.",
        ),
        AlarmSpec(
            logical_id=scope + ids.Alarms.PROBE_NO_INSTANCES,
            metric=probe.metric("DiscoveredInstances", "Minimum", service_name=name),
            comparison=LESS,
            threshold=1,
            period=per_run,
            description=f"The probe finds no {scope} task. Look first at its ECS service events.",
        ),
    ]


def _scoped_ids(scope: str, shape: _Shape) -> list[str]:
    """The logical IDs :meth:`Stack.add_service` adds under ``scope``, Outputs included."""
    names: list[str] = []
    if shape.scaled:
        names += [ids.Scaling.TARGET, ids.Scaling.CPU_POLICY]
        names += [ids.Scaling.REQUESTS_POLICY] if shape.routed else []
    if shape.all_alarms:
        names += (
            [ids.Alarms.TARGET_5XX, ids.Alarms.UNHEALTHY_TARGETS, ids.Alarms.RESPONSE_TIME]
            if shape.routed
            else []
        )
        names.append(ids.Alarms.RUNNING_TASKS)
    names += [
        ids.Discovery.SERVICE,
        ids.Service.LOG_GROUP,
        ids.Service.TASK_ROLE,
        ids.Service.TASK_DEFINITION,
        ids.Service.SECURITY_GROUP,
        ids.Service.SERVICE,
    ]
    if shape.routed:
        names += [
            ids.LoadBalancer.TARGET_GROUP,
            loadbalancer.RULE,
            ids.Service.INGRESS_FROM_LOAD_BALANCER,
            ids.Service.LOAD_BALANCER_EGRESS,
        ]
        names += [ids.LoadBalancer.ALTERNATE_TARGET_GROUP] if shape.shifted else []
    if shape.probed:
        names += [
            ids.Probe.SERVICE_INGRESS,
            ids.Probe.SERVICE_EGRESS,
            ids.Alarms.PROBE_FAILED_REQUESTS,
            ids.Alarms.PROBE_NO_INSTANCES,
        ]
    names += [o for o in SCOPED if shape.routed or o != ids.Outputs.SERVICE_URL]
    return [scope + name for name in names]


def _check_route(path_pattern: object, priority: object) -> None:
    """Refuse a listener rule's path pattern or priority the load balancer would."""
    # bool is an int to Python, not to CloudFormation: True renders as true.
    if not (type(priority) is int and 1 <= priority <= 50000):
        raise ConfigError("priority", f"{shown(priority)} is not allowed; allowed: 1-50000")
    if not (isinstance(path_pattern, str) and _PATH_PATTERN.fullmatch(path_pattern)):
        raise ConfigError(
            "path_pattern",
            f"{shown(path_pattern)} is not allowed; a path like /api/*",
        )
    wildcards = sum(map(path_pattern.count, "*?"))
    if wildcards > _PATH_WILDCARDS:
        raise ConfigError(
            "path_pattern",
            f"{path_pattern!r} has {wildcards} wildcards; the "
            f"load balancer takes at most {_PATH_WILDCARDS} (* and ?) in a rule",
        )


def _probe_path(cfg: Config, probe_path: object) -> str | None:
    """The path the probe requests on the service, ``None`` for none; else a refusal."""
    if probe_path is HEALTH_CHECK_PATH:
        probe_path = cfg.service.health_check_path
    if probe_path is None:
        return None
    # No comma: the probe's PROBE_SERVICE_NAMES separates services with commas.
    if not (isinstance(probe_path, str) and PROBE_PATH.fullmatch(probe_path)):
        raise ConfigError(
            "probe_path",
            f"{shown(probe_path)} is not allowed; allowed: a path like /health without a "
            "comma (at most 1,024 characters), or None for a service the probe does not request",
        )
    return probe_path


def _health_check(command: object) -> tuple[str, ...] | None:
    """The container health check's command as ECS takes it, ``None`` for none."""
    if command is None:
        return None
    allowed = (
        'allowed: ["CMD-SHELL", "<command line>"] or ["CMD", "<executable>", "<arg>", ...] '
        f"(at most {_HEALTH_CHECK_PARTS} parts and {_HEALTH_CHECK_CHARS:,} characters), "
        "or None for an image without one"
    )
    if not (
        isinstance(command, list | tuple)
        and 2 <= len(command) <= _HEALTH_CHECK_PARTS
        and command[0] in _HEALTH_CHECK_FORMS
        and all(isinstance(part, str) and part for part in command)
        and (command[0] == "CMD" or len(command) == 2)
        and sum(map(len, command)) <= _HEALTH_CHECK_CHARS
    ):
        raise ConfigError("health_check", f"{shown(command)} is not allowed; {allowed}")
    for i, part in enumerate(command):
        check_text(f"health_check[{i}]", part)
    return tuple(command)


def _check_parameter(t: Template, call: str, scope: str) -> None:
    """Refuse an image Parameter the template holds, or one past CloudFormation's 200."""
    name = scope + IMAGE_PARAMETER
    kind = held_by(t, name)
    if kind is not None:
        raise ConfigError(
            "image_parameter",
            f"{call}: logical ID {name} is already taken by the template's {kind}",
        )
    condition = scope + ids.Service.PRIVATE_ECR_IMAGE
    if condition in t.conditions:
        raise ConfigError(
            "image_parameter", f"{call}: Condition {condition} is already in the template"
        )
    if len(t.parameters) + 1 > MAX_PARAMETERS:
        raise ConfigError(
            "image_parameter",
            f"{call}: the template holds {len(t.parameters)} Parameters; "
            f"one more passes the {MAX_PARAMETERS} CloudFormation takes",
        )


def _owner(logical_id: str, suffix: str, first: str) -> str:
    """Who holds ``logical_id``: the scope of a service the stack added, else the ID."""
    if logical_id == suffix:
        return first
    return logical_id.removesuffix(suffix) if logical_id.endswith(suffix) else logical_id


# The checks below read the template, not the handles: it may hold resources of the
# user's own (a listener rule, a Cloud Map service, an Output) that no handle knows.


def _check_ids(t: Template, call: str, scope: str, adds: list[str]) -> None:
    """Refuse a scope whose logical IDs or export names the template already holds, or
    that would take it past CloudFormation's 500 resources."""
    outputs = {scope + name for name in SCOPED}
    resources = len([i for i in adds if i not in outputs])
    if len(t.resources) + resources > MAX_RESOURCES:
        raise ConfigError(
            "scope",
            f"{call}: the template holds {len(t.resources)} resources; "
            f"{resources} more pass the {MAX_RESOURCES} CloudFormation takes",
        )
    taken_by = t.resources.get(scope + ids.Service.SERVICE)
    if isinstance(taken_by, ecs_resources.Service):
        raise ConfigError(
            "scope",
            f"{call}: {scope} is already the scope of a service "
            f"({taken_by.title}); give each added service its own",
        )
    for logical_id in adds:
        # CloudFormation wants a logical ID unique within the template, an Output's too.
        kind = held_by(t, logical_id)
        if kind is not None:
            raise ConfigError(
                "scope",
                f"{call}: logical ID {logical_id} is already taken by the template's {kind}",
            )
    exports = {_json(export_name(i)): i for i in outputs}
    clash = _same_export(t, exports)
    if clash is not None:
        raise ConfigError(
            "scope",
            f"{call}: the export name of Output {clash[1]} is already "
            f"that of the template's Output {clash[0]}",
        )
    _check_export_patterns(t, exports, "scope", f"{call}: ")


def _check_names(t: Template, call: str, name: str, discovery: Discovery) -> None:
    """Refuse a Cloud Map name the stack's namespace already holds."""
    namespace = _json(discovery.namespace.ref())
    for resource in t.resources.values():
        props = resource.properties
        if (
            isinstance(resource, servicediscovery.Service)
            and props.get("Name") == name
            and (_json(props.get("NamespaceId")) == namespace)
        ):
            owner = _owner(resource.title, ids.Discovery.SERVICE, "the first service")
            raise ConfigError(
                "service.name", f"{call}: {name!r} is already the Cloud Map name of {owner}"
            )


def _check_routes(
    t: Template, call: str, path_pattern: str, priority: int, load_balancer: LoadBalancer
) -> None:
    """Refuse a priority or path pattern the stack's listeners already route, or a rule
    that another evaluated first would starve (or that would starve another):
    CloudFormation would accept the template and fail at deploy time."""
    listeners = [
        _json(x.ref()) for x in (load_balancer.http_listener, load_balancer.https_listener)
    ]
    for resource in t.resources.values():
        if not isinstance(resource, elb.ListenerRule):
            continue
        on = _json(resource.properties.get("ListenerArn"))
        if not any(listener in on for listener in listeners):
            continue  # another load balancer's rule
        owner = _owner(resource.title, loadbalancer.RULE, resource.title)
        if resource.properties.get("Priority") == priority:
            raise ConfigError("priority", f"{call}: {priority} is already taken by {owner}")
        paths = [
            value
            for condition in resource.properties.get("Conditions", [])
            for value in _path_values(condition)
        ]
        if path_pattern in paths:
            raise ConfigError(
                "path_pattern", f"{call}: {path_pattern!r} is already routed to {owner}"
            )
        # Rules are evaluated from the lowest priority: one evaluated first that takes the
        # other's requests leaves that service without traffic.
        other = resource.properties.get("Priority")
        if not isinstance(other, int):
            continue
        for value in paths:
            first, then = (value, path_pattern) if other < priority else (path_pattern, value)
            if fnmatch.fnmatchcase(request_path(then), first):
                raise ConfigError(
                    "path_pattern",
                    f"{call}: {path_pattern!r} at priority "
                    f"{priority} and {value!r} of {owner} at {other}: {first!r}, "
                    f"evaluated first, takes {request_path(then)!r}",
                )


def _same_export(t: Template, exports: Mapping[str, str]) -> tuple[str, str] | None:
    """The first Output of ``t`` exporting a name of ``exports`` (compact JSON -> Output
    ID), with that ID; ``None`` when there is none."""
    for output in t.outputs.values():
        taken = exports.get(_export(output) or "")
        if taken is not None:
            return output.title, taken
    return None


def _export(output: Output) -> str | None:
    """An Output's export name as compact JSON, to compare; ``None`` when not exported."""
    export = encode_to_dict(output.properties.get("Export"))
    return _json(export.get("Name")) if isinstance(export, dict) else None


def _json(value: object) -> str:
    """``value`` (a string or a troposphere expression) as compact JSON, to compare."""
    return json.dumps(encode_to_dict(value), sort_keys=True)


def _path_values(condition: elb.Condition) -> list[str]:
    config = condition.properties.get("PathPatternConfig")
    values = config.properties.get("Values", []) if config is not None else []
    return (
        [*values, *condition.properties.get("Values", [])]
        if (condition.properties.get("Field") == "path-pattern")
        else []
    )


def _check_console_groups(template: Template) -> None:
    """Refuse host Metadata the stack's console groups cannot join: the shape
    ``AWS::CloudFormation::Interface`` has in CloudFormation's console."""
    if not isinstance(template.metadata, dict):
        raise ConfigError("template", f"Metadata {shown(template.metadata)} is no mapping")
    interface = template.metadata.get(_INTERFACE)
    if interface is None:
        return
    groups = interface.get("ParameterGroups", []) if isinstance(interface, dict) else None
    labels = interface.get("ParameterLabels", {}) if isinstance(interface, dict) else None
    well_formed = (
        isinstance(groups, list)
        and isinstance(labels, dict)
        and all(
            isinstance(g, dict)
            and isinstance(g.get("Label"), dict)
            and isinstance(g["Label"].get("default"), str)
            and isinstance(g.get("Parameters", []), list)
            and all(isinstance(p, str) for p in g.get("Parameters", []))
            for g in groups
        )
    )
    if not well_formed:
        raise ConfigError(
            "template",
            f"Metadata {_INTERFACE} {shown(interface)} is not allowed; allowed: "
            '{"ParameterGroups": [{"Label": {"default": "<label>"}, "Parameters": '
            '["<Parameter>", ...]}, ...], "ParameterLabels": {...}}',
        )


# A literal piece of an export name; a variable CloudFormation fills in at deploy time.
_ANY = "\x00"


def _export_text(value: Any) -> str | None:
    """An export name as text with what only the deployed stack knows as ``_ANY``
    (``${AWS::StackName}`` kept as itself); ``None`` when it cannot be read."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    fn, args = next(iter(value.items()))
    if fn == "Ref":
        return "${AWS::StackName}" if args == "AWS::StackName" else _ANY
    if fn == "Fn::Join" and isinstance(args, list) and len(args) == 2:
        parts = [_export_text(part) for part in args[1]] if isinstance(args[1], list) else [None]
        return None if None in parts or not isinstance(args[0], str) else args[0].join(parts)  # type: ignore[arg-type]
    if fn == "Fn::Sub":
        text, local = (args, {}) if isinstance(args, str) else (args[0], args[1])
        if not (isinstance(text, str) and isinstance(local, dict)):
            return None

        def fill(match: re.Match[str]) -> str:
            name = match[1]
            if name in local:
                return _export_text(local[name]) or _ANY
            return "${AWS::StackName}" if name == "AWS::StackName" else _ANY

        return re.sub(r"\$\{(?!!)([^}]*)\}", fill, text).replace("${!", "${")
    return _ANY  # ImportValue, If, Select, ...: a value only the deployed stack knows


def _check_export_patterns(
    template: Template, ours: Mapping[str, str], key: str = "template", call: str = ""
) -> None:
    """Refuse a host export name that may be one of ``ours`` (compact JSON -> Output ID) once
    deployed: written with ``Fn::Join``, a ``Sub`` variable or a Parameter, it is compared
    with each as a pattern. One that cannot be read is refused: it cannot be checked."""
    names = {_export_text(json.loads(name)): title for name, title in ours.items()}
    for output in template.outputs.values():
        export = encode_to_dict(output.properties.get("Export"))
        if not isinstance(export, dict):
            continue
        text = _export_text(export.get("Name"))
        if text is None:
            raise ConfigError(
                key,
                f"{call}the template's Output {output.title} has an export name that cannot "
                "be compared with the stack's; allowed: text, Sub or Join of text and Refs",
            )
        pattern = re.compile(".*".join(re.escape(part) for part in text.split(_ANY)), re.DOTALL)
        for ours_text, title in names.items():
            # ${AWS::StackName} on both sides is the same stack: compare the rest as text;
            # a variable of the host's may be anything, the stack's name too.
            if ours_text is not None and pattern.fullmatch(ours_text):
                raise ConfigError(
                    key,
                    f"{call}the template's Output {output.title} has an export name that "
                    f"may be that of the stack's Output {title} once deployed",
                )


def into_host(
    template: Template, ours: Template, provenance: str, boundary: Boundary | None
) -> Template:
    """``template`` holding what ``ours`` (the stack, built alone) holds, as if built into it.

    The host keeps its Description, version and console groups (the stack's follow
    them), takes the provenance Metadata, and its own roles get the boundary, as
    :func:`infra_gen.add_permissions_boundary` gives every role in a template.

    Args:
        template: the host troposphere ``Template``.
        ours: the stack's template, built alone.
        provenance: the Metadata key that records what made the stack.
        boundary: the stack's permissions boundary, or ``None``.

    Raises:
        ConfigError: no troposphere Template, or one holding a logical ID or an export
            name of the stack's; the host is then as it was.
    """
    if not isinstance(template, Template):
        raise ConfigError(
            "template", f"expected a troposphere Template, got {type(template).__name__}"
        )
    # Resources and Parameters share one namespace (Ref); each other section has its own.
    pairs = [
        ("", {**template.resources, **template.parameters}, {**ours.resources, **ours.parameters})
    ] + [
        (kind, getattr(template, name), getattr(ours, name))
        for kind, name in (
            ("Output", "outputs"),
            ("Condition", "conditions"),
            ("Mapping", "mappings"),
            ("Rule", "rules"),
        )
    ]
    for kind, held, added in pairs:
        both = sorted(held.keys() & added.keys())
        if both:
            kind = kind or getattr(held[both[0]], "resource_type", "Parameter")
            raise ConfigError(
                "template",
                f"logical ID {both[0]} is already the host "
                f"template's {kind}; the stack adds one of that ID",
            )
    for section, limit in (
        ("resources", MAX_RESOURCES),
        ("parameters", MAX_PARAMETERS),
        ("outputs", MAX_OUTPUTS),
        ("mappings", MAX_MAPPINGS),
    ):
        held, adds = len(getattr(template, section)), len(getattr(ours, section))
        if held + adds > limit:
            raise ConfigError(
                "template",
                f"the host template holds {held} {section} and the stack adds {adds}: "
                f"{held + adds}, over the {limit} CloudFormation takes",
            )
    _check_console_groups(template)
    exports = {n: o.title for o in ours.outputs.values() if (n := _export(o))}
    clash = _same_export(template, exports)
    if clash is not None:
        raise ConfigError(
            "template",
            f"the host template's Output {clash[0]} has the "
            f"export name of the stack's Output {clash[1]}",
        )
    _check_export_patterns(template, exports)
    for role in template.resources.values():
        if boundary is not None and isinstance(role, Role):
            boundary.apply(role)
    if template.description is None:
        template.set_description(ours.description)
    if template.version is None:
        template.set_version(ours.version)
    template.metadata[provenance] = ours.metadata[provenance]
    for resource in ours.resources.values():
        template.add_resource(resource)
    for parameter in ours.parameters.values():
        template.add_parameter(parameter)
    for group in ours.metadata.get("AWS::CloudFormation::Interface", {}).get("ParameterGroups", []):
        for name in group["Parameters"]:
            add_to_group(template, name, group["Label"]["default"])
    for output in ours.outputs.values():
        template.add_output(output)
    for name, condition in ours.conditions.items():
        template.add_condition(name, condition)
    for name, mapping in ours.mappings.items():
        template.add_mapping(name, mapping)
    for name, rule in ours.rules.items():
        template.add_rule(name, rule)
    return template
