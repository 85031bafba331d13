"""The repository door through the window: New → "Work on a copy of a git repository", the
agent commits and leaves work uncommitted, Hand back as branch shows the branch and the
`git switch` to copy, the host's tree untouched; the Changes tab compares with the starting
commit; Save patch… writes the diff; a branch the user moved is said in plain words; the
history row names the repository and branch, and reopening keeps the copy. Real Docker
(an image with git), real HTTP to the scripted model, real git repositories."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QLineEdit

from gui.checkpoints.changes_view import STARTING_COMMIT
from gui.history.panel import RepositoryRole
from tests.gui.window_helpers import status_text, view_has
from tests.support.git_repos import git, make_repo
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_MS = 120_000
WORK = (
    "cd /workspace && printf 'def main():\\n    return 3\\n' > app.py"
    " && git -c user.name=Agent -c user.email=agent@example.com commit -qam 'Return 3'"
    " && printf 'X = 1\\n' > feature.py"
    " && mkdir -p __pycache__ && printf 'pyc' > __pycache__/feature.cpython-311.pyc"
)


def script(request: RecordedRequest) -> Reply:
    if not request.tool_results():
        return Reply.call("bash", command=WORK)
    return Reply.say("Done: main returns 3, and feature.py is new.")


def _row(window, conversation_id: str) -> str:
    model = window.history_panel.model
    row = model.row_of(conversation_id)
    return str(model.data(model.index(row), RepositoryRole)) if row >= 0 else ""


def _pick(dialog, folder: Path) -> None:
    dialog.setDirectory(str(folder))
    dialog.accept()


def _save_as(dialog, path: Path) -> None:
    dialog.findChild(QLineEdit, "fileNameEdit").setText(str(path))
    dialog.accept()


def test_work_on_a_copy_hand_back_save_patch_and_reopen(
    qtbot, make_window, llm_server, git_image, tmp_path
):
    llm_server.script = script
    repo = make_repo(tmp_path / "click")
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    window = make_window(image=git_image)
    window.resize(1400, 860)

    # New → Work on a copy of a git repository: a folder picker. A plain folder is refused
    # in plain words; the repository is taken.
    choice = window.repository
    assert choice.action_new_repo.objectName() == "action_new_repo"
    plain = tmp_path / "plain"
    plain.mkdir()
    label = window.welcome.repo_label
    choice.action_new_repo.trigger()
    qtbot.waitUntil(lambda: choice.dialog is not None and choice.dialog.isVisible())
    _pick(choice.dialog, plain)
    qtbot.waitUntil(lambda: "is not a git repository" in label.text(), timeout=10_000)
    assert window.session.repo is None
    window.welcome.repo_button.click()
    qtbot.waitUntil(lambda: choice.dialog is not None and choice.dialog.isVisible())
    _pick(choice.dialog, repo)
    qtbot.waitUntil(lambda: window.session.repo == str(repo.resolve()), timeout=10_000)
    assert label.text() == f"On a copy of {repo.resolve()}"
    qtbot.keyClicks(window.composer_edit, "Make main return 3 and add feature.py")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_MS)
    conversation = window.session.conversation
    branch = f"berth/{conversation.id[:8]}"
    qtbot.waitUntil(lambda: _row(window, conversation.id) == f"click → {branch}", timeout=10_000)

    # The Changes tab: the real files, not .git/ nor __pycache__.
    changes = window.changes_view
    window.side_tabs.setCurrentWidget(changes)
    qtbot.waitUntil(
        lambda: (
            sorted(c.path for c in changes.changes)
            == ["/workspace/app.py", "/workspace/feature.py"]
        ),
        timeout=30_000,
    )
    assert len(changes.all_changes) > 2  # .git's insides and the .pyc, hidden

    # Hand back as branch: the branch, and the command to copy.
    hand_back = window.hand_back
    assert hand_back.hand_back_button.isEnabled() and hand_back.save_patch_button.isEnabled()
    hand_back.hand_back_button.click()
    command = hand_back.result.command
    qtbot.waitUntil(lambda: command.isVisible() and command.text() != "", timeout=60_000)
    assert command.text() == f"git switch {branch}"
    assert command.isReadOnly() and branch in hand_back.result.message.text()
    assert git(repo, "log", "--format=%s", f"main..{branch}").splitlines() == [
        "Work in progress from Berth",
        "Return 3",
        "Your uncommitted changes",  # the user's, as the copy's first commit
    ]
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status
    folder = os.environ.get("BERTH_SCREENSHOTS")
    if folder:
        window.grab().save(os.path.join(folder, "hand_back.png"))

    # Since the starting commit: conversation.patch(), per file.
    changes.since.setCurrentIndex(changes.since.findData(STARTING_COMMIT))
    qtbot.waitUntil(
        lambda: {"/workspace/app.py", "/workspace/feature.py"} <= {c.path for c in changes.changes},
        timeout=30_000,
    )
    changes.select("/workspace/app.py")
    assert "+    return 3" in changes.diff.toPlainText()

    # Save patch…: a save dialog, then the diff on disk.
    out = tmp_path / "work.patch"
    hand_back.save_patch_button.click()
    qtbot.waitUntil(
        lambda: hand_back.patch_dialog is not None and hand_back.patch_dialog.isVisible()
    )
    _save_as(hand_back.patch_dialog, out)
    qtbot.waitUntil(lambda: "Saved the patch" in hand_back.result.message.text(), timeout=30_000)
    text = out.read_text()
    assert "feature.py" in text and "+    return 3" in text

    # The user moves the branch: the next hand-back says so in plain words.
    tree = git(repo, "rev-parse", "HEAD^{tree}")
    mine = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "mine")
    git(repo, "branch", "-f", branch, mine)
    hand_back.hand_back_button.click()
    message = hand_back.result.message
    qtbot.waitUntil(lambda: message.text().startswith("Could not hand back:"), timeout=60_000)
    assert "Traceback" not in message.text() and not command.isVisible()
    assert hand_back.hand_back_button.isEnabled()
    assert git(repo, "rev-parse", branch) == mine

    # Reopened in a new window: the row still names the copy; the buttons work on it.
    conversation_id = conversation.id
    window.close()
    again = make_window(image=git_image)
    qtbot.waitUntil(lambda: _row(again, conversation_id) == f"click → {branch}", timeout=10_000)
    again.open_conversation(conversation_id)
    qtbot.waitUntil(
        lambda: (
            again.session.conversation is not None and again.hand_back.hand_back_button.isEnabled()
        ),
        timeout=STARTUP_MS,
    )
    assert str(repo.resolve()) in again.hand_back.hand_back_button.toolTip()


def test_stop_cancels_a_big_repositorys_copy_and_nothing_is_written_to_it(
    qtbot, make_window, llm_server, git_image, tmp_path
):
    """A repository whose copy takes a while: Stop, while the window says it is copying,
    ends the start with a plain notice; the host repository is as it was; Send again
    copies it afresh and the agent works."""
    llm_server.script = lambda _r: Reply.say("Looked at it.")
    repo = make_repo(tmp_path / "big")
    (repo / "big").mkdir()
    for n in range(6):  # ~120 MB that neither git nor tar can compress
        (repo / "big" / f"blob{n}.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    git(repo, "add", "big")
    git(repo, "commit", "-q", "-m", "big files")
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    refs = git(repo, "for-each-ref")
    window = make_window(image=git_image)
    choice = window.repository
    choice.action_new_repo.trigger()
    qtbot.waitUntil(lambda: choice.dialog is not None and choice.dialog.isVisible())
    _pick(choice.dialog, repo)
    qtbot.waitUntil(lambda: window.session.repo == str(repo.resolve()), timeout=10_000)
    qtbot.keyClicks(window.composer_edit, "Look at the big files")
    window.action_send.trigger()

    # Stop is offered while the copy can still be cancelled, and cancels it.
    qtbot.waitUntil(window.action_stop.isEnabled, timeout=STARTUP_MS)
    window.action_stop.trigger()
    qtbot.waitUntil(lambda: view_has(window, "Start cancelled"), timeout=STARTUP_MS)
    assert view_has(window, "nothing was written to it")
    assert not view_has(window, "Could not start")  # said, not an error
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "for-each-ref") == refs  # no branch, nothing handed back

    # Send again: a fresh copy, and the agent answers.
    qtbot.keyClicks(window.composer_edit, "Now look again")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_MS)
    assert window.session.conversation.workspace.exists("/workspace/big/blob5.bin")
