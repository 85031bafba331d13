"""Fixtures for the main window's tests: a window wired to the scripted LLM server.

The window talks to a real Docker engine (the `sandbox_image` fixture) and, through
litellm in the LLM helper process (as the app does), over HTTP to the scripted server of
tests/support. Each window starts its own
conversation (and container) on the first message; teardown closes the window (which
pauses and stops the conversation) and deletes the conversation's container and volume.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from tests.support.fixtures import (  # noqa: F401  (fixtures)
    TEST_API_KEY,
    _llm_server_session,
    llm_server,
)
from tests.support.llm_server import ScriptedLLMServer

if TYPE_CHECKING:
    from agent.llm.process import LLMHelper
    from gui.event_view import EventView


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread(qapp) -> Iterator[None]:
    """As in the app (gui.app.make_application): cyclic garbage (a closed window its own
    lambdas keep) is freed on the GUI thread between events, never by a worker's allocation
    nor in the middle of a paint."""
    from gui.garbage import GuiThreadCollector

    collector = GuiThreadCollector(qapp)
    collector.start()
    yield
    collector.stop()
    collector.deleteLater()


@pytest.fixture(scope="session")
def _llm_helper() -> Iterator[LLMHelper]:
    """The LLM helper process, started up front as the app starts it after its window
    shows (with the rest of the preload); one for the whole test session."""
    from agent.llm import process as llm_process
    from gui.preload import preload_heavy_modules

    helper = llm_process.LLMHelper()
    previous, llm_process._helper = llm_process._helper, helper
    try:
        preload_heavy_modules()
    finally:
        llm_process._helper = previous
    yield helper
    helper.stop()


@pytest.fixture
def window_llm(_llm_helper: LLMHelper, monkeypatch: pytest.MonkeyPatch) -> LLMHelper:
    """This test's LLM calls go through the helper process, as the app's do (run_app)."""
    from agent.llm import process as llm_process

    monkeypatch.setattr(llm_process, "_helper", _llm_helper)
    return _llm_helper


@pytest.fixture
def make_window(
    qtbot,
    llm_server: ScriptedLLMServer,  # noqa: F811 (the fixture imported above)
    sandbox_image: str,
    tmp_path: Path,
    window_llm: LLMHelper,
) -> Iterator[Callable[..., object]]:
    from gui.main_window import MainWindow
    from gui.settings.app_settings import AppSettings

    windows: list[MainWindow] = []

    def make(image: str | None = None, **more: object) -> MainWindow:
        """``more``: other settings (``mcp_servers=...``)."""
        settings = AppSettings(
            llm_model=llm_server.model,
            llm_base_url=llm_server.base_url,
            llm_api_key=SecretStr(TEST_API_KEY),
            sandbox_image=image or sandbox_image,
            **more,  # type: ignore[arg-type]
        )
        window = MainWindow(settings, persistence_dir=tmp_path / "conversations", preload=False)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        opened = [b.conversation for b in window.conversations.all() if b.conversation]
        window.shutdown()  # pauses, ends a frozen command, stops the containers
        window.close()
        for conversation in opened:
            with contextlib.suppress(Exception):
                conversation.delete(remove_container=True)


@pytest.fixture
def view(qtbot) -> EventView:
    """An event view on screen, for the stream's own tests."""
    from gui.event_view import EventView

    widget = EventView()
    qtbot.addWidget(widget)
    widget.resize(720, 900)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
