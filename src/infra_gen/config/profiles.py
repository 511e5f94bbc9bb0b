"""Profiles: what ``governed = true`` stands for, expanded once before a Config is built.

A profile is the explicit settings the template reads (:class:`Profile`), the section
settings it turns on, and the combinations it refuses. A second profile is a new
``Profile`` and its refusals here, not a branch in every concern of the template.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, shown
from .checks import ROOT_USER
from .limits import SMALLEST_SUBNET
from .sections import (
    OWN_VPC_KEYS,
    VPC_HOST,
    VPC_PARAMETER,
    NetworkConfig,
    ServiceConfig,
    carved_blocks,
)

__all__ = ["DEFAULT", "GOVERNED", "GOVERNED_WRITABLE_PATHS", "Profile", "expand"]

GOVERNED_WRITABLE_PATHS = ("/tmp", "/var/cache/nginx")
"""``service.writable_paths`` under ``governed`` when none are given: what
nginx-unprivileged writes (docker/governed/Dockerfile declares them as volumes)."""


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The explicit settings a profile stands for; ``Profile()`` is the default stack's."""

    private_tasks: bool = False
    """Tasks and the probe in private subnets behind NAT gateways, without public IPs
    (ECS.2, CT.ECS.PR.9); without it the private subnets' settings are refused."""
    zone_ids: bool = False
    """``network.availability_zone_ids`` required, so that no update moves a subnet."""
    pinned_image: bool = False
    """``service.image`` and the ``ServiceImage`` Parameter pinned by digest."""
    non_root: bool = False
    """A non-root ``service.user`` and a ``service.container_port`` of 1024 or more
    (CT.ECS.PR.3)."""
    fixed_task_size: bool = False
    """The task size fixed at generation and the container's memory a hard limit
    (CT.ECS.PR.7): no ``TaskSize`` Parameter."""
    https_only: bool = False
    """HTTPS always: ``CertificateArn`` required, HTTP only redirects, no
    ``HasCertificate`` Condition."""
    deletion_protection: bool = False
    """The load balancer's deletion protection on: no ``DeletionProtection`` Parameter."""
    retained_logs: bool = False
    """Log groups, and their KMS key, kept when the stack is deleted or they are replaced."""
    turns_on: tuple[tuple[str, str, object], ...] = ()
    """Settings ``(section, key, value)`` the profile gives where a key is empty or false."""


DEFAULT = Profile()
"""The default stack: public tasks, HTTP without a certificate, every switch a choice."""

GOVERNED = Profile(
    private_tasks=True,
    zone_ids=True,
    pinned_image=True,
    non_root=True,
    fixed_task_size=True,
    https_only=True,
    deletion_protection=True,
    retained_logs=True,
    turns_on=(
        ("network", "nat_gateways", "per_az"),
        # nginx-unprivileged's writes: its pid file and every *_temp_path under /tmp (its
        # Dockerfile rewrites nginx.conf so), its cache under /var/cache/nginx.
        ("service", "writable_paths", GOVERNED_WRITABLE_PATHS),
        # CT.ELASTICLOADBALANCING.PR.6: access logging is part of the profile.
        ("security", "alb_access_logs", True),
    ),
)
"""``governed = true``: the Control Tower proactive controls docs/security.md lists pass."""


def expand(profile: Profile, sections: Mapping[str, Any]) -> dict[str, Any]:
    """``sections`` with what ``profile`` turns on, after refusing what it forbids.

    Args:
        profile: the profile the configuration names. Default: required.
        sections: each section's name and its value as given. Default: required.

    Returns:
        A new mapping of the sections: those ``profile.turns_on`` names rebuilt (and so
        checked again) with its settings, where they were empty or false; the others as
        given.

    Raises:
        ConfigError: a setting the profile refuses, named by its dotted key.
    """
    _refuse(profile, sections["network"], sections["service"])
    expanded = dict(sections)
    for name, key, value in profile.turns_on:
        if name == "network" and key in OWN_VPC_KEYS and expanded[name].existing:
            continue  # an existing VPC brings its own routes
        if not getattr(expanded[name], key):
            expanded[name] = dataclasses.replace(expanded[name], **{key: value})
    return expanded


def _refuse(profile: Profile, net: NetworkConfig, svc: ServiceConfig) -> None:
    """Refuse what would break a control of ``profile``, or what it does not have."""
    if net.existing:
        _refuse_existing(profile, net)
    elif profile.zone_ids and not net.availability_zone_ids:
        raise ConfigError(
            "network.availability_zone_ids",
            "is empty; governed = true requires AZ IDs, so "
            "that no update moves a subnet to another zone",
        )
    if profile.private_tasks and not net.existing:
        _refuse_too_few_private_blocks(net)
    elif not profile.private_tasks:
        for key in ("nat_gateways", "private_subnet_cidrs"):
            if getattr(net, key):
                raise ConfigError(
                    f"network.{key}",
                    "sets up private subnets, which only governed = true "
                    "has; leave it empty or set governed = true",
                )
    if profile.pinned_image and "@sha256:" not in svc.image:
        raise ConfigError(
            "service.image",
            f"{shown(svc.image)} is not pinned by digest; governed = true "
            "requires repository@sha256:<digest>, so every task runs the reviewed bytes",
        )
    if profile.non_root:
        if not svc.user or ROOT_USER.match(svc.user):
            raise ConfigError(
                "service.user",
                f"{svc.user or 'empty (the image user)'} breaks CT.ECS.PR.3 "
                "(a non-root user) under governed = true; allowed: a non-root user such as 101",
            )
        if svc.container_port < 1024:
            raise ConfigError(
                "service.container_port",
                f"{svc.container_port} needs root to bind, which "
                "CT.ECS.PR.3 refuses under governed = true; allowed 1024..65535, e.g. 8080",
            )


def _refuse_existing(profile: Profile, net: NetworkConfig) -> None:
    """An existing VPC: private subnets exactly when the profile runs private tasks."""
    deferred = net.vpc_id in (VPC_PARAMETER, VPC_HOST)  # subnets given later
    if profile.private_tasks and not deferred and not net.private_subnet_ids:
        raise ConfigError(
            "network.private_subnet_ids",
            f"is empty; governed = true runs the tasks in private subnets: give 2 or more "
            f"of network.vpc_id {net.vpc_id}'s subnets whose egress is a NAT gateway",
        )
    if not profile.private_tasks and net.private_subnet_ids:
        raise ConfigError(
            "network.private_subnet_ids",
            "runs tasks in private subnets, which only governed = true has; "
            "leave it empty (the tasks run in the public subnets) or set governed = true",
        )


def _refuse_too_few_private_blocks(net: NetworkConfig) -> None:
    if net.subnet_cidrs and not net.private_subnet_cidrs:
        raise ConfigError(
            "network.private_subnet_cidrs",
            "is empty while network.subnet_cidrs is given; "
            f"governed = true needs {net.az_count} private blocks too",
        )
    if not net.subnet_cidrs and len(carved_blocks(net.vpc_cidr)) < 2 * net.az_count:
        raise ConfigError(
            "network.vpc_cidr",
            f"{net.vpc_cidr!r} holds too few subnets of "
            f"/{SMALLEST_SUBNET} for {net.az_count} public and {net.az_count} private "
            f"ones (governed = true): allowed /16../{SMALLEST_SUBNET - 2}",
        )
