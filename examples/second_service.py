"""The default stack plus a second service: Apache httpd under /api/*, printed as YAML.

httpd:alpine listens on port 80, the first service's port, which the probe requests.
Its configuration logs to stdout and stderr and writes only its pid file and mutexes,
under /usr/local/apache2/logs (``PidFile logs/httpd.pid``, ``DefaultRuntimeDir``):
task storage there lets the root file system stay read-only. The load balancer passes
the path on, so httpd answers /api/* itself (404 but for what it serves); its target
group and the probe check "/".

    python examples/second_service.py > stack.yaml
"""

from infra_gen import build_stack, check_size, render

stack = build_stack()
stack.add_service(
    "Api",
    {"name": "api", "image": "public.ecr.aws/docker/library/httpd:alpine", "desired_count": 1},
    path_pattern="/api/*",
    priority=10,
    writable_paths={"httpd-logs": "/usr/local/apache2/logs"},
)
text = render(stack.template, "yaml")
check_size(text)
print(text, end="")
