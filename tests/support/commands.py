"""What the commands need of moto beyond the deploy tests' bridges, and a way to run them.

The commands run in-process, as ``infra-gen`` runs them (``run``), with boto3's usual chain
pointed at the emulator of devtools/emulator.py.

What moto 5.2 does not do, and how ``emulating`` adds it: devtools/emulator.py.
"""

from __future__ import annotations

import io
import json

from devtools.emulator import Api
from infra_gen import Config, build_template, render
from infra_gen import cli as commands
from tests.support.documentation import DOCS

NEW_IMAGE = "docker.io/library/nginx:stable-alpine"
README = DOCS  # README and docs/: the output shown there


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    """Run a command; its exit status and stdout (stderr stays with capsys)."""
    out = io.StringIO()
    code = commands.main(list(argv), stdout=out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


def stack_resources(emu: Api, name: str) -> dict[str, str]:
    resources = emu("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
    return {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in resources
        if r.get("LogicalResourceId")
    }


def stack_names(emu: Api) -> set[str]:
    summaries = emu("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


def resource_count(cfg: Config) -> int:
    return len(json.loads(render(build_template(cfg), "json"))["Resources"])
