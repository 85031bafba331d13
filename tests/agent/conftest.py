import uuid

import pytest

from tests.support.fixtures import _llm_server_session, llm_server, scripted_llm  # noqa: F401
from tests.support.mcp_image import mcp_image  # noqa: F401


@pytest.fixture(scope="module")
def shared_workspace(sandbox_image):
    """One container for a module's engine tests (they do not depend on a fresh one)."""
    from sandbox import DockerWorkspace

    name = "agent-tests-" + uuid.uuid4().hex[:8]
    workspace = DockerWorkspace(sandbox_image, conversation_id=name)
    workspace.start()
    yield workspace
    workspace.remove(volume=True)


@pytest.fixture
def open_conversations():
    """Conversations a test opened, deleted (container, volume, folder) afterwards."""
    made = []
    yield made
    for conversation in made:
        conversation.delete()
