"""The Settings dialog: model, endpoint, API key, sandbox image and limits, confirmation,
MCP servers.

Every edit is validated through ``AppSettings`` itself, so the dialog and the saved file
agree on what is valid; a bad value shows a red line under its field and disables OK.
Fields set by an environment variable are shown read-only (the variable wins at start).
On OK the settings go to settings.json and the key to the OS keyring, and ``saved`` carries
them to the window, which uses them for the next conversation.

"Test connection" pings the Docker engine and makes one tiny LLM call with the values as
typed, in the background (gui.background): the dialog stays responsive whatever the network
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agent.events import Event
from agent.llm.model import is_anthropic
from gui.background import Background, Job
from gui.checkpoints.space import CheckpointSpaceBox
from gui.network.policy_editor import PolicyEditor
from gui.network.secrets_box import SecretsEditor, keep_secret_hosts_allowed
from gui.settings.app_settings import AppSettings, env_overrides, store_keyring_key
from gui.settings.key_store import NO_KEYRING_NOTICE, os_keyring
from gui.settings.leftovers_box import LeftoversBox
from gui.settings.mcp_editor import McpServersEditor, newest_mcp_status
from gui.settings.model_field import ModelField
from gui.settings.probe import ConnectionProbe, ProbeResult

ERROR_STYLE = "color: #cf222e;"
KEYRING_NOTE = (
    "No system keyring found: the key is kept for this session only.\n"
    "Set LLM_API_KEY to give it at every start."
)
NOTE_STYLE = "color: #59636e;"
OK_STYLE = "color: #1a7f37;"

# The fields the dialog edits as text, in the order of the form.
# The pause modes of sandbox.pause_modes, as the dialog offers them.
PAUSE_MODES = {
    "auto": "Freeze, else stop by signal (auto)",
    "freeze": "Freeze the container (docker pause)",
    "signals": "Stop the processes by signal (SIGSTOP)",
}
PAUSE_MODE_TIP = (
    "How Pause holds a running command still. Freezing needs the cgroup freezer, which\n"
    "rootless Docker and gVisor lack and heavy load can defeat; stopping by signal works\n"
    "anywhere. When neither holds, the status says the command goes on running."
)
REASONING_EFFORTS = {
    "default": "Default (the provider's own)",
    "low": "Low",
    "medium": "Medium",
    "high": "High",
}
REASONING_TIP = (
    "How hard a reasoning model thinks before it answers (litellm's reasoning_effort).\n"
    "Models without reasoning ignore it."
)
THINKING_TIP = (
    "Tokens an Anthropic (Claude) model may think before answering (extended thinking).\n"
    "At least 1,024; empty for none."
)
TEXT_FIELDS = (
    "llm_model",
    "llm_base_url",
    "llm_api_key",
    "context_window",
    "condensation_model",
    "sandbox_image",
    "memory_limit",
    "disk_limit",
)


def _message(error: Any) -> str:
    """A pydantic error as a short sentence a user can act on."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind in ("float_parsing", "float_type"):
        return "must be a number, e.g. 2 or 0.5"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number of tokens, e.g. 32768"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge', 0):,}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt', 0):g}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le'):g}"
    return str(error.get("msg", "is not valid"))


def _field_messages(exc: ValidationError) -> dict[str, str]:
    """Each bad field's first message.

    Read here, not in the dialog's method: an error's ctx holds the validator's exception,
    whose traceback reaches back to the frame that called the validation. A loop variable
    left in a dialog method's frame closed that cycle, so the dialog lived on until the
    cyclic garbage collector freed it, on whatever thread it ran and whatever was painting
    then (a worker's collection deleting the dialog while the GUI thread painted its line
    edits crashed the process)."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else ""
        messages.setdefault(field, _message(error))
    return messages


class SettingsDialog(QDialog):
    """Edit, validate and save ``AppSettings``. ``saved`` carries the new settings."""

    saved = Signal(object)  # AppSettings

    FIELD_WIDTH = 360
    SHORT_WIDTH = 110

    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        *,
        config_dir: Path | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        """``events``: the shown conversation's, whose newest McpServersEvent the MCP page
        shows."""
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Settings")
        self._settings = settings
        self._config_dir = config_dir
        self._overrides = env_overrides()
        self._errors: dict[str, QLabel] = {}
        self._labels: list[QLabel] = []
        self._probe: Job | None = None
        self._background = Background(self)
        self.result_settings: AppSettings | None = None
        settings.read_keyring()  # the field shows the saved key: saving must not drop it
        # None: no real OS keyring, so the key is kept for this session only (never a file).
        self._keyring = os_keyring()

        self.model_edit = ModelField(settings.llm_model, "openai/gpt-4o", self)
        self.model_edit.setObjectName("llm_model")
        self.model_edit.setMinimumWidth(self.FIELD_WIDTH)
        self.model_edit.setEnabled("llm_model" not in self._overrides)
        self.model_edit.editTextChanged.connect(self.validate)
        self.base_url_edit = self._line(
            "llm_base_url", settings.llm_base_url or "", "the provider's default"
        )
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        self.api_key_edit = self._line("llm_api_key", key, "none (local servers need none)")
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        # A new endpoint or key may list other models.
        self.base_url_edit.editingFinished.connect(self.list_models)
        self.api_key_edit.editingFinished.connect(self.list_models)
        window = str(settings.context_window) if settings.context_window else ""
        self.context_window_edit = self._line(
            "context_window", window, "from the model's info, else 32768"
        )
        self.context_window_edit.setToolTip(
            "Tokens a request may hold. Older steps are summarised before a request passes "
            "75% of it. Leave empty for models litellm knows."
        )
        self.condensation_model_edit = self._line(
            "condensation_model", settings.condensation_model, "the same model"
        )
        self.condensation_model_edit.setToolTip(
            "A cheaper model to summarise older steps with (same endpoint and key)"
        )
        self.reasoning_combo = QComboBox(self)
        self.reasoning_combo.setObjectName("reasoning_effort")
        for effort, text in REASONING_EFFORTS.items():
            self.reasoning_combo.addItem(text, effort)
        self.reasoning_combo.setCurrentIndex(
            max(0, self.reasoning_combo.findData(settings.reasoning_effort))
        )
        self.reasoning_combo.setToolTip(REASONING_TIP)
        budget = str(settings.thinking_budget) if settings.thinking_budget else ""
        self.thinking_edit = self._line("thinking_budget", budget, "none")
        self.thinking_edit.setFixedWidth(self.SHORT_WIDTH)
        self.thinking_edit.setToolTip(THINKING_TIP)
        self.model_edit.editTextChanged.connect(self._offer_thinking)
        self._offer_thinking()
        self.image_edit = self._line("sandbox_image", settings.sandbox_image or "", "Berth's image")
        self.memory_edit = self._line("memory_limit", settings.memory_limit, "2g")
        self.memory_edit.setFixedWidth(self.SHORT_WIDTH)
        self.disk_edit = self._line("disk_limit", settings.disk_limit, "10g")
        self.disk_edit.setFixedWidth(self.SHORT_WIDTH)
        self.disk_edit.setToolTip("What a conversation may store: /workspace and other files")
        self.cpus_edit = self._line("cpu_limit", f"{settings.cpu_limit:g}", "2")
        self.cpus_edit.setFixedWidth(self.SHORT_WIDTH)
        self.network_editor = PolicyEditor(settings.network, self)
        self.network_editor.changed.connect(self.validate)
        self.secrets_editor = SecretsEditor(settings.secrets, self)
        keep_secret_hosts_allowed(self.secrets_editor, self.network_editor)
        self.pause_combo = QComboBox(self)
        self.pause_combo.setObjectName("pause_mode")
        for mode, text in PAUSE_MODES.items():
            self.pause_combo.addItem(text, mode)
        self.pause_combo.setCurrentIndex(max(0, self.pause_combo.findData(settings.pause_mode)))
        self.pause_combo.setToolTip(PAUSE_MODE_TIP)
        self.confirm_check = QCheckBox("Ask before each command or file edit", self)
        self.confirm_check.setObjectName("confirmation_mode")
        self.confirm_check.setChecked(settings.confirmation_mode)
        if "confirmation_mode" in self._overrides:
            self.confirm_check.setEnabled(False)

        model_box = QGroupBox("Model", self)
        model_form = self._form(model_box)
        model_rows: list[tuple[str, str, QWidget]] = [
            ("Model:", "llm_model", self.model_edit),
            ("Base URL:", "llm_base_url", self.base_url_edit),
            ("API key:", "llm_api_key", self.api_key_edit),
            ("Context window (tokens):", "context_window", self.context_window_edit),
            ("Condensation model:", "condensation_model", self.condensation_model_edit),
            ("Reasoning effort:", "reasoning_effort", self.reasoning_combo),
            ("Thinking budget (tokens):", "thinking_budget", self.thinking_edit),
        ]
        for text, name, widget in model_rows:
            model_form.addRow(self._label(text), self._field(name, widget))

        sandbox_box = QGroupBox("Sandbox", self)
        sandbox_form = self._form(sandbox_box)
        sandbox_form.addRow(self._label("Image:"), self._field("sandbox_image", self.image_edit))
        sandbox_form.addRow(
            self._label("Memory limit:"), self._field("memory_limit", self.memory_edit)
        )
        sandbox_form.addRow(self._label("Disk limit:"), self._field("disk_limit", self.disk_edit))
        sandbox_form.addRow(self._label("CPU limit:"), self._field("cpu_limit", self.cpus_edit))
        sandbox_form.addRow(self._label("Pause:"), self._field("pause_mode", self.pause_combo))
        sandbox_form.addRow(
            self._label("Confirmation:"), self._field("confirmation_mode", self.confirm_check)
        )
        network_box = QGroupBox("Network of new conversations", self)
        network_form = self._form(network_box)
        network_form.addRow(self._label("Network:"), self.network_editor)
        network_form.addRow(self._label("Secrets:"), self.secrets_editor)
        self._errors["network_allow"] = self.network_editor.error_label
        mcp_box = QGroupBox("MCP servers", self)
        mcp_box.setObjectName("mcp_servers_box")
        self.mcp_editor = McpServersEditor(
            settings.mcp_servers,
            settings.mcp_approvals,
            settings.mcp_start_timeout_s,
            newest_mcp_status(events),
            mcp_box,
        )
        QVBoxLayout(mcp_box).addWidget(self.mcp_editor)
        # One label column for all boxes, so their fields line up.
        width = max(label.sizeHint().width() for label in self._labels)
        for label in self._labels:
            label.setMinimumWidth(width)

        self.test_button = QPushButton("Test connection", self)
        self.test_button.setObjectName("test_connection")
        self.test_button.clicked.connect(self.test_connection)
        self.engine_result = self._result_label("engine_result")
        self.model_result = self._result_label("model_result")
        results = QVBoxLayout()
        results.setSpacing(2)
        results.addWidget(self.engine_result)
        results.addWidget(self.model_result)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addLayout(results, 1)

        self.save_error = QLabel(self)
        self.save_error.setObjectName("save_error")
        self.save_error.setStyleSheet(ERROR_STYLE)
        self.save_error.setWordWrap(True)
        self.save_error.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        note = QLabel("Saved settings apply to the next conversation.", self)
        note.setStyleSheet(NOTE_STYLE)

        # The boxes scroll: on a low screen the dialog fits, and no field is squeezed.
        boxes = QWidget(self)
        boxes_layout = QVBoxLayout(boxes)
        boxes_layout.setContentsMargins(0, 0, 0, 0)
        boxes_layout.setSpacing(10)
        boxes_layout.addWidget(model_box)
        boxes_layout.addWidget(sandbox_box)
        boxes_layout.addWidget(network_box)
        boxes_layout.addWidget(mcp_box)
        self.checkpoint_box = CheckpointSpaceBox(boxes)
        boxes_layout.addWidget(self.checkpoint_box)
        self.leftovers_box = LeftoversBox(boxes)
        boxes_layout.addWidget(self.leftovers_box)
        self.boxes_scroll = QScrollArea(self)
        self.boxes_scroll.setObjectName("settings_scroll")
        self.boxes_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.boxes_scroll.setWidgetResizable(True)
        self.boxes_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.boxes_scroll.setWidget(boxes)
        scrollbar = self.boxes_scroll.verticalScrollBar().sizeHint().width()
        self.boxes_scroll.setMinimumWidth(boxes.minimumSizeHint().width() + scrollbar)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.boxes_scroll, 1)
        layout.addLayout(test_row)
        layout.addWidget(note)
        layout.addWidget(self.save_error)
        layout.addWidget(self.buttons)
        self.validate()
        self.list_models()
        self._fit_screen(boxes)

    # --- construction helpers ---------------------------------------------------------------

    def _fit_screen(self, boxes: QWidget) -> None:
        """As tall as the boxes want, but within the screen (the rest scrolls)."""
        screen = self.screen().availableGeometry() if self.screen() else None
        outside = self.sizeHint().height() - self.boxes_scroll.sizeHint().height()
        wanted = boxes.sizeHint().height() + outside
        height = min(wanted, int(screen.height() * 0.9)) if screen else wanted
        self.resize(self.sizeHint().width(), height)

    def _line(self, name: str, text: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(text, self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setMinimumWidth(self.FIELD_WIDTH)
        if name in self._overrides:
            # The environment wins at start: editing here would not change what runs.
            edit.setEnabled(False)
            if name == "llm_api_key":
                edit.clear()
                edit.setPlaceholderText(f"set by {self._overrides[name]}")
        edit.textChanged.connect(self.validate)
        return edit

    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        self._labels.append(label)
        return label

    def _form(self, box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        return form

    def _field(self, name: str, widget: QWidget) -> QWidget:
        """The widget with a hidden red error line under it (and the env note if any)."""
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        error = QLabel(holder)
        error.setObjectName(f"{name}_error")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        column.addWidget(error)
        self._errors[name] = error
        if name in self._overrides:
            env_note = QLabel(f"Set by {self._overrides[name]} in the environment", holder)
            env_note.setObjectName(f"{name}_env_note")
            env_note.setStyleSheet(NOTE_STYLE)
            column.addWidget(env_note)
        elif name == "llm_api_key" and self._keyring is None:
            # Lines of its own: a word-wrapped label in a form is given too little height.
            keyring_note = QLabel(KEYRING_NOTE, holder)
            keyring_note.setObjectName("llm_api_key_keyring_note")
            keyring_note.setStyleSheet(NOTE_STYLE)
            keyring_note.setToolTip(NO_KEYRING_NOTICE)
            column.addWidget(keyring_note)
        return holder

    def _result_label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setMinimumWidth(self.FIELD_WIDTH)
        return label

    # --- values and validation --------------------------------------------------------------

    def _values(self) -> dict[str, Any]:
        """What the form says, as AppSettings field values (text left raw for validation)."""
        values: dict[str, Any] = {
            "llm_model": self.model_edit.text(),
            "llm_base_url": self.base_url_edit.text(),
            "context_window": self.context_window_edit.text(),
            "condensation_model": self.condensation_model_edit.text(),
            "reasoning_effort": self.reasoning_combo.currentData(),
            "thinking_budget": self.thinking_edit.text(),
            "sandbox_image": self.image_edit.text(),
            "memory_limit": self.memory_edit.text(),
            "disk_limit": self.disk_edit.text(),
            "cpu_limit": self.cpus_edit.text().strip(),
            "network_mode": self.network_editor.mode_combo.currentData(),
            "network_allow": self.network_editor.entries(),
            "secrets": self.secrets_editor.entries(),
            "pause_mode": self.pause_combo.currentData(),
            "confirmation_mode": self.confirm_check.isChecked(),
            "max_iterations": self._settings.max_iterations,
            "mcp_servers": self.mcp_editor.servers(),
            "mcp_approvals": self.mcp_editor.approvals(),
            "mcp_start_timeout_s": self.mcp_editor.start_timeout(),
        }
        return values

    def _candidate(self) -> tuple[AppSettings | None, dict[str, str]]:
        """The settings the form describes, or the message for each bad field."""
        values = self._values()
        errors: dict[str, str] = {}
        if not values["llm_model"].strip():
            errors["llm_model"] = "name a model, e.g. openai/gpt-4o or ollama/llama3"
        try:
            candidate = AppSettings(**values)
        except ValidationError as exc:
            for field, message in _field_messages(exc).items():
                errors.setdefault(field, message)
            return None, errors
        if "llm_api_key" in self._overrides:
            candidate.llm_api_key = self._settings.llm_api_key
        else:
            key = self.api_key_edit.text().strip()
            candidate.llm_api_key = SecretStr(key) if key else None
        return (None if errors else candidate), errors

    @Slot()
    def validate(self) -> bool:
        """Show each bad field's message under it; OK only when all are good."""
        _candidate, errors = self._candidate()
        for name, label in self._errors.items():
            message = errors.get(name)
            label.setText(message or "")
            label.setVisible(bool(message))
        if hasattr(self, "ok_button"):
            self.ok_button.setEnabled(not errors)
            self.test_button.setEnabled(not errors and self._probe is None)
        return not errors

    def error_text(self, name: str) -> str:
        """The message shown under field ``name`` ("" when it is valid)."""
        label = self._errors[name]
        return label.text() if not label.isHidden() else ""

    # --- saving -----------------------------------------------------------------------------

    def accept(self) -> None:
        candidate, errors = self._candidate()
        if candidate is None or errors:
            self.validate()
            return
        try:
            self._save(candidate)
        except Exception as exc:  # disk full, keyring locked: say so and stay open
            self.save_error.setText(f"Could not save the settings: {exc}")
            self.save_error.show()
            return
        self.result_settings = candidate
        self.saved.emit(candidate)
        super().accept()

    def _save(self, candidate: AppSettings) -> None:
        # Fields the environment sets keep what the file had: unsetting the variable later
        # brings back the user's own choice, not the variable's value.
        data = candidate.model_dump(exclude={"llm_api_key", "schema_version"})
        saved = AppSettings.read_file(self._config_dir)
        for field in self._overrides:
            if field == "llm_api_key":
                continue
            data[field] = saved.get(field, AppSettings.model_fields[field].default)
        AppSettings(**data).save(self._config_dir)
        self.secrets_editor.save()
        # Without an OS keyring the key stays in the settings handed back (this session).
        if "llm_api_key" not in self._overrides and self._keyring is not None:
            key = candidate.llm_api_key.get_secret_value() if candidate.llm_api_key else None
            store_keyring_key(key)

    @Slot()
    def _offer_thinking(self) -> None:
        """A thinking budget only for Anthropic models (kept, unused, for others)."""
        self.thinking_edit.setEnabled(is_anthropic(self.model_edit.text().strip()))

    @Slot()
    def list_models(self) -> None:
        """Offer the endpoint's models (else litellm's) in the Model field's list."""
        key = self.api_key_edit.text().strip()
        if "llm_api_key" in self._overrides and self._settings.llm_api_key is not None:
            key = self._settings.llm_api_key.get_secret_value()
        self.model_edit.refresh(self.base_url_edit.text().strip(), key)

    # --- test connection --------------------------------------------------------------------

    @Slot()
    def test_connection(self) -> None:
        candidate, _errors = self._candidate()
        if candidate is None or self._probe is not None:
            return
        self.test_button.setEnabled(False)
        for label in (self.engine_result, self.model_result):
            label.setStyleSheet(NOTE_STYLE)
        self.engine_result.setText("Pinging the Docker engine…")
        self.model_result.setText(f"Asking {candidate.model_label} for a one-word reply…")
        self._probe = self._background.run(
            ConnectionProbe(candidate).run,
            self._on_probe_done,
            self._on_probe_failed,
            name="connection-test",
        )

    @property
    def testing(self) -> bool:
        """True while a connection test runs."""
        return self._probe is not None

    def _on_probe_done(self, result: ProbeResult) -> None:
        self._probe = None
        self.engine_result.setText(result.engine)
        self.engine_result.setStyleSheet(OK_STYLE if result.engine_ok else ERROR_STYLE)
        self.model_result.setText(result.model)
        self.model_result.setStyleSheet(OK_STYLE if result.model_ok else ERROR_STYLE)
        self.validate()

    def _on_probe_failed(self, message: str) -> None:
        # Each ping says its own failure; this is the probe itself breaking.
        self._on_probe_done(ProbeResult(False, f"The test failed: {message}", False, ""))
