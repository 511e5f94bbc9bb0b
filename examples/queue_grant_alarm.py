"""The default stack plus an SQS queue for its tasks, printed in the deploy form.

The queue is encrypted at rest under SQS's own key (``SqsManagedSseEnabled``; checkov's
CKV_AWS_27 knows KMS keys only, so the queue skips it, saying why). The nginx service's
task role may send and consume messages on that queue and on nothing else
(``grants.send`` and ``grants.consume``, the actions of the CDK's grantSendMessages and
grantConsumeMessages, in one policy naming the queue's ARN). The alarm
``AlarmQueueAge`` fires when the oldest message has waited five minutes, in three of
five one-minute periods (the stack's window), and notifies the stack's alarm topic on
ALARM and on OK, as the stack's own alarms do:

    python examples/queue_grant_alarm.py > stack.yaml

17 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 17.
"""

from troposphere import sqs

from infra_gen import GREATER_OR_EQUAL, AlarmSpec, Metric, build_stack, grants, render_inline

stack = build_stack()
# checkov's CKV_AWS_27 takes a KMS key only, not SQS's own.
skip = [{"id": "CKV_AWS_27", "comment": "Encrypted at rest under SQS's own key (SSE-SQS)"}]
queue = stack.template.add_resource(
    sqs.Queue("JobsQueue", Metadata={"checkov": {"skip": skip}}, SqsManagedSseEnabled=True)
)
stack.service.grant(stack.template, grants.send(queue) + grants.consume(queue))
queue_name = (("QueueName", queue.get_att("QueueName")),)
age = Metric("AWS/SQS", "ApproximateAgeOfOldestMessage", queue_name, "Maximum")
spec = AlarmSpec(
    logical_id="AlarmQueueAge",
    metric=age,
    comparison=GREATER_OR_EQUAL,
    threshold=300,
    description="Jobs wait in JobsQueue for 5 minutes. Look first at the service's tasks.",
)
stack.alarms.add_alarm(stack.template, spec)
print(render_inline(stack.template), end="")
