"""The managed artifact bucket's stack: where ``--resolve-s3`` uploads templates.

CloudFormation takes at most 51,200 bytes of template in a request; a larger one must
come from S3. ``--resolve-s3`` creates this small stack on first use (one per account
and Region, :data:`~infra_gen.template.ids.ArtifactStack.STACK_NAME`) and uploads each
template under its SHA-256. The bucket is private (every public access block on, the
bucket owner owns every object), encrypted (SSE-S3), refuses requests without TLS, and
expires what it holds after :data:`EXPIRY_DAYS` days: CloudFormation reads the object
when it creates the change set, so an expired one is never needed again.
"""

from __future__ import annotations

from awacs.aws import PolicyDocument
from troposphere import Output, Template, s3

from . import ids
from .buckets import deny_insecure_transport, private_bucket_settings
from .checkov_skips import skip_checks

__all__ = ["EXPIRY_DAYS", "KEY_PREFIX", "artifact_template"]

# Days an uploaded template is kept: a change set made from it needs it no longer.
EXPIRY_DAYS = 30
# Templates are stored under this prefix, as <sha256 of the bytes>.template.
KEY_PREFIX = "templates/"

_IDS = ids.ArtifactStack


def artifact_template() -> Template:
    """The artifact bucket's stack: one bucket, its TLS-only policy, its name as an Output.

    Returns:
        A new template; rendered, about 2 KB of YAML.
    """
    t = Template(Description="infra-gen's artifact bucket: templates too large to send inline")
    bucket = t.add_resource(
        s3.Bucket(
            _IDS.BUCKET,
            # No DeletionPolicy Retain: a change set keeps its own copy of the template
            # it was made from, and the next upload puts back what a deploy needs.
            **private_bucket_settings(),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="expire-templates",
                        Status="Enabled",
                        Prefix=KEY_PREFIX,
                        ExpirationInDays=EXPIRY_DAYS,
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=1
                        ),
                    )
                ]
            ),
        )
    )
    skip_checks(
        bucket,
        {
            "CKV_AWS_18": "Holds copies of templates, each named by its SHA-256; access "
            "logs would need a second bucket",
            "CKV_AWS_21": "Each key is its content's SHA-256: an object is never replaced "
            "by other content, so there is no version to keep",
        },
    )
    t.add_resource(
        s3.BucketPolicy(
            _IDS.BUCKET_POLICY,
            Bucket=bucket.ref(),
            PolicyDocument=PolicyDocument(
                Version="2012-10-17", Statement=[deny_insecure_transport(bucket)]
            ),
        )
    )
    t.add_output(Output(_IDS.BUCKET_NAME, Value=bucket.ref(), Description="The bucket's name"))
    return t
