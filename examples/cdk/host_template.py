"""examples/host_template.py in the AWS CDK: a host stack with its own description,
Metadata, a Parameter in a console group of its own and an SSM parameter, and the stack
composed into it, its console groups after the host's."""

from aws_cdk import App, BootstrapVersionlessStackSynthesizer, CfnParameter, Stack
from aws_cdk import aws_ssm as ssm
from nginx_probe import NginxProbe

app = App()
host = Stack(
    app,
    "Payments",
    description="Payments: the release colour and the nginx service it fronts",
    synthesizer=BootstrapVersionlessStackSynthesizer(),
)
host.template_options.metadata = {
    "Owner": {"Team": "payments", "Contact": "payments@example.com"},
    "AWS::CloudFormation::Interface": {
        "ParameterGroups": [{"Label": {"default": "Release"}, "Parameters": ["ReleaseColour"]}],
        "ParameterLabels": {"ReleaseColour": {"default": "Live release"}},
    },
}
colour = CfnParameter(
    host,
    "ReleaseColour",
    allowed_values=["blue", "green"],
    default="blue",
    description="The release that takes traffic.",
)
ssm.StringParameter(
    host,
    "ReleaseColourParameter",
    string_value=colour.value_as_string,
    description="The live release, for the deploy jobs",
)
NginxProbe(host, "NginxProbe")
app.synth()
