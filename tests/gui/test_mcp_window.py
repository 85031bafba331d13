"""The window with a real MCP server: Settings name the reference mcp-server-git (from
PyPI, in the test image), which runs in the conversation's container. The scripted model
makes a repository with bash, asks git_status (read-only: it runs) and git_add (it writes:
the approval bar asks, naming the server and the tool); the stream shows the server's line
and the call's card with the untracked file; Approve runs it; Settings then list git as
ready with its tools. A second server's tool returns a PNG: its card shows it, the model
gets it. Approvals saved in Settings while the conversation is open hold from the next
call on. Real Docker, real HTTP through litellm, real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent.events import ObservationEvent
from agent.mcp.config import McpServerConfig, ToolApproval
from agent.status import AgentStatus
from gui.event_view.parts import ImagePart
from gui.settings.dialog import SettingsDialog
from tests.gui.window_helpers import view_has, view_texts
from tests.support.keyrings import MemoryKeyring, using_keyring
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_image import mcp_image  # noqa: F401 (fixture)
from tests.support.mcp_servers import IMAGES

STARTUP_MS = 120_000
GIT = McpServerConfig(command="python3", args=["-m", "mcp_server_git"])
PICS = McpServerConfig(command="python3", args=["-c", IMAGES])  # a PNG from a tool
MAKE_REPO = "cd /workspace && git init -q && echo draft > plan-untracked.md && echo made"


def test_git_server_from_settings_in_the_window(
    qtbot,
    make_window,
    llm_server,
    mcp_image,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # Save writes there
    llm_server.script = replies_in_order(
        [
            Reply.call("bash", command=MAKE_REPO),
            Reply.call("git__git_status", repo_path="/workspace"),
            Reply.call("pics__screenshot"),
            Reply.call("git__git_add", repo_path="/workspace", files=["plan-untracked.md"]),
            Reply.say("The plan is staged."),
        ]
    )
    with using_keyring(MemoryKeyring(), trusted=True):
        _run(qtbot, make_window, llm_server, mcp_image)


def _run(qtbot, make_window, llm_server, mcp_image) -> None:  # noqa: F811
    window = make_window(mcp_image, mcp_servers={"git": GIT, "pics": PICS})
    qtbot.keyClicks(window.composer_edit, "Stage the plan.")
    window.action_send.trigger()

    bar = window.confirmation_bar
    qtbot.waitUntil(lambda: bar.isVisible() and bar.approve_button.isEnabled(), timeout=STARTUP_MS)
    assert window.session.status is AgentStatus.WAITING_FOR_CONFIRMATION
    assert "MCP server git — tool git_add" in bar.text
    assert "plan-untracked.md" in bar.text

    texts = view_texts(window)
    servers = [t for t in texts if t.startswith("MCP: ")]
    assert len(servers) == 2 and servers[0].startswith("MCP: git — 12 tools")
    assert servers[1].startswith("MCP: pics — 2 tools")
    [status] = [t for t in texts if t.startswith("git · git_status")]
    assert '"repo_path": "/workspace"' in status and "plan-untracked.md" in status
    # The screenshot tool's PNG: a thumbnail in its card, at its size (96 x 64), and the
    # model's next request carried it.
    model = window.event_view.model()
    [row] = [model.row_at(i) for i in range(model.rowCount()) if "pics · screenshot" in texts[i]]
    thumbnail = window.event_view.event_delegate().card(row).parts[-1]
    assert isinstance(thumbnail, ImagePart)
    assert [(s.width(), s.height()) for s in thumbnail.sizes(600)] == [(96, 64)]
    [(role, url)] = [found for r in llm_server.requests for found in r.image_urls()][:1]
    assert role == "user" and url.startswith("data:image/png;base64,iVBORw0KGgo")

    qtbot.mouseClick(bar.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view_has(window, "The plan is staged."), timeout=60_000)
    [added] = [
        e
        for e in window.session.events
        if isinstance(e, ObservationEvent) and e.tool_name == "git__git_add"
    ]
    assert not added.is_error and added.ended is None
    staged = window.session.conversation.workspace.execute(
        "cd /workspace && git diff --cached --name-only"
    )
    assert staged.output.strip() == "plan-untracked.md"

    window.action_settings.trigger()
    dialog = next(d for d in window.findChildren(SettingsDialog) if d.isVisible())
    editor = dialog.mcp_editor
    assert editor.status_text("git").startswith("ready · ")
    assert {"git__git_status", "git__git_add"} <= set(editor.combos)
    assert editor.combos["git__git_status"].currentText().lower().startswith("allow")
    assert editor.combos["git__git_add"].currentText().lower().startswith("ask")

    # Saved while the conversation is open, the approvals hold from the next call on:
    # git_status now refused, git_add run without asking.
    editor.combos["git__git_status"].setCurrentText("Never")
    editor.combos["git__git_add"].setCurrentText("Allow")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert window.settings.mcp_approvals == {
        "git__git_status": ToolApproval.NEVER,
        "git__git_add": ToolApproval.ALLOW,
    }
    window.session.conversation.workspace.execute("echo more > /workspace/later.md")
    llm_server.script = replies_in_order(
        [
            Reply.call("git__git_status", repo_path="/workspace"),
            Reply.call("git__git_add", repo_path="/workspace", files=["later.md"]),
            Reply.say("Both done."),
        ]
    )
    qtbot.keyClicks(window.composer_edit, "Stage the rest.")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "Both done."), timeout=60_000)
    results = [e for e in window.session.events if isinstance(e, ObservationEvent)]
    refused, added_later = results[-2:]
    assert refused.is_error and "does not allow the tool git__git_status" in refused.content
    assert not added_later.is_error and added_later.ended is None
    staged = window.session.conversation.workspace.execute(
        "cd /workspace && git diff --cached --name-only"
    )
    assert staged.output.split() == ["later.md", "plan-untracked.md"]
