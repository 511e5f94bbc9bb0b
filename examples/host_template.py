"""The stack composed into a larger troposphere template, printed in the deploy form.

The host template comes first, with what it already holds: its description, its own
Metadata (``Owner``), a Parameter in a console group of its own ("Release") and an SSM
parameter that records it. ``build_stack(template=host)`` then builds the stack into
it: the host keeps its description, its Metadata and its console group, first, and the
stack's groups (Service, Probe, Alarms, Security) follow it; a logical ID both hold
would be refused before anything is added:

    python examples/host_template.py > stack.yaml

24 logic lines; the AWS CDK (Python, aws-cdk-lib v2) equivalent: 29.
"""

from troposphere import Parameter, Template, ssm

from infra_gen import build_stack, render_inline

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

build_stack(template=host)
print(render_inline(host), end="")
