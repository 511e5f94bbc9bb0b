"""The one place that calls the concerns, in dependency order.

:func:`build_stack` returns the template with every concern's handle;
:func:`build_template` the template alone. The documented order, which other
generators may follow call by call (``build_stack`` is exactly this)::

    t = new_template(cfg)
    log_settings = add_log_settings(t, cfg)
    network = add_network(t, cfg, log_settings=log_settings)
    load_balancer = add_load_balancer(t, cfg, network=network)
    discovery = add_discovery(t, cfg, network=network)
    service = add_service(t, cfg, network=..., load_balancer=..., discovery=...,
                          log_settings=...)
    scaling = add_scaling(t, cfg, service=service, load_balancer=load_balancer)
    probe = add_probe(t, cfg, network=..., discovery=..., service=..., log_settings=...)
    alarms = add_alarms(t, cfg, load_balancer=..., service=..., probe=probe)
    dashboard = add_dashboard(t, load_balancer=..., service=..., probe=probe)
    outputs = add_outputs(t, load_balancer=..., service=..., discovery=...)
    boundary = add_permissions_boundary(t)  # last: it reaches every role

Concerns that do not depend on each other may come in either order with the same
bytes: the load balancer and discovery; scaling, the probe and the outputs (once
the service exists); the alarms and the dashboard (once the probe exists).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from troposphere import Output, Template, encode_to_dict, servicediscovery
from troposphere import ecs as ecs_resources
from troposphere import elasticloadbalancingv2 as elb

from .._version import __version__
from ..config import (
    Config,
    ConfigError,
    check_environment,
    check_secrets,
    check_writable_paths,
    held_by,
)
from ..errors import shown
from . import cloudmap, ids, loadbalancer, probe
from . import outputs as _outputs
from . import scaling as _scaling
from . import service as ecs
from .alarms import (
    GREATER_OR_EQUAL,
    LESS,
    Alarms,
    AlarmSpec,
    add_alarms,
    roll_back_on,
    service_specs,
)
from .boundary import Boundary, add_permissions_boundary
from .cloudmap import Discovery, add_discovery
from .dashboard import Dashboard, add_dashboard
from .loadbalancer import LoadBalancer, add_load_balancer
from .loggroups import LogSettings, add_log_settings
from .network import Network, add_network
from .outputs import Outputs, add_outputs, add_service_outputs, request_path
from .probe import Probe, add_probe
from .scaling import Scaling, add_scaling
from .service import Service, add_service

__all__ = ["Stack", "build_stack", "build_template", "new_template"]

_SCOPE = re.compile(r"^[A-Z][A-Za-z0-9]{0,15}$")
# An ALB path pattern: up to 128 characters of a path, with * and ? wildcards, at most
# five of them in a rule (the quota "condition wildcards per rule").
_PATH_PATTERN = re.compile(r"/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}")
_PATH_WILDCARDS = 5

# CloudFormation's limit on a template's resources.
MAX_RESOURCES = 500
GENERATOR = "infra-gen"
# The template's own Metadata key recording what made it.
PROVENANCE = "InfraGen"

DESCRIPTION = (
    "nginx on ECS Fargate behind an Application Load Balancer, in Cloud Map, probed by a "
    "scheduled Lambda function, watched by CloudWatch alarms (infra-gen)"
)


@dataclass(frozen=True, eq=False)
class Stack:
    """The built template and every concern's handle, to extend it by object."""

    template: Template
    """The troposphere template; render it with :func:`infra_gen.render`."""
    config: Config
    """The configuration it was built from."""
    log_settings: LogSettings
    """Retention Parameter and optional KMS key of every log group."""
    network: Network
    """VPC, public subnets and their default route."""
    load_balancer: LoadBalancer
    """The ALB, its security group, target group and listeners."""
    discovery: Discovery
    """The Cloud Map namespace and the service the tasks register in."""
    service: Service
    """Cluster, ECS service, task definition, the tasks' security group and log group."""
    scaling: Scaling
    """The scalable target and its two target tracking policies."""
    probe: Probe
    """The probe function, its schedule rule, log group and security group."""
    alarms: Alarms
    """The alarm topic and the stack's alarms; :meth:`Alarms.add_alarm` adds more."""
    dashboard: Dashboard
    """The CloudWatch dashboard and its URL Output."""
    outputs: Outputs
    """The exported Outputs (an added service's: :attr:`Service.outputs`)."""
    boundary: Boundary | None = None
    """The ``PermissionsBoundaryArn`` Parameter applied to every role."""

    def add_service(
        self,
        scope: str,
        service: Mapping[str, Any],
        *,
        path_pattern: str,
        priority: int,
        writable_paths: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        scaling: Mapping[str, Any] | None = None,
        all_alarms: bool = False,
        dashboard: bool = False,
    ) -> Service:
        """Add another container service: same cluster, load balancer, namespace and probe.

        ``scope`` (PascalCase, e.g. ``"Api"``) prefixes every logical ID it adds;
        ``service`` holds ``[service]`` keys (``name`` differs from the first service's,
        ``container_port`` equals it: the probe requests one port) over the stack's.
        Requests matching ``path_pattern`` (e.g. ``/api/*``; up to 128 characters, at most
        five ``*`` and ``?``) reach it through a listener rule of ``priority`` (1-50000).
        It gets its own task definition, task role
        (:meth:`Service.grant` adds to it), log group, security group, Cloud Map service,
        target group and alarms (probe failures, no task found), and exported Outputs
        (``<scope>ServiceUrl``: a URL ``path_pattern`` matches, ``/api/*`` -> ``/api/``;
        ``<scope>ServiceName``; ``<scope>DiscoveryName``), handed out as
        :attr:`Service.outputs`. It keeps ``service.desired_count`` tasks, unscaled by
        default; with ``scaling`` (``[scaling]`` keys over the stack's, ``{}`` for the
        stack's own) it scales as the first one does
        (a scalable target from ``service.desired_count`` to ``scaling.max_tasks``, CPU and
        requests-per-task target tracking, no ``DesiredCount``), under its scope and handed
        out as :attr:`Service.scaling`. ``environment`` (name -> text) and
        ``secrets`` (name -> Secrets Manager secret or SSM parameter ARN) go to its
        container, as :meth:`Service.add_environment` and :meth:`Service.add_secrets`
        do for the first one; default: none. ``writable_paths`` (volume name -> absolute
        path) are the task storage the image writes to, its root file system being
        read-only; default: nginx's.

        With ``all_alarms`` (default ``False``: the two probe alarms only, for the size
        budget) it also gets the first service's target 5xx, unhealthy targets, response
        time and running tasks alarms (``<scope>AlarmTarget5xx``, ...), the first two
        rolling back a failing deployment: about 3 KB more of the template's JSON. With
        ``dashboard`` (default ``False``, for the same budget) the stack's dashboard gets
        two widgets of its own (:meth:`Dashboard.add_service`): about 1 KB more.

        Everything is checked before anything is added: a refusal raises
        :class:`ConfigError` and leaves the template as it was.
        """
        # Text only, matched whole: str(None) is "None", and $ matches before a final "\n".
        if not (isinstance(scope, str) and _SCOPE.fullmatch(scope)):
            raise ConfigError(
                "scope",
                f"{shown(scope)} is not allowed; a PascalCase name like "
                "Api (a capital letter, then up to 15 letters and digits)",
            )
        if scaling is not None and not isinstance(scaling, Mapping):
            raise ConfigError(
                "scaling", f"{shown(scaling)} is not allowed; [scaling] keys, e.g. {{}}"
            )
        cfg = self.config.with_changes({"service": service, "scaling": scaling or {}})
        if cfg.service.container_port != self.config.service.container_port:
            raise ConfigError(
                "service.container_port",
                f"{cfg.service.container_port} differs "
                f"from the first service's {self.config.service.container_port}",
            )
        if cfg.service.log_retention_days != self.config.service.log_retention_days:
            raise ConfigError(
                "service.log_retention_days",
                f"{cfg.service.log_retention_days} differs from the stack's "
                f"{self.config.service.log_retention_days}: every log group keeps the days of "
                "the LogRetentionDays Parameter",
            )
        # bool is an int to Python, not to CloudFormation: True renders as true.
        if not (type(priority) is int and 1 <= priority <= 50000):
            raise ConfigError("priority", f"{shown(priority)} is not allowed; allowed: 1-50000")
        if not (isinstance(path_pattern, str) and _PATH_PATTERN.fullmatch(path_pattern)):
            raise ConfigError(
                "path_pattern", f"{shown(path_pattern)} is not allowed; a path like /api/*"
            )
        wildcards = sum(map(path_pattern.count, "*?"))
        if wildcards > _PATH_WILDCARDS:
            raise ConfigError(
                "path_pattern",
                f"{path_pattern!r} has {wildcards} wildcards; the "
                f"load balancer takes at most {_PATH_WILDCARDS} (* and ?) in a rule",
            )
        for key, flag in (("all_alarms", all_alarms), ("dashboard", dashboard)):
            if not isinstance(flag, bool):
                raise ConfigError(key, f"{shown(flag)} is not allowed; allowed: a bool")
        _check_free(
            self,
            scope,
            cfg.service.name,
            path_pattern,
            priority,
            _scoped_ids(scope, scaling is not None, all_alarms),
        )
        # None is the default; an empty list or string is a mistake, not "none".
        variables = check_environment("environment", {} if environment is None else environment)
        values = check_secrets("secrets", {} if secrets is None else secrets)
        if writable_paths is not None:
            writable_paths = check_writable_paths("writable_paths", writable_paths)
        both = sorted(variables.keys() & values.keys())
        if both:
            raise ConfigError(f"secrets.{both[0]}", f"{both[0]} is in environment too")
        t = self.template
        discovery = self.discovery.add_service(
            t, scope=scope, name=cfg.service.name, dns_ttl=cfg.discovery.dns_ttl
        )
        load_balancer = self.load_balancer.add_route(
            t,
            scope=scope,
            port=cfg.service.container_port,
            health_check_path=cfg.service.health_check_path,
            path_pattern=path_pattern,
            priority=priority,
        )
        handle = add_service(
            t,
            cfg,
            network=self.network,
            load_balancer=load_balancer,
            discovery=discovery,
            log_settings=self.log_settings,
            scope=scope,
            first=self.service,
            writable_paths=writable_paths,
            scaled=scaling is not None,
        )
        if scaling is not None:
            handle = replace(
                handle,
                scaling=add_scaling(
                    t, cfg, service=handle, load_balancer=load_balancer, scope=scope
                ),
            )
        if variables:
            handle.add_environment(t, variables)
        if values:
            handle.add_secrets(t, values)
        if self.boundary is not None and handle.task_role is not None:
            self.boundary.apply(handle.task_role)
        self.probe.watch(t, handle, discovery, scope=scope)
        for spec in _service_alarms(self, scope, discovery):
            self.alarms.add_alarm(t, spec)
        if all_alarms:
            added = [self.alarms.add_alarm(t, spec) for spec in service_specs(cfg, handle, scope)]
            roll_back_on(handle, *added[:2])  # target 5xx, unhealthy targets
        if dashboard:
            self.dashboard.add_service(t, handle, scope=scope)
        return replace(
            handle,
            outputs=add_service_outputs(
                t,
                scope=scope,
                load_balancer=load_balancer,
                service=handle,
                discovery=discovery,
                path_pattern=path_pattern,
            ),
        )


def _scoped_ids(scope: str, scaled: bool, all_alarms: bool) -> list[str]:
    """The logical IDs :meth:`Stack.add_service` adds under ``scope``, Outputs included."""
    scaling = (_scaling.TARGET, _scaling.CPU_POLICY, _scaling.REQUESTS_POLICY) if scaled else ()
    more = (
        (
            ids.Alarms.TARGET_5XX,
            ids.Alarms.UNHEALTHY_TARGETS,
            ids.Alarms.RESPONSE_TIME,
            ids.Alarms.RUNNING_TASKS,
        )
        if all_alarms
        else ()
    )
    return [
        scope + name
        for name in (
            *scaling,
            *more,
            cloudmap.SERVICE,
            loadbalancer.TARGET_GROUP,
            loadbalancer.RULE,
            ecs.LOG_GROUP,
            ecs.TASK_ROLE,
            ecs.TASK_DEFINITION,
            ecs.SECURITY_GROUP,
            ecs.SERVICE,
            ecs.INGRESS_FROM_LOAD_BALANCER,
            ecs.LOAD_BALANCER_EGRESS,
            probe.SERVICE_INGRESS,
            probe.SERVICE_EGRESS,
            ids.Alarms.PROBE_FAILED_REQUESTS,
            ids.Alarms.PROBE_NO_INSTANCES,
            *_outputs.SCOPED,
        )
    ]


def _owner(logical_id: str, suffix: str, first: str) -> str:
    """Who holds ``logical_id``: the scope of a service the stack added, else the ID."""
    if logical_id == suffix:
        return first
    return logical_id.removesuffix(suffix) if logical_id.endswith(suffix) else logical_id


def _check_free(
    stack: Stack, scope: str, name: str, path_pattern: str, priority: int, adds: list[str]
) -> None:
    """Refuse what would collide with the template: a logical ID, a Cloud Map name in
    the namespace, a priority or path pattern on the stack's listeners (CloudFormation
    would accept the template and fail at deploy time)."""
    t, call = stack.template, f"add_service({scope!r}, ...)"
    outputs = {scope + name for name in _outputs.SCOPED}
    resources = len([i for i in adds if i not in outputs])
    if len(t.resources) + resources > MAX_RESOURCES:
        raise ConfigError(
            "scope",
            f"{call}: the template holds {len(t.resources)} resources; "
            f"{resources} more pass the {MAX_RESOURCES} CloudFormation takes",
        )
    taken_by = t.resources.get(scope + ecs.SERVICE)
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
    exports = {_json(_outputs.export_name(i)): i for i in outputs}
    for output in t.outputs.values():
        taken = exports.get(_export(output) or "")
        if taken is not None:
            raise ConfigError(
                "scope",
                f"{call}: the export name of Output {taken} is already "
                f"that of the template's Output {output.title}",
            )
    namespace = _json(stack.discovery.namespace.ref())
    for resource in t.resources.values():
        props = resource.properties
        if (
            isinstance(resource, servicediscovery.Service)
            and props.get("Name") == name
            and (_json(props.get("NamespaceId")) == namespace)
        ):
            owner = _owner(resource.title, cloudmap.SERVICE, "the first service")
            raise ConfigError(
                "service.name", f"{call}: {name!r} is already the Cloud Map name of {owner}"
            )
    listeners = [
        _json(x.ref())
        for x in (stack.load_balancer.http_listener, stack.load_balancer.https_listener)
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


def _service_alarms(stack: Stack, scope: str, discovery: Discovery) -> list[AlarmSpec]:
    """Another service's alarms: what the probe sees of it (two rows: the size budget)."""
    name, per_run = discovery.service_name, stack.alarms.probe_period
    return [
        AlarmSpec(
            logical_id=scope + ids.Alarms.PROBE_FAILED_REQUESTS,
            metric=stack.probe.metric("FailedRequests", service_name=name),
            comparison=GREATER_OR_EQUAL,
            threshold=stack.config.alarms.probe_failed_requests,
            period=per_run,
            description=f"Probe requests to {scope} tasks fail. Look first at the probe log group.",
        ),
        AlarmSpec(
            logical_id=scope + ids.Alarms.PROBE_NO_INSTANCES,
            metric=stack.probe.metric("DiscoveredInstances", "Minimum", service_name=name),
            comparison=LESS,
            threshold=1,
            period=per_run,
            description=f"The probe finds no {scope} task. Look first at its ECS service events.",
        ),
    ]


def as_config(cfg: Config | Mapping[str, Any] | None) -> Config:
    """``cfg`` as a :class:`Config`: the defaults for ``None``, a mapping read like TOML."""
    if cfg is None:
        return Config()
    if isinstance(cfg, Config):
        return cfg
    if isinstance(cfg, Mapping):
        return Config.from_mapping(cfg)
    raise ConfigError(
        "config", f"expected a Config or a mapping of sections, got {type(cfg).__name__}"
    )


def new_template(cfg: Config | Mapping[str, Any] | None = None) -> Template:
    """An empty template with the stack's description and provenance for ``cfg``.

    The first step of the documented order; the concerns add everything else.
    """
    cfg = as_config(cfg)
    t = Template(Description=DESCRIPTION)
    t.set_version("2010-09-09")
    # What made this template: no clock and no path, so it stays reproducible.
    t.metadata[PROVENANCE] = {
        "Generator": GENERATOR,
        "Version": __version__,
        "ConfigSha256": cfg.digest(),
    }
    return t


def build_stack(
    cfg: Config | Mapping[str, Any] | None = None, *, template: Template | None = None
) -> Stack:
    """Build the whole stack for ``cfg`` (a :class:`Config`, a mapping, or the defaults).

    With ``template`` (a host troposphere ``Template``) the stack is built into it, as
    :func:`new_template` then the documented order would: the host keeps its resources,
    Description, Metadata and console groups (the stack's groups follow its own), and
    gets the stack's provenance Metadata. Raises :class:`ConfigError` for a bad
    configuration, or a logical ID both the host and the stack hold, before anything is
    built.
    """
    cfg = as_config(cfg)
    t = new_template(cfg) if template is None else _host(template, cfg)
    log_settings = add_log_settings(t, cfg)
    network = add_network(t, cfg, log_settings=log_settings)
    load_balancer = add_load_balancer(t, cfg, network=network)
    discovery = add_discovery(t, cfg, network=network)
    service = add_service(
        t,
        cfg,
        network=network,
        load_balancer=load_balancer,
        discovery=discovery,
        log_settings=log_settings,
    )
    scaling = add_scaling(t, cfg, service=service, load_balancer=load_balancer)
    probe = add_probe(
        t,
        cfg,
        network=network,
        discovery=discovery,
        service=service,
        log_settings=log_settings,
    )
    alarms = add_alarms(t, cfg, load_balancer=load_balancer, service=service, probe=probe)
    dashboard = add_dashboard(t, load_balancer=load_balancer, service=service, probe=probe)
    outputs = add_outputs(t, load_balancer=load_balancer, service=service, discovery=discovery)
    boundary = add_permissions_boundary(t)
    return Stack(
        template=t,
        config=cfg,
        log_settings=log_settings,
        network=network,
        load_balancer=load_balancer,
        discovery=discovery,
        service=service,
        scaling=scaling,
        probe=probe,
        alarms=alarms,
        dashboard=dashboard,
        outputs=outputs,
        boundary=boundary,
    )


def _host(template: Template, cfg: Config) -> Template:
    """``template`` made ready to hold the stack for ``cfg``, or :class:`ConfigError`."""
    if not isinstance(template, Template):
        raise ConfigError(
            "template", f"expected a troposphere Template, got {type(template).__name__}"
        )
    ours = build_stack(cfg).template
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
    exports = {name: o.title for o in ours.outputs.values() if (name := _export(o))}
    for output in template.outputs.values():
        taken = exports.get(_export(output) or "")
        if taken is not None:
            raise ConfigError(
                "template",
                f"the host template's Output {output.title} has the "
                f"export name of the stack's Output {taken}",
            )
    if template.description is None:
        template.set_description(ours.description)
    if template.version is None:
        template.set_version(ours.version)
    template.metadata[PROVENANCE] = ours.metadata[PROVENANCE]
    return template


def build_template(cfg: Config | Mapping[str, Any] | None = None) -> Template:
    """Build the whole stack for ``cfg`` and return its template: ``build_stack(cfg).template``."""
    return build_stack(cfg).template
