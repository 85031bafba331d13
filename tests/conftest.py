"""Fixtures shared by every test: a real Docker engine and a sandbox image built offline.

No registry is reachable on the test machines, so the image is made from Debian's packages
(debootstrap + import) once and cached by tag. A missing engine fails the test: a suite
that skips its Docker tests in CI would be green and prove nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports platformdirs or litellm: tests never touch the user's real
# folders, and litellm never tries to download its price list.
_TEST_HOME = Path(tempfile.mkdtemp(prefix="berth-tests-home-"))
os.environ["XDG_DATA_HOME"] = str(_TEST_HOME / "data")
os.environ["XDG_CONFIG_HOME"] = str(_TEST_HOME / "config")
os.environ["XDG_CACHE_HOME"] = str(_TEST_HOME / "cache")
os.environ["XDG_STATE_HOME"] = str(_TEST_HOME / "state")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("LLM_MODEL", "LLM_BASE_URL", "LLM_API_KEY"):
    os.environ.pop(_var, None)

TEST_IMAGE = os.environ.get("BERTH_TEST_IMAGE", "berth-test:bookworm-minbase")


@pytest.fixture(scope="session")
def docker_client():
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # any failure to reach the engine is the same finding
        pytest.fail(
            f"A Docker engine is required for this test and none answered: {exc}. "
            "Start dockerd (CI's .ci/run does) and run again.",
            pytrace=False,
        )
    return client


@pytest.fixture(scope="session")
def sandbox_image(docker_client) -> Iterator[str]:
    """A minimal Debian image (bash, coreutils; no Python), built once and cached by tag.

    Each test session runs it under a tag of its own, so the session's clean-up removes only
    its own containers, never those of another session (or a benchmark) on the same engine.
    """
    from sandbox.images.offline import build_offline_image

    build_offline_image(TEST_IMAGE, client=docker_client)
    repository = TEST_IMAGE.rpartition(":")[0] or TEST_IMAGE
    session_tag = f"session-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    docker_client.images.get(TEST_IMAGE).tag(repository, session_tag)
    session_image = f"{repository}:{session_tag}"
    previous = os.environ.get("BERTH_SANDBOX_IMAGE")
    os.environ["BERTH_SANDBOX_IMAGE"] = session_image
    yield session_image
    if previous is None:
        os.environ.pop("BERTH_SANDBOX_IMAGE", None)
    else:
        os.environ["BERTH_SANDBOX_IMAGE"] = previous
    _remove_test_containers(docker_client, session_image)
    with contextlib.suppress(Exception):  # the tag only; the cached image stays
        docker_client.images.remove(session_image, noprune=True)


def _remove_test_containers(client, image: str) -> None:
    # sparse: the list call alone, no inspect per container (one wedged container elsewhere
    # on the engine must not stall this cleanup).
    managed = client.containers.list(all=True, sparse=True, filters={"label": "berth.managed"})
    for container in managed:
        if container.attrs.get("Image") == image:
            with contextlib.suppress(Exception):  # already gone is fine
                container.remove(force=True, v=True)
