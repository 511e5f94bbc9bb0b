"""A first create that cannot get stuck: OnStackFailure, and the way out of a failed one.

CloudFormation decides at ``CreateChangeSet`` what a failed create leaves
(``OnStackFailure``, for CREATE change sets only): ``ROLLBACK`` deletes what was made
and leaves ``ROLLBACK_COMPLETE``; ``DELETE`` deletes the stack too; ``DO_NOTHING``
keeps what was made in ``CREATE_FAILED``, which a later update retries. A load balancer
with deletion protection on cannot be deleted by either of the first two, which then end
in ``ROLLBACK_FAILED`` or ``DELETE_FAILED``: its protection must be turned off first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError
from .parameters import values_for

__all__ = ["ON_FAILURE", "announce", "choose", "protected_load_balancers", "recovery"]

ON_FAILURE = ("ROLLBACK", "DELETE", "DO_NOTHING")
"""CreateChangeSet's ``OnStackFailure`` values."""
_LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
_PROTECTION = "deletion_protection.enabled"
# The states a failed first create (or its deletion) ends in, with something left to delete.
_STUCK = ("CREATE_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED")


def protected_load_balancers(template: Mapping[str, Any], values: Mapping[str, str]) -> list[str]:
    """The logical IDs of ``template``'s load balancers created with deletion protection on.

    Args:
        template: the template as data. Default: required.
        values: the Parameters' values (:func:`~infra_gen.deploy.parameters.values_for`).
            Default: required.

    Returns:
        Sorted logical IDs: ``deletion_protection.enabled`` is ``true``, written or as the
        value of the Parameter it refers to.
    """
    found = []
    for logical_id, resource in sorted((template.get("Resources") or {}).items()):
        if not isinstance(resource, Mapping) or resource.get("Type") != _LOAD_BALANCER:
            continue
        properties = resource.get("Properties") or {}
        for attribute in properties.get("LoadBalancerAttributes") or []:
            if not isinstance(attribute, Mapping) or attribute.get("Key") != _PROTECTION:
                continue
            value = attribute.get("Value")
            if isinstance(value, Mapping) and list(value) == ["Ref"]:
                value = values.get(str(value["Ref"]))
            if str(value).lower() == "true":
                found.append(logical_id)
    return found


def choose(
    given: str | None, template: Mapping[str, Any], overrides: Mapping[str, str]
) -> tuple[str, list[str]]:
    """The ``OnStackFailure`` of a new stack, and its protected load balancers.

    Args:
        given: ``--on-failure`` as typed, or None for the default. Default: required.
        template: the template as data. Default: required.
        overrides: the ``--parameter`` values. Default: required.

    Returns:
        ``given`` when there is one; else ``DO_NOTHING`` when a load balancer is created
        protected (a rollback could not delete it: keep what was made, say so), else
        ``ROLLBACK`` (CloudFormation's default). Then the protected load balancers.

    Raises:
        UsageError: ``given`` is not one of :data:`ON_FAILURE`.
    """
    protected = protected_load_balancers(template, values_for(template, overrides, {}))
    if given is None:
        return ("DO_NOTHING" if protected else "ROLLBACK"), protected
    if given not in ON_FAILURE:
        raise UsageError(
            f"--on-failure: {given!r} is not allowed; allowed: {', '.join(ON_FAILURE)}"
        )
    return given, protected


def announce(on_failure: str | None, protected: Sequence[str]) -> str | None:
    """What a new stack's failed create will leave, said before it runs; None when it is
    CloudFormation's usual rollback of an unprotected stack (or a plan's, not known here)."""
    names = ", ".join(protected)
    if on_failure == "DO_NOTHING":
        why = f": deletion protection is on for {names} from the start" if protected else ""
        return (
            f"If the create fails, the stack keeps what it made (OnStackFailure DO_NOTHING){why}."
        )
    if protected and on_failure in ("ROLLBACK", "DELETE"):
        return (
            f"If the create fails, OnStackFailure {on_failure} cannot delete {names} "
            "(deletion protection is on): the stack would be left "
            f"{'ROLLBACK_FAILED' if on_failure == 'ROLLBACK' else 'DELETE_FAILED'}."
        )
    if on_failure == "DELETE":
        return "If the create fails, the stack is deleted (OnStackFailure DELETE)."
    return None


def recovery(stack_name: str, status: str, protected: Sequence[str]) -> str | None:
    """How to clear ``stack_name``, left ``status`` by a failed create or deletion, when
    ``protected`` load balancers hold it or it kept what it made; else None."""
    if status not in _STUCK or not (protected or status == "CREATE_FAILED"):
        return None
    steps = [
        "aws elbv2 modify-load-balancer-attributes --load-balancer-arn "
        f'"$(aws cloudformation describe-stack-resource --stack-name {stack_name} '
        f"--logical-resource-id {logical_id} --query StackResourceDetail.PhysicalResourceId "
        '--output text)" --attributes Key=deletion_protection.enabled,Value=false'
        for logical_id in protected
    ]
    steps.append(f"aws cloudformation delete-stack --stack-name {stack_name}")
    kept = (
        "it kept what it made (OnStackFailure DO_NOTHING): fix the cause and deploy again, "
        "which retries what failed, or delete it"
        if status == "CREATE_FAILED"
        else "delete it"
    )
    if not protected:
        return f"{kept}: {steps[0]}"
    return (
        f"{kept}; deletion protection on {', '.join(protected)} must be turned off "
        f"first: {'; then '.join(steps)}"
    )
