"""The Changes view, beside the file tree: what the agent changed in /workspace.

Files added, modified and deleted since the conversation began (or since any checkpoint),
each opening as a coloured unified diff; binary files by their sizes. It is fed plain data
(``sandbox.checkpoints.FileChange`` items) and asks for a refresh with a signal: the window
runs ``conversation.changes()`` off the GUI thread. It works while paused: the store reads
the files through its own helper container, never the frozen one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.theme import DIM_TEXT

if TYPE_CHECKING:
    from sandbox.checkpoints import FileChange

# GitHub's diff colours: what most users read diffs in.
KIND_STYLE = {
    "added": ("A", "#1a7f37", "Added"),
    "modified": ("M", "#9a6700", "Modified"),
    "deleted": ("D", "#cf222e", "Deleted"),
}
_LINE_COLOURS = {
    "+": ("#1a7f37", "#dafbe1"),
    "-": ("#cf222e", "#ffebe9"),
    "@": ("#8250df", "#fbefff"),
}


class DiffHighlighter(QSyntaxHighlighter):
    """Added lines green, removed red, hunk headers purple, file headers dim."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._formats: dict[str, QTextCharFormat] = {}
        for key, (text, fill) in _LINE_COLOURS.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(text))
            fmt.setBackground(QBrush(QColor(fill)))
            self._formats[key] = fmt
        header = QTextCharFormat()
        header.setForeground(QColor(DIM_TEXT))
        header.setFontWeight(QFont.Weight.DemiBold)
        self._formats["header"] = header

    def highlightBlock(self, text: str) -> None:
        if text.startswith(("+++", "---")):
            self.setFormat(0, len(text), self._formats["header"])
        elif text[:1] in self._formats:
            self.setFormat(0, len(text), self._formats[text[:1]])


def describe(change: FileChange) -> str:
    """What the diff pane shows for a change."""
    if change.binary or change.too_large:
        what = "Binary file" if change.binary else "Too large to diff:"
        if change.kind == "added":
            sizes = f"{change.new_size:,} bytes"
        elif change.kind == "deleted":
            sizes = f"{change.old_size:,} bytes"
        else:
            sizes = f"{change.old_size:,} \N{RIGHTWARDS ARROW} {change.new_size:,} bytes"
        note = f"\n{change.note}" if change.note else ""
        return f"{what} {change.kind}: {sizes}{note}"
    mode = ""
    old, new = change.old_mode, change.new_mode
    if old is not None and new is not None and old != new:
        mode = f"mode {old:o} \N{RIGHTWARDS ARROW} {new:o}\n"
    if change.note:
        mode += f"({change.note})\n"
    return mode + (change.diff or "") or "(no difference in content)"


class ChangesView(QWidget):
    """``refresh_requested(since)``: since is a checkpoint id, or None for the start."""

    refresh_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changes_view")
        self._changes: list[FileChange] = []

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Since", self))
        self.since = QComboBox(self)
        self.since.setObjectName("changes_since")
        self.since.setToolTip("Compare /workspace now with the start or with a checkpoint")
        self.since.addItem("the start", None)
        self.since.currentIndexChanged.connect(lambda _i: self.request_refresh())
        top.addWidget(self.since, 1)
        self.refresh_button = QToolButton(self)
        self.refresh_button.setObjectName("changes_refresh")
        self.refresh_button.setText("\N{CLOCKWISE OPEN CIRCLE ARROW}")
        self.refresh_button.setToolTip("Look again")
        self.refresh_button.clicked.connect(self.request_refresh)
        top.addWidget(self.refresh_button)

        self.summary = QLabel("", self)
        self.summary.setObjectName("changes_summary")
        self.summary.setStyleSheet(f"color: {DIM_TEXT};")
        self.summary.setWordWrap(True)

        self.list = QListWidget(self)
        self.list.setObjectName("changes_list")
        self.list.setAccessibleName("Changed files")
        self.list.currentRowChanged.connect(self._show_diff)

        self.diff = QPlainTextEdit(self)
        self.diff.setObjectName("changes_diff")
        self.diff.setReadOnly(True)
        self.diff.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.diff.setPlaceholderText("Select a file to see what changed in it.")
        self.highlighter = DiffHighlighter(self.diff.document())

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.setChildrenCollapsible(False)
        split.addWidget(self.list)
        split.addWidget(self.diff)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([140, 420])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self.set_changes([])

    # -- fed by the window ---------------------------------------------------------------------

    def set_checkpoints(self, steps: Sequence[tuple[str, int]]) -> None:
        """The checkpoints one can compare with: (id, step), oldest first."""
        current = self.since.currentData()
        self.since.blockSignals(True)
        self.since.clear()
        self.since.addItem("the start", None)
        for checkpoint_id, step in steps:
            if step > 0:
                self.since.addItem(f"step {step}", checkpoint_id)
        found = self.since.findData(current)
        self.since.setCurrentIndex(max(0, found))
        self.since.blockSignals(False)

    def set_loading(self) -> None:
        self.summary.setText("Looking at /workspace\N{HORIZONTAL ELLIPSIS}")

    def set_error(self, message: str) -> None:
        self.summary.setText(f"Could not compare: {message}")

    def set_changes(self, changes: Sequence[FileChange]) -> None:
        selected = self.selected_path()
        self._changes = list(changes)
        self.list.blockSignals(True)
        self.list.clear()
        for change in self._changes:
            letter, colour, word = KIND_STYLE[change.kind]
            item = QListWidgetItem(f"{letter}   {change.path.removeprefix('/workspace/')}")
            item.setForeground(QColor(colour))
            item.setToolTip(f"{word}: {change.path}")
            item.setData(Qt.ItemDataRole.UserRole, change.path)
            self.list.addItem(item)
        self.list.blockSignals(False)
        since = self.since.currentText()
        if not self._changes:
            self.summary.setText(f"No changes since {since}.")
        else:
            counts = {kind: sum(c.kind == kind for c in self._changes) for kind in KIND_STYLE}
            parts = [f"{n} {kind}" for kind, n in counts.items() if n]
            self.summary.setText(f"Since {since}: " + ", ".join(parts) + ".")
        paths = [c.path for c in self._changes]
        self.list.setCurrentRow(paths.index(selected) if selected in paths else -1)
        if self.list.currentRow() < 0:
            self.diff.clear()

    # -- queries (tests, the window) -----------------------------------------------------------

    @property
    def changes(self) -> list[FileChange]:
        return list(self._changes)

    def since_checkpoint(self) -> str | None:
        value = self.since.currentData()
        return value if isinstance(value, str) else None

    def selected_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, path: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == path:
                self.list.setCurrentRow(row)
                return

    def request_refresh(self) -> None:
        self.set_loading()
        self.refresh_requested.emit(self.since_checkpoint())

    def _show_diff(self, row: int) -> None:
        if 0 <= row < len(self._changes):
            self.diff.setPlainText(describe(self._changes[row]))
        else:
            self.diff.clear()
