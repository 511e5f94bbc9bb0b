"""Log groups of the stack: one retention Parameter, optional KMS encryption.

Every concern that writes logs gets its group from :class:`LogSettings`, so the
retention period and the encryption choice apply to all of them alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms as kms_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
)
from troposphere import GetAtt, Parameter, Ref, Sub, Template, kms, logs

from ..config import LOG_RETENTION_DAYS, Config
from . import ids
from .checkov_skips import skip_checks
from .params import GROUP_SERVICE, add_parameter

__all__ = ["LogSettings", "add_log_settings"]


@dataclass(frozen=True, eq=False)
class LogSettings:
    """What every log group of the stack shares: retention and optional encryption."""

    retention: Parameter
    """The ``LogRetentionDays`` Parameter."""
    key: kms.Key | None
    """The customer managed key of the log groups (``security.kms_logs``), else ``None``."""
    retain: bool = False
    """Governed: log groups (and the key) outlive the stack and any replacement."""

    def log_group(self, logical_id: str) -> logs.LogGroup:
        """A log group with the stack's retention and, if enabled, its KMS key."""
        group = logs.LogGroup(logical_id, RetentionInDays=Ref(self.retention), **_kept(self.retain))
        if self.key is not None:
            group.KmsKeyId = GetAtt(self.key, "Arn")
        else:
            skip_checks(
                group,
                {
                    "CKV_AWS_158": (
                        "security.kms_logs, off by default: a key costs money; encrypted anyway"
                    )
                },
            )
        return group


def add_log_settings(t: Template, cfg: Config) -> LogSettings:
    """Add the retention Parameter and, with ``security.kms_logs``, the logs' KMS key."""
    retention = add_parameter(
        t,
        ids.Logs.LOG_RETENTION,
        group=GROUP_SERVICE,
        description="Days every log group of the stack keeps its events.",
        Type="Number",
        Default=cfg.service.log_retention_days,
        AllowedValues=list(LOG_RETENTION_DAYS),
    )
    key = t.add_resource(_logs_key(cfg.profile.retained_logs)) if cfg.security.kms_logs else None
    return LogSettings(retention=retention, key=key, retain=cfg.profile.retained_logs)


def _kept(retain: bool) -> dict[str, str]:
    # Deleting the stack or replacing the resource keeps the logs (and their key).
    return {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"} if retain else {}


# Administration of the key by the account, action by action (no kms:*).
_KEY_ADMIN_ACTIONS = [
    kms_actions.CancelKeyDeletion,
    kms_actions.DescribeKey,
    kms_actions.DisableKey,
    kms_actions.DisableKeyRotation,  # CloudFormation needs it to turn rotation off later
    kms_actions.EnableKey,
    kms_actions.EnableKeyRotation,
    kms_actions.GetKeyPolicy,
    kms_actions.GetKeyRotationStatus,
    kms_actions.ListResourceTags,
    kms_actions.PutKeyPolicy,
    kms_actions.ScheduleKeyDeletion,
    kms_actions.TagResource,
    kms_actions.UntagResource,
    kms_actions.UpdateKeyDescription,
]
_LOGS_SERVICE_ACTIONS = [
    kms_actions.Decrypt,
    kms_actions.DescribeKey,
    kms_actions.Encrypt,
    kms_actions.GenerateDataKey,
    kms_actions.GenerateDataKeyWithoutPlaintext,
    kms_actions.ReEncryptFrom,
    kms_actions.ReEncryptTo,
]


def _logs_key(retain: bool) -> kms.Key:
    # In a key policy, Resource "*" means "this key": there is no narrower form.
    policy = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="AccountAdministersKey",
                Effect=Allow,
                Principal=Principal(
                    "AWS", [Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")]
                ),
                Action=_KEY_ADMIN_ACTIONS,
                Resource=["*"],
            ),
            Statement(
                Sid="CloudWatchLogsUsesKeyForThisAccountsGroups",
                Effect=Allow,
                Principal=Principal("Service", [Sub("logs.${AWS::Region}.amazonaws.com")]),
                Action=_LOGS_SERVICE_ACTIONS,
                Resource=["*"],
                Condition=Condition(
                    ArnLike(
                        "kms:EncryptionContext:aws:logs:arn",
                        Sub(
                            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
                        ),
                    )
                ),
            ),
        ],
    )
    return kms.Key(
        ids.Logs.LOGS_KEY,
        **_kept(retain),
        Description=Sub("Encrypts the log groups of stack ${AWS::StackName}"),
        EnableKeyRotation=True,
        KeyPolicy=policy,
    )
