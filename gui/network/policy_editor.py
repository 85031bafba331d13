"""The network mode and allow-list, as one editor: in Settings (for new conversations) and
in the Network tab's Edit dialog (for the conversation shown).

One host per line (exact, ``*.suffix``, an address, each with an optional ``:port``);
presets add their hosts in one click. Each edit is checked with the sandbox's own rules
(``NetworkPolicy``), and the first bad entry is said in red under the list.
"""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent.conversation.network import PRESETS, NetworkMode, NetworkSetting

MODE_TEXTS: dict[NetworkMode, str] = {
    "allow-list": "Allow-list: only the hosts below, through a proxy (logged)",
    "open": "Open: any address",
    "off": "Off: no network",
}
ERROR_STYLE = "color: #cf222e;"
NOTE_STYLE = "color: #59636e;"


def preset_object_name(title: str) -> str:
    return "preset_" + title.split()[0].lower()


class PolicyEditor(QWidget):
    """``setting()`` is what the editor says (None while an entry is bad); ``changed``
    fires on each edit."""

    changed = Signal()

    def __init__(self, setting: NetworkSetting, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("network_mode")
        for mode, text in MODE_TEXTS.items():
            self.mode_combo.addItem(text, mode)
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(setting.mode)))
        self.allow_edit = QPlainTextEdit("\n".join(setting.allow), self)
        self.allow_edit.setObjectName("network_allow")
        self.allow_edit.setPlaceholderText("pypi.org\n*.githubusercontent.com\n10.0.0.5:8080")
        self.allow_edit.setTabChangesFocus(True)
        self.allow_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 6 + 12)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("network_allow_error")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        hint = QLabel("One host per line: exact, *.suffix or an address, optional :port", self)
        hint.setStyleSheet(NOTE_STYLE)
        self.preset_buttons: dict[str, QPushButton] = {}
        presets = QGridLayout()
        presets.setContentsMargins(0, 0, 0, 0)
        presets.setHorizontalSpacing(6)
        for i, (title, hosts) in enumerate(PRESETS.items()):
            button = QPushButton(f"+ {title}", self)
            button.setObjectName(preset_object_name(title))
            button.setToolTip("Adds " + ", ".join(hosts))
            button.clicked.connect(lambda _c=False, h=hosts: self.add_hosts(h))
            presets.addWidget(button, i // 2, i % 2)
            self.preset_buttons[title] = button

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.mode_combo)
        layout.addWidget(self.allow_edit)
        layout.addWidget(hint)
        layout.addLayout(presets)
        layout.addWidget(self.error_label)
        self.mode_combo.currentIndexChanged.connect(self._on_edit)
        self.allow_edit.textChanged.connect(self._on_edit)
        self._on_edit()

    def entries(self) -> list[str]:
        return [line.strip() for line in self.allow_edit.toPlainText().splitlines() if line.strip()]

    def add_hosts(self, hosts: tuple[str, ...] | list[str], to_mode: bool = True) -> None:
        """Add the hosts not on the list yet, at its end (and with ``to_mode`` the mode
        becomes allow-list)."""
        have = set(self.entries())
        lines = self.entries() + [h for h in hosts if h not in have]
        self.allow_edit.setPlainText("\n".join(lines))
        if to_mode:
            self.mode_combo.setCurrentIndex(self.mode_combo.findData("allow-list"))

    def setting(self) -> NetworkSetting | None:
        return self._checked()[0]

    def error(self) -> str:
        return self._checked()[1]

    def _checked(self) -> tuple[NetworkSetting | None, str]:
        from sandbox import NetworkPolicy

        try:
            allow = NetworkPolicy(allow=self.entries()).allow
        except ValidationError as exc:
            return None, str(exc.errors()[0].get("ctx", {}).get("error", exc.errors()[0]["msg"]))
        return NetworkSetting(mode=self.mode_combo.currentData(), allow=allow), ""

    @Slot()
    def _on_edit(self) -> None:
        error = self.error()
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        self.allow_edit.setEnabled(self.mode_combo.currentData() == "allow-list")
        self.changed.emit()
