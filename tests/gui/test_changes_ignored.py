"""The Changes tab hides what git would not show: the agent writes 3 real files, a Python
run's __pycache__ and a .git folder; the tab lists the 3 until "Show ignored files" is
ticked. Real Docker, real HTTP to the scripted model."""

from __future__ import annotations

from gui.checkpoints.changes_view import STARTING_COMMIT
from tests.gui.window_helpers import status_text
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_MS = 90_000

MAKE = (
    "cd /workspace && printf '__pycache__/\\n*.pyc\\n' > .gitignore"
    " && printf 'import util\\n' > app.py && printf 'X = 1\\n' > util.py"
    " && mkdir -p __pycache__ .git/objects/ab .git/refs/heads"
    " && printf 'bytecode' > __pycache__/util.cpython-311.pyc && printf 'stray' > old.pyc"
    " && printf 'ref: refs/heads/main\\n' > .git/HEAD && printf '[core]\\n' > .git/config"
    " && printf 'x' > .git/objects/ab/cdef && printf 'abc\\n' > .git/refs/heads/main"
)
REAL = ["/workspace/.gitignore", "/workspace/app.py", "/workspace/util.py"]


def script(request: RecordedRequest) -> Reply:
    if not request.tool_results():
        return Reply.call("bash", command=MAKE)
    return Reply.say("Done.")


def test_the_changes_tab_hides_git_and_ignored_files_until_asked(qtbot, make_window, llm_server):
    llm_server.script = script
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Write a small program")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=STARTUP_MS)

    changes = window.changes_view
    toggle = window.findChild(type(changes.show_ignored), "changes_show_ignored")
    assert toggle is changes.show_ignored and not toggle.isChecked()
    window.side_tabs.setCurrentWidget(changes)
    qtbot.waitUntil(lambda: len(changes.all_changes) == 9, timeout=30_000)
    assert sorted(c.path for c in changes.changes) == REAL
    assert changes.list.count() == 3
    assert "6 ignored files hidden" in changes.summary.text()

    toggle.setChecked(True)
    assert changes.list.count() == 9
    shown = {c.path for c in changes.changes}
    assert {"/workspace/__pycache__/util.cpython-311.pyc", "/workspace/.git/HEAD"} <= shown
    assert "hidden" not in changes.summary.text()
    toggle.setChecked(False)
    assert changes.list.count() == 3

    # Not a copy of a git repository: nothing to hand back, and no buttons to say so
    # (they would crowd the tabs out of a narrow panel).
    hand_back = window.hand_back
    assert hand_back.corner.isHidden()
    for button in (hand_back.hand_back_button, hand_back.save_patch_button):
        assert not button.isEnabled()
        assert "not on a copy of a git repository" in button.toolTip()
    assert changes.since.findData(STARTING_COMMIT) < 0
