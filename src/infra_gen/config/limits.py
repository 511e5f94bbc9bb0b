"""AWS facts the configuration is checked against: sizes, periods, limits.

Each value names the service and, where one exists, the page it comes from.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

__all__ = [
    "ALARM_PERIODS",
    "FARGATE_TASK_SIZES",
    "LOG_RETENTION_DAYS",
    "PROBE_ALARM_PERIODS",
    "PROBE_SCHEDULES",
    "CFN_DEPLOYMENT_MINUTES",
    "MOST_SUBNETS",
    "SMALLEST_SUBNET",
    "evaluation_limit",
    "probe_alarm_period",
]


def _mib_range(start_gib: int, stop_gib: int, step_gib: int) -> tuple[int, ...]:
    return tuple(g * 1024 for g in range(start_gib, stop_gib + 1, step_gib))


# Fargate's supported task sizes (Linux): CPU units -> allowed memory in MiB.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_TASK_SIZES: Mapping[int, tuple[int, ...]] = types.MappingProxyType(
    {
        256: (512, 1024, 2048),
        512: _mib_range(1, 4, 1),
        1024: _mib_range(2, 8, 1),
        2048: _mib_range(4, 16, 1),
        4096: _mib_range(8, 30, 1),
        8192: _mib_range(16, 60, 4),
        16384: _mib_range(32, 120, 8),
    }
)

# The values CloudWatch Logs accepts for RetentionInDays.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# The probe's schedules (EventBridge rate expressions) and their minutes between runs.
# A closed list: every value is one EventBridge accepts, and the probe-not-running
# alarm can be checked against each.
PROBE_SCHEDULES: Mapping[str, int] = types.MappingProxyType(
    {
        "rate(1 minute)": 1,
        "rate(2 minutes)": 2,
        "rate(5 minutes)": 5,
        "rate(10 minutes)": 10,
        "rate(15 minutes)": 15,
        "rate(30 minutes)": 30,
        "rate(1 hour)": 60,
    }
)

# CloudFormation refuses a canary or linear deployment whose bake times add up to more
# than 33 hours (its operations time out at 36).
CFN_DEPLOYMENT_MINUTES = 33 * 60

# ECS: a container definition's image is at most 255 characters.
IMAGE_MAX = 255
# RFC 1035: a name is at most 253 characters written out (255 octets on the wire).
DNS_NAME_MAX = 253
# ACM RequestCertificate: the first domain name of a certificate (its subject's common
# name) is at most 64 octets, periods included.
ACM_DOMAIN_MAX = 64
# An ALB needs each of its subnets to be a /27 or larger, with 8 free addresses, to scale:
# docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html
SMALLEST_SUBNET = 27
# An ALB takes one subnet per Availability Zone, and no Region has more than six zones
# (us-east-1); a service's awsvpc configuration takes at most 16 subnets.
MOST_SUBNETS = 6
EMAIL_MAX = 254  # RFC 5321: the longest path, less its angle brackets
EMAIL_LOCAL_MAX = 64
# SSM: a parameter's name, written as its whole ARN, is at most 1011 characters; Secrets
# Manager: a secret's ARN at most 2048.
PARAMETER_ARN_MAX = 1011
SECRET_ARN_MAX = 2048
# Linux's PATH_MAX (4096 bytes) less the terminating NUL.
PATH_MAX = 4095
# A bound of ours, not an AWS quota: each writable path is a volume and a mount point of
# the task definition, and a container writing in more places than this has a design
# to review rather than a list to grow.
WRITABLE_PATHS_MAX = 16

# Every metric the alarms watch is stored at standard (one-minute) resolution, so
# shorter periods would only produce missing data.
ALARM_PERIODS: tuple[int, ...] = (60, 300, 900, 3600)
# The periods the per-run probe alarms choose from: standard CloudWatch periods, few
# so that the template picks one with few conditions.
PROBE_ALARM_PERIODS: tuple[int, ...] = (60, 300, 900, 3600)


def probe_alarm_period(period_seconds: int, schedule_minutes: int) -> int:
    """Period of the per-run probe alarms: the shortest of ``PROBE_ALARM_PERIODS`` that
    holds at least one run of the schedule and is at least ``alarms.period_seconds``."""
    floor = max(period_seconds, 60 * schedule_minutes)
    return min(p for p in PROBE_ALARM_PERIODS if p >= floor)


def evaluation_limit(period_seconds: int) -> int:
    """Longest Period x EvaluationPeriods CloudWatch accepts for an alarm, in seconds."""
    # PutMetricAlarm: at most one day for periods under an hour, seven days otherwise.
    return 86400 if period_seconds < 3600 else 7 * 86400
