"""The tests' image for MCP servers: git and python3 from Debian (debootstrap), with the
reference ``mcp-server-git`` (and the ``mcp`` SDK it brings) from PyPI wheels downloaded
on the host, since the container reaches no registry. Cached by tag."""

from __future__ import annotations

import os

import docker
import pytest

from sandbox.images.offline import build_offline_image, image_exists
from sandbox.images.wheels import build_wheel_image

BASE_IMAGE = os.environ.get("BERTH_TEST_MCP_BASE", "berth-test-mcp-base:bookworm-git-python3")
MCP_IMAGE = os.environ.get("BERTH_TEST_MCP_IMAGE", "berth-test-mcp:server-git-2026.10.19")
REQUIREMENTS = ("mcp-server-git==2026.10.19",)
SITE = "/opt/berth-mcp"


def ensure_mcp_image(client: docker.DockerClient) -> str:
    if image_exists(client, MCP_IMAGE):
        return MCP_IMAGE
    build_offline_image(BASE_IMAGE, client=client, include=["git", "python3"])
    build_wheel_image(client, MCP_IMAGE, BASE_IMAGE, REQUIREMENTS, SITE)
    return MCP_IMAGE


@pytest.fixture(scope="session")
def mcp_image(docker_client, sandbox_image) -> str:
    """The MCP test image (built once per engine; cached by tag)."""
    return ensure_mcp_image(docker_client)
