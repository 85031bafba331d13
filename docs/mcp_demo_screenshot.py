"""The pictures of MCP in the window: ``python docs/mcp_demo_screenshot.py`` (offscreen, no
Docker or MCP server: the conversation's events are fed as a session would record them).

- docs/mcp_card.png: the event view with the servers' line (git ready, jira failed), a
  git_status call and its result, and a git_commit call that failed;
- docs/mcp_settings.png: Settings' MCP servers page with git ready and its tools (each
  with its approval) and jira failed with its error."""

# ruff: noqa: E402
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # never the user's own settings
for name in ("LLM_MODEL", "LLM_BASE_URL", "LLM_API_KEY", "BERTH_SANDBOX_IMAGE"):
    os.environ.pop(name, None)

from PySide6.QtTest import QTest

from agent.mcp.config import McpServerConfig, ToolApproval
from gui.app import make_application
from tests.support.mcp_demo import mcp_events, servers_event

app = make_application([])
from gui.event_view import EventView
from gui.settings.app_settings import AppSettings
from gui.settings.dialog import SettingsDialog

card_path = sys.argv[1] if len(sys.argv) > 1 else "docs/mcp_card.png"
settings_path = sys.argv[2] if len(sys.argv) > 2 else "docs/mcp_settings.png"

view = EventView()
view.resize(860, 640)
view.model().set_events(mcp_events())
view.show()
QTest.qWaitForWindowExposed(view)
QTest.qWait(400)
view.grab().save(card_path)
print("saved", card_path)

settings = AppSettings(
    llm_model="openai/gpt-4o",
    mcp_servers={
        "git": McpServerConfig(
            command="uvx", args=["mcp-server-git", "--repository", "/workspace"]
        ),
        "jira": McpServerConfig(command="npx", args=["-y", "@acme/mcp-jira"]),
    },
    mcp_approvals={"git__git_commit": ToolApproval.ALLOW},
)
dialog = SettingsDialog(settings, events=[servers_event()])
dialog.resize(760, 560)
dialog.show()
QTest.qWaitForWindowExposed(dialog)
QTest.qWait(200)
box = dialog.mcp_editor.parentWidget()
dialog.boxes_scroll.verticalScrollBar().setValue(box.y() - 8)
QTest.qWait(200)
dialog.grab().save(settings_path)
print("saved", settings_path)
