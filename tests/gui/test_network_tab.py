"""The network door in the window: the Network tab, Allow this host, and Settings' network
mode, allow-list, presets and secrets.

Real parts: the window (pytest-qt), a real Docker engine with the conversation's own proxy,
litellm over HTTP to the scripted model, and a server container standing in for the
internet (tests/support/internet.py). The agent runs curl; a denied request shows in the
Network tab with its Allow button; one click lets the next request through; the list is
kept on reopen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from agent.events import ObservationEvent
from gui.network.policy_editor import PolicyEditor
from gui.network.secret_entry import SecretEntry
from gui.network.secret_store import read_secret, store_secret
from gui.network.view import ALLOW_TEXT
from gui.settings.app_settings import AppSettings, config_dir
from gui.settings.dialog import SettingsDialog
from tests.gui.window_helpers import open_settings_dialog, status_text
from tests.support.internet import Internet, auth_hash, curl, fake_internet
from tests.support.keyrings import MemoryKeyring, using_keyring
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_MS = 120_000
HOST = "api.example.test"
VALUE = "tok-2f9c41"  # the secret's value: in the keyring, never in the container
# The agent's env has a placeholder; the proxy swaps it for the value on HOST only.
CURL = f"curl -s -m 10 -H \"Authorization: Bearer $API_TOKEN\" -w ' code=%{{http_code}}' http://{HOST}:8000/"


@pytest.fixture(scope="module")
def internet(docker_client, curl_image) -> Iterator[Internet]:
    with fake_internet(docker_client) as made:
        yield made


def script(request: RecordedRequest) -> Reply:
    # Each user message: the agent fetches the page once, then reports.
    if request.messages[-1].get("role") == "user":
        return Reply.call("bash", command=CURL)
    return Reply.say("Done.")


def observations(window) -> list[str]:
    return [e.content for e in window.session.events if isinstance(e, ObservationEvent)]


def saved_allow(window, conversation_id: str) -> list[str]:
    state = window.conversations.persistence_dir / conversation_id / "state.json"
    return json.loads(state.read_text())["workspace"]["allow"]


def shoot(window, name: str) -> None:
    folder = os.environ.get("BERTH_SCREENSHOTS")
    if folder:
        window.grab().save(os.path.join(folder, name))


@pytest.fixture
def keyring_with_secret() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring(), trusted=True) as backend:
        store_secret("API_TOKEN", VALUE)
        yield backend


def test_a_denied_request_is_allowed_from_the_network_tab_and_kept_on_reopen(
    qtbot, make_window, llm_server, curl_image, internet, keyring_with_secret
) -> None:
    llm_server.script = script
    window = make_window(curl_image)
    window.resize(1400, 860)
    # The server's private address is on the list (a name never unlocks one), its name not.
    window.settings.network_mode = "allow-list"
    window.settings.network_allow = [internet.address]
    window.settings.secrets = [SecretEntry(name="API_TOKEN", hosts=[HOST])]
    window.session.start()
    qtbot.waitUntil(lambda: window.session.conversation is not None, timeout=STARTUP_MS)
    conversation = window.session.conversation
    internet.join(conversation.workspace)
    view = window.network_view
    window.side_tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: "Allow-list: 1 host" in view.mode_label.text(), timeout=10_000)

    window.composer_edit.setPlainText("Fetch the API's page")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: len(observations(window)) == 1, timeout=60_000)
    assert "code=403" in observations(window)[0]

    # The denied request, first-class: red, with its Allow button.
    qtbot.waitUntil(lambda: view.row_of_denied(HOST) is not None, timeout=30_000)
    row = view.row_of_denied(HOST)
    assert row is not None
    assert view.result_at(row) == "Denied" and view.host_at(row) == HOST
    assert view.table.item(row, 2).text() == f"{HOST}:8000"
    button = view.allow_button(row)
    assert button is not None and button.text() == ALLOW_TEXT and button.isEnabled()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    shoot(window, "network-denied.png")

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: button.text() == "Allowed now", timeout=30_000)
    assert HOST in conversation.network.allow
    assert saved_allow(window, conversation.id) == [internet.address, HOST]
    assert "Allow-list: 2 hosts" in view.mode_label.text()

    # The agent's next request passes, and shows as allowed.
    window.composer_edit.setPlainText("Try again")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: len(observations(window)) == 2, timeout=60_000)
    retried = observations(window)[1]
    assert "hello from 8000" in retried and "code=200" in retried
    assert auth_hash(f"Bearer {VALUE}") in retried  # the value went out, on HOST only
    assert VALUE not in retried
    qtbot.waitUntil(lambda: len(view.requests) == 2, timeout=30_000)
    assert [r.allowed for r in view.requests] == [False, True]
    assert view.result_at(0) == "Allowed"  # newest first

    # Denied only: the allowed request is hidden, the denied one stays.
    view.denied_only.setChecked(True)
    assert view.table.isRowHidden(0) and not view.table.isRowHidden(1)
    view.denied_only.setChecked(False)

    # Closed and reopened: the mode and the list come back from state.json.
    conversation_id = conversation.id
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    window.conversations.close(conversation_id)
    qtbot.waitUntil(lambda: window.conversations.find(conversation_id) is None, timeout=60_000)
    window.open_conversation(conversation_id)
    qtbot.waitUntil(lambda: window.session.conversation is not None, timeout=STARTUP_MS)
    reopened = window.session.conversation
    assert reopened.network.mode == "allow-list"
    assert reopened.network.allow == [internet.address, HOST]
    assert reopened.workspace.network.allow == [internet.address, HOST]
    # The secret's value comes from the keyring again, by the name state.json keeps.
    assert (
        VALUE
        not in (window.conversations.persistence_dir / conversation_id)
        .joinpath("state.json")
        .read_text()
    )
    internet.join(reopened.workspace)
    again = curl(
        reopened.workspace, "-H", '"Authorization: Bearer $API_TOKEN"', f"http://{HOST}:8000/"
    )
    assert "code=200" in again and auth_hash(f"Bearer {VALUE}") in again
    qtbot.waitUntil(lambda: "Allow-list: 2 hosts" in view.mode_label.text(), timeout=10_000)

    # Edit… changes this conversation's mode: saved at once, in force at its next start.
    view.edit_button.click()
    dialog = window.network_controls.edit_dialog
    assert dialog is not None and dialog.isVisible()
    editor = dialog.findChild(PolicyEditor)
    assert editor.entries() == [internet.address, HOST]
    editor.mode_combo.setCurrentIndex(editor.mode_combo.findData("off"))
    dialog.accept()
    qtbot.waitUntil(lambda: "Network off" in view.mode_label.text(), timeout=10_000)
    assert "next starts" in view.notice.text()
    state = window.conversations.persistence_dir / conversation_id / "state.json"
    assert json.loads(state.read_text())["workspace"]["network"] is False


# --- Settings: no Docker ----------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("LLM_MODEL", "LLM_BASE_URL", "LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return config_dir()


def _dialog(qtbot, settings: AppSettings | None = None) -> SettingsDialog:
    return open_settings_dialog(qtbot, settings)


def test_settings_keep_the_mode_the_list_and_the_secrets(qtbot, home: Path) -> None:
    with using_keyring(MemoryKeyring(), trusted=True) as backend:
        dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o"))
        editor = dialog.network_editor
        assert editor.mode_combo.currentData() == "open"
        assert dialog.secrets_editor.keyring_note.isHidden()

        editor.preset_buttons["Python packages"].click()  # also picks allow-list
        editor.preset_buttons["GitHub"].click()
        assert editor.mode_combo.currentData() == "allow-list"
        editor.allow_edit.appendPlainText("https://example.com/x")
        assert "looks like a URL" in dialog.error_text("network_allow")
        assert not dialog.ok_button.isEnabled()
        text = editor.allow_edit.toPlainText().replace("https://example.com/x", "Example.COM:8443")
        editor.allow_edit.setPlainText(text)
        assert dialog.error_text("network_allow") == "" and dialog.ok_button.isEnabled()

        secrets = dialog.secrets_editor
        secrets.name_edit.setText("bad name")
        secrets.hosts_edit.setText("api.github.com")
        secrets.value_edit.setText("ghp_value")
        assert not secrets.add_from_fields() and "GITHUB_TOKEN" in secrets.error_label.text()
        secrets.name_edit.setText("GITHUB_TOKEN")
        secrets.hosts_edit.setText("api.github.com, github.com")
        assert secrets.add_from_fields()
        assert secrets.table.item(0, 1).text() == "api.github.com, github.com"
        dialog.ok_button.click()

        saved_file = (home / "settings.json").read_text()
        assert "ghp_value" not in saved_file
        assert backend.passwords == {("berth", "secret:GITHUB_TOKEN"): "ghp_value"}
        loaded = AppSettings.load()
        assert loaded.network_mode == "allow-list"
        assert loaded.network_allow == [
            "pypi.org",
            "files.pythonhosted.org",
            "github.com",
            "*.github.com",
            "*.githubusercontent.com",
            "codeload.github.com",
            "example.com:8443",
        ]
        assert [(s.name, s.hosts) for s in loaded.secrets] == [
            ("GITHUB_TOKEN", ["api.github.com", "github.com"])
        ]
        assert loaded.workspace_options()["network"].allow == loaded.network_allow
        value = read_secret("GITHUB_TOKEN")
        assert value is not None and value.get_secret_value() == "ghp_value"

        again = _dialog(qtbot, loaded)  # reopened, it shows what was saved
        assert again.network_editor.mode_combo.currentData() == "allow-list"
        assert again.network_editor.entries() == loaded.network_allow
        again.secrets_editor.table.selectRow(0)
        again.secrets_editor.remove_selected()
        again.ok_button.click()
        assert backend.passwords == {} and AppSettings.load().secrets == []


def test_without_a_keyring_secret_values_stay_for_the_session_and_it_says_so(
    qtbot, home: Path
) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    with using_keyring(FailKeyring(), trusted=False):
        dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o"))
        secrets = dialog.secrets_editor
        assert secrets.keyring_note.isVisible()
        secrets.name_edit.setText("NPM_TOKEN")
        secrets.hosts_edit.setText("registry.npmjs.org")
        secrets.value_edit.setText("npm_value")
        assert secrets.add_from_fields()
        dialog.ok_button.click()
        assert "npm_value" not in (home / "settings.json").read_text()
        value = read_secret("NPM_TOKEN")
        assert value is not None and value.get_secret_value() == "npm_value"


def test_an_old_network_switch_reads_as_a_mode() -> None:
    assert AppSettings.model_validate({"network_enabled": False}).network_mode == "off"
    assert AppSettings.model_validate({"network_enabled": True}).network_mode == "open"
    assert AppSettings(network_mode="off").workspace_options()["network"] is False


def test_a_secrets_hosts_join_the_allow_list_and_what_it_misses_is_said(qtbot, home: Path) -> None:
    with using_keyring(MemoryKeyring(), trusted=True):
        dialog = _dialog(qtbot, AppSettings(llm_model="openai/gpt-4o"))
        editor, secrets = dialog.network_editor, dialog.secrets_editor
        note = secrets.allow_note
        editor.preset_buttons["Python packages"].click()  # allow-list: pypi.org, ...
        secrets.name_edit.setText("API_TOKEN")
        secrets.hosts_edit.setText("api.example.com, pypi.org")
        secrets.value_edit.setText("tok-value")
        assert secrets.add_from_fields()
        # Its host the list missed is on it now, once; the one it had is left alone.
        assert editor.entries() == ["pypi.org", "files.pythonhosted.org", "api.example.com"]
        assert not note.isHidden() and note.text() == "Added to the allow-list: api.example.com."

        editor.allow_edit.setPlainText("pypi.org")  # taken off by hand: said
        assert note.text() == "API_TOKEN cannot reach api.example.com: not on the list."
        editor.mode_combo.setCurrentIndex(editor.mode_combo.findData("open"))
        assert "The network is open: secrets are used in allow-list mode only." in note.text()
        editor.mode_combo.setCurrentIndex(editor.mode_combo.findData("allow-list"))
        editor.allow_edit.setPlainText("pypi.org\n*.example.com")  # a wildcard covers it
        assert note.isHidden()

        editor.mode_combo.setCurrentIndex(editor.mode_combo.findData("open"))
        secrets.name_edit.setText("NPM_TOKEN")
        secrets.hosts_edit.setText("registry.npmjs.org")
        secrets.value_edit.setText("npm-value")
        assert secrets.add_from_fields()  # open: the host joins the list, the mode stays
        assert editor.entries()[-1] == "registry.npmjs.org"
        assert editor.mode_combo.currentData() == "open"
        assert "Added to the allow-list: registry.npmjs.org." in note.text()
        assert "secrets are used in allow-list mode only" in note.text()
        dialog.ok_button.click()
        saved = AppSettings.load()
        assert saved.network_allow == ["pypi.org", "*.example.com", "registry.npmjs.org"]
        assert saved.network_mode == "open"
