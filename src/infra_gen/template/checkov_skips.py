"""Scanner checks a resource fails on purpose, recorded in that resource's Metadata.

checkov reads ``Metadata.checkov.skip`` of a CloudFormation resource, so each
exemption is visible in the template, scoped to one resource and carries its
reason. docs/security.md lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import BaseAWSObject

__all__ = ["skip_checks"]


def skip_checks(resource: BaseAWSObject, reasons: Mapping[str, str]) -> None:
    """Exempt ``resource`` from the checkov checks in ``reasons`` (check ID -> why).

    Called once per resource, so that its exemptions stay in one place.
    """
    if "Metadata" in resource.resource:
        raise ValueError(f"{resource.title} already has Metadata; give all its skips at once")
    if not reasons or not all(reason.strip() for reason in reasons.values()):
        raise ValueError(f"{resource.title}: every skipped check needs a reason")
    resource.Metadata = {
        "checkov": {"skip": [{"id": check, "comment": reasons[check]} for check in sorted(reasons)]}
    }
