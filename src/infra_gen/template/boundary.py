"""The optional permissions boundary of every role the stack creates.

Organizations that require a boundary on each IAM role give its ARN at deploy time
(``PermissionsBoundaryArn``); empty leaves the roles without one.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Equals, If, Not, NoValue, Parameter, Template
from troposphere.iam import Role

from . import ids
from .params import GROUP_SECURITY, add_parameter

__all__ = ["Boundary", "add_permissions_boundary"]


@dataclass(frozen=True, eq=False)
class Boundary:
    """The ``PermissionsBoundaryArn`` Parameter; :meth:`apply` puts it on a role."""

    parameter: Parameter
    """The Parameter: empty, or the ARN of a managed policy."""

    def apply(self, role: Role) -> None:
        """Give ``role`` the boundary when the Parameter is set.

        A role added after :func:`add_permissions_boundary` needs this call.
        """
        role.PermissionsBoundary = If(
            ids.Boundary.HAS_PERMISSIONS_BOUNDARY, self.parameter.ref(), NoValue
        )


def add_permissions_boundary(t: Template) -> Boundary:
    """Add the Parameter and its Condition, and apply the boundary to every role in ``t``.

    The last step of the build, so that it reaches the roles of every concern.
    """
    parameter = add_parameter(
        t,
        ids.Boundary.PERMISSIONS_BOUNDARY,
        group=GROUP_SECURITY,
        description="Policy ARN set as the boundary of every role; empty sets none.",
        Type="String",
        Default="",
        # A bad value fails with this pattern in the message: clear enough, and short.
        AllowedPattern=r"^(arn:aws[a-z-]*:iam::\d{12}:policy/.+)?$",
    )
    t.add_condition(ids.Boundary.HAS_PERMISSIONS_BOUNDARY, Not(Equals(parameter.ref(), "")))
    boundary = Boundary(parameter=parameter)
    for resource in t.resources.values():
        if isinstance(resource, Role):
            boundary.apply(resource)
    return boundary
