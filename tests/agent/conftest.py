import uuid

import pytest

from tests.support.fixtures import _llm_server_session, llm_server, scripted_llm  # noqa: F401


@pytest.fixture(scope="module")
def shared_workspace(sandbox_image):
    """One container for a module's engine tests (they do not depend on a fresh one)."""
    from sandbox import DockerWorkspace

    name = "agent-tests-" + uuid.uuid4().hex[:8]
    workspace = DockerWorkspace(sandbox_image, conversation_id=name)
    workspace.start()
    yield workspace
    workspace.remove(volume=True)
