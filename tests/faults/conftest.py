"""Fault-suite fixtures: a hostile container, a failing disk, an engine that kills things.

Tests that break their workspace make their own (``make_ws``); read-only attacks share the
module's (``ws``). Everything runs on the real engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sandbox import DockerWorkspace
from tests.support.fixtures import _llm_server_session, llm_server, scripted_llm  # noqa: F401
from tests.support.workspaces import started_workspace, workspace_factory


@pytest.fixture(scope="module")
def ws(sandbox_image) -> Iterator[DockerWorkspace]:
    with started_workspace(sandbox_image, prefix="fault") as workspace:
        yield workspace


@pytest.fixture
def make_ws(sandbox_image) -> Iterator[Callable[..., DockerWorkspace]]:
    with workspace_factory(sandbox_image, prefix="fault") as make:
        yield make
