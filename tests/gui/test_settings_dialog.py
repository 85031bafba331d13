"""The Settings dialog: refusing bad values next to the field, the key only in the keyring,
saved values coming back, the environment winning, and Test connection off the GUI thread.

The keyring is an in-memory backend the app is told to trust (tests.support.keyrings), as
it would trust the OS's; the config dir is a tmp XDG_CONFIG_HOME, so platformdirs itself
picks it.
"""

from __future__ import annotations

import base64
import gc
import socket
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from gui.settings.app_settings import KEYRING_SERVICE, KEYRING_USER, AppSettings, config_dir
from gui.settings.dialog import SettingsDialog
from tests.gui.window_helpers import open_settings_dialog, view_has
from tests.support.fixtures import TEST_API_KEY
from tests.support.keyrings import FileKeyring, MemoryKeyring, using_keyring
from tests.support.llm_server import Reply, ScriptedLLMServer

SECRET = "sk-berth-dialog-secret-7d2e91"
ENV_VARS = ("LLM_MODEL", "LLM_BASE_URL", "LLM_API_KEY", "BERTH_SANDBOX_IMAGE")


@pytest.fixture
def trusted_keyring() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring(), trusted=True) as backend:
        yield backend


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted_keyring: MemoryKeyring) -> Path:
    """A clean environment: config under tmp, no LLM_* variables, the tmp keyring."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in (*ENV_VARS, "BERTH_CONFIRMATION_MODE", "BERTH_MAX_ITERATIONS"):
        monkeypatch.delenv(name, raising=False)
    assert config_dir() == tmp_path / "config" / "berth"
    return config_dir()


def _dialog(qtbot, settings: AppSettings | None = None) -> SettingsDialog:
    return open_settings_dialog(qtbot, settings)


def _fill(dialog: SettingsDialog, **texts: str) -> None:
    edits = {
        "model": dialog.model_edit,
        "base_url": dialog.base_url_edit,
        "key": dialog.api_key_edit,
        "image": dialog.image_edit,
        "memory": dialog.memory_edit,
        "disk": dialog.disk_edit,
        "cpus": dialog.cpus_edit,
        "window": dialog.context_window_edit,
        "condenser": dialog.condensation_model_edit,
    }
    for name, text in texts.items():
        edits[name].setText(text)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_bad_values_are_refused_next_to_their_field(qtbot, home: Path) -> None:
    dialog = _dialog(qtbot)
    _fill(dialog, model="openai/gpt-4o", memory="lots", cpus="-1", base_url="ftp://example.com")
    assert "512m" in dialog.error_text("memory_limit")
    assert dialog.findChild(type(dialog.save_error), "memory_limit_error").isVisible()
    assert "more than 0" in dialog.error_text("cpu_limit")
    assert "http" in dialog.error_text("llm_base_url")
    assert dialog.error_text("llm_model") == ""
    assert not dialog.ok_button.isEnabled()
    dialog.accept()  # as if Enter were pressed: nothing is saved, the dialog stays
    assert dialog.isVisible()
    assert not (home / "settings.json").exists()

    _fill(dialog, cpus="abc")
    assert "number" in dialog.error_text("cpu_limit")
    _fill(dialog, memory="1g", cpus="1.5", base_url="http://localhost:8000/v1")
    for field in ("memory_limit", "cpu_limit", "llm_base_url"):
        assert dialog.error_text(field) == "", field
    assert dialog.ok_button.isEnabled()
    _fill(dialog, model="  ")
    assert "model" in dialog.error_text("llm_model")
    assert not dialog.ok_button.isEnabled()


def test_a_dialog_that_refused_a_value_goes_with_its_last_reference(qtbot, home: Path) -> None:
    """A refused value once left the dialog in a reference cycle (the validator's traceback
    and the checking method's frame), so the garbage collector freed it later, on whatever
    thread it ran: a background worker deleted the dialog while the window painted it, and
    the app crashed. Freed with its last reference, it goes on the GUI thread, at once."""
    collecting = gc.isenabled()
    gc.disable()  # only reference counting may free it here
    try:
        dialog = _dialog(qtbot)
        _fill(dialog, memory="lots", base_url="ftp://example.com", cpus="-1")
        assert "512m" in dialog.error_text("memory_limit")
        assert "http" in dialog.error_text("llm_base_url")
        dialog.close()
        gone = weakref.ref(dialog)
        del dialog
        assert gone() is None, "a reference cycle keeps the closed dialog for the collector"
    finally:
        if collecting:
            gc.enable()


def _set_mode(dialog: SettingsDialog, mode: str) -> None:
    combo = dialog.network_editor.mode_combo
    combo.setCurrentIndex(combo.findData(mode))


def test_saving_keeps_the_key_only_in_the_keyring_and_reloads(
    qtbot, home: Path, trusted_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    _fill(
        dialog,
        model="openai/my-model",
        base_url="https://llm.example.com/v1",
        key=SECRET,
        image="my/image:2",
        memory="512m",
        cpus="0.5",
    )
    _set_mode(dialog, "off")
    dialog.confirm_check.setChecked(True)
    with qtbot.waitSignal(dialog.saved) as saved:
        dialog.ok_button.click()
    assert not dialog.isVisible()
    assert saved.args[0].llm_api_key.get_secret_value() == SECRET

    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) == SECRET
    assert trusted_keyring.passwords == {(KEYRING_SERVICE, KEYRING_USER): SECRET}
    files = [p for p in home.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["settings.json"]
    for path in files:
        assert SECRET not in path.read_text(encoding="utf-8"), path

    loaded = AppSettings.load()
    assert loaded.llm_model == "openai/my-model"
    assert loaded.llm_base_url == "https://llm.example.com/v1"
    assert loaded.sandbox_image == "my/image:2"
    assert loaded.memory_limit == "512m"
    assert loaded.cpu_limit == 0.5
    assert loaded.network_enabled is False
    assert loaded.confirmation_mode is True
    assert loaded.schema_version == 1
    assert loaded.llm_api_key is not None and loaded.llm_api_key.get_secret_value() == SECRET
    assert loaded.workspace_options() == {
        "network": False,
        "memory": "512m",
        "cpus": 0.5,
        "pause_mode": "auto",
        "disk_limit": "10g",
    }

    again = _dialog(qtbot, loaded)  # a reopened dialog shows what was saved
    assert again.model_edit.text() == "openai/my-model"
    assert again.api_key_edit.text() == SECRET
    assert again.api_key_edit.echoMode() == again.api_key_edit.EchoMode.Password
    assert again.network_editor.mode_combo.currentData() == "off"
    assert again.confirm_check.isChecked()

    _fill(again, key="")  # clearing the key removes it from the keyring
    again.ok_button.click()
    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) is None
    assert AppSettings.load().llm_api_key is None


def test_a_window_reads_the_keyring_after_it_shows_and_never_loses_the_key(
    qtbot, home: Path, trusted_keyring: MemoryKeyring
) -> None:
    """The window's launch does not wait for the keyring; the key is there all the same
    for the first conversation and in Settings, opened however soon."""
    from gui.main_window import MainWindow

    AppSettings(llm_model="openai/my-model").save()
    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, SECRET)
    window = MainWindow(preload=False)  # as launched; no preload: nothing read it yet
    qtbot.addWidget(window)
    assert window.settings.llm_api_key is None  # left for after the first paint

    dialog = _dialog(qtbot, window.settings)  # opened before the background read
    assert dialog.api_key_edit.text() == SECRET
    dialog.ok_button.click()  # saving without touching the key keeps it
    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) == SECRET

    later = AppSettings.load(keyring_later=True)
    assert later.make_llm().api_key.get_secret_value() == SECRET
    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, "sk-changed-elsewhere")
    assert later.make_llm().api_key.get_secret_value() == SECRET  # read once, not each time

    typed = AppSettings.load(keyring_later=True)
    typed.llm_api_key = SecretStr("sk-typed")  # set before the read: it wins
    typed.read_keyring()
    assert typed.llm_api_key.get_secret_value() == "sk-typed"


def test_the_window_reads_the_keyring_in_the_background_after_its_first_paint(
    qtbot, home: Path, trusted_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui.main_window import window as main_window

    monkeypatch.setattr(main_window, "preload_heavy_modules", lambda: None)  # not litellm
    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, SECRET)
    window = main_window.MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.settings.llm_api_key is not None, timeout=10_000)
    assert window.settings.llm_api_key.get_secret_value() == SECRET


def test_the_environment_overrides_the_keyring_and_the_file(
    qtbot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = AppSettings(llm_model="openai/saved-model", memory_limit="1g")
    saved.save()
    keyring.set_password(KEYRING_SERVICE, KEYRING_USER, SECRET)
    monkeypatch.setenv("LLM_API_KEY", "sk-from-env")
    monkeypatch.setenv("LLM_MODEL", "openai/env-model")

    loaded = AppSettings.load()
    assert loaded.llm_api_key is not None
    assert loaded.llm_api_key.get_secret_value() == "sk-from-env"
    assert loaded.llm_model == "openai/env-model"
    assert loaded.memory_limit == "1g"  # not in the environment: the file's value

    dialog = _dialog(qtbot, loaded)
    assert not dialog.api_key_edit.isEnabled() and dialog.api_key_edit.text() == ""
    assert "LLM_API_KEY" in dialog.api_key_edit.placeholderText()
    assert not dialog.model_edit.isEnabled()
    _fill(dialog, memory="3g")
    dialog.ok_button.click()
    # The keyring keeps its own key, the file keeps the user's model, not the env's.
    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) == SECRET
    assert AppSettings.read_file()["llm_model"] == "openai/saved-model"
    assert AppSettings.read_file()["memory_limit"] == "3g"
    assert "sk-from-env" not in (home / "settings.json").read_text(encoding="utf-8")
    monkeypatch.delenv("LLM_API_KEY")
    assert AppSettings.load().llm_api_key.get_secret_value() == SECRET


def test_a_corrupt_settings_file_gives_the_defaults(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "settings.json").write_text('{"memory_limit": "lots"', encoding="utf-8")
    assert AppSettings.load().memory_limit == "2g"
    (home / "settings.json").write_text('{"memory_limit": "lots"}', encoding="utf-8")
    assert AppSettings.load().memory_limit == "2g"


def test_test_connection_reports_an_unreachable_engine(
    qtbot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _closed_port()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    settings = AppSettings(llm_model="openai/m", llm_base_url=f"http://127.0.0.1:{port}/v1")
    dialog = _dialog(qtbot, settings)
    dialog.test_button.click()
    assert dialog.testing and not dialog.test_button.isEnabled()
    assert "Pinging" in dialog.engine_result.text()  # the GUI thread is not blocked
    qtbot.waitUntil(lambda: not dialog.testing, timeout=30_000)
    assert "Docker engine unreachable" in dialog.engine_result.text()
    assert dialog.model_result.text().startswith("Model openai/m: ")
    assert "replied" not in dialog.model_result.text()
    assert dialog.test_button.isEnabled()


def test_no_dialog_opens_on_start_when_the_environment_configures_the_app(
    qtbot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui.main_window import MainWindow

    monkeypatch.setenv("LLM_MODEL", "openai/env-model")
    monkeypatch.setenv("LLM_API_KEY", SECRET)
    window = MainWindow(persistence_dir=home.parent / "conversations", preload=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert QApplication.activeModalWidget() is None
    assert window.findChild(SettingsDialog) is None
    assert window.settings.llm_api_key.get_secret_value() == SECRET
    assert window.action_send.isEnabled() is False  # nothing typed yet, but no dialog either


def test_saved_settings_apply_to_the_next_conversation(
    qtbot, home: Path, make_window, llm_server: ScriptedLLMServer, docker_client
) -> None:
    llm_server.script = lambda _request: Reply.say("All set.")
    window = make_window()
    window.action_settings.trigger()
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    _fill(dialog, memory="256m", cpus="0.5")
    _set_mode(dialog, "off")
    dialog.pause_combo.setCurrentIndex(dialog.pause_combo.findData("signals"))
    dialog.ok_button.click()
    assert window.settings.memory_limit == "256m" and not window.settings.network_enabled
    assert window.settings.pause_mode == "signals"
    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) == TEST_API_KEY

    window.composer_edit.setPlainText("Say hello")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "All set."), timeout=90_000)
    workspace = window.session.conversation.workspace
    host = docker_client.containers.get(workspace.container.id).attrs["HostConfig"]
    assert host["Memory"] == 256 * 1024**2
    assert host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == "none"
    assert workspace.pause_mode == "signals"


def test_the_settings_show_the_space_checkpoints_use_and_prune_them(
    qtbot, sandbox_image, docker_client
):
    from gui.settings.app_settings import AppSettings
    from gui.settings.dialog import SettingsDialog
    from sandbox.checkpoints import CheckpointStore

    # A conversation's store (made on first use) to measure and to prune.
    store = CheckpointStore("settings-test", None, client=docker_client)
    store.usage()
    store.close()
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    box = dialog.checkpoint_box
    qtbot.waitUntil(lambda: not box.busy, timeout=60_000)
    assert box.space_label.text().startswith("Checkpoints use "), box.space_label.text()
    box.prune_button.click()
    qtbot.waitUntil(lambda: not box.busy, timeout=60_000)
    assert box.space_label.text().startswith("Freed "), box.space_label.text()
    store.destroy()


def test_context_window_and_condensation_model_reach_the_conversation(qtbot, home: Path) -> None:
    dialog = _dialog(qtbot)
    _fill(dialog, model="openai/local-model", window="32k")
    assert "whole number" in dialog.error_text("context_window")
    _fill(dialog, window="500")
    assert "at least 1,024" in dialog.error_text("context_window")
    assert not dialog.ok_button.isEnabled()
    _fill(dialog, window="16,384", condenser="openai/small-model")
    assert dialog.error_text("context_window") == ""
    qtbot.wait(50)  # the hidden error line gives its room back
    dialog.grab().save("/tmp/settings-context-window.png")
    with qtbot.waitSignal(dialog.saved):
        dialog.ok_button.click()

    loaded = AppSettings.load()
    assert loaded.context_window == 16_384
    llm = loaded.make_llm()
    assert llm.effective_context_window() == 16_384
    summariser = loaded.make_condensation_llm()
    assert summariser is not None and summariser.model == "openai/small-model"
    loaded.context_window = None
    loaded.condensation_model = ""
    assert loaded.make_condensation_llm() is None  # the conversation's own model summarises


def test_first_start_without_a_model_points_at_settings(
    qtbot, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui.main_window import MainWindow

    for name in ("LLM_MODEL", "LLM_API_KEY", "LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    window = MainWindow(persistence_dir=home.parent / "conversations", preload=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert not window.settings.is_configured
    assert "Settings" in window.composer.hint.text()
    button = window.composer.settings_button
    assert button.isVisible()
    window.grab().save("/tmp/berth_no_model.png")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.findChild(SettingsDialog) is not None, timeout=5_000)
    dialog = window.findChild(SettingsDialog)
    qtbot.waitExposed(dialog)
    dialog.reject()


class _Chain(ChainerBackend):
    """A chainer of what is given (keyring's own picks from what is installed)."""

    def __init__(self, backends: list[KeyringBackend]) -> None:
        super().__init__()
        self._given = backends

    @property
    def backends(self) -> list[KeyringBackend]:  # type: ignore[override]
        return self._given


@pytest.mark.parametrize("kind", ["file", "fail", "chain"])
def test_with_no_os_keyring_the_key_stays_in_the_session_and_never_in_a_file(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Only a file backend (keyrings.alt's kind), the fail backend, or a chainer of both:
    Berth says there is no keyring, keeps the key for the session, writes it nowhere."""
    from keyring.backends.fail import Keyring as FailKeyring

    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    for name in (*ENV_VARS, "BERTH_CONFIRMATION_MODE", "BERTH_MAX_ITERATIONS"):
        monkeypatch.delenv(name, raising=False)
    file_backend = FileKeyring(tmp_path / "data" / "python_keyring" / "keyring_pass.cfg")
    backend = {"file": file_backend, "fail": FailKeyring(), "chain": None}[kind]
    backend = backend or _Chain([file_backend, FailKeyring()])
    with using_keyring(backend, trusted=False):
        dialog = _dialog(qtbot)
        note = dialog.findChild(QLabel, "llm_api_key_keyring_note")
        assert note is not None and note.isVisible() and "session only" in note.text()
        if kind == "file":
            dialog.grab().save(str(Path(tempfile.gettempdir()) / "berth-settings-no-keyring.png"))
        _fill(dialog, model="openai/my-model", key=SECRET)
        with qtbot.waitSignal(dialog.saved) as saved:
            dialog.ok_button.click()
        assert saved.args[0].llm_api_key.get_secret_value() == SECRET  # this session's
        assert AppSettings.load().llm_api_key is None  # not kept past it
    encoded = base64.b64encode(SECRET.encode())
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files  # settings.json at least
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data and encoded not in data, path


def test_the_disk_limit_is_set_in_settings_and_reaches_the_workspace(qtbot, home: Path) -> None:
    dialog = _dialog(qtbot)
    _fill(dialog, model="openai/gpt-4o", disk="lots")
    assert "10g" in dialog.error_text("disk_limit")
    assert not dialog.ok_button.isEnabled()
    _fill(dialog, disk="1m")
    assert "at least 10m" in dialog.error_text("disk_limit")

    _fill(dialog, disk="20g")
    assert dialog.error_text("disk_limit") == ""
    dialog.accept()

    loaded = AppSettings.load()
    assert loaded.disk_limit == "20g"
    assert loaded.workspace_options()["disk_limit"] == "20g"
    assert AppSettings().disk_limit == "10g"  # the default, shown in the dialog
