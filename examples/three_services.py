"""The default stack plus two more services, each under a path of its own, printed in
the deploy form.

``Api`` takes /api/* and ``Admin`` /admin/*, both whoami from
ghcr.io/traefik/whoami:v1.11.0 (second_service.py says why that image), one task each,
unscaled, with the two probe alarms every added service gets, the fewest bytes an added
service takes: about 6.5 KB of the template's compact JSON each, over the default
stack's 44 KB or so. ``render_inline`` prints the compact JSON, the only form of three
services that can fit in the 51,200 bytes CloudFormation takes in a request:

    python examples/three_services.py > stack.json

6 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 68.
"""

from infra_gen import build_stack, render_inline

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"

stack = build_stack()
for scope, path, priority in [("Api", "/api/*", 10), ("Admin", "/admin/*", 20)]:
    service = {"name": scope.lower(), "image": WHOAMI, "desired_count": 1}
    # whoami writes no file: no task storage.
    stack.add_service(scope, service, path_pattern=path, priority=priority, writable_paths={})
print(render_inline(stack.template), end="")
