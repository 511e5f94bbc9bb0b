"""What ECS says while CloudFormation works on the stack's service.

CloudFormation shows an ECS service as ``*_IN_PROGRESS`` until it is stable, for up to
three hours, and says nothing of why it is not: ECS's service events, the stopped
tasks' reasons (image pull failures, an essential container that exited, failing
health checks) and the deployment circuit breaker. A canary or linear service stays in
progress through its traffic shifts and bake times too: the service deployment's
stage, the share of production traffic on the new revision, the bake ahead, and a
rollback with the alarms that caused it. :class:`EcsFollower` reads them for every
service resource in progress (a stack with added services updates several at once) and
hands each one out once, as a :class:`Note`; it also decides when waiting is pointless
(``tripped``), for ``deploy --fail-fast``. The services are found through
ListStackResources' pages: DescribeStackResources returns the first 100 resources only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .aws import stack_resources
from .changeset import Event, Preview

__all__ = ["SERVICE_TYPE", "EcsFollower", "Note", "fail_fast"]

SERVICE_TYPE = "AWS::ECS::Service"
CLUSTER_TYPE = "AWS::ECS::Cluster"
_TASKS_PER_CALL = 100  # DescribeTasks' limit


@dataclass(frozen=True)
class Note:
    """One piece of ECS news, handed out once."""

    kind: str
    """event (a service event), stopped (a stopped task), circuit-breaker, shift (a
    traffic-shift stage) or rollback."""
    text: str


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


# What each stage of an ECS service deployment (canary, linear, blue/green) does.
_STAGES = {
    "RECONCILE_SERVICE": "reconciling the service",
    "PRE_SCALE_UP": "about to start the new revision's tasks",
    "SCALE_UP": "starting the new revision's tasks",
    "POST_SCALE_UP": "the new revision's tasks are running",
    "TEST_TRAFFIC_SHIFT": "shifting test traffic",
    "POST_TEST_TRAFFIC_SHIFT": "test traffic shifted",
    "PRODUCTION_TRAFFIC_SHIFT": "shifting production traffic",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "production traffic shifted",
    "BAKE_TIME": "baking",
    "CLEAN_UP": "stopping the old revision",
}
_SHIFT_STAGES = ("PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME")
_DEPLOYMENTS_PER_CALL = 20  # DescribeServiceDeployments' limit


def _shift(d: dict[str, Any]) -> str:
    """One service deployment's progress in a line: the stage, the production traffic on
    the new revision, and the bake ahead as its configuration sets it."""
    status, stage = str(d.get("status", "")), str(d.get("lifecycleStage", ""))
    if status == "SUCCESSFUL":
        return "deployment complete: all traffic on the new revision, the old one stopped"
    if status != "IN_PROGRESS":
        return f"deployment {status}" + (f": {d['statusReason']}" if d.get("statusReason") else "")
    words = _STAGES.get(stage, stage)
    if stage not in _SHIFT_STAGES:
        return words
    weight = float(d.get("targetServiceRevision", {}).get("requestedProductionTrafficWeight", 0))
    c = d.get("deploymentConfiguration", {})
    if weight >= 100:
        bake = c.get("bakeTimeInMinutes")
        ahead = f"; the old revision stops after the {bake} min bake" if bake is not None else ""
        return f"{words}: 100 % of production traffic on the new revision{ahead}"
    ahead = ""
    if "canaryConfiguration" in c:
        canary = c["canaryConfiguration"]
        ahead = f"; the rest shifts after {canary.get('canaryBakeTimeInMinutes')} min"
    elif "linearConfiguration" in c:
        step = c["linearConfiguration"]
        ahead = (
            f"; the next {step.get('stepPercent'):g} % after "
            f"{step.get('stepBakeTimeInMinutes')} min"
        )
    return f"{words}: {weight:g} % of production traffic on the new revision{ahead}"


def _rollback(d: dict[str, Any]) -> str:
    """Why ECS rolls a deployment back: its reason and the alarms in ALARM."""
    why = str(d.get("rollback", {}).get("reason") or d.get("statusReason") or d.get("status"))
    raised = d.get("alarms", {}).get("triggeredAlarmNames", [])
    return why + (f" (alarms: {', '.join(raised)})" if raised else "")


def _stopped(task: dict[str, Any]) -> str:
    """Why a task stopped: ECS's stopped reason, then each container's reason or exit."""
    parts = [task.get("stoppedReason") or task.get("stopCode") or "stopped"]
    for c in task.get("containers", []):
        if c.get("reason"):
            parts.append(f"container {c['name']}: {c['reason']}")
        elif c.get("exitCode") not in (None, 0):
            parts.append(f"container {c['name']}: exit code {c['exitCode']}")
    return "; ".join(parts)


class EcsFollower:
    """Follows the stack's ECS services while CloudFormation events say they are in progress.

    Args:
        cfn: the CloudFormation client, to find the service. Default: required.
        ecs: makes the ECS client, on first use. Default: required.
        stack_name: the stack. Default: required.
        stops: tasks stopped for the same reason that make ``tripped`` true. Default: 3.
    """

    def __init__(
        self, cfn: Any, ecs: Callable[[], Any], stack_name: str, *, stops: int = 3
    ) -> None:
        self._cfn, self._ecs, self._stack = cfn, ecs, stack_name
        self._stops = stops
        self._since: datetime | None = None
        # Logical ID of each service in progress -> (cluster, service ARN) once known.
        self._services: dict[str, tuple[str, str] | None] = {}
        self._seen: set[str] = set()
        self._reasons: Counter[str] = Counter()
        self._broken = False
        self.tripped = ""
        """Why waiting on is pointless (the circuit breaker, or repeated stops); else empty."""
        self.reason = ""
        """The latest ECS reason a task stopped or a deployment failed: for the failure line."""

    def on_event(self, e: Event) -> None:
        """Hear a stack event: follow each service while its resource is in progress."""
        if self._since is None:
            self._since = e.timestamp  # the run's first event: older ECS news is not its own
        if e.resource_type != SERVICE_TYPE:
            return
        if e.status.endswith("_IN_PROGRESS"):
            self._services.setdefault(e.logical_id, None)
        else:
            self._services.pop(e.logical_id, None)

    @property
    def following(self) -> bool:
        """Whether a service's resource is in progress, so that ECS is read."""
        return bool(self._services)

    def _locate(self) -> None:
        """Find the ARN and cluster of each service in progress that has none yet."""
        resources = stack_resources(self._cfn, self._stack)
        physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources}
        stack_cluster = next(
            (
                r.get("PhysicalResourceId", "")
                for r in resources
                if r["ResourceType"] == CLUSTER_TYPE
            ),
            "default",
        )
        for logical_id in [k for k, v in self._services.items() if v is None]:
            service = physical.get(logical_id, "")
            if not service.startswith("arn:"):
                continue  # ECS has not answered CreateService yet
            # arn:...:service/CLUSTER/NAME; the old format has no cluster: the stack's one.
            parts = service.split(":", 5)[-1].split("/")
            self._services[logical_id] = (parts[1] if len(parts) == 3 else stack_cluster, service)

    def _new(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _recent(self, when: datetime | None) -> bool:
        return self._since is None or when is None or when >= self._since

    def poll(self) -> list[Note]:
        """What ECS reported since the last poll, oldest first; nothing when not following.

        An AWS error (e.g. no ecs:DescribeServices) is one note, and following ends: it
        must not end the watch of the stack.
        """
        if not self._services or self._broken:
            return []
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._poll()
        except (BotoCoreError, ClientError) as e:
            self._broken = True
            return [Note("error", f"cannot follow the service any more: {e}")]

    def _poll(self) -> list[Note]:
        if None in self._services.values():
            self._locate()
        notes: list[Note] = []
        for where in sorted({w for w in self._services.values() if w is not None}):
            notes += self._poll_service(*where)
        return notes

    def _poll_service(self, cluster: str, service: str) -> list[Note]:
        ecs = self._ecs()
        notes: list[Note] = []
        found = ecs.describe_services(cluster=cluster, services=[service])["services"]
        if found:
            s = found[0]
            for ev in reversed(s.get("events", [])):  # the API lists newest first
                if self._recent(ev.get("createdAt")) and self._new(f"event:{ev['id']}"):
                    notes.append(Note("event", ev["message"]))
            for d in s.get("deployments", []):
                if (
                    d.get("rolloutState") == "FAILED"
                    and self._recent(d.get("createdAt"))
                    and self._new(f"deployment:{d['id']}")
                ):
                    why = d.get("rolloutStateReason", "")
                    self.reason = why
                    self.tripped = f"ECS deployment circuit breaker tripped: {why}"
                    notes.append(Note("circuit-breaker", self.tripped))
            strategy = s.get("deploymentConfiguration", {}).get("strategy", "ROLLING")
            if strategy != "ROLLING":
                notes += self._shifts(ecs, cluster, service)
        stopped = ecs.list_tasks(
            cluster=cluster, serviceName=_short(service), desiredStatus="STOPPED"
        )["taskArns"]
        fresh = [arn for arn in stopped if f"task:{arn}" not in self._seen]
        for i in range(0, len(fresh), _TASKS_PER_CALL):
            tasks = ecs.describe_tasks(cluster=cluster, tasks=fresh[i : i + _TASKS_PER_CALL])
            for task in sorted(tasks["tasks"], key=lambda t: str(t.get("stoppedAt", ""))):
                self._seen.add(f"task:{task['taskArn']}")
                if not self._recent(task.get("createdAt")):
                    continue
                why = _stopped(task)
                self.reason = why
                self._reasons[why] += 1
                notes.append(Note("stopped", f"task {_short(task['taskArn'])} stopped: {why}"))
                if self._reasons[why] >= self._stops and not self.tripped:
                    self.tripped = f"{self._reasons[why]} tasks stopped: {why}"
        return notes

    def _shifts(self, ecs: Any, cluster: str, service: str) -> list[Note]:
        """The traffic-shift progress of the service's deployments of this run."""
        since = {"createdAt": {"after": self._since}} if self._since is not None else {}
        listed = ecs.list_service_deployments(cluster=cluster, service=service, **since)
        arns = [d["serviceDeploymentArn"] for d in listed.get("serviceDeployments", [])]
        notes: list[Note] = []
        for i in range(0, len(arns), _DEPLOYMENTS_PER_CALL):
            chunk = arns[i : i + _DEPLOYMENTS_PER_CALL]
            found = ecs.describe_service_deployments(serviceDeploymentArns=chunk)
            for d in sorted(found["serviceDeployments"], key=lambda d: str(d.get("createdAt"))):
                if d.get("status", "").startswith("ROLLBACK"):
                    kind, text = "rollback", f"{d['status']}: {_rollback(d)}"
                    if not self.tripped:
                        self.reason = _rollback(d)
                        self.tripped = f"ECS rolls the deployment back: {self.reason}"
                else:
                    kind, text = "shift", _shift(d)
                if self._new(f"shift:{d['serviceDeploymentArn']}:{text}"):
                    notes.append(Note(kind, text))
        return notes


def fail_fast(cfn: Any, p: Preview) -> str:
    """Stop waiting for a service that will not stabilize; what was done, in one line.

    An update is cancelled (CancelUpdateStack), and CloudFormation rolls it back. A stack
    being created cannot be cancelled: CloudFormation rolls it back when the service
    fails, which the circuit breaker makes happen soon.
    """
    if p.change_set_type == "UPDATE":
        try:
            cfn.cancel_update_stack(StackName=p.stack_name)
        except cfn.exceptions.ClientError as e:  # e.g. already rolling back
            return f"could not cancel the update of {p.stack_name}: {e}"
        return f"cancelled the update of {p.stack_name} (CancelUpdateStack); it rolls back"
    return (
        f"{p.stack_name} is being created and cannot be cancelled: CloudFormation "
        "rolls it back when the service fails"
    )
