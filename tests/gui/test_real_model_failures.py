"""Real models through the window (real Docker, real HTTP through litellm to the scripted
server, real widgets): a refused key said plainly with Open Settings, the fixed key used by
Resume without New; the step limit as a pause Resume continues; "Pausing…" on the click."""

from __future__ import annotations

from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from gui.settings.dialog import SettingsDialog
from tests.gui.window_helpers import status_text, view_has, view_texts
from tests.support.fixtures import TEST_API_KEY
from tests.support.llm_server import RecordedRequest, Reply

STARTUP_S = 90_000
QUIET_LOOP = "for i in $(seq 1 200); do echo $i > tick.txt; sleep 0.05; done"


def test_a_refused_key_reads_plainly_and_the_fixed_key_reaches_resume(
    qtbot, make_window, llm_server, monkeypatch
) -> None:
    monkeypatch.setenv("LLM_NUM_RETRIES", "0")
    llm_server.script = lambda _r: Reply.say("Hello with the right key.")
    llm_server.required_key = "sk-the-right-key-0042"  # the window sends TEST_API_KEY
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Say hello")
    window.action_send.trigger()
    banner = window.findChild(QWidget, "llm_error_banner")
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=STARTUP_S)
    assert status_text(window) == "Error"
    said = "The model's server refused the API key (401). Check the key in Settings."
    assert banner.text().splitlines()[0] == said
    assert "Fix the key in Settings, then Resume." in banner.text()
    assert "platform.openai.com" not in banner.text()
    assert view_has(window, said) and view_has(window, "Fix the key in Settings, then Resume.")
    assert window.composer.hint.text() == "Fix the key in Settings, then Resume."
    banner.grab().save("/tmp/berth_error_card_401.png")
    window.event_view.grab().save("/tmp/berth_error_row_401.png")
    conversation_id = window.session.conversation_id

    button = banner.findChild(QPushButton, "open_settings_button")
    assert button is not None and button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.api_key_edit.setText("sk-the-right-key-0042")
    dialog.ok_button.click()

    # Resume, not New: the same conversation asks again, with the key fixed in Settings.
    window.action_resume.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    assert window.session.conversation_id == conversation_id
    assert view_has(window, "Hello with the right key.")
    assert banner.isHidden()
    assert llm_server.requests[-1].headers["authorization"] == "Bearer sk-the-right-key-0042"
    window.settings.llm_api_key = SecretStr(TEST_API_KEY)


def test_the_step_limit_is_a_pause_that_resume_continues(qtbot, make_window, llm_server) -> None:
    def script(request: RecordedRequest) -> Reply:
        done = len(request.tool_results())
        return Reply.say("Counted.") if done >= 3 else Reply.call("bash", command=f"echo {done}")

    llm_server.script = script
    window = make_window()
    window.settings.max_iterations = 2
    qtbot.keyClicks(window.composer_edit, "Count to three")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=STARTUP_S)
    detail = window.status_bar.detail_label.text()
    assert detail == "Paused at the step limit (2): Resume continues"
    assert not any(row.startswith("Step limit reached") for row in view_texts(window))
    assert window.action_resume.isEnabled()

    window.action_resume.trigger()
    qtbot.waitUntil(lambda: status_text(window) == "Finished", timeout=30_000)
    assert view_has(window, "Counted.")
    assert len(llm_server.requests) == 4


def test_pause_says_pausing_on_the_click_then_paused(qtbot, make_window, llm_server) -> None:
    llm_server.script = lambda r: (
        Reply.say("Done.") if r.tool_results() else Reply.call("bash", command=QUIET_LOOP)
    )
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Run the quiet loop")
    window.action_send.trigger()
    qtbot.waitUntil(lambda: view_has(window, "seq 1 200"), timeout=STARTUP_S)
    qtbot.waitUntil(lambda: status_text(window) == "Running", timeout=10_000)
    qtbot.wait(1500)  # the command under way, as in the story

    window.action_pause.trigger()
    assert status_text(window) == "Pausing…"  # on the click, before any notice came
    qtbot.waitUntil(lambda: status_text(window) == "Paused", timeout=10_000)
    assert "frozen" in window.status_bar.detail_label.text()

    window.action_resume.trigger()
    assert status_text(window) == "Resuming…"
    qtbot.waitUntil(lambda: status_text(window) == "Running", timeout=10_000)
    window.action_stop.trigger()
    qtbot.waitUntil(lambda: status_text(window) != "Running", timeout=10_000)
