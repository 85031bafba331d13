"""Secrets in Settings: each one's name and the hosts it may reach, its value into the OS
keyring on Save (gui/network/secret_store.py). The agent's environment gets a placeholder;
the proxy of an allow-list conversation swaps in the value on requests to those hosts.

Values typed here are held until Save (Cancel drops them); a removed secret's value is
taken out of the keyring on Save too. A secret reaches only hosts the allow-list lets
through: adding one adds its hosts the list misses (``keep_secret_hosts_allowed``), and
the box says which hosts no secret can reach, or that the mode uses no secrets.
"""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.network.policy_editor import ERROR_STYLE, NOTE_STYLE, PolicyEditor
from gui.network.secret_entry import SecretEntry
from gui.network.secret_store import NO_KEYRING_NOTE, forget_secret, has_keyring, store_secret
from sandbox.network_door.policy import not_allowed


class SecretsEditor(QWidget):
    changed = Signal()
    added = Signal(object)  # the SecretEntry just added

    def __init__(self, secrets: list[SecretEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries = list(secrets)
        self._values: dict[str, str] = {}  # typed, stored on save()
        self._removed: set[str] = set()
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("secrets_table")
        self.table.setHorizontalHeaderLabels(["Name", "Hosts it may reach"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setFixedHeight(self.fontMetrics().lineSpacing() * 5 + 16)
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("secret_name")
        self.name_edit.setPlaceholderText("GITHUB_TOKEN")
        self.hosts_edit = QLineEdit(self)
        self.hosts_edit.setObjectName("secret_hosts")
        self.hosts_edit.setPlaceholderText("api.github.com, github.com")
        self.value_edit = QLineEdit(self)
        self.value_edit.setObjectName("secret_value")
        self.value_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.value_edit.setPlaceholderText("the value (kept in the keyring)")
        self.add_button = QPushButton("Add", self)
        self.add_button.setObjectName("secret_add")
        self.add_button.clicked.connect(self.add_from_fields)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setObjectName("secret_remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("secret_error")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        note = QLabel(
            "The agent sees a placeholder; the proxy puts the value into request headers to "
            "these hosts only (allow-list conversations, hosts on the list).",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)
        self.keyring_note = QLabel(NO_KEYRING_NOTE, self)
        self.keyring_note.setObjectName("secrets_keyring_note")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setStyleSheet(NOTE_STYLE)
        self.keyring_note.setVisible(not has_keyring())
        self.allow_note = QLabel(self)
        self.allow_note.setObjectName("secrets_allow_note")
        self.allow_note.setWordWrap(True)
        self.allow_note.hide()

        fields = QGridLayout()
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addWidget(self.name_edit, 0, 0)
        fields.addWidget(self.hosts_edit, 0, 1)
        fields.addWidget(self.value_edit, 1, 0, 1, 2)
        fields.addWidget(self.add_button, 0, 2)
        fields.addWidget(self.remove_button, 1, 2)
        fields.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.table)
        layout.addLayout(fields)
        layout.addWidget(self.error_label)
        layout.addWidget(self.allow_note)
        layout.addWidget(note)
        layout.addWidget(self.keyring_note)
        self._fill()

    def entries(self) -> list[SecretEntry]:
        return list(self._entries)

    @Slot()
    def add_from_fields(self) -> bool:
        """A new secret (or new hosts and value for one of that name) from the fields."""
        value = self.value_edit.text()
        try:
            entry = SecretEntry.model_validate(
                {"name": self.name_edit.text(), "hosts": self.hosts_edit.text()}
            )
            if not value or any(c in value for c in "\r\n\0"):
                raise ValueError("give the value, one line (it goes into a header)")
        except (ValidationError, ValueError) as exc:
            errors = exc.errors() if isinstance(exc, ValidationError) else None
            text = str(errors[0]["msg"]) if errors else str(exc)
            self.error_label.setText(text.removeprefix("Value error, "))
            self.error_label.show()
            return False
        self.error_label.hide()
        self._entries = [e for e in self._entries if e.name != entry.name] + [entry]
        self._values[entry.name] = value
        self._removed.discard(entry.name)
        for edit in (self.name_edit, self.hosts_edit, self.value_edit):
            edit.clear()
        self._fill()
        self.changed.emit()
        self.added.emit(entry)
        return True

    @Slot()
    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            name = self._entries.pop(row).name
            self._values.pop(name, None)
            self._removed.add(name)
        self._fill()
        self.changed.emit()

    def save(self) -> None:
        """Values into the keyring (or this session), removed ones out of it. Raises the
        keyring's error (the dialog shows it and stays open)."""
        for name in self._removed:
            forget_secret(name)
        for name, value in self._values.items():
            store_secret(name, value)
        self._values.clear()
        self._removed.clear()

    def _fill(self) -> None:
        self.table.setRowCount(len(self._entries))
        for row, entry in enumerate(self._entries):
            for column, text in enumerate((entry.name, ", ".join(entry.hosts))):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)


def keep_secret_hosts_allowed(secrets: SecretsEditor, policy: PolicyEditor) -> None:
    """A secret added in ``secrets`` adds its hosts that ``policy``'s list misses (the mode
    left as it is); ``secrets.allow_note`` says what was added, which secrets' hosts the
    list leaves out, and when the mode sends no secret at all."""
    added: list[str] = []

    def show() -> None:
        allow, warnings = policy.entries(), []
        for entry in secrets.entries():
            missing = not_allowed(allow, entry.hosts)
            if missing:
                warnings.append(f"{entry.name} cannot reach {', '.join(missing)}: not on the list.")
        mode = policy.mode_combo.currentData()
        if secrets.entries() and mode != "allow-list":
            warnings.append(f"The network is {mode}: secrets are used in allow-list mode only.")
        said = ([f"Added to the allow-list: {', '.join(added)}."] if added else []) + warnings
        secrets.allow_note.setText(" ".join(said))
        secrets.allow_note.setStyleSheet(ERROR_STYLE if warnings else NOTE_STYLE)
        secrets.allow_note.setVisible(bool(said))

    def on_added(entry: SecretEntry) -> None:
        missing = not_allowed(policy.entries(), entry.hosts)
        if missing:
            policy.add_hosts(missing, to_mode=False)  # an edit: on_edit clears `added`
        added[:] = missing
        show()

    def on_edit() -> None:
        added.clear()
        show()

    secrets.added.connect(on_added)
    policy.changed.connect(on_edit)
    secrets.changed.connect(on_edit)
    show()
