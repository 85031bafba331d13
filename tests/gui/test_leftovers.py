"""Settings lists this installation's leftovers (a deleted conversation's container and
volume) and removes them; another installation's on the same engine are neither listed nor
touched."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from pathlib import Path

from PySide6.QtWidgets import QListWidget

from gui.settings.app_settings import AppSettings
from gui.settings.dialog import SettingsDialog
from sandbox import labels


def _make(client, image: str, tags: dict[str, str], name: str):
    volume = client.volumes.create(name=labels.volume_name(name), labels=tags)
    container = client.containers.create(
        image, command=["true"], labels=tags, name=labels.container_name(name)
    )
    return container, volume


def test_settings_lists_leftovers_and_removes_them(qtbot, docker_client, sandbox_image):
    gone = f"gone-{uuid.uuid4().hex[:10]}"  # no conversation folder has this id
    other = f"other-{uuid.uuid4().hex[:10]}"
    their_tags = {**labels.labels_for(other), labels.INSTALLATION: "feedface" * 4}
    mine = _make(docker_client, sandbox_image, labels.labels_for(gone), gone)
    theirs = _make(docker_client, sandbox_image, their_tags, other)
    try:
        dialog = SettingsDialog(AppSettings())
        qtbot.addWidget(dialog)
        dialog.show()
        box = dialog.leftovers_box
        qtbot.waitUntil(lambda: not box.busy, timeout=30_000)
        listed = {item.conversation_id: item for item in box.items()}
        assert gone in listed and other not in listed
        assert listed[gone].containers == [labels.container_name(gone)]
        assert listed[gone].volumes == [labels.volume_name(gone)]
        rows = box.findChild(QListWidget, "leftovers_list")
        assert rows.isVisible() and any(
            gone[:12] in rows.item(i).text() for i in range(rows.count())
        )
        assert box.remove_button.isEnabled()
        dialog.grab().save(str(Path(tempfile.gettempdir()) / "berth-settings-leftovers.png"))

        box.remove_button.click()
        qtbot.waitUntil(lambda: not box.busy, timeout=60_000)
        assert gone not in {item.conversation_id for item in box.items()}
        assert not docker_client.containers.list(all=True, filters={"name": f"berth-{gone}"})
        assert not docker_client.volumes.list(filters={"name": labels.volume_name(gone)})
        theirs[0].reload()  # another installation's: still there
        theirs[1].reload()
    finally:
        for container, volume in (mine, theirs):
            with contextlib.suppress(Exception):
                container.remove(force=True)
            with contextlib.suppress(Exception):
                volume.remove(force=True)
