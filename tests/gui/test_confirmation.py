"""Confirmation mode and an unreachable engine, through the window.

Real Docker, real HTTP to the scripted model. In confirmation mode the agent stops before
each tool call and the bar above the composer shows the call in full: Approve runs it,
Reject (with a reason) never runs it and the model reads the reason. With DOCKER_HOST on a
closed port, a dialog says what to do; Retry, once the engine is back, carries on.
"""

from __future__ import annotations

import io
import os
import socket
import tarfile

import docker.errors
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from agent.events import ActionEvent
from gui.event_view.parts import HeaderPart
from gui.event_view.rows import ToolRow
from gui.main_window.confirmation_bar import ConfirmationBar, describe_action
from tests.gui.window_helpers import status_text, view_has
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_S = 90_000  # ms: the first container start and the first LLM call
APPROVED = "echo approved-run > /workspace/approved.txt; cat /workspace/approved.txt"
REJECTED = "echo gone > /workspace/rejected.txt; rm -rf /workspace/*"
REASON = "Too dangerous: list the files instead"


def _container_file(docker_client, window, path: str) -> str | None:
    """Through the archive API: a snapshot may hold the container frozen for a moment, and
    no exec starts in a frozen container."""
    container = docker_client.containers.get(window.session.conversation.workspace.container.id)
    try:
        chunks, _stat = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        return member.read().decode() if member is not None else None


def _command_chips(window) -> list[str]:
    """The chips on the command card's header (what the card says about its state)."""
    view = window.event_view
    rows = [r for r in view.model().rows() if isinstance(r, ToolRow)]
    part = view.event_delegate().card(rows[-1]).parts[0]
    assert isinstance(part, HeaderPart)
    return [chip.text for chip in part.chips]


def _confirming_window(make_window):
    window = make_window()
    window.settings.confirmation_mode = True
    return window


def test_approve_runs_the_command_shown(qtbot, make_window, llm_server, docker_client):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", "I will write the file.", command=APPROVED)
        return Reply.say("Wrote /workspace/approved.txt.")

    llm_server.script = script
    window = _confirming_window(make_window)
    bar = window.confirmation_bar
    assert bar.isHidden()
    qtbot.keyClicks(window.composer_edit, "Write approved.txt")
    window.action_send.trigger()

    qtbot.waitUntil(bar.isVisible, timeout=STARTUP_S)
    assert status_text(window) == "Waiting for approval"
    assert "bash" in bar.text and APPROVED in bar.text
    assert bar.approve_button.isEnabled() and bar.reject_button.isEnabled()
    assert _container_file(docker_client, window, "/workspace/approved.txt") is None
    assert _command_chips(window) == ["awaiting approval"]
    shot = os.environ.get("BERTH_CONFIRMATION_SHOT")
    if shot:  # for a look at the bar: BERTH_CONFIRMATION_SHOT=/tmp/confirm.png
        window.grab().save(shot)

    qtbot.mouseClick(bar.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=60_000)
    assert bar.isHidden()
    assert view_has(window, "approved-run")
    assert view_has(window, "Wrote /workspace/approved.txt.")
    assert _container_file(docker_client, window, "/workspace/approved.txt") == "approved-run\n"


def test_reject_with_a_reason_tells_the_model_and_never_runs(
    qtbot, make_window, llm_server, docker_client
):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command=REJECTED)
        return Reply.say("Understood, I will not delete anything.")

    llm_server.script = script
    window = _confirming_window(make_window)
    bar = window.confirmation_bar
    qtbot.keyClicks(window.composer_edit, "Clean up the workspace")
    window.action_send.trigger()
    qtbot.waitUntil(bar.isVisible, timeout=STARTUP_S)
    assert REJECTED in bar.text

    # Reject asks for a reason first; Enter in the reason box rejects.
    assert bar.reason_edit.isHidden()
    qtbot.mouseClick(bar.reject_button, Qt.MouseButton.LeftButton)
    assert bar.reason_edit.isVisible() and bar.reason_edit.hasFocus()
    qtbot.keyClicks(bar.reason_edit, REASON)
    shot = os.environ.get("BERTH_CONFIRMATION_SHOT")
    if shot:
        window.grab().save(shot.replace(".png", "-reject.png"))
    qtbot.keyClick(bar.reason_edit, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=60_000)
    assert bar.isHidden()
    assert len(llm_server.requests) == 2
    assert REASON in llm_server.requests[1].all_text()
    assert view_has(window, "Understood, I will not delete anything.")
    assert "awaiting approval" not in _command_chips(window)
    assert _container_file(docker_client, window, "/workspace/rejected.txt") is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_engine_dialog_then_retry(qtbot, make_window, llm_server, monkeypatch):
    llm_server.script = lambda _r: Reply.say("Hello from the container.")
    window = make_window()
    real_host = os.environ.get("DOCKER_HOST")
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{_closed_port()}")
    qtbot.keyClicks(window.composer_edit, "Say hello")
    window.action_send.trigger()

    def dialog() -> QMessageBox | None:
        return window.findChild(QMessageBox, "engine_unreachable_dialog")

    qtbot.waitUntil(lambda: dialog() is not None and dialog().isVisible(), timeout=30_000)
    box = dialog()
    assert "DOCKER_HOST" in box.informativeText()
    assert "Retry" in box.informativeText()
    assert status_text(window) == "Ready"
    assert not window.session.is_starting
    assert llm_server.requests == []

    # Retry while the engine is still away: the dialog comes back, nothing is lost.
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Retry), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog() not in (None, box) and dialog().isVisible(), timeout=30_000)
    box = dialog()
    assert window.findChildren(QMessageBox, "engine_unreachable_dialog") == [box]

    if real_host is None:
        monkeypatch.delenv("DOCKER_HOST")
    else:
        monkeypatch.setenv("DOCKER_HOST", real_host)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Retry), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog() is None, timeout=5_000)
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_S)
    assert view_has(window, "Say hello")
    assert view_has(window, "Hello from the container.")
    assert "Say hello" in llm_server.requests[0].all_text()


def _edit(**arguments) -> ActionEvent:
    return ActionEvent(tool_call_id="call_1", tool_name="file_editor", arguments=arguments)


def test_the_bar_shows_an_edit_in_full_and_asks_a_reason_before_rejecting(qtbot):
    bar = ConfirmationBar()
    qtbot.addWidget(bar)
    replace = _edit(
        command="str_replace", path="/workspace/app.py", old_str="x = 1", new_str="x = 2\ny = 3"
    )
    create = _edit(command="create", path="/workspace/new.txt", file_text="a\nb\n")
    bar.show_actions([replace, create])
    bar.resize(700, bar.sizeHint().height())
    assert bar.isVisible()
    assert "these 2 tool calls" in bar.title.text()
    text = bar.text
    for shown in (
        "file_editor — str_replace /workspace/app.py",
        "- replace:\n    x = 1",
        "+ with:\n    x = 2\n    y = 3",
        "file_editor — create /workspace/new.txt",
        "new file, 2 lines:\n    a\n    b",
    ):
        assert shown in text, text
    # All of it fits: the box does not need scrolling for a short edit.
    qtbot.waitUntil(lambda: bar.details.verticalScrollBar().maximum() == 0, timeout=2_000)

    answers: list[str] = []
    bar.rejected.connect(answers.append)
    qtbot.mouseClick(bar.reject_button, Qt.MouseButton.LeftButton)
    assert bar.reason_edit.isVisible() and answers == []
    qtbot.keyClick(bar.reason_edit, Qt.Key.Key_Escape)  # changed my mind
    assert bar.reason_edit.isHidden() and answers == []
    qtbot.mouseClick(bar.reject_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(bar.reason_edit, "keep x")
    qtbot.mouseClick(bar.reject_button, Qt.MouseButton.LeftButton)
    assert answers == ["keep x"]
    # One answer per wait: the buttons are inert until the next call is shown.
    assert not bar.approve_button.isEnabled() and not bar.reject_button.isEnabled()
    bar.show_actions([create])
    assert bar.approve_button.isEnabled() and bar.reason_edit.isHidden()
    assert "Approve it?" in bar.title.text()
    assert describe_action(ActionEvent(tool_call_id="c", tool_name="bash", arguments={})) == "bash"
