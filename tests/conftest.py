"""Session fixtures shared by test modules, and the markers each folder's tests carry."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import harness

# tests/<folder>/... -> the marker its tests carry (registered in pyproject.toml).
FOLDER_MARKERS = {"probe": pytest.mark.probe, "emulator": pytest.mark.emulator}


@pytest.fixture(scope="session")
def probe_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.ProbeWorld]:
    """nginx instances behind Cloud-Map-like DNS; see harness.SERVICES for the services.

    Use ``probe_world.run(code_path, probe_world.env("healthy"))`` to run any handler file.
    """
    reason = harness.unavailable_reason()
    if reason is not None:  # a missing server is a broken set-up, never a skip
        pytest.fail(f"probe harness unavailable: {reason}")
    # The servers listen on fixed loopback addresses: two suites on one machine (two
    # checkouts, or the benchmark) take turns instead of failing on "address in use".
    with open(harness.LOCK_PATH, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with harness.start_world(tmp_path_factory.mktemp("probe-world")) as world:
            yield world


def pytest_configure(config: pytest.Config) -> None:
    """Fail at once when tox gave the probe environment an older interpreter than it asks for."""
    wanted = os.environ.get("PROBE_MIN_PYTHON")
    if wanted and sys.version_info < tuple(int(part) for part in wanted.split(".")):
        raise pytest.UsageError(
            f"PROBE_MIN_PYTHON={wanted} but this is Python {sys.version.split()[0]}; "
            "see scripts/probe-python"
        )


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test of tests/probe/ ``probe`` and of tests/emulator/ ``emulator``."""
    here = Path(__file__).parent
    if item.path.is_relative_to(here):
        marker = FOLDER_MARKERS.get(item.path.relative_to(here).parts[0])
        if marker is not None:
            item.add_marker(marker)
