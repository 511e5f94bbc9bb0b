"""The default stack plus two more services, each under a path of its own, printed in
the deploy form.

``Api`` takes /api/* and ``Admin`` /admin/*, both whoami from
ghcr.io/traefik/whoami:v1.11.0 (second_service.py says why that image), one task each,
unscaled, with the two probe alarms every added service gets, the fewest bytes an added
service takes: about 7 KB of the template's compact JSON each, over the default
stack's 44 KB or so. Three services fit in neither form of the 51,200 bytes
CloudFormation takes in a request (README's table of what fits): the example prints the
compact JSON, says so on stderr, and the template is deployed from S3:

    python examples/three_services.py > stack.json
    infra-gen deploy --template-file stack.json --stack-name web --s3-bucket BUCKET

11 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 81.
"""

import sys

from infra_gen import TemplateTooLarge, build_stack, render, render_inline

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"

stack = build_stack()
for scope, path, priority in [("Api", "/api/*", 10), ("Admin", "/admin/*", 20)]:
    service = {"name": scope.lower(), "image": WHOAMI, "desired_count": 1}
    # whoami writes no file: no task storage.
    stack.add_service(scope, service, path_pattern=path, priority=priority, writable_paths={})
try:
    text = render_inline(stack.template)
except TemplateTooLarge as too_large:  # over in both forms: README's table of what fits
    print(f"{too_large}: deploy it with --s3-bucket", file=sys.stderr)
    text = render(stack.template, "json")
print(text, end="")
