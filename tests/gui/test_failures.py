"""Failures a user can act on, through the window: real Docker, real HTTP to a scripted model.

- The model's endpoint keeps failing past the LLM's retries: a banner above the composer says
  so; Retry runs again and the task finishes.
- The sandbox image is missing: a dialog offers to build it; the build shows a progress
  dialog, and Cancel stops waiting and says so.
- Notifications: only while the window is not active, and alerting the window is harmless.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QPushButton, QWidget

from agent.status import AgentStatus
from gui.sessions.notify import Notifier, notification_for
from tests.gui.window_helpers import status_text, view_has
from tests.support.llm_server import Reply

STARTUP_S = 90_000
MISSING_IMAGE = "berth-test-missing-image:does-not-exist"


def test_llm_failure_banner_then_retry_finishes(qtbot, make_window, llm_server, monkeypatch):
    # One retry, a few ms apart: the test fails the endpoint three times in a row.
    monkeypatch.setenv("LLM_NUM_RETRIES", "1")
    monkeypatch.setenv("LLM_RETRY_MIN_WAIT", "0.01")
    llm_server.script = lambda _r: Reply.say("Done after the outage.")
    llm_server.fail_next(3, 500)
    window = make_window()
    banner = window.findChild(QWidget, "llm_error_banner")
    assert banner is not None and banner.isHidden()

    qtbot.keyClicks(window.composer_edit, "Say something")
    window.action_send.trigger()
    # The user looks at another window meanwhile: the failure is notified.
    elsewhere = QWidget()
    qtbot.addWidget(elsewhere)
    elsewhere.show()
    elsewhere.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=STARTUP_S)
    assert window.failures.notifier.sent == ["The agent stopped on an error."]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert status_text(window) == "Error"
    assert "500" in banner.text() or "injected" in banner.text()
    # Above the composer, in the conversation column.
    assert (
        banner.mapTo(window, banner.rect().topLeft()).y()
        < window.composer.mapTo(window, window.composer.rect().topLeft()).y()
    )
    window.grab().save("/tmp/berth_llm_error_banner.png")

    # Retry: one more injected failure is eaten by the LLM's own retry; then it finishes.
    retry = banner.findChild(QPushButton, "llm_retry_button")
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    assert banner.isHidden()
    assert view_has(window, "Done after the outage.")
    assert window.failures.notifier.sent == ["The agent stopped on an error."]  # was active


def test_missing_image_offers_a_build_and_cancel_stops_waiting(qtbot, make_window, docker_client):
    window = make_window(image=MISSING_IMAGE)
    qtbot.keyClicks(window.composer_edit, "Hello")
    window.action_send.trigger()

    def dialog() -> QMessageBox | None:
        return window.findChild(QMessageBox, "image_missing_dialog")

    qtbot.waitUntil(lambda: dialog() is not None and dialog().isVisible(), timeout=30_000)
    box = dialog()
    assert MISSING_IMAGE in box.text()
    assert not window.session.is_starting
    assert status_text(window) == "Ready"

    build = box.findChild(QPushButton, "image_build_button")
    qtbot.mouseClick(build, Qt.MouseButton.LeftButton)
    progress = window.findChild(QProgressDialog, "image_build_progress")
    assert progress is not None and progress.isVisible()
    assert MISSING_IMAGE in progress.labelText()
    qtbot.mouseClick(progress.findChild(QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(QProgressDialog, "image_build_progress") is None)
    assert "Stopped waiting" in window.status_bar.detail_label.text()
    assert not window.session.is_starting
    assert window.session.conversation is None
    with contextlib.suppress(Exception):
        docker_client.images.remove(MISSING_IMAGE, force=True)


def test_notifies_only_when_the_window_is_not_active(qtbot):
    for status in (
        AgentStatus.FINISHED,
        AgentStatus.ERROR,
        AgentStatus.WAITING_FOR_CONFIRMATION,
    ):
        assert notification_for(status, window_active=True) is None
        assert notification_for(status, window_active=False)
    assert notification_for(AgentStatus.PAUSED, window_active=False) is None
    assert notification_for(AgentStatus.RUNNING, window_active=False) is None

    window = QWidget()
    window.setWindowTitle("Berth")
    other = QWidget()
    for widget in (window, other):
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitExposed(widget)
    notifier = Notifier(window, "Berth")

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert not notifier.maybe_notify(AgentStatus.FINISHED)
    assert notifier.sent == []

    # The user went to another window: the agent finishing, failing or asking is said.
    other.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    with qtbot.captureExceptions() as exceptions:
        assert notifier.maybe_notify(AgentStatus.WAITING_FOR_CONFIRMATION)
        assert notifier.maybe_notify(AgentStatus.ERROR)
        assert not notifier.maybe_notify(AgentStatus.PAUSED)
    assert exceptions == []
    assert notifier.sent == [
        "The agent waits for your approval.",
        "The agent stopped on an error.",
    ]


def test_once_the_image_is_there_build_starts_the_conversation_with_the_message(
    qtbot, make_window, llm_server, docker_client, sandbox_image
):
    tag = "berth-test-missing-image:appears"
    with contextlib.suppress(Exception):
        docker_client.images.remove(tag, force=True)
    llm_server.script = lambda _r: Reply.say("Hello from the new image.")
    window = make_window(image=tag)
    qtbot.keyClicks(window.composer_edit, "Hello")
    window.action_send.trigger()
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "image_missing_dialog") is not None, timeout=30_000
    )
    box = window.findChild(QMessageBox, "image_missing_dialog")
    # The image turns up (as a finished build would leave it): Build finds it, and starts.
    docker_client.images.get(sandbox_image).tag(*tag.split(":"))
    try:
        qtbot.mouseClick(
            box.findChild(QPushButton, "image_build_button"), Qt.MouseButton.LeftButton
        )
        qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_S)
        assert window.findChild(QProgressDialog, "image_build_progress") is None
        assert view_has(window, "Hello from the new image.")
        assert "Hello" in llm_server.requests[0].all_text()
    finally:
        conversation = window.session.conversation
        window.close()
        if conversation is not None:
            with contextlib.suppress(Exception):
                conversation.delete(remove_container=True)
        with contextlib.suppress(Exception):
            docker_client.images.remove(tag, force=True)
