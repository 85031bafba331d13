"""The Settings dialog and real models: the checkpoint line when the helper image is
missing, the Model field's list from the endpoint, what Test connection says about
streaming and tool calls, and the reasoning settings reaching the request."""

from __future__ import annotations

import uuid

import pytest

from gui.settings.app_settings import AppSettings
from gui.settings.dialog import SettingsDialog


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
    box = _dialog(qtbot, AppSettings()).checkpoint_box
    qtbot.waitUntil(lambda: not box.busy, timeout=60_000)
    text = box.space_label.text()
    assert text.startswith("Checkpoints are off"), text
    assert f"python -m sandbox.images build-offline {tag} --include python3,iproute2" in text
