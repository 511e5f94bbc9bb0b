"""boto3 clients, the Region as the AWS CLI reads it, and what an AWS error says.

boto3 is an optional extra (``infra-gen[deploy]``), imported here only when a command
first needs a client; credentials come from boto3's usual chain, the Region from
:data:`REGION_VARIABLES`, then the profile.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import DeployError, UsageError, one_line

__all__ = [
    "EXTRA",
    "REGION_VARIABLES",
    "Clients",
    "Make",
    "client",
    "error_code",
    "error_message",
    "region_source",
    "retry_mode",
    "stack_resources",
]

EXTRA = "infra-gen[deploy]"
# From a clone: the extra is not on a package index.
INSTALL_HINT = ".venv/bin/pip install -e '.[deploy]'"
# The AWS CLI's order; boto3 alone reads only the second.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# AWS_MAX_ATTEMPTS: each attempt backs off longer; past this a run would wait for hours.
MAX_ATTEMPTS = 100
# botocore's retry modes. "standard" (the AWS CLI v2's default) retries throttling and
# transient errors with exponential back-off and jitter; "legacy", botocore 1.x's old
# default, retries fewer errors; "adaptive" also rate-limits the client.
RETRY_MODES = ("standard", "adaptive", "legacy")
DEFAULT_RETRY_MODE = "standard"

Make = Callable[[str], Any]
"""service name -> boto3 client: :class:`Clients`, or a stand-in under test."""


def region_source(environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """(Region, the variable it came from) when the environment names one."""
    for name in REGION_VARIABLES:
        if environ.get(name):
            return environ[name], name
    return None


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ``ClientError`` (``ValidationError``, ...); else ``''``."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(error: Exception) -> str:
    """The AWS error message of a botocore ``ClientError``; else ``str(error)``."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Message", error))


def _check_environment(environ: Mapping[str, str]) -> None:
    """What botocore would fail on with a traceback, refused in one line naming it."""
    for name in sorted(environ):
        if name != "AWS_ENDPOINT_URL" and not name.startswith("AWS_ENDPOINT_URL_"):
            continue
        value = environ[name]
        try:
            url = urllib.parse.urlsplit(value)
            url.port  # noqa: B018 - raises on a port that is not a number
            ok = url.scheme in ("http", "https") and bool(url.hostname)
        except ValueError:
            ok = False
        if not ok:
            raise UsageError(
                f"{name}={one_line(repr(value))}: not an endpoint URL; expected "
                "e.g. http://localhost:5000 or https://cloudformation.us-east-1"
                ".amazonaws.com"
            )
    # botocore's retry configuration: a bad value fails deep inside its first call.
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    attempts = environ.get("AWS_MAX_ATTEMPTS")
    if attempts is not None and not (
        re.fullmatch("[0-9]{1,3}", attempts) and 1 <= int(attempts) <= MAX_ATTEMPTS
    ):
        raise UsageError(
            f"AWS_MAX_ATTEMPTS={one_line(repr(attempts))}: expected a whole number from 1 to "
            f"{MAX_ATTEMPTS} (digits 0-9)"
        )
    mode = environ.get("AWS_RETRY_MODE")
    if mode is not None and mode not in RETRY_MODES:
        raise UsageError(
            f"AWS_RETRY_MODE={one_line(repr(mode))}: not a retry mode; allowed: "
            + ", ".join(RETRY_MODES)
        )


def retry_mode(session: Any, environ: Mapping[str, str]) -> str:
    """The retry mode of the clients: ``AWS_RETRY_MODE``, else the profile's
    ``retry_mode``, else :data:`DEFAULT_RETRY_MODE` (whatever botocore's own default)."""
    mode = environ.get("AWS_RETRY_MODE")
    if not mode:
        try:
            mode = session._session.get_config_variable("retry_mode")
        except Exception:  # noqa: BLE001 - a profile botocore cannot read: the default
            mode = None
    return mode if mode in RETRY_MODES else DEFAULT_RETRY_MODE


class Clients:
    """service -> boto3 client, from one session made on first use.

    The Region is the AWS CLI's: ``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the
    profile's (``AWS_PROFILE``, else the default profile). Every client retries in
    :func:`retry_mode` (standard: back-off with jitter on throttling and transient
    errors), up to ``AWS_MAX_ATTEMPTS`` (or the profile's ``max_attempts``) attempts.
    """

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def _make_session(self) -> Any:
        try:
            import boto3
            from botocore.exceptions import BotoCoreError
        except ImportError:
            raise DeployError(
                f"boto3 is not installed; install it, or the deploy extra (from a clone: "
                f"{INSTALL_HINT})"
            ) from None
        _check_environment(self._environ)
        found = region_source(self._environ)
        try:
            session = boto3.session.Session(region_name=found[0] if found else None)
        except BotoCoreError as e:  # e.g. a profile that does not exist
            raise UsageError(one_line(str(e))) from None
        if not session.region_name:
            raise UsageError(
                "no AWS Region: set AWS_REGION (or AWS_DEFAULT_REGION), or use a profile "
                "(AWS_PROFILE) that sets region"
            )
        return session

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            if self._session is None:
                self._session = self._make_session()
            try:
                from botocore.config import Config

                retries = {"mode": retry_mode(self._session, self._environ)}
                self._clients[service] = self._session.client(
                    service, config=Config(retries=retries)
                )
            except Exception as e:  # botocore's errors, and its ValueErrors
                found = region_source(self._environ)
                where = f" (Region {found[0]!r} from {found[1]})" if found else ""
                raise UsageError(
                    f"cannot make the AWS {service} client{where}: {one_line(str(e))}"
                ) from None
        return self._clients[service]


def client(service: str) -> Any:
    """A boto3 client, as :class:`Clients` makes it."""
    return Clients()(service)


def stack_resources(cfn: Any, stack_name: str) -> list[dict[str, Any]]:
    """Every resource summary of the stack, through ListStackResources' pages (not the
    first 100 that DescribeStackResources returns)."""
    found: list[dict[str, Any]] = []
    kwargs = {"StackName": stack_name}
    while True:
        page = cfn.list_stack_resources(**kwargs)
        found += page.get("StackResourceSummaries", [])
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]
