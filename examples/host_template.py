"""The stack composed into a larger troposphere template, printed in the deploy form.

The host template comes first, with what it already holds: its description, its own
Metadata (``Owner``), a Parameter in a console group of its own ("Release") and an SSM
parameter that records it. The stack's concerns are then added to it in the order
``infra_gen.builder`` documents, as ``build_stack`` adds them to a new template: the
host keeps its description, its Metadata and its console group, first, and the stack's
groups (Service, Probe, Alarms, Security) follow it:

    python examples/host_template.py > stack.yaml

39 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 29.
"""

from troposphere import Parameter, Template, ssm

from infra_gen import (
    Config,
    add_alarms,
    add_dashboard,
    add_discovery,
    add_load_balancer,
    add_log_settings,
    add_network,
    add_outputs,
    add_permissions_boundary,
    add_probe,
    add_scaling,
    add_service,
    render_inline,
)

host = Template(Description="Payments: the release colour and the nginx service it fronts")
host.set_version("2010-09-09")
host.set_metadata({"Owner": {"Team": "payments", "Contact": "payments@example.com"}})
colour = host.add_parameter(
    Parameter(
        "ReleaseColour",
        Type="String",
        AllowedValues=["blue", "green"],
        Default="blue",
        Description="The release that takes traffic.",
    )
)
host.add_parameter_to_group(colour, "Release")
host.set_parameter_label(colour, "Live release")
host.add_resource(
    ssm.Parameter(
        "ReleaseColourParameter",
        Type="String",
        Value=colour.ref(),
        Description="The live release, for the deploy jobs",
    )
)

cfg = Config()
logs = add_log_settings(host, cfg)
network = add_network(host, cfg, log_settings=logs)
lb = add_load_balancer(host, cfg, network=network)
discovery = add_discovery(host, cfg, network=network)
service = add_service(
    host, cfg, network=network, load_balancer=lb, discovery=discovery, log_settings=logs
)
add_scaling(host, cfg, service=service, load_balancer=lb)
probe = add_probe(
    host, cfg, network=network, discovery=discovery, service=service, log_settings=logs
)
add_alarms(host, cfg, load_balancer=lb, service=service, probe=probe)
add_dashboard(host, load_balancer=lb, service=service, probe=probe)
add_outputs(host, load_balancer=lb, service=service, discovery=discovery)
add_permissions_boundary(host)
print(render_inline(host), end="")
