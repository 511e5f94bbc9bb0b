"""The default stack plus an API on port 8080 and a queue worker, each with its own data.

``Api`` answers on container port 8080 under /api/*: its target group checks
``/health`` on that port, the probe requests the same path there, and the image is the
``ApiImage`` Parameter, so a release passes ``--parameter ApiImage=<image>`` without
generating the template again. Its tasks may read and write the DynamoDB table
``OrdersTable`` (and its indexes) and read the secret ``ApiKeySecret``, both of this
template: the container gets their names (``TABLE``, ``API_KEY_SECRET``) as references,
and reads the secret's value itself at run time (whoami prints its environment for
``?env=true``, so no value goes there). ``Worker`` has no route (``path_pattern=None``)
and serves no HTTP (``probe_path=None``): it is in Cloud Map, consumes ``JobsQueue``,
gets the secret's value from ECS at task start as ``API_KEY``, scales on CPU from one
task up to 4, and alarms when fewer of its tasks run than desired; its image is the
``WorkerImage`` Parameter. Both images default to whoami (ghcr.io/traefik/whoami:v1.11.0,
second_service.py says why), a stand-in for a team's own; it has no shell, so neither
gets a container health check (``health_check=["CMD-SHELL", "..."]`` for an image with
one). The table and the queue are encrypted under their services' own keys, the secret
under Secrets Manager's (checkov's CKV_AWS_119, CKV_AWS_27 and CKV_AWS_149 want a
customer managed key: each skips it, saying why). The template fits in neither form of
the 51,200 bytes CloudFormation takes in a request, so it is deployed from S3:

    python examples/api_and_worker.py > stack.json
    infra-gen deploy --template-file stack.json --stack-name shop --s3-bucket BUCKET \\
        --parameter ApiImage=ghcr.io/traefik/whoami:v1.11.0

56 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 171.
"""

import sys

from troposphere import Ref, dynamodb, secretsmanager, sqs

from infra_gen import TemplateTooLarge, build_stack, grants, render, render_inline

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"


def own_key(check: str) -> dict[str, object]:
    """checkov's skip of a check that wants a customer managed key."""
    return {"checkov": {"skip": [{"id": check, "comment": "Encrypted under the service's key"}]}}


stack = build_stack()
t = stack.template
table = t.add_resource(
    dynamodb.Table(
        "OrdersTable",
        Metadata=own_key("CKV_AWS_119"),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[dynamodb.AttributeDefinition(AttributeName="id", AttributeType="S")],
        KeySchema=[dynamodb.KeySchema(AttributeName="id", KeyType="HASH")],
        PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True
        ),
    )
)
secret = t.add_resource(
    secretsmanager.Secret(
        "ApiKeySecret",
        Metadata=own_key("CKV_AWS_149"),
        GenerateSecretString=secretsmanager.GenerateSecretString(PasswordLength=32),
    )
)
queue = t.add_resource(
    sqs.Queue("JobsQueue", Metadata=own_key("CKV_AWS_27"), SqsManagedSseEnabled=True)
)
api = stack.add_service(
    "Api",
    {"name": "api", "image": WHOAMI, "container_port": 8080, "health_check_path": "/health"},
    path_pattern="/api/*",
    priority=10,
    image_parameter=True,
    writable_paths={},  # whoami writes no file
    environment={"WHOAMI_PORT_NUMBER": "8080", "TABLE": Ref(table), "API_KEY_SECRET": Ref(secret)},
)
api.grant(t, grants.read_write(table) + grants.read(secret))
worker = stack.add_service(
    "Worker",
    {"name": "worker", "image": WHOAMI},
    path_pattern=None,
    probe_path=None,
    image_parameter=True,
    writable_paths={},
    environment={"QUEUE_URL": Ref(queue)},
    secrets={"API_KEY": secret},
    scaling={"max_tasks": 4},
    all_alarms=True,
)
worker.grant(t, grants.consume(queue))
try:
    text = render_inline(t)
except TemplateTooLarge as too_large:  # over in both forms: README's table of what fits
    print(f"{too_large}: deploy it with --s3-bucket", file=sys.stderr)
    text = render(t, "json")
print(text, end="")
