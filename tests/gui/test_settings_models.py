"""The Settings dialog and real models: the checkpoint line when the helper image is
missing, the Model field's list from the endpoint, what Test connection says about
streaming and tool calls, and the reasoning settings reaching the request."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from gui.settings.app_settings import AppSettings
from gui.settings.dialog import SettingsDialog
from tests.support.fixtures import TEST_API_KEY
from tests.support.keyrings import MemoryKeyring, using_keyring
from tests.support.llm_server import Reply, ScriptedLLMServer


def _dialog(qtbot, settings: AppSettings) -> SettingsDialog:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_settings_say_checkpoints_are_off_with_the_command_that_builds_the_helper(
    qtbot, docker_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = f"berth-test-no-such-helper:{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("BERTH_CHECKPOINT_IMAGE", tag)
    dialog = _dialog(qtbot, AppSettings())
    box = dialog.checkpoint_box
    qtbot.waitUntil(lambda: not box.busy, timeout=60_000)
    text = box.space_label.text()
    assert text.startswith("Checkpoints are off"), text
    assert f"python -m sandbox.images build-offline {tag} --include python3,iproute2" in text


# The completer's popup opens; the offscreen platform cannot raise it or grab the keyboard.
@pytest.mark.qt_log_ignore("does not support raise", "does not support grabbing the keyboard")
def test_the_model_field_offers_the_endpoints_models_and_keeps_what_was_typed(
    qtbot, llm_server: ScriptedLLMServer
) -> None:
    llm_server.models = ["gamma-1", "Beta-Chat-7B", "alpha-coder"]
    settings = AppSettings(
        llm_model="openai/my-own-model",
        llm_base_url=llm_server.base_url,
        llm_api_key=SecretStr(TEST_API_KEY),
    )
    dialog = _dialog(qtbot, settings)
    field = dialog.model_edit
    qtbot.waitUntil(lambda: field.count() > 0, timeout=30_000)
    assert field.names() == ["openai/Beta-Chat-7B", "openai/alpha-coder", "openai/gamma-1"]
    assert field.text() == "openai/my-own-model"  # the list never replaces the typed text
    assert llm_server.base_url in field.models_source

    # Searchable: any part of the name, any case.
    field.line.clear()
    qtbot.keyClicks(field.line, "CHAT")
    completer = field.completer()
    assert completer.completionCount() == 1
    assert completer.currentCompletion() == "openai/Beta-Chat-7B"
    assert field.text() == "CHAT"
    field.line.clear()
    qtbot.keyClicks(field.line, "A-")
    assert completer.completionCount() == 3  # alpha-coder, beta-chat, gamma-1
    field.setText("openai/picked-by-hand")
    assert field.text() == "openai/picked-by-hand"


def test_without_an_endpoint_the_model_field_offers_litellms_models_for_the_provider(
    qtbot,
) -> None:
    dialog = _dialog(qtbot, AppSettings(llm_model="anthropic/claude"))
    field = dialog.model_edit
    qtbot.waitUntil(lambda: field.count() > 0, timeout=30_000)
    names = field.names()
    assert all(name.startswith("anthropic/") for name in names), names[:5]
    assert any("claude" in name for name in names)
    assert "litellm knows" in field.models_source
    assert field.text() == "anthropic/claude"


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply.call("ping"), "; streams; calls tools"),
        (Reply.say("OK"), "; streams; did not call the tool it was asked to call"),
    ],
    ids=["tool-call", "text-only"],
)
def test_test_connection_says_whether_the_model_streams_and_calls_tools(
    qtbot, llm_server: ScriptedLLMServer, docker_client, reply: Reply, says: str
) -> None:
    llm_server.script = lambda _request: reply
    settings = AppSettings(
        llm_model=llm_server.model,
        llm_base_url=llm_server.base_url,
        llm_api_key=SecretStr(TEST_API_KEY),
    )
    dialog = _dialog(qtbot, settings)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: not dialog.testing, timeout=60_000)
    assert "Docker engine reachable" in dialog.engine_result.text()
    text = dialog.model_result.text()
    assert "replied" in text and says in text, text
    (request,) = llm_server.requests  # one short request
    assert request.stream and request.tool_names == ["ping"]


def test_reasoning_settings_are_saved_and_reach_the_model(qtbot, tmp_path) -> None:
    with using_keyring(MemoryKeyring(), trusted=True):
        _save_reasoning_settings(qtbot, tmp_path)
    saved = AppSettings.load(tmp_path)
    assert (saved.reasoning_effort, saved.thinking_budget) == ("medium", 8000)
    llm = saved.make_llm()
    assert (llm.reasoning_effort, llm.thinking_budget) == ("medium", 8000)
    # "default" sends nothing: the provider's own choice.
    assert AppSettings(llm_model="openai/o4-mini").make_llm().reasoning_effort is None


def _save_reasoning_settings(qtbot, tmp_path) -> None:
    dialog = SettingsDialog(AppSettings(llm_model="openai/o4-mini"), config_dir=tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.reasoning_combo.currentData() == "default"
    assert not dialog.thinking_edit.isEnabled()  # a budget is for Anthropic models only
    dialog.model_edit.setText("anthropic/claude-sonnet-4-5")
    assert dialog.thinking_edit.isEnabled()
    dialog.thinking_edit.setText("512")
    assert "at least 1,024" in dialog.error_text("thinking_budget")
    assert not dialog.ok_button.isEnabled()
    dialog.thinking_edit.setText("8,000")
    dialog.reasoning_combo.setCurrentIndex(dialog.reasoning_combo.findData("medium"))
    dialog.ok_button.click()
    assert dialog.result_settings is not None
