"""The two small dialogs of the MCP servers page: one server's form (Add, Edit) and
"Import .mcp.json…" (pasted or read from a file).

Each checks what is typed on every edit with agent.mcp.config's own rules and says the
first problem in red under the fields; OK stays disabled until it is gone, so a bad entry
never reaches the list (nor the settings file).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from agent.mcp.config import McpConfigError, McpServerConfig, check_server_name, parse_mcp_json
from gui.network.policy_editor import ERROR_STYLE, NOTE_STYLE

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# A .mcp.json is a few lines; anything this big is the wrong file.
MAX_IMPORT_BYTES = 1024 * 1024


def command_line(config: McpServerConfig) -> str:
    """How the list shows a server: its command line (quoted as a shell would) or URL."""
    if config.command:
        return shlex.join([config.command, *config.args])
    return config.url or ""


def _pairs(text: str, separator: str, what: str, name_re: re.Pattern[str]) -> dict[str, str]:
    """``KEY=VALUE`` (or ``Name: value``) lines as a dict; a bad line is a clear error."""
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(separator)
        key = key.strip()
        if not sep or not name_re.match(key):
            example = "KEY=VALUE" if separator == "=" else "Name: value"
            raise McpConfigError(f"{what}, line {number}: write {example}, not {line.strip()!r}")
        pairs[key] = value.strip() if separator == ":" else value
    return pairs


def _reasons(error: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())


def _error_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _buttons(dialog: QDialog, ok_text: str) -> tuple[QDialogButtonBox, QPushButton]:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, ok


class McpServerForm(QDialog):
    """One server: its name, and a command line (stdio) or a URL (HTTP)."""

    def __init__(
        self,
        taken: set[str],
        parent: QWidget | None = None,
        *,
        name: str = "",
        config: McpServerConfig | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mcp_server_form")
        self.setWindowTitle("Edit MCP server" if config else "Add MCP server")
        self._taken = taken - {name}
        self.result_name = ""
        self.result_config: McpServerConfig | None = None

        self.name_edit = QLineEdit(name, self)
        self.name_edit.setObjectName("mcp_name")
        self.name_edit.setPlaceholderText("git")
        self.stdio_radio = QRadioButton("Command, run inside the conversation's container", self)
        self.stdio_radio.setObjectName("mcp_kind_stdio")
        self.http_radio = QRadioButton("URL of an HTTP server (streamable HTTP)", self)
        self.http_radio.setObjectName("mcp_kind_http")
        kinds = QButtonGroup(self)
        kinds.addButton(self.stdio_radio)
        kinds.addButton(self.http_radio)
        is_http = config is not None and config.transport == "http"
        (self.http_radio if is_http else self.stdio_radio).setChecked(True)
        self.command_edit = QLineEdit(self)
        self.command_edit.setObjectName("mcp_command")
        self.command_edit.setPlaceholderText("uvx mcp-server-git --repository /workspace")
        self.url_edit = QLineEdit(self)
        self.url_edit.setObjectName("mcp_url")
        self.url_edit.setPlaceholderText("https://mcp.example.com/mcp")
        self.env_edit = QPlainTextEdit(self)
        self.env_edit.setObjectName("mcp_env")
        self.env_edit.setPlaceholderText("KEY=VALUE, one per line")
        self.env_edit.setTabChangesFocus(True)
        self.env_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.headers_edit = QPlainTextEdit(self)
        self.headers_edit.setObjectName("mcp_headers")
        self.headers_edit.setPlaceholderText("Name: value, one per line")
        self.headers_edit.setTabChangesFocus(True)
        self.headers_edit.setFixedHeight(self.env_edit.height())
        if config is not None:
            self.command_edit.setText(command_line(config) if config.command else "")
            self.url_edit.setText(config.url or "")
            self.env_edit.setPlainText("\n".join(f"{k}={v}" for k, v in config.env.items()))
            self.headers_edit.setPlainText(
                "\n".join(f"{k}: {v}" for k, v in config.headers.items())
            )
        note = QLabel(
            "Values are kept in settings.json as typed: give tokens through the Secrets of the "
            "network door rather than here.",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)
        self.error_label = _error_label(self, "mcp_form_error")
        self.buttons, self.ok_button = _buttons(self, "Save" if config else "Add")

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.addRow("Name:", self.name_edit)
        form.addRow("Runs:", self.stdio_radio)
        form.addRow("", self.http_radio)
        self._command_label = QLabel("Command line:", self)
        self._url_label = QLabel("URL:", self)
        self._env_label = QLabel("Environment:", self)
        self._headers_label = QLabel("Headers:", self)
        form.addRow(self._command_label, self.command_edit)
        form.addRow(self._url_label, self.url_edit)
        form.addRow(self._env_label, self.env_edit)
        form.addRow(self._headers_label, self.headers_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

        for edit in (self.name_edit, self.command_edit, self.url_edit):
            edit.textChanged.connect(self.validate)
        for text_edit in (self.env_edit, self.headers_edit):
            text_edit.textChanged.connect(self.validate)
        self.stdio_radio.toggled.connect(self.validate)
        self.validate()

    def _parsed(self) -> tuple[str, McpServerConfig]:
        """The name and server the fields describe; McpConfigError says what is wrong."""
        name = check_server_name(self.name_edit.text().strip())
        if name in self._taken:
            raise McpConfigError(f"There is already a server named {name!r}")
        if self.stdio_radio.isChecked():
            try:
                words = shlex.split(self.command_edit.text())
            except ValueError as exc:  # an unclosed quote
                raise McpConfigError(f"The command line: {exc}") from None
            if not words:
                raise McpConfigError(
                    "Give the command that starts the server, e.g. uvx mcp-server-git"
                )
            env = _pairs(self.env_edit.toPlainText(), "=", "Environment", _ENV_NAME)
            raw: dict[str, object] = {"command": words[0], "args": words[1:], "env": env}
        else:
            headers = _pairs(self.headers_edit.toPlainText(), ":", "Headers", _HEADER_NAME)
            raw = {"url": self.url_edit.text().strip(), "headers": headers}
        try:
            return name, McpServerConfig.model_validate(raw)
        except ValidationError as exc:
            raise McpConfigError(_reasons(exc)) from None

    def error(self) -> str:
        try:
            self._parsed()
        except McpConfigError as exc:
            return str(exc)
        return ""

    @Slot()
    def validate(self) -> bool:
        stdio = self.stdio_radio.isChecked()
        for widget in (self._command_label, self.command_edit, self._env_label, self.env_edit):
            widget.setVisible(stdio)
        for widget in (self._url_label, self.url_edit, self._headers_label, self.headers_edit):
            widget.setVisible(not stdio)
        error = self.error()
        # An empty new form is not an error yet: the user has not typed anything.
        pristine = not self.name_edit.text() and not self.command_edit.text()
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error) and not pristine)
        self.ok_button.setEnabled(not error)
        return not error

    def accept(self) -> None:
        try:
            self.result_name, self.result_config = self._parsed()
        except McpConfigError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        super().accept()


class McpImportDialog(QDialog):
    """Servers from a ``.mcp.json`` (``{"mcpServers": {...}}``), pasted or from a file."""

    def __init__(self, existing: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mcp_import_dialog")
        self.setWindowTitle("Import .mcp.json")
        self._existing = existing
        self.result_servers: dict[str, McpServerConfig] = {}
        intro = QLabel(
            "Paste the content of a .mcp.json (or Claude's, Cursor's: the \"mcpServers\" "
            "shape), or choose the file.",
            self,
        )
        intro.setWordWrap(True)
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setObjectName("mcp_import_text")
        self.text_edit.setPlaceholderText(
            '{\n  "mcpServers": {\n    "git": {"command": "uvx", "args": ["mcp-server-git"]}'
            "\n  }\n}"
        )
        self.text_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 10)
        self.choose_button = QPushButton("Choose file…", self)
        self.choose_button.setObjectName("mcp_import_choose")
        self.choose_button.clicked.connect(self.choose_file)
        self.preview = QLabel(self)
        self.preview.setObjectName("mcp_import_preview")
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet(NOTE_STYLE)
        self.error_label = _error_label(self, "mcp_import_error")
        self.buttons, self.ok_button = _buttons(self, "Add servers")
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text_edit, 1)
        layout.addLayout(row)
        layout.addWidget(self.preview)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self.text_edit.textChanged.connect(self.validate)
        self.validate()

    @Slot()
    def choose_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose a .mcp.json", str(Path.home()), "JSON (*.json);;All files (*)"
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> bool:
        """Put the file's text in the box (a file too big or unreadable is said in red)."""
        try:
            if path.stat().st_size > MAX_IMPORT_BYTES:
                raise OSError(f"{path.name} is over 1 MB: not a .mcp.json")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.error_label.setText(f"Could not read {path}: {exc}")
            self.error_label.show()
            return False
        self.text_edit.setPlainText(text)
        return True

    def _parsed(self) -> dict[str, McpServerConfig]:
        servers = parse_mcp_json(self.text_edit.toPlainText(), "The pasted text")
        if not servers:
            raise McpConfigError('"mcpServers" lists no server')
        return servers

    @Slot()
    def validate(self) -> bool:
        text = self.text_edit.toPlainText().strip()
        try:
            servers = self._parsed() if text else {}
            error = ""
        except McpConfigError as exc:
            servers, error = {}, str(exc)
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        replaced = sorted(set(servers) & self._existing)
        preview = f"Adds {', '.join(sorted(servers))}." if servers else ""
        if replaced:
            preview += f" Replaces the servers named {', '.join(replaced)}."
        self.preview.setText(preview)
        self.preview.setVisible(bool(preview))
        self.ok_button.setEnabled(bool(servers))
        return bool(servers)

    def accept(self) -> None:
        try:
            self.result_servers = self._parsed()
        except McpConfigError:
            self.validate()
            return
        super().accept()
