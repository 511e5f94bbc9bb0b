"""The default stack plus a second service: Apache httpd under /api/*, printed as YAML.

httpd:alpine listens on port 80, the first service's port, which the probe requests.
Its configuration logs to stdout and stderr and writes only its pid file and mutexes,
under /usr/local/apache2/logs (``PidFile logs/httpd.pid``, ``DefaultRuntimeDir``):
task storage there lets the root file system stay read-only. The load balancer passes
the path on, so httpd answers /api/* itself (404 but for what it serves); its target
group and the probe check "/".

With the second service the YAML passes the 51,200 bytes CloudFormation takes in a
request; the compact JSON, which ``infra-gen deploy`` also sends then, fits:

    python examples/second_service.py > stack.json
"""

from infra_gen import build_stack, render_inline

stack = build_stack()
stack.add_service(
    "Api",
    {"name": "api", "image": "public.ecr.aws/docker/library/httpd:alpine", "desired_count": 1},
    path_pattern="/api/*",
    priority=10,
    writable_paths={"httpd-logs": "/usr/local/apache2/logs"},
)
print(render_inline(stack.template), end="")
