"""Fixtures shared by every test: a real Docker engine and a sandbox image built offline.

No registry is reachable on the test machines, so the image is made from Debian's packages
(debootstrap + import) once and cached by tag. A missing engine fails the test: a suite
that skips its Docker tests in CI would be green and prove nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
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


@pytest.fixture(autouse=True)
def _no_session_left_running() -> Iterator[None]:
    """After each test, every conversation's session loop has ended.

    A window closed while its agent runs only asks whether to quit (its loop goes on), and a
    loop still running when the interpreter exits makes Qt abort the whole run after every
    test has passed. So each test's sessions are quit here, after its own fixtures; one
    that will not end fails the test that left it."""
    yield
    bridge_module = sys.modules.get("gui.sessions.session_bridge")
    if bridge_module is None:
        return
    left = bridge_module.end_all_sessions(60.0)
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QApplication.processEvents()  # their `closed` signals, while the views still exist
    assert not left, f"session loops still running after the test: {left}"


TEST_IMAGE = os.environ.get("BERTH_TEST_IMAGE", "berth-test:bookworm-minbase")
# The checkpoint helper needs Python (the agent's image needs only bash), and iproute2 for the
# network fence (sandbox/network.py): built the same way.
CHECKPOINT_IMAGE = os.environ.get(
    "BERTH_TEST_CHECKPOINT_IMAGE", "berth-test-checkpoints:bookworm-python3-iproute2"
)

# The repository door (GitWorkspace) needs git in the agent's image: built the same way.
GIT_IMAGE = os.environ.get("BERTH_TEST_GIT_IMAGE", "berth-test-git:bookworm-git")


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
    build_offline_image(CHECKPOINT_IMAGE, client=docker_client, include=["python3", "iproute2"])
    session_tag = f"session-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    session_image = _tag_for_session(docker_client, TEST_IMAGE, session_tag)
    helper_image = _tag_for_session(docker_client, CHECKPOINT_IMAGE, session_tag)
    # The session's own checkpoint store too: never the user's, never another session's.
    store_volume = f"berth-test-checkpoints-{session_tag}"
    settings = {
        "BERTH_SANDBOX_IMAGE": session_image,
        "BERTH_CHECKPOINT_IMAGE": helper_image,
        "BERTH_CHECKPOINT_VOLUME": store_volume,
    }
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    yield session_image
    _restore_environment(previous)
    _remove_session_tags(docker_client, session_image, helper_image)
    with contextlib.suppress(Exception):
        docker_client.volumes.get(store_volume).remove(force=True)
    # Each conversation's own store, named from that prefix (sandbox.checkpoints).
    stores = docker_client.volumes.list(
        filters={"label": f"berth.checkpoints.store={store_volume}"}
    )
    for volume in stores:
        with contextlib.suppress(Exception):
            volume.remove(force=True)


@pytest.fixture(scope="session")
def git_image(docker_client, sandbox_image) -> Iterator[str]:
    """The test image plus git (for GitWorkspace), under this session's own tag."""
    from sandbox.images.offline import build_offline_image

    build_offline_image(GIT_IMAGE, client=docker_client, include=["git"])
    image = _tag_for_session(
        docker_client, GIT_IMAGE, f"session-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    yield image
    _remove_test_containers(docker_client, image)
    with contextlib.suppress(Exception):
        docker_client.images.remove(image, noprune=True)


# The network door: the agent's image needs curl; the proxy's image is mitmproxy's wheels on
# the checkpoint image (sandbox/network_door/image.py). Both cached by tag.
CURL_IMAGE = os.environ.get("BERTH_TEST_CURL_IMAGE", "berth-test-curl:bookworm-curl")
PROXY_IMAGE = os.environ.get("BERTH_TEST_PROXY_IMAGE", "berth-test-proxy:mitmproxy-11.0.2")


@pytest.fixture(scope="session")
def curl_image(docker_client, sandbox_image) -> Iterator[str]:
    """The test image plus curl, and $BERTH_PROXY_IMAGE set to the proxy's test image,
    each under this session's own tag (its clean-up removes only its own proxies)."""
    from sandbox.images.offline import build_offline_image
    from sandbox.network_door.image import IMAGE_ENV, ensure_proxy_image

    build_offline_image(CURL_IMAGE, client=docker_client, include=["curl", "ca-certificates"])
    ensure_proxy_image(docker_client, PROXY_IMAGE, CHECKPOINT_IMAGE)
    session_tag = f"session-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    image = _tag_for_session(docker_client, CURL_IMAGE, session_tag)
    proxy = _tag_for_session(docker_client, PROXY_IMAGE, session_tag)
    previous = {IMAGE_ENV: os.environ.get(IMAGE_ENV)}
    os.environ[IMAGE_ENV] = proxy
    yield image
    _restore_environment(previous)
    _remove_session_tags(docker_client, image, proxy)


def _restore_environment(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _remove_session_tags(client, *tags: str) -> None:
    for tag in tags:
        _remove_test_containers(client, tag)
        with contextlib.suppress(Exception):  # the tag only; the cached image stays
            client.images.remove(tag, noprune=True)


def _tag_for_session(client, image: str, session_tag: str) -> str:
    repository = image.rpartition(":")[0] or image
    client.images.get(image).tag(repository, session_tag)
    return f"{repository}:{session_tag}"


def _remove_test_containers(client, image: str) -> None:
    # sparse: the list call alone, no inspect per container (one wedged container elsewhere
    # on the engine must not stall this cleanup).
    managed = client.containers.list(all=True, sparse=True, filters={"label": "berth.managed"})
    for container in managed:
        if container.attrs.get("Image") == image:
            with contextlib.suppress(Exception):  # already gone is fine
                container.remove(force=True, v=True)
