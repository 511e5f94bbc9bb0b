"""The built stack: the template and every concern's handle, to extend it by object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from troposphere import Template

from ..config import Config
from . import compose
from .alarms import Alarms, roll_back_on, service_specs
from .boundary import Boundary
from .cloudmap import Discovery
from .compose import AddedService
from .dashboard import Dashboard
from .loadbalancer import LoadBalancer
from .loggroups import LogSettings
from .network import Network
from .outputs import Outputs
from .probe import Probe
from .scaling import Scaling
from .service import Service

__all__ = ["Stack"]


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
    """VPC, public subnets and their default route (or an existing VPC's, by ID)."""
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
    """The exported Outputs (an added service's: ``AddedService.outputs``)."""
    boundary: Boundary | None = None
    """The ``PermissionsBoundaryArn`` Parameter applied to every role."""

    def add_service(
        self,
        scope: str,
        service: Mapping[str, Any],
        *,
        path_pattern: str | None,
        priority: int | None = None,
        probe_path: str | None = compose.HEALTH_CHECK_PATH,
        health_check: Sequence[str] | None = None,
        image_parameter: bool = False,
        writable_paths: Mapping[str, str] | None = None,
        environment: Mapping[str, object] | None = None,
        secrets: Mapping[str, object] | None = None,
        scaling: Mapping[str, Any] | None = None,
        all_alarms: bool = False,
        dashboard: bool = False,
        deployment: str = "rolling",
    ) -> AddedService:
        """Add another container service to the stack's cluster, probe and (routed) load balancer.

        Args:
            scope: PascalCase prefix of every logical ID it adds, e.g. ``"Api"``.
            service: ``[service]`` keys over the stack's (another ``name``; its own
                ``container_port`` and ``health_check_path`` when it has them).
            path_pattern: ALB path pattern, e.g. ``"/api/*"``; ``None`` for a service the
                load balancer does not route to (a worker). Default: required.
            priority: its listener rule's priority, 1-50000; ``None`` without a route.
            probe_path: the path the probe requests on it; ``None``: not probed. Default:
                its ``health_check_path``.
            health_check: its container health check, ``["CMD-SHELL", "..."]`` or
                ``["CMD", ...]``. Default: none.
            image_parameter: its image as a Parameter, ``<scope>Image``. Default: False.
            writable_paths: volume name -> path the image writes. Default: its
                ``service.writable_paths`` (the stack's unless given; empty: nginx's).
            environment, secrets: its container's variables and secret ARNs, text or
                intrinsics (see :meth:`Service.add_secrets`). Default: none.
            scaling: ``[scaling]`` keys; ``{}`` scales like the first service. Default: unscaled.
            all_alarms, dashboard: the first service's alarms, two widgets. Default: False.
            deployment: ``rolling``, ``canary`` or ``linear`` (which needs ``all_alarms``:
                the alarms that roll it back); the shift's settings are ``service`` keys.
                Default: ``"rolling"``.

        Returns:
            The added service's handle (:class:`~infra_gen.template.compose.AddedService`).

        Raises:
            ConfigError: a bad argument or a collision, before anything is added.

        Template cost: about 7 KB of compact JSON routed and unscaled; scaling 1.2 KB,
        all_alarms 3.3 KB, dashboard 1 KB more. The rules in full: ``docs/library.md``.
        """
        t = self.template
        request = compose.check(
            t,
            self.config,
            scope,
            service,
            path_pattern=path_pattern,
            priority=priority,
            probe_path=probe_path,
            health_check=health_check,
            image_parameter=image_parameter,
            writable_paths=writable_paths,
            environment=environment,
            secrets=secrets,
            scaling=scaling,
            all_alarms=all_alarms,
            dashboard=dashboard,
            deployment=deployment,
            discovery=self.discovery,
            load_balancer=self.load_balancer,
        )
        added = compose.add_service(
            t,
            request,
            first=self.service,
            network=self.network,
            load_balancer=self.load_balancer,
            discovery=self.discovery,
            log_settings=self.log_settings,
        )
        if self.boundary is not None and added.task_role is not None:
            self.boundary.apply(added.task_role)
        probe_alarms = []
        if request.probe_path is not None:
            self.probe.watch(t, added, added.discovery, scope=scope, path=request.probe_path)
            probe_alarms = [
                self.alarms.add_alarm(t, spec)
                for spec in compose.probe_alarms(self.config, scope, added, self.probe, self.alarms)
            ]
        if all_alarms:
            specs = service_specs(request.cfg, added, scope)
            alarms = [self.alarms.add_alarm(t, spec) for spec in specs]
            if added.route is not None:
                # Target 5xx rate, unhealthy targets, response time, the probe's failures.
                roll_back_on(added, *alarms[:3], *probe_alarms[:1])
        if dashboard:
            self.dashboard.add_service(t, added, scope=scope)
        return added
