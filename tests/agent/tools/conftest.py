"""One container per tool test module: the tools' behaviour does not depend on a fresh one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def workspace(sandbox_image: str, request) -> Iterator:
    from sandbox import DockerWorkspace

    name = request.module.__name__.rpartition(".")[2].removeprefix("test_tool_")
    ws = DockerWorkspace(image=sandbox_image, conversation_id=f"test-{name}-{uuid.uuid4().hex[:8]}")
    ws.start()
    yield ws
    ws.remove()
