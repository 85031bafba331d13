"""The user story, end to end, through the window: real Docker, real HTTP to a scripted model.

Type a task and Send; watch it run with live output; Pause (the container freezes); open a
file while paused; send a correction; Resume; see it finish with the new file in the tree.
Also: Stop in the middle of a command, and a run streaming thousands of lines.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent.status import AgentStatus
from tests.gui.window_helpers import queued_rows, status_text, tree_index, view_has, view_texts
from tests.support.llm_server import RecordedRequest, Reply
from tests.support.stories import (
    CORRECTION,
    NEW_FILE,
    STREAMING_ROWS_STEPS,
    TASK,
    greeting_script,
    streaming_rows_script,
)

STARTUP_S = 90_000  # ms: the first container start and the first LLM call


def _frozen(docker_client, window) -> bool:
    container = window.session.conversation.workspace.container
    return bool(docker_client.containers.get(container.id).attrs["State"]["Paused"])


def _let_go(qtbot, docker_client, window) -> None:
    """Running, not frozen: at once, or once the checkpoint of the last step is taken (a
    snapshot holds the container still for a moment); never frozen for good."""
    qtbot.waitUntil(lambda: not _frozen(docker_client, window), timeout=15_000)


def test_send_pause_browse_correct_resume_finish(qtbot, make_window, llm_server, docker_client):
    llm_server.script = greeting_script
    window = make_window()
    assert status_text(window) == "Ready"
    assert not window.action_pause.isEnabled() and not window.action_resume.isEnabled()

    # Type and send.
    assert not window.action_send.isEnabled()
    qtbot.keyClicks(window.composer_edit, TASK)
    assert window.action_send.isEnabled()
    window.action_send.trigger()
    assert window.composer_edit.toPlainText() == ""

    # Running, with the command's output arriving live.
    qtbot.waitUntil(lambda: status_text(window) == "Running", timeout=STARTUP_S)
    qtbot.waitUntil(lambda: view_has(window, "line 3"), timeout=30_000)
    assert view_has(window, "Write a greeting")
    assert window.action_pause.isEnabled() and window.action_stop.isEnabled()
    assert not window.action_resume.isEnabled()
    assert "running" in window.status_bar.container_label.text()

    # Pause: PAUSED at once, and the container is frozen (the cgroup freezer).
    window.action_pause.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=5_000)
    assert _frozen(docker_client, window)
    qtbot.waitUntil(lambda: "frozen" in window.status_bar.container_label.text(), timeout=5_000)
    assert window.action_resume.isEnabled() and not window.action_pause.isEnabled()
    assert not view_has(window, "loop-42-done")

    # While paused: the file the command wrote opens in the viewer.
    window.file_browser.refresh_now()
    qtbot.waitUntil(lambda: tree_index(window, "/workspace/notes.txt").isValid(), timeout=15_000)
    window.file_tree.setCurrentIndex(tree_index(window, "/workspace/notes.txt"))
    viewer = window.file_viewer
    qtbot.waitUntil(
        lambda: viewer.path == "/workspace/notes.txt" and "draft" in viewer.text_view.toPlainText(),
        timeout=15_000,
    )

    # A correction typed while paused (Ctrl+Return sends) is recorded and waits for Resume.
    window.composer_edit.setFocus()
    qtbot.keyClicks(window.composer_edit, CORRECTION)
    qtbot.keyClick(window.composer_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(CORRECTION in row for row in queued_rows(window)), timeout=5_000)
    assert window.composer_edit.toPlainText() == ""
    assert "wait for Resume" in window.composer.hint.text()
    assert status_text(window) == "Paused"
    assert len(llm_server.requests) == 1

    # Resume: the command carries on where it stood, then the model sees the correction.
    window.action_resume.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=60_000)
    texts = "\n".join(view_texts(window))
    assert "loop-42-done" in texts, texts
    assert CORRECTION in llm_server.requests[1].all_text()
    assert not queued_rows(window)
    _let_go(qtbot, docker_client, window)
    assert "running" in window.status_bar.container_label.text()
    assert window.status_bar.steps_label.text() == "3 steps"

    # The new file is in the tree, and it says what the correction asked for.
    qtbot.waitUntil(lambda: tree_index(window, NEW_FILE).isValid(), timeout=15_000)
    window.file_tree.setCurrentIndex(tree_index(window, NEW_FILE))
    qtbot.waitUntil(lambda: "HELLO" in viewer.text_view.toPlainText(), timeout=15_000)
    assert window.action_send.isEnabled() is False  # empty composer
    assert not window.action_pause.isEnabled() and not window.action_stop.isEnabled()


def test_stop_ends_the_command_in_flight(qtbot, make_window, llm_server, docker_client):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call(
                "bash", command="for i in $(seq 1 600); do echo tick $i; sleep 0.1; done"
            )
        return Reply.say("Stopped as you asked.")

    llm_server.script = script
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Count slowly to 600")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "tick 3"), timeout=STARTUP_S)

    window.action_stop.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=5_000)
    qtbot.waitUntil(lambda: view_has(window, "The user stopped this tool call"), timeout=10_000)
    assert "Stopped by the user" in window.status_bar.detail_label.text()
    _let_go(qtbot, docker_client, window)
    # The loop really ended: no more output comes.
    settled = "\n".join(view_texts(window))
    qtbot.wait(600)
    assert "\n".join(view_texts(window)) == settled
    assert not view_has(window, "tick 600")

    # Stop leaves the agent paused: a message waits for Resume, then the model sees it
    # along with the stopped call's result.
    qtbot.keyClicks(window.composer_edit, "Never mind.")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "Never mind."), timeout=5_000)
    assert status_text(window) == "Paused"
    window.action_resume.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    assert "The user stopped this tool call" in llm_server.requests[-1].all_text()
    assert view_has(window, "Stopped as you asked.")


def test_a_streaming_run_shows_every_row_and_finishes(qtbot, make_window, llm_server):
    """A run that streams thousands of lines ends FINISHED with its last row in the view.
    How long the GUI thread stalls meanwhile is measured by tests/bench/bench_heartbeat.py
    (the same run, with a heartbeat timer)."""
    steps = STREAMING_ROWS_STEPS
    llm_server.script = streaming_rows_script
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Print many rows")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Running", timeout=STARTUP_S)
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=120_000)

    assert window.session.status is AgentStatus.FINISHED
    assert view_has(window, f"step {steps - 1} row 20.300")


def test_a_container_that_cannot_start_is_reported_in_the_window(qtbot, make_window):
    window = make_window(image="berth-no-such-image:none")
    qtbot.keyClicks(window.composer_edit, "Hello")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "Could not start the container"), timeout=60_000)
    assert view_has(window, "berth-no-such-image:none")
    qtbot.waitUntil(lambda: status_text(window) == "Ready")
    assert "Could not start the container" in window.status_bar.detail_label.text()
    qtbot.keyClicks(window.composer_edit, "Try again")
    assert window.action_send.isEnabled()


def test_a_message_sent_while_running_is_queued_until_the_model_sees_it(
    qtbot, make_window, llm_server
):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call(
                "bash", command="for i in $(seq 1 15); do echo wait $i; sleep 0.1; done"
            )
        return Reply.say("Noted: " + request.last_user_text())

    llm_server.script = script
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Wait a little")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "wait 2"), timeout=STARTUP_S)

    qtbot.keyClicks(window.composer_edit, "And then say hello")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: queued_rows(window) == ["And then say hello"], timeout=5_000)
    # The row and the count are two notices; a burst may hand them over in two slices.
    qtbot.waitUntil(
        lambda: window.composer.hint.text().startswith("1 message queued"), timeout=5_000
    )
    assert status_text(window) == "Running"

    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    assert not queued_rows(window)
    assert not window.composer.hint.text().startswith("1 message queued")
    assert view_has(window, "Noted: And then say hello")
    assert "And then say hello" in llm_server.requests[1].all_text()
