"""Several conversations at once in one window: real Docker, real HTTP, real widgets.

A user starts one agent on a long job, clicks New and starts another, switches between
them through the history list, pauses one while the other goes on, and quits with Pause
All; on the next start both come back paused and resume.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from agent.status import AgentStatus
from tests.gui.window_helpers import status_text, view_has
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_MS = 90_000


def _beats(name: str, count: int) -> str:
    """A loop of `count` beats that ends early once /tmp/release exists in its container.

    A test that needs one job to outlive another releases it (`_release`) instead of
    guessing from beat counts how long a loaded machine takes to get there.
    """
    return (
        f"for i in $(seq 1 {count}); do [ -e /tmp/release ] && break; "
        f"echo {name}-beat $i; sleep 0.1; done; echo {name}-done"
    )


def _release(bridge) -> None:
    # Through the archive API: a snapshot may hold the container frozen for a moment, and
    # no exec starts in a frozen container.
    bridge.conversation.workspace.write_bytes("/tmp/release", b"")


def _script(counts: dict[str, int]):
    """Task "A ..." runs A's loop, "B ..." B's; each then finishes saying so."""

    def script(request: RecordedRequest) -> Reply:
        name = request.user_texts()[0][0]
        if not request.tool_results():
            return Reply.call("bash", command=_beats(name, counts[name]))
        return Reply.call("finish", message=f"{name} finished: {request.last_tool_result()}")

    return script


def _state(docker_client, bridge) -> str:
    """What the engine says of a conversation's container: running, paused, exited."""
    container = bridge.conversation.workspace.container
    attrs = docker_client.api.inspect_container(container.id)["State"]
    return "paused" if attrs["Paused"] else attrs["Status"]


def _row_status(window, conversation_id: str) -> str:
    from gui.history.panel import StatusWordRole

    model = window.history_panel.model
    return model.index(model.row_of(conversation_id)).data(StatusWordRole)


def _click_row(qtbot, window, conversation_id: str) -> None:
    panel = window.history_panel
    qtbot.waitUntil(lambda: conversation_id in panel.ids(), timeout=10_000)
    view = panel.list_view
    rect = view.visualRect(panel.model.index(panel.model.row_of(conversation_id)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_two_at_once_one_paused_while_the_other_finishes(
    qtbot, make_window, llm_server, docker_client
):
    llm_server.script = _script({"A": 6000, "B": 6000})
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "B: a long job")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "B-beat 2"), timeout=STARTUP_MS)
    b = window.session
    b_id = b.conversation_id

    # New while B runs: a second conversation in its own container; B goes on.
    window.action_new.trigger()
    assert window.session is not b
    assert window.event_view.model().rowCount() == 0
    assert status_text(window) == "Ready"
    assert window.action_pause_all.isEnabled()  # B runs, though it is not shown
    qtbot.keyClicks(window.composer_edit, "A: a shorter job")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "A-beat 2"), timeout=STARTUP_MS)
    a = window.session
    assert a.conversation.workspace.container.id != b.conversation.workspace.container.id
    assert _state(docker_client, b) == "running" and b.status is AgentStatus.RUNNING
    assert not view_has(window, "B-beat")  # nothing of B leaks into A's stream
    # Both are listed, titled by their first messages, each with its status. (Their order is
    # the last saved first: B's checkpoint, taken as its command starts, may be saved after
    # A's first step.)
    model = window.history_panel.model

    def both_listed() -> None:  # an assert, so a timeout says what was listed instead
        listed = sorted(model.data(model.index(i)) for i in range(model.rowCount()))
        assert listed == ["A: a shorter job", "B: a long job"]

    qtbot.waitUntil(both_listed, timeout=20_000)
    assert _row_status(window, b_id) == "Running"

    # Show B (its row), pause it: A goes on running while B is frozen.
    _click_row(qtbot, window, b_id)
    qtbot.waitUntil(lambda: window.session is b, timeout=5_000)
    qtbot.waitUntil(lambda: view_has(window, "B-beat"), timeout=5_000)
    assert not view_has(window, "A-beat")
    assert _state(docker_client, a) == "running"  # showing B asked nothing of A
    window.action_pause.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=10_000)
    assert _state(docker_client, b) == "paused"
    assert _state(docker_client, a) == "running"
    assert a.status is AgentStatus.RUNNING

    # A finishes while B stays paused; the rows say so.
    _release(a)
    qtbot.waitUntil(lambda: a.status is AgentStatus.FINISHED, timeout=60_000)
    qtbot.waitUntil(lambda: _row_status(window, a.conversation_id) == "Finished")
    assert _row_status(window, b_id) == "Paused"
    assert _state(docker_client, b) == "paused" and b.status is AgentStatus.PAUSED
    assert status_text(window) == "Paused"  # the window still shows B

    # Switching rows back and forth never changes a container's state.
    for target in (a, b, a, b):
        _click_row(qtbot, window, target.conversation_id)
        qtbot.waitUntil(lambda target=target: window.session is target, timeout=5_000)
    assert _state(docker_client, b) == "paused"
    assert _state(docker_client, a) == "running"  # A finished; its container is up, idle
    assert view_has(window, "B-beat") and not view_has(window, "A finished")

    # B resumes where it was and finishes.
    llm_server.script = _script({"A": 6000, "B": 6000})
    window.action_resume.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Running", timeout=10_000)  # as shown
    window.action_stop.trigger()  # its loop would run for minutes: Stop ends the command
    qtbot.waitUntil(
        lambda: status_text(window) == "Paused" and window.action_resume.isEnabled(),
        timeout=30_000,
    )
    window.action_resume.trigger()
    qtbot.waitUntil(lambda: b.status is AgentStatus.FINISHED, timeout=60_000)
    # The session's status is read live; the stream shows what reached the GUI thread.
    qtbot.waitUntil(lambda: view_has(window, "B finished"), timeout=10_000)
    _click_row(qtbot, window, a.conversation_id)
    qtbot.waitUntil(lambda: view_has(window, "A finished"), timeout=5_000)
    assert view_has(window, "A-done")


def test_pause_all_on_quit_and_both_come_back_paused(qtbot, make_window, llm_server):
    llm_server.script = _script({"A": 6000, "B": 6000})
    window = make_window()
    ids = []
    for task in ("A: first", "B: second"):
        if ids:
            window.action_new.trigger()
        qtbot.keyClicks(window.composer_edit, task)
        window.action_send.trigger()
        name = task[0]
        qtbot.waitUntil(lambda name=name: view_has(window, f"{name}-beat 2"), timeout=STARTUP_MS)
        ids.append(window.session.conversation_id)
    assert len(window.conversations.running()) == 2

    # Quitting while both run asks first; Pause All and Quit pauses both, then quits.
    window.close()
    box = window.findChild(QMessageBox, "quit_dialog")
    assert box is not None and window.isVisible()
    assert "2 conversations are running" in box.text()
    pause = next(b for b in box.buttons() if b.text() == "Pause All and Quit")
    pause.click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)

    # The next start: both are back, paused, the one shown last is shown; each was told
    # its command was cut short by the quit.
    again = make_window()
    qtbot.waitUntil(lambda: again.session.conversation_id == ids[1], timeout=STARTUP_MS)
    qtbot.waitUntil(lambda: status_text(again) == "Paused", timeout=STARTUP_MS)
    first = again.conversations.find(ids[0])
    assert first is not None
    qtbot.waitUntil(lambda: first.status is AgentStatus.PAUSED, timeout=STARTUP_MS)
    qtbot.waitUntil(
        lambda: view_has(again, "The app stopped while this tool call was running"), timeout=10_000
    )

    # Resume: the agent goes on from there (the model sees the cut-short result).
    llm_server.script = _script({"A": 3, "B": 3})
    again.action_resume.trigger()
    qtbot.waitUntil(lambda: again.session.status is AgentStatus.FINISHED, timeout=60_000)
    qtbot.waitUntil(lambda: view_has(again, "B finished"), timeout=10_000)
    assert first.status is AgentStatus.PAUSED  # only the shown one was resumed


def test_a_pause_by_signals_says_stopped_not_running(qtbot, make_window, llm_server):
    llm_server.script = _script({"S": 6000})
    window = make_window()
    window.settings.pause_mode = "signals"  # as chosen in Settings: no freezer
    qtbot.keyClicks(window.composer_edit, "S: a long job")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "S-beat 2"), timeout=STARTUP_MS)
    window.action_pause.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=10_000)
    label = window.status_bar.container_label
    qtbot.waitUntil(lambda: label.text().endswith("· stopped"), timeout=5_000)
    assert "SIGSTOP" in label.toolTip()
