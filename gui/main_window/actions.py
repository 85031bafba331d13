"""The toolbar's actions: New, Send, Pause, Resume, Stop, Settings.

Each is a QAction with an object name (tests and accessibility tools find it by name), an
SVG icon from icons/, shortcuts, and a tooltip naming them. Which are enabled follows the
agent's status, decided in one place: ``enabled_for``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QApplication, QStyle, QWidget

from agent.session.commands import Command, Phase, allowed_commands
from agent.status import AgentStatus


@dataclass(frozen=True)
class _Spec:
    name: str
    text: str
    icon: str
    fallback: QStyle.StandardPixmap
    shortcuts: tuple[str, ...]
    what: str


_SPECS = (
    _Spec(
        "action_new",
        "New",
        "new",
        QStyle.StandardPixmap.SP_FileIcon,
        ("Ctrl+N",),
        "Start a new conversation in a fresh container",
    ),
    _Spec(
        "action_send",
        "Send",
        "send",
        QStyle.StandardPixmap.SP_ArrowForward,
        ("Ctrl+Return", "Ctrl+Enter"),
        "Send the message to the agent",
    ),
    _Spec(
        "action_pause",
        "Pause",
        "pause",
        QStyle.StandardPixmap.SP_MediaPause,
        ("Ctrl+.", "F6"),
        "Pause the agent and freeze its container",
    ),
    _Spec(
        "action_resume",
        "Resume",
        "resume",
        QStyle.StandardPixmap.SP_MediaPlay,
        ("Ctrl+R",),
        "Resume the agent where it stopped",
    ),
    _Spec(
        "action_stop",
        "Stop",
        "stop",
        QStyle.StandardPixmap.SP_MediaStop,
        ("Ctrl+Shift+.", "Shift+F6"),
        "Stop the running command and pause the agent",
    ),
    _Spec(
        "action_pause_all",
        "Pause All",
        "pause",
        QStyle.StandardPixmap.SP_MediaPause,
        ("Ctrl+Shift+P",),
        "Pause every conversation whose agent is at work, and freeze their containers",
    ),
    _Spec(
        "action_settings",
        "Settings",
        "settings",
        QStyle.StandardPixmap.SP_FileDialogDetailedView,
        ("Ctrl+,",),
        "Model, API key and sandbox image",
    ),
)


def load_icon(name: str, fallback: QStyle.StandardPixmap | None = None) -> QIcon:
    """An icon from icons/NAME.svg, else the style's nearest standard icon."""
    try:
        from icons import icon_path

        icon = QIcon(str(icon_path(name)))
        if not icon.isNull():
            return icon
    except (ImportError, FileNotFoundError):
        pass  # the icon set is drawn elsewhere in the project; the style's icons do meanwhile
    if fallback is None:
        return QIcon()
    return QApplication.style().standardIcon(fallback)


def enabled_for(
    status: AgentStatus, *, phase: Phase, has_text: bool, configured: bool
) -> dict[str, bool]:
    """Which actions are enabled, by object name: the session's rules decide
    (agent/session_commands.py); Resume also approves what waits for confirmation."""
    allowed = allowed_commands(phase, status)
    return {
        "action_new": True,
        "action_send": has_text and configured and Command.SEND in allowed,
        "action_pause": Command.PAUSE in allowed,
        "action_resume": bool({Command.RESUME, Command.APPROVE} & allowed),
        "action_stop": Command.STOP in allowed,
        "action_settings": True,
    }


class MainActions(QObject):
    """Owns the window's actions; the window adds them to its toolbar and to itself."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("main_actions")
        self._by_name: dict[str, QAction] = {}
        for spec in _SPECS:
            action = QAction(load_icon(spec.icon, spec.fallback), spec.text, parent)
            action.setObjectName(spec.name)
            keys = [QKeySequence(s) for s in spec.shortcuts]
            action.setShortcuts(keys)
            # Window-wide, so Ctrl+. works while the composer or the file tree has focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            shown = " or ".join(
                k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys[:2]
            )
            if spec.name == "action_send":
                shown = keys[0].toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{spec.what} ({shown})")
            action.setWhatsThis(spec.what)
            self._by_name[spec.name] = action
        self.action_new = self._by_name["action_new"]
        self.action_send = self._by_name["action_send"]
        self.action_pause = self._by_name["action_pause"]
        self.action_resume = self._by_name["action_resume"]
        self.action_stop = self._by_name["action_stop"]
        self.action_pause_all = self._by_name["action_pause_all"]
        self.action_settings = self._by_name["action_settings"]
        self.update_for(AgentStatus.IDLE, phase=Phase.NOT_STARTED, has_text=False, configured=True)

    def all(self) -> list[QAction]:
        return list(self._by_name.values())

    def update_for(
        self,
        status: AgentStatus,
        *,
        phase: Phase,
        has_text: bool,
        configured: bool,
        cancellable: bool = False,
    ) -> None:
        """``cancellable``: a start Stop can cancel (a big repository's copy)."""
        states = enabled_for(status, phase=phase, has_text=has_text, configured=configured)
        states["action_stop"] = states["action_stop"] or cancellable
        for name, on in states.items():
            self._by_name[name].setEnabled(on)

    def update_pause_all(self, running: int) -> None:
        """Pause All is for when some conversation (shown or not) is at work."""
        self.action_pause_all.setEnabled(running > 0)
        what = f"{running} running" if running else "none running"
        self.action_pause_all.setStatusTip(f"Pause every running conversation ({what})")
