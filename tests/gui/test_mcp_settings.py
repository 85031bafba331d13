"""Settings' MCP servers page: servers added, edited, removed and imported reach
settings.json; a bad entry is said in red and saves nothing; each tool's approval is
remembered and given to the Agent the window's conversations run; the shown conversation's
McpServersEvent says which servers are ready (with their tools) and which failed (why).

No MCP server runs here: the status comes as the session records it, an event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from agent.mcp.config import McpServerConfig, ToolApproval
from agent.session.notices import EventRecorded
from gui.sessions.session_bridge import make_agent
from gui.settings.app_settings import SETTINGS_FILE, AppSettings, config_dir
from gui.settings.dialog import SettingsDialog
from gui.settings.mcp_editor import McpServersEditor
from gui.settings.mcp_forms import McpServerForm
from tests.support.keyrings import MemoryKeyring, using_keyring
from tests.support.mcp_demo import servers_event

ENV_VARS = ("LLM_MODEL", "LLM_BASE_URL", "LLM_API_KEY", "BERTH_SANDBOX_IMAGE")
GIT = McpServerConfig(command="uvx", args=["mcp-server-git", "--repository", "/workspace"])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings under a tmp XDG_CONFIG_HOME, no LLM_* variables, an in-memory keyring."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in (*ENV_VARS, "BERTH_CONFIRMATION_MODE", "BERTH_MAX_ITERATIONS"):
        monkeypatch.delenv(name, raising=False)
    with using_keyring(MemoryKeyring(), trusted=True):
        yield config_dir()


def _dialog(qtbot, settings: AppSettings, events: list | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings, events=events or [])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _save(qtbot, dialog: SettingsDialog) -> AppSettings:
    """Click Save; the settings as the next start reads them from disk."""
    assert dialog.ok_button.isEnabled(), dialog.save_error.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    return AppSettings.load()


def _fill_form(form: McpServerForm, name: str, command: str = "", env: str = "") -> None:
    form.name_edit.setText(name)
    form.command_edit.setText(command)
    form.env_edit.setPlainText(env)


def _row_texts(editor: McpServersEditor) -> list[tuple[str, str]]:
    tree = editor.tree
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    return [(item.text(0), item.text(1)) for item in items if item is not None]


def test_servers_added_edited_and_removed_are_saved(qtbot, home: Path) -> None:
    dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o"))
    editor = dialog.mcp_editor
    assert editor.objectName() == "mcp_servers_editor"
    form = editor.add_server()
    _fill_form(form, "git", "uvx mcp-server-git --repository '/work space'", "GIT_AUTHOR=Berth")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert _row_texts(editor) == [("git", "uvx mcp-server-git --repository '/work space'")]
    saved = _save(qtbot, dialog)
    git = saved.mcp_servers["git"]
    assert (git.command, git.args) == ("uvx", ["mcp-server-git", "--repository", "/work space"])
    assert git.env == {"GIT_AUTHOR": "Berth"}

    # Edited into an HTTP server under a new name: the old name is gone.
    dialog = _dialog(qtbot, saved)
    editor = dialog.mcp_editor
    assert editor.status_text("git") == "not started"  # no conversation ran it
    editor.select("git")
    form = editor.edit_selected()
    assert form is not None and form.command_edit.text().startswith("uvx mcp-server-git")
    form.name_edit.setText("tracker")
    form.http_radio.setChecked(True)
    form.url_edit.setText("https://mcp.example.com/mcp")
    form.headers_edit.setPlainText("X-Team: berth")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    saved = _save(qtbot, dialog)
    assert list(saved.mcp_servers) == ["tracker"]
    assert saved.mcp_servers["tracker"].url == "https://mcp.example.com/mcp"
    assert saved.mcp_servers["tracker"].headers == {"X-Team": "berth"}

    dialog = _dialog(qtbot, saved)
    dialog.mcp_editor.select("tracker")
    qtbot.mouseClick(dialog.mcp_editor.remove_button, Qt.MouseButton.LeftButton)
    assert _save(qtbot, dialog).mcp_servers == {}


@pytest.mark.parametrize(
    ("name", "command", "env", "said"),
    [
        ("my server", "uvx mcp-server-git", "", "use 1-32 letters"),
        ("git", "", "", "Give the command"),
        ("git", "uvx 'mcp-server-git", "", "The command line: No closing quotation"),
        ("git", "uvx mcp-server-git", "GIT_AUTHOR Berth", "Environment, line 1: write KEY=VALUE"),
    ],
)
def test_a_bad_entry_is_said_in_red_and_saves_nothing(
    qtbot, home: Path, name: str, command: str, env: str, said: str
) -> None:
    dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o"))
    form = dialog.mcp_editor.add_server()
    _fill_form(form, name, command, env)
    assert form.error_label.isVisible()
    assert said in form.error_label.text()
    assert "#cf222e" in form.error_label.styleSheet()  # red
    assert not form.ok_button.isEnabled()
    form.accept()  # Enter in a field: refused the same way, the form stays open
    assert form.isVisible()
    form.reject()
    assert _row_texts(dialog.mcp_editor)[0][0].startswith("No MCP servers yet")
    assert _save(qtbot, dialog).mcp_servers == {}
    assert json.loads((home / SETTINGS_FILE).read_text())["mcp_servers"] == {}


def test_a_url_server_must_be_http_and_a_name_is_taken_once(qtbot, home: Path) -> None:
    dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o", mcp_servers={"git": GIT}))
    form = dialog.mcp_editor.add_server()
    form.name_edit.setText("git")
    form.http_radio.setChecked(True)
    form.url_edit.setText("ftp://mcp.example.com")
    assert "There is already a server named 'git'" in form.error_label.text()
    form.name_edit.setText("remote")
    assert "url must start with http:// or https://" in form.error_label.text()
    form.url_edit.setText("http://127.0.0.1:8931/mcp")
    assert not form.error_label.isVisible() and form.ok_button.isEnabled()


def test_import_mcp_json_pasted_or_from_a_file(qtbot, home: Path, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o", mcp_servers={"git": GIT}))
    importer = dialog.mcp_editor.import_json()
    importer.text_edit.setPlainText('{"mcpServers": {"git": {"args": []}}}')
    assert importer.error_label.isVisible() and not importer.ok_button.isEnabled()
    assert 'give either "command"' in importer.error_label.text()
    path = tmp_path / ".mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "git": {"command": "uvx", "args": ["mcp-server-git"]},
                    "fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"]},
                }
            }
        )
    )
    assert importer.load_file(path)
    assert importer.preview.text() == "Adds fetch, git. Replaces the servers named git."
    qtbot.mouseClick(importer.ok_button, Qt.MouseButton.LeftButton)
    assert not importer.load_file(tmp_path / "missing.json")
    saved = _save(qtbot, dialog)
    assert saved.mcp_servers["git"].args == ["mcp-server-git"]
    assert saved.mcp_servers["fetch"].args == ["mcp-server-fetch"]


def test_the_page_shows_ready_tools_and_a_failed_servers_error(qtbot, home: Path) -> None:
    settings = AppSettings(
        llm_model="openai/gpt-4o",
        mcp_servers={"git": GIT, "docs": McpServerConfig(url="http://127.0.0.1:9/mcp")},
    )
    dialog = _dialog(qtbot, settings, events=[servers_event()])
    editor = dialog.mcp_editor
    assert editor.status_text("git") == "ready · 5 tools"
    assert editor.status_text("docs") == "not started"
    # jira came from the workspace's .mcp.json: listed, not editable here.
    assert editor.status_text("jira") == "failed"
    assert "did not answer initialize within 60 s" in editor.error_text("jira")
    assert "404 Not Found" in editor.error_text("jira")
    editor.select("jira")
    assert not editor.edit_button.isEnabled() and not editor.remove_button.isEnabled()
    tools = {name: combo.currentData() for name, combo in editor.combos.items()}
    assert tools == {
        "git__git_status": ToolApproval.ALLOW,  # readOnlyHint
        "git__git_diff_unstaged": ToolApproval.ALLOW,
        "git__git_add": ToolApproval.ASK,
        "git__git_commit": ToolApproval.ASK,
        "git__git_reset": ToolApproval.ASK,  # destructiveHint
    }
    assert all(combo.isVisible() for combo in editor.combos.values())


def test_an_approval_chosen_is_saved_and_reaches_the_agent(qtbot, home: Path) -> None:
    settings = AppSettings(llm_model="openai/gpt-4o", mcp_servers={"git": GIT})
    dialog = _dialog(qtbot, settings, events=[servers_event()])
    editor = dialog.mcp_editor
    editor.combos["git__git_commit"].setCurrentIndex(
        editor.combos["git__git_commit"].findData(ToolApproval.NEVER)
    )
    editor.combos["git__git_add"].setCurrentIndex(
        editor.combos["git__git_add"].findData(ToolApproval.ALLOW)
    )
    editor.timeout_spin.setValue(120)
    saved = _save(qtbot, dialog)
    assert saved.mcp_approvals == {
        "git__git_commit": ToolApproval.NEVER,
        "git__git_add": ToolApproval.ALLOW,
    }
    agent = make_agent(saved)  # what the bridge's _make_conversation runs
    assert agent.mcp_approvals["git__git_commit"] is ToolApproval.NEVER
    assert agent.mcp_servers["git"].args == GIT.args
    assert agent.mcp_servers["git"].start_timeout_s == 120

    # Shown again, the choice is there; removing the server forgets its approvals.
    dialog = _dialog(qtbot, saved, events=[servers_event()])
    assert dialog.mcp_editor.combos["git__git_commit"].currentData() == ToolApproval.NEVER
    dialog.mcp_editor.select("git")
    qtbot.mouseClick(dialog.mcp_editor.remove_button, Qt.MouseButton.LeftButton)
    assert _save(qtbot, dialog).mcp_approvals == {}


def test_old_settings_files_load_and_a_bad_mcp_entry_costs_only_itself(home: Path) -> None:
    home.mkdir(parents=True)
    old = {"schema_version": 1, "llm_model": "openai/gpt-4o", "memory_limit": "1g"}
    (home / SETTINGS_FILE).write_text(json.dumps(old))
    loaded = AppSettings.load()
    assert (loaded.mcp_servers, loaded.mcp_start_timeout_s) == ({}, 60)
    bad = {**old, "mcp_servers": {"git": {"args": ["no command"]}}}
    (home / SETTINGS_FILE).write_text(json.dumps(bad))
    loaded = AppSettings.load()
    assert (loaded.llm_model, loaded.memory_limit, loaded.mcp_servers) == (
        "openai/gpt-4o",
        "1g",
        {},
    )


def test_the_windows_settings_show_the_shown_conversations_servers(qtbot, home: Path) -> None:
    from gui.main_window import MainWindow

    window = MainWindow(
        AppSettings(llm_model="openai/gpt-4o", mcp_servers={"git": GIT}),
        persistence_dir=home.parent / "conversations",
        preload=False,
    )
    qtbot.addWidget(window)
    # The session records the servers' status as it would once they started.
    window.session._on_notice(EventRecorded(event=servers_event()))
    window.show_settings()
    dialog = window.findChild(SettingsDialog, "settings_dialog")
    assert dialog is not None
    assert dialog.mcp_editor.status_text("git") == "ready · 5 tools"
    dialog.reject()
    window.shutdown()
    window.close()


def test_a_conversation_the_window_starts_runs_the_settings_servers(
    qtbot, home: Path, sandbox_image: str
) -> None:
    """The bridge's own _make_conversation, on a real container: its Agent has Settings'
    servers (with the start timeout) and approvals."""
    from gui.sessions.session_bridge import SessionBridge

    settings = AppSettings(
        llm_model="openai/gpt-4o",
        sandbox_image=sandbox_image,
        mcp_servers={"git": GIT},
        mcp_approvals={"git__git_commit": ToolApproval.NEVER},
        mcp_start_timeout_s=5,
    )
    bridge = SessionBridge(settings, persistence_dir=home.parent / "conversations")
    try:
        with qtbot.waitSignal(bridge.opened, timeout=120_000):
            assert bridge.start()
        conversation = bridge.conversation
        assert conversation is not None
        agent = conversation.agent
        assert agent.mcp_approvals == {"git__git_commit": ToolApproval.NEVER}
        assert agent.mcp_servers["git"].command == "uvx"
        assert agent.mcp_servers["git"].start_timeout_s == 5
    finally:
        conversation = bridge.conversation
        bridge.close()
        assert bridge.wait_closed(60)
        if conversation is not None:
            conversation.delete(remove_container=True)
