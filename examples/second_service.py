"""The default stack plus a second service, whoami under /api/*, scaled and fully alarmed.

whoami v1.11.0 (github.com/traefik/whoami, app.go) serves with ``http.ListenAndServe``,
an ``http.Server`` without timeouts, so it keeps idle connections open past the load
balancer's 60 s (httpd's 5 s ``KeepAliveTimeout`` closes them first: intermittent
502s); it listens on ``-port``, by default ``WHOAMI_PORT_NUMBER`` or 80, and answers 200
on every path but its own few (``/api`` exactly, ``/health``, ...), so on "/" for the
probe and on "/api/" for the target group. Its image is that binary alone
(``FROM scratch``), which logs to stdout and writes no file: the root file system stays
read-only with no task storage, and there is no shell for a container health check.

The release tag comes from GitHub's registry, where the release publishes it too,
pulled through the internet gateway clear of Docker Hub's limit on anonymous pulls.
whoami prints its environment for ``?env=true``: give it no ``secrets=``. It scales as
the first service does, from ``service.desired_count`` up to 4 tasks, and is fully
alarmed: besides the two probe alarms of every added service, ``all_alarms=True`` adds
the first service's four on its own target group and ECS service (target 5xx and
unhealthy targets roll back its failing deployments), and ``dashboard=True`` two
widgets. ``render_inline`` gives the YAML when it fits in the 51,200 bytes CloudFormation takes
in a request, else the compact JSON; a scaled second service fits in neither (README's
table of what fits), so the example prints the compact JSON, says so on stderr, and the
template is deployed from S3:

    python examples/second_service.py > stack.json
    infra-gen deploy --template-file stack.json --stack-name web --s3-bucket BUCKET

18 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 134.
"""

import sys

from infra_gen import TemplateTooLarge, build_stack, render, render_inline

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"

stack = build_stack()
api = stack.add_service(
    "Api",
    {"name": "api", "image": WHOAMI, "health_check_path": "/api/"},
    path_pattern="/api/*",
    priority=10,
    writable_paths={},  # whoami writes no file
    scaling={"max_tasks": 4},
    all_alarms=True,
    dashboard=True,
)
try:
    text = render_inline(stack.template)
except TemplateTooLarge as too_large:  # over in both forms: README's table of what fits
    print(f"{too_large}: deploy it with --s3-bucket", file=sys.stderr)
    text = render(stack.template, "json")
print(text, end="")
