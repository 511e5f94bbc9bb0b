"""examples/queue_grant_alarm.py in the AWS CDK: the stack, a queue encrypted under SQS's
own key, send and consume on it for the nginx tasks, and an alarm on its oldest
message to the stack's topic."""

from aws_cdk import App, BootstrapVersionlessStackSynthesizer, Stack
from aws_cdk import aws_sqs as sqs
from nginx_probe import GTE, NginxProbe

app = App()
stack = Stack(app, "NginxProbe", synthesizer=BootstrapVersionlessStackSynthesizer())
base = NginxProbe(stack, "Stack")
queue = sqs.Queue(stack, "JobsQueue", encryption=sqs.QueueEncryption.SQS_MANAGED)
# checkov's CKV_AWS_27 takes a KMS key only, not SQS's own.
skip = [{"id": "CKV_AWS_27", "comment": "Encrypted at rest under SQS's own key (SSE-SQS)"}]
queue.node.default_child.add_metadata("checkov", {"skip": skip})
queue.grant_send_messages(base.task_role)
queue.grant_consume_messages(base.task_role)
age = queue.metric_approximate_age_of_oldest_message(statistic="Maximum")
base.alarm(
    "AlarmQueueAge",
    age,
    GTE,
    300,
    "Jobs wait in JobsQueue for 5 minutes. Look first at the service's tasks.",
)
app.synth()
