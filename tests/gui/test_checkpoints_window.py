"""Rewind, fork and the Changes view through the window: real Docker, real HTTP to a
scripted model. A step deletes a file; the Changes tab shows it; Rewind to here (asked
once) brings it back and folds the step away; Fork from here opens a new conversation."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox

from agent.status import AgentStatus
from gui.event_view.rows import ToolRow
from tests.gui.window_helpers import status_text, view_has
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_MS = 90_000


def script(request: RecordedRequest) -> Reply:
    results = request.tool_results()
    if "rewound" in request.last_user_text() or "fork" in request.last_user_text():
        return Reply.say("Understood.")
    if not results:
        return Reply.call("bash", command="printf 'keep\\n' > /workspace/keep.txt")
    if len(results) == 1:
        return Reply.call("bash", command="rm /workspace/keep.txt; echo junk > /workspace/junk.txt")
    return Reply.say("Done.")


def step_row(window, step: int) -> ToolRow | None:
    for row in window.event_view.model().rows():
        if isinstance(row, ToolRow) and row.step == step:
            return row
    return None


def shoot(window, name: str) -> None:
    folder = os.environ.get("BERTH_SCREENSHOTS")
    if folder:
        window.grab().save(os.path.join(folder, name))


def test_changes_rewind_and_fork_from_the_window(qtbot, make_window, llm_server):
    llm_server.script = script
    window = make_window()
    window.resize(1400, 860)
    qtbot.keyClicks(window.composer_edit, "Tidy the workspace")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_MS)
    qtbot.waitUntil(lambda: step_row(window, 2) is not None, timeout=30_000)
    conversation = window.session.conversation
    workspace = conversation.workspace

    # The Changes tab: junk.txt added since the start (keep.txt came and went).
    changes = window.changes_view
    window.side_tabs.setCurrentWidget(changes)
    qtbot.waitUntil(
        lambda: [c.path for c in changes.changes] == ["/workspace/junk.txt"], timeout=30_000
    )
    changes.select("/workspace/junk.txt")
    assert "+junk" in changes.diff.toPlainText()
    # Since step 1: keep.txt deleted, junk.txt added.
    changes.since.setCurrentIndex(changes.since.findText("step 1"))
    qtbot.waitUntil(lambda: len(changes.changes) == 2, timeout=30_000)
    changes.select("/workspace/keep.txt")
    assert "-keep" in changes.diff.toPlainText()
    assert "1 added, 1 deleted" in changes.summary.text().replace("deleted.", "deleted")
    shoot(window, "changes-view.png")

    # Rewind to step 1 from the step's context menu; asked once.
    view = window.event_view
    row = step_row(window, 1)
    assert row is not None
    centre = view.visualRect(view.model().index(row.position)).center()
    menu = view.step_menu_at(centre)
    menu.actions()[-2].trigger()
    box = window.checkpoint_controls.last_question
    qtbot.waitUntil(lambda: box is not None and box.isVisible(), timeout=5_000)
    assert "step 1" in box.text()
    rewind = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    rewind.click()
    qtbot.waitUntil(lambda: view_has(window, "Rewound to step 1"), timeout=30_000)
    assert workspace.read_bytes("/workspace/keep.txt") == b"keep\n"
    assert not workspace.exists("/workspace/junk.txt")
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=10_000)
    removal = step_row(window, 2)
    assert removal is not None and removal.abandoned and view.isRowHidden(removal.position)
    changes.since.setCurrentIndex(0)
    qtbot.waitUntil(
        lambda: [c.path for c in changes.changes] == ["/workspace/keep.txt"], timeout=30_000
    )
    shoot(window, "rewound-stream.png")

    # Fork from step 1 (the hover button's menu): the window opens the fork.
    qtbot.mouseMove(view.viewport(), centre)
    qtbot.waitUntil(view.step_button.isVisible, timeout=5_000)
    view.step_button.menu().actions()[1].trigger()
    qtbot.waitUntil(
        lambda: (
            window.session.conversation is not None
            and window.session.conversation.id != conversation.id
        ),
        timeout=60_000,
    )
    fork = window.session.conversation
    assert fork.workspace.read_bytes("/workspace/keep.txt") == b"keep\n"
    assert fork.state.agent_status == AgentStatus.PAUSED
    qtbot.waitUntil(lambda: view_has(window, "printf 'keep"), timeout=10_000)
    fork_id = fork.id
    window.close()
    from agent import Conversation
    from tests.agent.helpers import make_agent

    Conversation(
        make_agent(llm_server),
        conversation_id=fork_id,
        persistence_dir=window.session.persistence_dir,
    ).delete()
