"""Session fixtures shared by test modules: the real nginx and dnsmasq the probe runs against."""

from __future__ import annotations

from collections.abc import Iterator

import harness
import pytest


@pytest.fixture(scope="session")
def probe_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.ProbeWorld]:
    """nginx instances behind Cloud-Map-like DNS; see harness.SERVICES for the services.

    Use ``probe_world.run(code_path, probe_world.env("healthy"))`` to run any handler file.
    """
    reason = harness.unavailable_reason()
    if reason is not None:
        pytest.skip(f"probe harness unavailable: {reason}")
    with harness.start_world(tmp_path_factory.mktemp("probe-world")) as world:
        yield world
