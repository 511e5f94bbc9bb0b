"""Fixtures of the emulator tests: moto in server mode, its gaps bridged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.emulator import REGION, Api, emulating, serving


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """moto in server mode on a free loopback port, for this module only."""
    with serving(tmp_path_factory.mktemp("aws")) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def emulator(api: Api) -> Iterator[Api]:
    """``api`` that also replaces, records resource events and fails as CloudFormation does,
    in an account that has used ECS."""
    with emulating(api) as emulated:
        yield emulated


@pytest.fixture
def endpoint(emulator: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3's usual chain, pointed at the emulator: nothing infra-gen-specific."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint)
    monkeypatch.setenv("AWS_REGION", REGION)
