"""The Settings' Model field: type any name, or pick one of the endpoint's models.

An editable combo box whose completer matches anywhere in the name, ignoring case ("sonnet"
finds "anthropic/claude-sonnet-4-5"). The list is filled in the background
(gui.settings.model_list); whatever the user typed always stays: filling the list never
replaces the text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit, QSizePolicy, QWidget

from gui.background import Background, Coalesced
from gui.settings.model_list import ModelList, offered_models

MAX_VISIBLE = 15


class ModelField(QComboBox):
    """A QComboBox that reads like the QLineEdit it replaced (``text``/``setText``)."""

    def __init__(self, text: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText(placeholder)
        self.setLineEdit(self.line)
        self.line.setText(text)  # after setLineEdit, which empties it
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(MAX_VISIBLE)
        # As wide as the line edits beside it in the form.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        completer = QCompleter(self.model(), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setMaxVisibleItems(MAX_VISIBLE)
        self.setCompleter(completer)
        self.models_source = ""
        self._lists = Coalesced(Background(self), self._show, self._not_listed, name="model-list")

    def text(self) -> str:
        return self.line.text()

    def setText(self, text: str) -> None:
        self.line.setText(text)

    @property
    def listing(self) -> bool:
        """True while the list is being fetched."""
        return self._lists.busy

    def names(self) -> list[str]:
        return [self.itemText(i) for i in range(self.count())]

    def refresh(self, base_url: str | None, api_key: str | None) -> None:
        """Fetch the models these settings offer (the endpoint's, else litellm's)."""
        model = self.text()
        self._lists.request(lambda: offered_models(base_url or None, api_key or None, model))

    def _show(self, found: ModelList) -> None:
        typed = self.text()
        cursor = self.line.cursorPosition()
        self.blockSignals(True)
        try:
            self.clear()
            self.addItems(found.names)
            self.setCurrentIndex(-1)
        finally:
            self.blockSignals(False)
        # Filling the list selects its first name; the user's own text wins.
        self.line.setText(typed)
        self.line.setCursorPosition(cursor)
        self.models_source = found.source
        self.setToolTip(f"Type any model litellm knows, or pick one ({found.source})")

    def _not_listed(self, message: str) -> None:
        self.models_source = f"no list: {message}"
        self.setToolTip("Type any model litellm knows, e.g. openai/gpt-4o")
