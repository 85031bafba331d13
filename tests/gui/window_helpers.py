"""Small readers of what the main window shows, for the GUI tests and the benchmark."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex

from gui.event_view import EventRole


def view_texts(window) -> list[str]:
    """Everything the event stream shows, one string per row."""
    model = window.event_view.model()
    return [
        str(model.data(model.index(row), EventRole.FULL_TEXT)) for row in range(model.rowCount())
    ]


def view_has(window, text: str) -> bool:
    return any(text in row for row in view_texts(window))


def queued_rows(window) -> list[str]:
    model = window.event_view.model()
    return [
        str(model.data(model.index(row), EventRole.FULL_TEXT))
        for row in range(model.rowCount())
        if model.data(model.index(row), EventRole.QUEUED)
    ]


def tree_index(window, path: str) -> QModelIndex:
    return window.file_browser.model.index_for_path(path)


def status_text(window) -> str:
    return window.status_label.text()


def open_settings_dialog(qtbot, settings=None):
    """The Settings dialog on screen, for ``settings`` (else the saved ones)."""
    from gui.settings.app_settings import AppSettings
    from gui.settings.dialog import SettingsDialog

    dialog = SettingsDialog(settings or AppSettings.load())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog
