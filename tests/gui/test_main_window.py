"""The main window without a conversation: how it is built, named, labelled and enabled.

These need neither Docker nor a model: nothing is sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTreeView, QWidget

from agent import ConversationStats
from agent.session.commands import Phase
from agent.status import AgentStatus
from gui.main_window import MainWindow
from gui.main_window.actions import enabled_for
from gui.main_window.composer import hint_for
from gui.main_window.status_bar import CONTAINER_COLORS, ERROR_COLOR, format_cost, format_tokens
from gui.settings.app_settings import AppSettings
from gui.theme import status_color

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = (
    "action_new",
    "action_send",
    "action_pause",
    "action_resume",
    "action_stop",
    "action_settings",
)


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path) -> MainWindow:
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o")
    monkeypatch.setenv("LLM_API_KEY", "sk-window-test")
    made = MainWindow(persistence_dir=tmp_path, preload=False)
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    return made


def _emit_status(window: MainWindow, status: AgentStatus) -> None:
    """The session's own status callback, as the engine calls it (a status comes from an
    open conversation, so the session is open first)."""
    from agent.session.commands import Phase

    session = window.session._session
    if session.phase is Phase.NOT_STARTED:
        session._set_phase(Phase.OPEN)
    session._on_status(status)


def test_window_builds_with_no_arguments(qtbot, monkeypatch) -> None:
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o")
    window = MainWindow()
    qtbot.addWidget(window)
    for name in ACTIONS:
        action = window.findChild(QAction, name)
        assert action is not None, name
        assert not action.icon().isNull(), f"{name} has no icon"
    assert isinstance(window.findChild(QPlainTextEdit, "composer"), QPlainTextEdit)
    assert isinstance(window.findChild(QLabel, "status_label"), QLabel)
    assert isinstance(window.findChild(QTreeView, "file_tree"), QTreeView)
    assert isinstance(window.findChild(QWidget, "file_viewer"), QWidget)
    assert isinstance(window.findChild(QWidget, "event_view"), QWidget)
    assert window.settings.llm_model == "openai/gpt-4o"
    assert window.windowTitle() == "Berth"


def test_no_dialog_on_start_when_the_environment_has_a_model(qtbot, window) -> None:
    from PySide6.QtWidgets import QApplication

    qtbot.wait(50)
    assert QApplication.activeModalWidget() is None
    assert window.status_label.text() == "Ready"
    assert "gpt-4o" in window.status_bar.model_label.text()
    assert window.status_bar.container_label.text() == "no container yet"


def test_tooltips_name_the_shortcuts(window) -> None:
    expected = {
        "action_send": "Ctrl+Return",
        "action_pause": "Ctrl+.",
        "action_resume": "Ctrl+R",
        "action_stop": "Ctrl+Shift+.",
        "action_new": "Ctrl+N",
        "action_settings": "Ctrl+,",
    }
    for name, keys in expected.items():
        action = window.findChild(QAction, name)
        assert QKeySequence(keys) in action.shortcuts(), name
        native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
        assert native in action.toolTip(), (name, action.toolTip())
    assert QKeySequence("F6") in window.action_pause.shortcuts()
    assert "F6" in window.action_pause.toolTip()
    assert QKeySequence("Shift+F6") in window.action_stop.shortcuts()


def test_actions_follow_the_status(qtbot, window) -> None:
    def enabled() -> set[str]:
        return {name for name in ACTIONS if window.findChild(QAction, name).isEnabled()}

    assert enabled() == {"action_new", "action_settings"}
    qtbot.keyClicks(window.composer_edit, "hello")
    assert "action_send" in enabled()

    _emit_status(window, AgentStatus.RUNNING)
    qtbot.waitUntil(lambda: window.status_label.text() == "Running")
    assert enabled() == {
        "action_new",
        "action_send",
        "action_pause",
        "action_stop",
        "action_settings",
    }
    assert "next step" in window.composer.hint.text()

    _emit_status(window, AgentStatus.PAUSED)
    qtbot.waitUntil(lambda: window.status_label.text() == "Paused")
    assert enabled() == {
        "action_new",
        "action_send",
        "action_resume",
        "action_stop",
        "action_settings",
    }
    assert "wait for Resume" in window.composer.hint.text()

    for status, word in (
        (AgentStatus.FINISHED, "Finished"),
        (AgentStatus.IDLE, "Ready"),
        (AgentStatus.STUCK, "Stuck"),
    ):
        _emit_status(window, status)
        qtbot.waitUntil(lambda word=word: window.status_label.text() == word)
        assert enabled() == {"action_new", "action_send", "action_settings"}, status

    _emit_status(window, AgentStatus.ERROR)
    qtbot.waitUntil(lambda: window.status_label.text() == "Error")
    assert "action_resume" in enabled()  # Resume retries the step that failed

    window.composer_edit.clear()
    assert "action_send" not in enabled()


def _ink(label: QLabel) -> str:
    """The colour a label's text is painted in: of the colours it paints a few times, the
    furthest from its background (the others are the anti-aliased edges between them)."""
    image = label.grab().toImage()
    counts = Counter(
        image.pixelColor(x, y).getRgb()[:3]
        for x in range(image.width())
        for y in range(image.height())
    )
    background = counts.most_common(1)[0][0]
    ink = max(
        (colour for colour, count in counts.items() if count >= 3),
        key=lambda colour: sum(abs(a - b) for a, b in zip(colour, background, strict=True)),
    )
    return "#{:02x}{:02x}{:02x}".format(*ink)


def test_status_colours_differ_by_status(qtbot, window) -> None:
    bar = window.status_bar
    for status in (AgentStatus.RUNNING, AgentStatus.PAUSED, AgentStatus.ERROR):
        _emit_status(window, status)
        qtbot.waitUntil(lambda status=status: window.session.status is status)
        assert _ink(bar.status_dot) == _ink(bar.status_label) == status_color(status), status
    bar.show_error("The model request failed")
    assert _ink(bar.detail_label) == ERROR_COLOR
    bar.set_container("0123456789abcdef", frozen=True)
    assert _ink(bar.container_label) == CONTAINER_COLORS["frozen"]
    bar.set_container("0123456789abcdef", frozen=False)
    assert _ink(bar.container_label) == CONTAINER_COLORS["running"]


def test_enabled_table_while_the_container_starts() -> None:
    states = enabled_for(AgentStatus.IDLE, phase=Phase.STARTING, has_text=True, configured=True)
    assert states["action_send"] and states["action_new"]
    assert not (states["action_pause"] or states["action_resume"] or states["action_stop"])
    unconfigured = enabled_for(
        AgentStatus.IDLE, phase=Phase.NOT_STARTED, has_text=True, configured=False
    )
    assert not unconfigured["action_send"]


def test_composer_hint_says_what_send_will_do() -> None:
    assert "Ctrl+Return" in hint_for(AgentStatus.IDLE, starting=False, queued=0, configured=True)
    running = hint_for(AgentStatus.RUNNING, starting=False, queued=2, configured=True)
    assert running.startswith("2 messages queued")
    assert "Resume" in hint_for(AgentStatus.PAUSED, starting=False, queued=1, configured=True)
    assert "Settings" in hint_for(AgentStatus.IDLE, starting=False, queued=0, configured=False)
    assert "type ahead" in hint_for(AgentStatus.IDLE, starting=True, queued=0, configured=True)


def test_status_bar_figures(window) -> None:
    bar = window.status_bar
    bar.set_stats(
        ConversationStats(steps=1, prompt_tokens=12_345, completion_tokens=678, cost=0.0421)
    )
    assert bar.steps_label.text() == "1 step"
    assert bar.tokens_label.text() == "↑ 12.3k  ↓ 678"
    assert bar.cost_label.text() == "$0.04"
    bar.set_container("0123456789abcdef", True)
    assert bar.container_label.text() == "⬢ 0123456789ab · frozen"
    bar.set_container("0123456789abcdef", False, True)  # held by SIGSTOP, not frozen
    assert bar.container_label.text() == "⬢ 0123456789ab · stopped"
    assert format_tokens(2_500_000) == "2.50M"
    assert format_cost(0.0012) == "$0.0012"


def test_settings_come_from_the_environment_and_never_dump_the_key(monkeypatch) -> None:
    monkeypatch.setenv("LLM_MODEL", "openai/local-model")
    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LLM_API_KEY", "sk-secret-abc")
    monkeypatch.setenv("BERTH_SANDBOX_IMAGE", "my/image:1")
    settings = AppSettings.load()
    assert settings.llm_model == "openai/local-model"
    assert settings.llm_base_url == "http://127.0.0.1:9/v1"
    assert settings.sandbox_image == "my/image:1"
    assert settings.schema_version == 1
    assert isinstance(settings.llm_api_key, SecretStr)
    assert "sk-secret-abc" not in settings.model_dump_json()
    assert "sk-secret-abc" not in repr(settings)
    llm = settings.make_llm()
    assert llm.model == "openai/local-model" and llm.base_url == "http://127.0.0.1:9/v1"
    assert llm.api_key.get_secret_value() == "sk-secret-abc"
    monkeypatch.setenv("LLM_BASE_URL", "")
    assert AppSettings.load().llm_base_url is None


def test_startup_imports_neither_litellm_nor_docker() -> None:
    """Build the themed window in a fresh interpreter; with Qt warnings fatal. Nor the
    keyring: with no key in the environment, it is read after the first paint."""
    code = (
        "import json, sys\n"
        "from gui.app import make_application\n"
        "app = make_application([])\n"
        "from gui.main_window import MainWindow\n"
        "window = MainWindow(preload=False)\n"
        "app.processEvents()\n"
        "print(json.dumps({'litellm': 'litellm' in sys.modules,\n"
        "                  'docker': 'docker' in sys.modules,\n"
        "                  'openai': 'openai' in sys.modules,\n"
        "                  'keyring': 'keyring' in sys.modules}))\n"
        "window.shutdown()\n"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QT_FATAL_WARNINGS": "1",
        "LLM_MODEL": "openai/gpt-4o",
    }
    env.pop("LLM_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {"litellm": False, "docker": False, "openai": False, "keyring": False}
