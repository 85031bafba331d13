"""History: a conversation outlives its window. Real Docker, real HTTP to a scripted model.

Run a short conversation that writes a file; close the window; a new window over the same
conversations folder lists it and reopens it where the user left off (events, the file in
its reattached container, the status); carry on; then delete it with its container.
"""

from __future__ import annotations

import docker.errors
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox

from tests.gui.window_helpers import status_text, tree_index, view_has
from tests.support.llm_server import RecordedRequest, Reply

FIRST = "Write a note to /workspace/kept.txt"
SECOND = "Now tell me what you wrote."
STARTUP_MS = 90_000
SCREENSHOT = "/tmp/berth_history.png"


def script(request: RecordedRequest) -> Reply:
    if SECOND in request.last_user_text():
        if request.last_tool_result() is not None:
            return Reply.call("finish", message="I wrote 'kept' to /workspace/kept.txt.")
        return Reply.call("bash", command="cat /workspace/kept.txt")
    if not request.tool_results():
        return Reply.call(
            "file_editor", command="create", path="/workspace/kept.txt", file_text="kept\n"
        )
    return Reply.call("finish", message="Wrote /workspace/kept.txt.")


def _container_gone(client, container_id: str) -> bool:
    try:
        client.containers.get(container_id)
    except docker.errors.NotFound:
        return True
    return False


def _row_title(window, conversation_id: str) -> str:
    model = window.history_panel.model
    row = model.row_of(conversation_id)
    return model.data(model.index(row)) if row >= 0 else ""


def test_reopen_after_restart_carry_on_then_delete(
    qtbot, make_window, llm_server, docker_client, tmp_path
):
    llm_server.script = script
    first = make_window()
    qtbot.keyClicks(first.composer_edit, FIRST)
    first.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(first) == "Finished", timeout=STARTUP_MS)
    conversation_id = first.session.conversation.id
    # New conversations join the list, titled by their first message.
    qtbot.waitUntil(lambda: _row_title(first, conversation_id) == FIRST, timeout=10_000)
    first.close()

    # A new window over the same folder: listed, and reopened where the user left off.
    second = make_window()
    panel = second.history_panel
    qtbot.waitUntil(lambda: conversation_id in panel.ids(), timeout=10_000)
    qtbot.waitUntil(
        lambda: (
            second.session.conversation is not None
            and second.session.conversation.id == conversation_id
        ),
        timeout=STARTUP_MS,
    )
    qtbot.waitUntil(lambda: status_text(second) == "Finished", timeout=10_000)
    assert view_has(second, FIRST)
    assert view_has(second, "Wrote /workspace/kept.txt.")
    assert panel.selected_id() == conversation_id
    assert FIRST in second.windowTitle()
    # Its container is back: the file it wrote is in the tree.
    second.file_browser.refresh_now()
    qtbot.waitUntil(lambda: tree_index(second, "/workspace/kept.txt").isValid(), timeout=15_000)

    # Carry on: the model sees the earlier history and runs a command in the same container.
    asked = len(llm_server.requests)
    qtbot.keyClicks(second.composer_edit, SECOND)
    second.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(second, "I wrote 'kept'"), timeout=60_000)
    qtbot.waitUntil(lambda: status_text(second) == "Finished", timeout=10_000)
    request = llm_server.requests[asked]
    assert FIRST in request.all_text() and SECOND in request.all_text()
    assert "kept" in llm_server.requests[-1].last_tool_result()
    second.grab().save(SCREENSHOT)

    # Delete it, with its container and volume.
    container_id = second.session.conversation.workspace.container.id
    folder = tmp_path / "conversations" / conversation_id
    assert folder.is_dir()
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    dialog = second.findChild(QMessageBox, "delete_conversation_dialog")
    assert dialog is not None and dialog.isVisible()
    dialog.findChild(QCheckBox).setChecked(True)
    dialog.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: conversation_id not in panel.ids(), timeout=5_000)
    qtbot.waitUntil(lambda: not folder.exists(), timeout=60_000)

    qtbot.waitUntil(lambda: _container_gone(docker_client, container_id), timeout=60_000)
    # What is left is a fresh conversation, and nothing stays listed.
    assert second.session.conversation is None
    assert status_text(second) == "Ready"
    qtbot.waitUntil(lambda: not panel.ids(), timeout=10_000)
    assert panel.empty_label.isVisible()


def _says(text: str) -> Reply:
    return Reply.call("finish", message=text)


def test_click_to_open_and_delete_another_with_its_container(
    qtbot, make_window, llm_server, docker_client, tmp_path
):
    llm_server.script = lambda request: _says(f"Done: {request.user_texts()[0]}")
    window = make_window()
    panel = window.history_panel
    ids: list[str] = []
    containers: list[str] = []
    for task in ("First task", "Second task"):
        if ids:
            window.action_new.trigger()
        qtbot.keyClicks(window.composer_edit, task)
        window.action_send.trigger()
        qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_MS)
        ids.append(window.session.conversation.id)
        containers.append(window.session.conversation.workspace.container.id)
    # Newest first, titled by their first messages; the open one is selected.
    qtbot.waitUntil(lambda: panel.ids() == ids[::-1], timeout=10_000)
    # The row can be listed (from disk) a moment before its first message titles it.
    qtbot.waitUntil(
        lambda: [_row_title(window, i) for i in panel.ids()] == ["Second task", "First task"],
        timeout=10_000,
    )
    assert panel.selected_id() == ids[1]

    # Click the older one: it opens, with its own events and status.
    view = panel.list_view
    rect = view.visualRect(panel.model.index(panel.model.row_of(ids[0])))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(
        lambda: (
            window.session.conversation is not None and window.session.conversation.id == ids[0]
        ),
        timeout=STARTUP_MS,
    )
    qtbot.waitUntil(lambda: view_has(window, "Done: First task"), timeout=10_000)
    assert not view_has(window, "Second task")
    assert status_text(window) == "Finished"
    assert panel.selected_id() == ids[0]

    # Delete the other one (not open): its container and volume go by default (left behind,
    # they would be orphans nobody sees); the open one stays.
    panel.ask_delete(ids[1])
    dialog = window.findChild(QMessageBox, "delete_conversation_dialog")
    assert dialog.findChild(QCheckBox).isChecked()
    dialog.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: panel.ids() == [ids[0]], timeout=30_000)
    folder = tmp_path / "conversations" / ids[1]
    qtbot.waitUntil(lambda: not folder.exists(), timeout=60_000)

    qtbot.waitUntil(lambda: _container_gone(docker_client, containers[1]), timeout=60_000)
    qtbot.waitUntil(
        lambda: not docker_client.volumes.list(filters={"name": f"berth-ws-{ids[1]}"}),
        timeout=60_000,
    )
    assert window.session.conversation.id == ids[0]
    assert view_has(window, "Done: First task")


def test_delete_while_docker_is_away_says_so_and_removes_the_container_later(
    qtbot, make_window, llm_server, docker_client
):
    from tests.sandbox.conftest import docker_host
    from tests.support.workspaces import closed_port_docker_host

    llm_server.script = lambda request: _says(f"Done: {request.user_texts()[0]}")
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "First task")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_MS)
    first = window.session.conversation.id
    container = window.session.conversation.workspace.container.id
    window.action_new.trigger()  # the first stays open (its container runs) ...
    panel = window.history_panel
    qtbot.waitUntil(lambda: panel.ids() == [first], timeout=10_000)
    # Running (once a snapshot, which holds it still for a moment, is done).
    qtbot.waitUntil(
        lambda: docker_client.containers.get(container).status == "running", timeout=15_000
    )
    menu = panel.menu_for(first)  # ... until it is closed: then it is only on disk
    close = next(a for a in menu.actions() if a.text() == "Close")
    assert close.isEnabled()
    close.trigger()
    qtbot.waitUntil(
        lambda: docker_client.containers.get(container).status == "exited", timeout=30_000
    )
    qtbot.waitUntil(lambda: window.conversations.find(first) is None, timeout=10_000)

    with docker_host(closed_port_docker_host()):
        panel.ask_delete(first)
        dialog = window.findChild(QMessageBox, "delete_conversation_dialog")
        dialog.findChild(QCheckBox).setChecked(True)
        dialog.button(QMessageBox.StandardButton.Ok).click()
        qtbot.waitUntil(
            lambda: "Docker is not reachable" in window.status_bar.detail_label.text(),
            timeout=30_000,
        )
    assert panel.ids() == []
    assert docker_client.containers.get(container).status == "exited"  # never started, kept

    make_window()  # the next start, with the engine back, removes what was left

    qtbot.waitUntil(lambda: _container_gone(docker_client, container), timeout=60_000)
