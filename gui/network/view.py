"""The Network tab, beside Files and Changes: every request the conversation's proxy saw.

Newest first: time, method, host, port, allowed or denied, bytes. A denied request stands
out (red, its reason as a tooltip) and carries an **Allow this host** button; "Denied only"
hides the rest. The header says the conversation's mode and list, with Edit… to change
them. It is fed plain data (``sandbox.NetworkRequest`` items, a ``NetworkSetting``) and
says what the user asked with signals: gui/network/controls.py does the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.file_browser.formatting import human_size
from gui.theme import DIM_TEXT

if TYPE_CHECKING:
    from agent.conversation.network import NetworkSetting
    from sandbox import NetworkRequest

COLUMNS = ("Time", "Method", "Host", "Result", "Bytes", "")
HOST_COLUMN, RESULT_COLUMN = 2, 3
ACTION_COLUMN = len(COLUMNS) - 1
DENIED_TEXT = "#cf222e"
DENIED_BACKGROUND = "#ffebe9"
ALLOWED_TEXT = "#1a7f37"
ALLOW_TEXT = "Allow this host"


def mode_text(setting: NetworkSetting | None) -> str:
    if setting is None:
        return "No conversation yet"
    if setting.mode == "off":
        return "Network off: the container reaches nothing"
    if setting.mode == "open":
        return "Network open: any address (no proxy, nothing logged)"
    hosts = len(setting.allow)
    return f"Allow-list: {hosts} host{'s' if hosts != 1 else ''}; anything else is denied"


class NetworkView(QWidget):
    allow_requested = Signal(str)  # a host
    edit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("network_view")
        self.requests: list[NetworkRequest] = []
        self._setting: NetworkSetting | None = None
        self._asked: set[str] = set()  # hosts whose Allow was clicked, not yet confirmed
        self.mode_label = QLabel(mode_text(None), self)
        self.mode_label.setObjectName("network_mode_label")
        self.denied_only = QCheckBox("Denied only", self)
        self.denied_only.setObjectName("network_denied_only")
        self.denied_only.toggled.connect(lambda _on: self._apply_filter())
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.setObjectName("network_edit")
        self.edit_button.setToolTip("This conversation's network mode and allow-list")
        self.edit_button.clicked.connect(self.edit_requested)
        self.edit_button.setEnabled(False)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("network_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        # A narrow panel cuts the middle of a long name: its port stays in sight.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(HOST_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel(self)
        self.summary.setObjectName("network_summary")
        self.summary.setStyleSheet(f"color: {DIM_TEXT};")
        self.summary.setWordWrap(True)
        # What the last change of this conversation's network did (or why it failed).
        self.notice = QLabel(self)
        self.notice.setObjectName("network_notice")
        self.notice.setWordWrap(True)
        self.notice.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 4, 0, 0)
        top.addWidget(self.mode_label, 1)
        top.addWidget(self.denied_only)
        top.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self._say_summary()

    # --- fed by the controls ----------------------------------------------------------------

    def set_setting(self, setting: NetworkSetting | None) -> None:
        self._setting = setting
        self.mode_label.setText(mode_text(setting))
        self.edit_button.setEnabled(setting is not None)
        if setting is not None:
            self._asked -= {h for h in self._asked if self._is_allowed(h)}
        self._update_buttons()
        self._say_summary()

    def set_requests(self, requests: Sequence[NetworkRequest]) -> None:
        """The log as it stands (oldest first, as the proxy keeps it): only new requests
        are added when the old ones are still its start."""
        requests = list(requests)
        known = len(self.requests)
        if requests[:known] != self.requests:
            self.table.setRowCount(0)
            known = 0
        for request in requests[known:]:
            self._insert(request)
        self.requests = requests
        self._apply_filter()
        self._say_summary()

    def say(self, text: str, *, error: bool = False) -> None:
        """A line above the table ("" hides it); an error in red, and the hosts asked for
        get their Allow button back."""
        self.notice.setText(text)
        self.notice.setStyleSheet(f"color: {DENIED_TEXT if error else DIM_TEXT};")
        self.notice.setVisible(bool(text))
        if error:
            self._asked.clear()
            self._update_buttons()

    def clear(self) -> None:
        self.requests = []
        self._asked.clear()
        self.say("")
        self.table.setRowCount(0)
        self._say_summary()

    def allow_button(self, row: int) -> QPushButton | None:
        widget = self.table.cellWidget(row, ACTION_COLUMN)
        return widget if isinstance(widget, QPushButton) else None

    def row_of_denied(self, host: str) -> int | None:
        """The newest denied request to ``host``, as a row of the table."""
        for row in range(self.table.rowCount()):
            if self.host_at(row) == host and self.allow_button(row) is not None:
                return row
        return None

    def host_at(self, row: int) -> str:
        item = self.table.item(row, HOST_COLUMN)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def result_at(self, row: int) -> str:
        item = self.table.item(row, RESULT_COLUMN)
        return item.text() if item is not None else ""

    # --- internals --------------------------------------------------------------------------

    def _insert(self, request: NetworkRequest) -> None:
        self.table.insertRow(0)  # newest first
        local = request.time.astimezone()
        cells = (
            local.strftime("%H:%M:%S"),
            request.method,
            f"{request.host}:{request.port}",
            "Allowed" if request.allowed else "Denied",
            human_size(request.bytes),
        )
        tip = request.reason or f"{request.method} {request.host}:{request.port}"
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(f"{local:%Y-%m-%d %H:%M:%S} · {tip}")
            if column == len(cells) - 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not request.allowed:
                item.setBackground(QBrush(QColor(DENIED_BACKGROUND)))
            if column == HOST_COLUMN:
                item.setData(Qt.ItemDataRole.UserRole, request.host)
            if column == RESULT_COLUMN:
                colour = ALLOWED_TEXT if request.allowed else DENIED_TEXT
                item.setForeground(QBrush(QColor(colour)))
            self.table.setItem(0, column, item)
        if not request.allowed:
            button = QPushButton(ALLOW_TEXT, self.table)
            button.setObjectName("allow_host_button")
            button.setToolTip(f"Add {request.host} to this conversation's allow-list")
            button.clicked.connect(lambda _c=False, h=request.host: self._allow(h))
            self.table.setCellWidget(0, ACTION_COLUMN, button)
            self._update_button(button, request.host)

    def _allow(self, host: str) -> None:
        self._asked.add(host)
        self._update_buttons()
        self.allow_requested.emit(host)

    def _is_allowed(self, host: str) -> bool:
        setting = self._setting
        return setting is not None and setting.mode == "allow-list" and host in setting.allow

    def _update_buttons(self) -> None:
        for row in range(self.table.rowCount()):
            button = self.allow_button(row)
            if button is not None:
                self._update_button(button, self.host_at(row))

    def _update_button(self, button: QPushButton, host: str) -> None:
        if self._is_allowed(host):
            button.setText("Allowed now")
            button.setEnabled(False)
        elif host in self._asked:
            button.setText("Allowing…")
            button.setEnabled(False)
        else:
            button.setText(ALLOW_TEXT)
            button.setEnabled(self._setting is not None and self._setting.mode == "allow-list")

    def _apply_filter(self) -> None:
        only = self.denied_only.isChecked()
        for row in range(self.table.rowCount()):
            self.table.setRowHidden(row, only and self.result_at(row) != "Denied")

    def _say_summary(self) -> None:
        total = len(self.requests)
        denied = sum(1 for r in self.requests if not r.allowed)
        if total:
            plural = "s" if total != 1 else ""
            self.summary.setText(f"{total} request{plural}, {denied} denied.")
        elif self._setting is not None and self._setting.mode == "allow-list":
            self.summary.setText("No requests yet. Each one the agent makes shows here.")
        else:
            self.summary.setText("Requests show here for conversations with an allow-list.")
