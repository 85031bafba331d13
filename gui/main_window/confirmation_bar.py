"""The bar above the composer that asks the user to approve or reject a tool call.

In confirmation mode the engine stops at WAITING_FOR_CONFIRMATION before each tool call.
The bar shows every pending call in full (the whole command, or the file and what the edit
puts there), so the user approves what will really run. Reject first asks for a reason in
an inline line edit: the model reads it, so it can try something else.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent.events import ActionEvent
from agent.status import AgentStatus
from gui.event_view.mcp_call import mcp_call, pretty_arguments
from gui.theme import status_color

ACCENT = status_color(AgentStatus.WAITING_FOR_CONFIRMATION)
DETAILS_MAX_LINES = 12
_PREVIEW_LINES = 40  # lines of a file's content shown per argument (the rest is counted)

_STYLE = f"""
QFrame#confirmation_bar {{
    background: #fbf8ff;
    border: 1px solid {ACCENT};
    border-radius: 8px;
}}
QLabel#confirmation_title {{ color: {ACCENT}; font-weight: 600; }}
QPlainTextEdit#confirmation_details {{
    background: #ffffff;
    border: 1px solid #d1d9e0;
    border-radius: 6px;
    padding: 2px 4px;
}}
QPushButton#approve_button {{
    background: #1a7f37; color: #ffffff; border: none; border-radius: 6px;
    padding: 5px 14px; font-weight: 600;
}}
QPushButton#approve_button:hover {{ background: #17702f; }}
QPushButton#approve_button:disabled {{ background: #94d3a2; }}
QPushButton#reject_button {{
    background: #ffffff; color: #cf222e; border: 1px solid #d1d9e0; border-radius: 6px;
    padding: 5px 14px; font-weight: 600;
}}
QPushButton#reject_button:hover {{ background: #fff1f0; border-color: #cf222e; }}
QPushButton#reject_button:disabled {{ color: #8c959f; }}
QLineEdit#reject_reason {{
    border: 1px solid #d1d9e0; border-radius: 6px; padding: 4px 6px; background: #ffffff;
}}
QLineEdit#reject_reason:focus {{ border-color: {ACCENT}; }}
"""


def _block(text: str) -> str:
    """``text`` indented, cut after _PREVIEW_LINES lines (the count of the rest is said)."""
    lines = text.splitlines() or [""]
    shown = lines[:_PREVIEW_LINES]
    out = "\n".join("    " + line for line in shown)
    if len(lines) > len(shown):
        out += f"\n    … {len(lines) - len(shown)} more lines"
    return out


def describe_action(action: ActionEvent) -> str:
    """What one pending tool call will do, as plain text the user can check."""
    args = dict(action.arguments)
    if action.raw_arguments is not None and not args:
        return f"{action.tool_name} (arguments that are not valid JSON):\n{action.raw_arguments}"
    mcp = mcp_call(action.tool_name)
    if mcp is not None:
        # The whole value of each argument: the user approves what the server will get.
        arguments = pretty_arguments(args, limit=10**9)
        return f"MCP server {mcp[0]} \N{EM DASH} tool {mcp[1]}, with:\n{_block(arguments)}"
    if action.tool_name == "bash" and "command" in args:
        command = str(args.pop("command"))
        head = "bash — run this command:" if command else "bash — read the running command"
        lines = [head, _block(command)] if command else [head]
    elif action.tool_name == "file_editor" and "path" in args:
        verb = str(args.pop("command", "?"))
        path = str(args.pop("path"))
        lines = [f"file_editor — {verb} {path}"]
        if verb == "create" and "file_text" in args:
            text = str(args.pop("file_text"))
            count = len(text.splitlines())
            lines += [f"  new file, {count} line{'s' if count != 1 else ''}:", _block(text)]
        if verb == "str_replace":
            lines += ["  - replace:", _block(str(args.pop("old_str", "")))]
            lines += ["  + with:", _block(str(args.pop("new_str", "")))]
        if verb == "insert":
            lines += [f"  + insert after line {args.pop('insert_line', '?')}:"]
            lines += [_block(str(args.pop("new_str", "")))]
    else:
        lines = [action.tool_name]
    for key, value in args.items():  # anything not shown above, as it came
        text = str(value)
        lines.append(f"  {key}: {text}" if "\n" not in text else f"  {key}:\n{_block(text)}")
    return "\n".join(lines)


class _ReasonEdit(QLineEdit):
    """The reason line edit: Escape gives up on rejecting."""

    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ConfirmationBar(QFrame):
    """Shows the pending tool calls; says ``approved()`` or ``rejected(reason)`` once."""

    approved = Signal()
    rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmation_bar")
        self.setStyleSheet(_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)

        self.title = QLabel("The agent asks to run this. Approve it?", self)
        self.title.setObjectName("confirmation_title")
        layout.addWidget(self.title)

        self.details = QPlainTextEdit(self)
        self.details.setObjectName("confirmation_details")
        self.details.setAccessibleName("The tool call waiting for approval")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout.addWidget(self.details)

        row = QHBoxLayout()
        row.setSpacing(8)
        self.reason_edit = _ReasonEdit(self)
        self.reason_edit.setObjectName("reject_reason")
        self.reason_edit.setPlaceholderText("Why not? The agent reads this (Enter rejects)")
        self.reason_edit.setAccessibleName("Reason for rejecting")
        self.reason_edit.returnPressed.connect(self._reject)
        self.reason_edit.cancelled.connect(self._cancel_reason)
        self.reason_edit.hide()
        row.addWidget(self.reason_edit, 1)
        row.addStretch(0)
        self.reject_button = QPushButton("Reject…", self)
        self.reject_button.setObjectName("reject_button")
        self.reject_button.setToolTip("Say why, and the agent tries something else")
        self.reject_button.clicked.connect(self._on_reject_clicked)
        self.approve_button = QPushButton("Approve", self)
        self.approve_button.setObjectName("approve_button")
        self.approve_button.setToolTip("Run it")
        self.approve_button.clicked.connect(self._approve)
        row.addWidget(self.reject_button)
        row.addWidget(self.approve_button)
        layout.addLayout(row)
        self.hide()

    # --- what the window calls --------------------------------------------------------------

    def show_actions(self, actions: Sequence[ActionEvent]) -> None:
        """Show ``actions`` (the pending tool calls) and wait for the user's answer."""
        count = len(actions)
        self.title.setText(
            "The agent asks to run this. Approve it?"
            if count == 1
            else f"The agent asks to run these {count} tool calls. Approve them?"
        )
        text = "\n\n".join(describe_action(a) for a in actions)
        if self.details.toPlainText() != text:
            self.details.setPlainText(text)
        lines = min(DETAILS_MAX_LINES, max(2, text.count("\n") + 1))
        chrome = 2 * (self.details.document().documentMargin() + self.details.frameWidth() + 3)
        self.details.setFixedHeight(int(self.details.fontMetrics().lineSpacing() * lines + chrome))
        self._cancel_reason()
        self.approve_button.setEnabled(True)
        self.reject_button.setEnabled(True)
        self.reason_edit.setEnabled(True)
        self.show()

    @property
    def text(self) -> str:
        return self.details.toPlainText()

    # --- internals --------------------------------------------------------------------------

    def _approve(self) -> None:
        self._answered()
        self.approved.emit()

    def _on_reject_clicked(self) -> None:
        if self.reason_edit.isHidden():
            self.reason_edit.show()
            self.reject_button.setText("Reject")
            self.reason_edit.setFocus()
            return
        self._reject()

    def _reject(self) -> None:
        if not self.reject_button.isEnabled():
            return
        reason = self.reason_edit.text().strip()
        self._answered()
        self.rejected.emit(reason)

    def _cancel_reason(self) -> None:
        self.reason_edit.clear()
        self.reason_edit.hide()
        self.reject_button.setText("Reject…")

    def _answered(self) -> None:
        # One answer per wait: the bar stays until the status moves on, inert.
        self.approve_button.setEnabled(False)
        self.reject_button.setEnabled(False)
        self.reason_edit.setEnabled(False)
