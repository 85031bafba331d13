"""The MCP servers page of Settings: the servers new conversations start, their status and
tools as the shown conversation last said (its newest McpServersEvent), and per tool
whether it runs, asks first or never runs.

A server appears with its command line (run inside the conversation's container) or URL;
Add, Edit and Import open small forms (gui/settings/mcp_forms.py) that refuse bad entries.
Servers the conversation started from elsewhere (its workspace's .mcp.json) are listed
too, greyed: their tools' approvals apply, but they are edited in that file.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent.events import Event, McpServersEvent
from agent.mcp.config import (
    McpServerConfig,
    McpServerState,
    McpServerStatus,
    McpToolInfo,
    ToolApproval,
    default_approval,
    qualified_tool_name,
)
from agent.status import AgentStatus
from gui.network.policy_editor import NOTE_STYLE
from gui.settings.mcp_forms import McpImportDialog, McpServerForm, command_line
from gui.theme import DIM_TEXT, STATUS_COLORS

APPROVAL_TEXTS = {
    ToolApproval.ALLOW: "Allow",
    ToolApproval.ASK: "Ask first",
    ToolApproval.NEVER: "Never",
}
APPROVAL_TIP = (
    "Allow: the tool runs when the model calls it. Ask first: the run waits for your "
    "Approve or Reject. Never: the model is told it may not use it.\n"
    "A tool that says it only reads defaults to Allow; any other to Ask first."
)
# A server's state in the status bar's colours: ready as running, failed as an error.
STATE_COLORS = {
    McpServerState.READY: STATUS_COLORS[AgentStatus.RUNNING],
    McpServerState.FAILED: STATUS_COLORS[AgentStatus.ERROR],
    McpServerState.STARTING: STATUS_COLORS[AgentStatus.PAUSED],
    McpServerState.STOPPED: DIM_TEXT,
}
NOT_STARTED = "not started"
# The role holding a top-level row's server name (tool rows hold it on their parent).
NAME_ROLE = Qt.ItemDataRole.UserRole


def newest_mcp_status(events: Sequence[Event]) -> McpServersEvent | None:
    """The conversation's newest word on its MCP servers (None: it started none)."""
    for event in reversed(events):
        if isinstance(event, McpServersEvent):
            return event
    return None


def state_text(status: McpServerStatus | None) -> str:
    """A server's status as its row says it: "ready · 12 tools", "failed", "not started"."""
    if status is None:
        return NOT_STARTED
    if status.state is McpServerState.READY:
        count = len(status.tools)
        return f"ready \N{MIDDLE DOT} {count} tool{'s' if count != 1 else ''}"
    if status.state is McpServerState.STARTING:
        return "starting\N{HORIZONTAL ELLIPSIS}"
    return str(status.state)


class McpServersEditor(QWidget):
    """``servers()``, ``approvals()`` and ``start_timeout()`` are what the page says;
    ``changed`` fires on each edit."""

    changed = Signal()

    def __init__(
        self,
        servers: dict[str, McpServerConfig],
        approvals: dict[str, ToolApproval],
        start_timeout_s: float,
        status: McpServersEvent | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mcp_servers_editor")
        self._servers = dict(servers)
        self._approvals = dict(approvals)
        self._status = {s.name: s for s in status.servers} if status is not None else {}
        self.combos: dict[str, QComboBox] = {}  # by qualified tool name

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("mcp_servers_tree")
        self.tree.setColumnCount(3)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.edit_selected())

        self.add_button = self._button("Add…", "mcp_add", self.add_server)
        self.edit_button = self._button("Edit…", "mcp_edit", self.edit_selected)
        self.remove_button = self._button("Remove", "mcp_remove", self.remove_selected)
        self.import_button = self._button("Import .mcp.json…", "mcp_import", self.import_json)
        self.timeout_spin = QDoubleSpinBox(self)
        self.timeout_spin.setObjectName("mcp_start_timeout")
        self.timeout_spin.setRange(1, 600)
        self.timeout_spin.setDecimals(0)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setValue(start_timeout_s)
        self.timeout_spin.setToolTip(
            "How long each server has to start and list its tools; one that takes longer is "
            "left out of the run (a notice says why) and the run goes on without it."
        )
        self.timeout_spin.valueChanged.connect(lambda _v: self.changed.emit())
        note = QLabel(
            "A command runs inside each conversation's container (sandboxed, paused with it); "
            "a URL goes through the conversation's network proxy (its allow-list and "
            "log), or straight from this machine when its network is open. Status and "
            "tools are the shown "
            "conversation's. Approvals apply to open conversations at once; servers and "
            "the timeout to conversations started or reopened after Save.",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet(NOTE_STYLE)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Start timeout:", self))
        buttons.addWidget(self.timeout_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.tree)
        layout.addLayout(buttons)
        layout.addWidget(note)
        self._fill()

    # --- what the dialog reads --------------------------------------------------------------

    def servers(self) -> dict[str, McpServerConfig]:
        return dict(self._servers)

    def approvals(self) -> dict[str, ToolApproval]:
        return dict(self._approvals)

    def start_timeout(self) -> float:
        return float(self.timeout_spin.value())

    def status_text(self, name: str) -> str:
        """What the row of server ``name`` says of its status (for tests and a11y)."""
        item = self._server_item(name)
        return item.text(2) if item is not None else ""

    def error_text(self, name: str) -> str:
        """The failure shown under server ``name`` ("" when it has none)."""
        item = self._server_item(name)
        if item is None:
            return ""
        children = (item.child(i) for i in range(item.childCount()))
        errors = [c.text(0) for c in children if c is not None and c.data(0, NAME_ROLE) == "error"]
        return errors[0] if errors else ""

    # --- actions ----------------------------------------------------------------------------

    @Slot()
    def add_server(self) -> McpServerForm:
        """Open the form for a new server (window-modal; returns it, open)."""
        form = McpServerForm(set(self._servers), self)
        form.accepted.connect(lambda: self._put(None, form))
        form.open()
        return form

    @Slot()
    def edit_selected(self) -> McpServerForm | None:
        name = self.selected_name()
        if name is None or name not in self._servers:
            return None
        form = McpServerForm(set(self._servers), self, name=name, config=self._servers[name])
        form.accepted.connect(lambda: self._put(name, form))
        form.open()
        return form

    @Slot()
    def remove_selected(self) -> None:
        name = self.selected_name()
        if name is None or name not in self._servers:
            return
        del self._servers[name]
        prefix = qualified_tool_name(name, "")
        self._approvals = {k: v for k, v in self._approvals.items() if not k.startswith(prefix)}
        self._fill()
        self.changed.emit()

    @Slot()
    def import_json(self) -> McpImportDialog:
        dialog = McpImportDialog(set(self._servers), self)
        dialog.accepted.connect(lambda: self._take_imported(dialog.result_servers))
        dialog.open()
        return dialog

    def select(self, name: str) -> None:
        item = self._server_item(name)
        if item is not None:
            self.tree.setCurrentItem(item)

    def selected_name(self) -> str | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        item = items[0]
        parent = item.parent()
        while parent is not None:
            item, parent = parent, parent.parent()
        name = item.data(0, NAME_ROLE)
        return name if isinstance(name, str) else None

    # --- internals --------------------------------------------------------------------------

    def _button(self, text: str, name: str, slot: object) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda _c=False: slot())  # type: ignore[operator]
        return button

    def _put(self, old: str | None, form: McpServerForm) -> None:
        new, config = form.result_name, form.result_config
        if config is None:
            return
        if old is not None and old != new:
            # A renamed server keeps its tools' approvals under its new name.
            self._servers.pop(old, None)
            before, after = qualified_tool_name(old, ""), qualified_tool_name(new, "")
            self._approvals = {
                (after + k[len(before) :] if k.startswith(before) else k): v
                for k, v in self._approvals.items()
            }
        self._servers[new] = config
        self._fill()
        self.select(new)
        self.changed.emit()

    def _take_imported(self, servers: dict[str, McpServerConfig]) -> None:
        self._servers.update(servers)
        self._fill()
        self.changed.emit()

    def _server_item(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, NAME_ROLE) == name:
                return item
        return None

    def _fill(self) -> None:
        selected = self.selected_name()
        self.tree.clear()
        self.combos.clear()
        # Settings' servers first, then those only the conversation knows (its .mcp.json).
        names = list(self._servers) + [n for n in self._status if n not in self._servers]
        for name in names:
            self._add_server_row(name)
        if not names:
            empty = QTreeWidgetItem(["No MCP servers yet: Add one, or import a .mcp.json"])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            empty.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(empty)
            empty.setFirstColumnSpanned(True)
        if selected is not None:
            self.select(selected)
        self._update_buttons()
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its rows (a failure's stderr lines included), up to a screenful:
        the page scrolls as a whole rather than the list inside it."""
        height = 0
        item = self.tree.topLevelItem(0)
        while item is not None:
            height += self.tree.visualItemRect(item).height()
            item = self.tree.itemBelow(item)
        line = self.fontMetrics().lineSpacing()
        height = max(line * 3, min(height, line * 24))
        self.tree.setFixedHeight(height + 2 * self.tree.frameWidth() + 4)

    def _add_server_row(self, name: str) -> None:
        config = self._servers.get(name)
        status = self._status.get(name)
        where = command_line(config) if config is not None else "from the workspace's .mcp.json"
        item = QTreeWidgetItem([name, where, state_text(status)])
        item.setData(0, NAME_ROLE, name)
        bold = QFont(self.font())
        bold.setBold(True)
        item.setFont(0, bold)
        item.setToolTip(1, where)
        if config is None:
            item.setForeground(1, QColor(DIM_TEXT))
        item.setForeground(2, QColor(STATE_COLORS[status.state] if status else DIM_TEXT))
        self.tree.addTopLevelItem(item)
        if status is None:
            return
        if status.error and status.state is not McpServerState.READY:
            error = QTreeWidgetItem(item, [status.error.strip()])
            error.setData(0, NAME_ROLE, "error")
            error.setFirstColumnSpanned(True)
            error.setForeground(0, QColor(STATE_COLORS[McpServerState.FAILED]))
            error.setToolTip(0, status.error)
        for tool in status.tools:
            self._add_tool_row(item, name, tool)
        item.setExpanded(True)

    def _add_tool_row(self, parent: QTreeWidgetItem, server: str, tool: McpToolInfo) -> None:
        qualified = qualified_tool_name(server, tool.name)
        description = " ".join(tool.description.split())
        child = QTreeWidgetItem(parent, [tool.name, description, ""])
        child.setToolTip(1, tool.description)
        child.setForeground(1, QColor(DIM_TEXT))
        combo = QComboBox(self.tree)
        combo.setObjectName(f"approval_{qualified}")
        combo.setAccessibleName(f"Approval of {tool.name} on {server}")
        combo.setToolTip(APPROVAL_TIP)
        for approval, text in APPROVAL_TEXTS.items():
            combo.addItem(text, approval)
        chosen = self._approvals.get(qualified, default_approval(tool.annotations))
        combo.setCurrentIndex(max(0, combo.findData(chosen)))
        combo.currentIndexChanged.connect(lambda _i, q=qualified, c=combo: self._choose(q, c))
        self.tree.setItemWidget(child, 2, combo)
        self.combos[qualified] = combo

    def _choose(self, qualified: str, combo: QComboBox) -> None:
        self._approvals[qualified] = ToolApproval(combo.currentData())
        self.changed.emit()

    @Slot()
    def _update_buttons(self) -> None:
        name = self.selected_name()
        editable = name is not None and name in self._servers
        self.edit_button.setEnabled(editable)
        self.remove_button.setEnabled(editable)
