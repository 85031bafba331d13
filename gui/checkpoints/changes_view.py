"""The Changes view, beside the file tree: what the agent changed in /workspace.

Files added, modified and deleted since the conversation began (or since any checkpoint),
each opening as a coloured unified diff; binary files by their sizes. What git would not
show (``.git/``, what ``.gitignore`` ignores: agent.conversation.ignored decides) is hidden
until "Show ignored files" is ticked. In a git workspace it can also compare with the
starting commit (``conversation.patch()``, split per file). It is fed plain data
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
    QCheckBox,
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
# The "Since" choice that compares with the commit a git workspace started from.
STARTING_COMMIT = "starting-commit"


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
        self._changes: list[FileChange] = []  # shown
        self._all: list[FileChange] = []
        self._ignored: frozenset[str] = frozenset()

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

        self.show_ignored = QCheckBox("Show ignored files", self)
        self.show_ignored.setObjectName("changes_show_ignored")
        self.show_ignored.setToolTip(
            "Also list .git/ and what the repository's .gitignore ignores (__pycache__, …)"
        )
        self.show_ignored.toggled.connect(lambda _on: self._fill())
        top.addWidget(self.show_ignored)

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
        self._layout = layout
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
        git = self.since.findData(STARTING_COMMIT) >= 0
        self.since.clear()
        self.since.addItem("the start", None)
        if git:
            self.since.addItem("the starting commit", STARTING_COMMIT)
        for checkpoint_id, step in steps:
            if step > 0:
                self.since.addItem(f"step {step}", checkpoint_id)
        found = self.since.findData(current)
        self.since.setCurrentIndex(max(0, found))
        self.since.blockSignals(False)

    def add_above(self, widget: QWidget) -> None:
        """A strip over the comparison (what a hand-back said)."""
        self._layout.insertWidget(0, widget)

    def set_git(self, on: bool) -> None:
        """Offer "the starting commit" (a git workspace) or not."""
        found = self.since.findData(STARTING_COMMIT)
        if on and found < 0:
            self.since.insertItem(1, "the starting commit", STARTING_COMMIT)
        elif not on and found >= 0:
            self.since.removeItem(found)  # the start is chosen if it was, and asked for

    def set_loading(self) -> None:
        self.summary.setText("Looking at /workspace\N{HORIZONTAL ELLIPSIS}")

    def set_error(self, message: str) -> None:
        self.summary.setText(f"Could not compare: {message}")

    def set_changes(self, changes: Sequence[FileChange], ignored: Sequence[str] = ()) -> None:
        """All the changes, and the paths of those hidden until "Show ignored files"."""
        self._all = list(changes)
        self._ignored = frozenset(ignored)
        self._fill()

    def _fill(self) -> None:
        selected = self.selected_path()
        showing = self.show_ignored.isChecked()
        self._changes = [c for c in self._all if showing or c.path not in self._ignored]
        self.list.blockSignals(True)
        self.list.clear()
        for change in self._changes:
            letter, colour, word = KIND_STYLE[change.kind]
            item = QListWidgetItem(f"{letter}   {change.path.removeprefix('/workspace/')}")
            item.setData(Qt.ItemDataRole.UserRole, change.path)
            if change.path in self._ignored:
                item.setForeground(QColor(DIM_TEXT))
                item.setToolTip(f"{word}, ignored by git: {change.path}")
            else:
                item.setForeground(QColor(colour))
                item.setToolTip(f"{word}: {change.path}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.summary.setText(self._summary())
        paths = [c.path for c in self._changes]
        self.list.setCurrentRow(paths.index(selected) if selected in paths else -1)
        if self.list.currentRow() < 0:
            self.diff.clear()

    def _summary(self) -> str:
        since = self.since.currentText()
        if not self._changes:
            text = f"No changes since {since}."
        else:
            counts = {kind: sum(c.kind == kind for c in self._changes) for kind in KIND_STYLE}
            parts = [f"{n} {kind}" for kind, n in counts.items() if n]
            text = f"Since {since}: " + ", ".join(parts) + "."
        hidden = len(self._all) - len(self._changes)
        if hidden:
            files = "file" if hidden == 1 else "files"
            text += f" {hidden} ignored {files} hidden."
        return text

    # -- queries (tests, the window) -----------------------------------------------------------

    @property
    def changes(self) -> list[FileChange]:
        """Those listed (the ignored ones only while "Show ignored files" is ticked)."""
        return list(self._changes)

    @property
    def all_changes(self) -> list[FileChange]:
        return list(self._all)

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
