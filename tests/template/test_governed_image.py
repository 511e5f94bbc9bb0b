"""The governed image starts: real nginx, as the governed task definition runs it.

The writable paths, the user, the port and the probe's path are read from the governed
template, so these tests hold the template, not a copy of it. nginx (Debian's
nginx-light, configured like nginx-unprivileged) runs as that user in a private mount
namespace whose every file system is read-only but a tmpfs on each of the task
definition's MountPoints (tests/support/readonly_nginx.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from infra_gen import Config
from infra_gen.template import ids
from tests.support import harness, readonly_nginx
from tests.support.stack import GOVERNED, props, template

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "governed" / "Dockerfile"
# As docker/governed/Dockerfile sets them before its VOLUME line: owned by 101.
VOLUME_MODES = {"/tmp": 0o1777, "/var/cache/nginx": 0o770}


@pytest.fixture(scope="module")
def governed() -> dict[str, Any]:
    return template(Config.from_mapping(GOVERNED))


def _task(t: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    container = props(t, ids.Service.TASK_DEFINITION)["ContainerDefinitions"][0]
    probe = props(t, ids.Probe.FUNCTION)["Environment"]["Variables"]
    return container, probe


def _mounted(t: dict[str, Any]) -> list[str]:
    container, _ = _task(t)
    assert container["ReadonlyRootFilesystem"] is True
    return sorted(m["ContainerPath"] for m in container["MountPoints"])


def _start(t: dict[str, Any], writable: dict[str, tuple[int, int]]) -> readonly_nginx.Outcome:
    reason = harness.unavailable_reason()
    if reason is not None:
        pytest.fail(f"the servers this test needs are unavailable: {reason}")
    container, probe = _task(t)
    uid = container["User"].split(":")[0]
    port, path = _probed(probe["PROBE_SERVICE_NAMES"])
    assert port == container["PortMappings"][0]["ContainerPort"]
    return readonly_nginx.run(user=uid, port=port, path=path, writable=writable)


def _probed(names: Any) -> tuple[int, str]:
    """The port and path the probe requests on the first service: what its
    ``PROBE_SERVICE_NAMES`` entry adds to the Cloud Map name (``:port``, ``/path``; 80 and
    ``/`` without)."""
    first = names["Fn::Join"][1] if isinstance(names, dict) else [names]
    suffix = "".join(part for part in first[1:] if isinstance(part, str)).split(",")[0]
    found = re.fullmatch(r"(?::([0-9]+))?(/[^,]*)?", suffix)
    assert found, f"PROBE_SERVICE_NAMES {names!r}"
    return int(found[1] or 80), found[2] or "/"


def test_governed_mounts_what_nginx_unprivileged_writes(governed: dict[str, Any]) -> None:
    assert _mounted(governed) == ["/tmp", "/var/cache/nginx"]


def test_nginx_serves_the_probe_path_on_a_read_only_root_as_uid_101(
    governed: dict[str, Any],
) -> None:
    writable = {path: (101, VOLUME_MODES[path]) for path in _mounted(governed)}
    outcome = _start(governed, writable)
    assert (outcome.status, outcome.exited) == (200, None), outcome.stderr


def test_nginx_does_not_start_when_tmp_is_not_writable(governed: dict[str, Any]) -> None:
    writable = {path: (101, VOLUME_MODES[path]) for path in _mounted(governed) if path != "/tmp"}
    outcome = _start(governed, writable)
    assert outcome.status is None
    assert outcome.exited not in (None, 0)
    assert re.search(r'"/tmp/[a-z_.]+" failed \(30: Read-only file system\)', outcome.stderr)


def test_nginx_does_not_start_on_volumes_fargate_makes_without_the_image_volume(
    governed: dict[str, Any],
) -> None:
    # Without a matching VOLUME in the image, Fargate creates each volume 0755 and owned
    # by root: uid 101 cannot write the pid file.
    outcome = _start(governed, {path: (0, 0o755) for path in _mounted(governed)})
    assert outcome.exited not in (None, 0)
    assert "(13: Permission denied)" in outcome.stderr


def test_the_image_declares_a_volume_owned_by_101_for_every_mount(
    governed: dict[str, Any],
) -> None:
    text = DOCKERFILE.read_text()
    instructions = re.sub(r"\\\n", " ", re.sub(r"(?m)^#.*\n", "", text)).splitlines()
    base = next(line for line in instructions if line.startswith("FROM "))
    assert re.fullmatch(r"FROM nginxinc/nginx-unprivileged:[\w.-]+@sha256:[0-9a-f]{64}", base)
    (volume_at,) = [i for i, line in enumerate(instructions) if line.startswith("VOLUME ")]
    volumes = re.findall(r'"([^"]+)"', instructions[volume_at])
    assert sorted(volumes) == _mounted(governed)
    before = " ".join(instructions[:volume_at])
    for path in volumes:
        assert re.search(rf"chown 101:0 [^&]*{re.escape(path)}\b", before)
        assert re.search(rf"chmod {VOLUME_MODES[path]:04o} {re.escape(path)}\b", before)
    assert instructions[-1].strip() == "USER 101"
