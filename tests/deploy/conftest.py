"""Fixtures of the deploy tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.verify import serving_site


@pytest.fixture(scope="module")
def site() -> Iterator[dict[str, Any]]:
    """A local HTTP server answering with the status in ``site["status"]``, or for a path
    in ``site["paths"]`` with the status it maps to."""
    with serving_site() as state:
        yield state
