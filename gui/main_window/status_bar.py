"""The status bar: the agent's status in words and colour, steps, tokens, cost, container."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStatusBar, QWidget

from agent.status import AgentStatus
from gui.theme import STARTING_COLOR, status_color, status_word

if TYPE_CHECKING:
    from agent import ConversationStats


def format_tokens(count: int) -> str:
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.2f}M"


def format_cost(cost: float) -> str:
    if cost <= 0:
        return "$0.00"
    if cost < 0.01:
        return f"${cost:.4f}"
    return f"${cost:.2f}"


ERROR_COLOR = status_color(AgentStatus.ERROR)
# A held container looks paused, a running one running: the status table's colours.
_HELD = status_color(AgentStatus.PAUSED)
CONTAINER_COLORS = {
    "running": status_color(AgentStatus.RUNNING),
    "frozen": _HELD,
    "stopped": _HELD,
}


def _status_bar_sheet() -> str:
    """Every look the bar's labels take, in one style sheet set once: a change of status
    changes a property and re-polishes two labels. (A style sheet set per change was parsed
    and applied anew each time, ~40 ms with the relayout it caused, as each run started.)"""
    looks = {("agent_status", "starting"): STARTING_COLOR}
    looks |= {("agent_status", status.value): status_color(status) for status in AgentStatus}
    rules = [
        "QFrame#status_separator { background: #d1d9e0; border: none; margin: 5px 0; }",
        "QLabel#status_label { font-weight: 600; padding: 0; }",
        "QLabel#status_dot { padding: 0; }",
        f'QLabel#status_detail[error="true"] {{ color: {ERROR_COLOR}; }}',
    ]
    rules += [
        f'QLabel#status_label[{name}="{value}"], QLabel#status_dot[{name}="{value}"] '
        f"{{ color: {color}; }}"
        for (name, value), color in looks.items()
    ]
    rules += [
        f'QLabel#status_container[state="{state}"] {{ color: {color}; }}'
        for state, color in CONTAINER_COLORS.items()
    ]
    return "\n".join(rules)


def _set_look(label: QWidget, name: str, value: str) -> None:
    """Set the property the bar's style sheet selects on, and re-polish only if it changed."""
    if label.property(name) == value:
        return
    label.setProperty(name, value)
    style = label.style()
    style.unpolish(label)
    style.polish(label)


class _Separator(QFrame):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("status_separator")
        self.setFrameShape(QFrame.Shape.VLine)
        self.setFixedWidth(1)


class StatusBar(QStatusBar):
    """``status_label`` on the left; steps, tokens, cost and container on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status_bar")
        self.setSizeGripEnabled(False)
        self.setStyleSheet(_status_bar_sheet())
        self._shown: tuple[str, str, str] | None = None

        self.status_dot = QLabel("●", self)
        self.status_dot.setObjectName("status_dot")
        self.status_label = QLabel(self)
        self.status_label.setObjectName("status_label")
        self.status_label.setAccessibleName("Agent status")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_label = QLabel(self)
        self.detail_label.setObjectName("status_detail")
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)

        self.steps_label = self._metric("status_steps", "LLM steps in this conversation")
        self.tokens_label = self._metric(
            "status_tokens", "Tokens sent to / received from the model"
        )
        self.cost_label = self._metric("status_cost", "Cost so far, from litellm's price list")
        self.container_label = self._metric("status_container", "The agent's Docker container")
        self.model_label = self._metric("status_model", "The model the agent talks to")

        status_box = QWidget(self)
        row = QHBoxLayout(status_box)
        row.setContentsMargins(10, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.status_dot)
        row.addWidget(self.status_label)
        self.addWidget(status_box)
        self.addWidget(self.detail_label, 1)
        for index, label in enumerate(
            (
                self.steps_label,
                self.tokens_label,
                self.cost_label,
                self.container_label,
                self.model_label,
            )
        ):
            if index:
                self.addPermanentWidget(_Separator(self))
            self.addPermanentWidget(label)

        self.set_status(AgentStatus.IDLE)
        self.set_stats(None)
        self.set_container(None, False)

    def _metric(self, name: str, tip: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setToolTip(tip)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    def set_status(
        self, status: AgentStatus, detail: str = "", *, starting: bool = False, word: str = ""
    ) -> None:
        """``word``: what the user asked for and is under way ("Pausing…"), said in place
        of the status until the status changes."""
        word = word or status_word(status, starting=starting)
        look = "starting" if starting else status.value
        shown = (word, look, detail)
        if shown == self._shown:
            return  # this runs on every event
        self._shown = shown
        self.status_label.setText(word)
        for label in (self.status_label, self.status_dot):
            _set_look(label, "agent_status", look)
        self.status_label.setToolTip(detail or word)
        self.detail_label.setText(detail)
        self.detail_label.setToolTip(detail)
        _set_look(self.detail_label, "error", "false")

    def show_error(self, message: str) -> None:
        """A failure in red beside the status, until the status changes."""
        self.detail_label.setText(message)
        self.detail_label.setToolTip(message)
        _set_look(self.detail_label, "error", "true")

    def set_stats(self, stats: ConversationStats | None) -> None:
        steps = stats.steps if stats else 0
        prompt = stats.prompt_tokens if stats else 0
        completion = stats.completion_tokens if stats else 0
        cost = stats.cost if stats else 0.0
        cached = stats.cached_tokens if stats else 0
        condensations = stats.condensations if stats else 0
        self.steps_label.setText(f"{steps} step" + ("" if steps == 1 else "s"))
        # Cached tokens are part of those sent, read from the provider's prompt cache and
        # priced lower: shown only once there are some.
        sent = f"↑ {format_tokens(prompt)}"
        if cached:
            sent += f" ({format_tokens(cached)} cached)"
        self.tokens_label.setText(f"{sent}  ↓ {format_tokens(completion)}")
        tip = f"Tokens sent to the model: {prompt:,}"
        if cached:
            tip += f"\n  of which read from its prompt cache: {cached:,}"
        tip += f"\nTokens received from it: {completion:,}"
        if condensations:
            times = "once" if condensations == 1 else f"{condensations} times"
            tip += f"\nOlder steps summarised to fit the context window: {times}"
        self.tokens_label.setToolTip(tip)
        self.cost_label.setText(format_cost(cost))

    def set_container(self, short_id: str | None, frozen: bool, stopped: bool = False) -> None:
        """``stopped``: its processes are held by SIGSTOP (the freezer failed or is
        missing), which holds them as still as a freeze, by other means."""
        if not short_id:
            self.container_label.setText("no container yet")
            self.container_label.setToolTip("A container starts with the first message")
            _set_look(self.container_label, "state", "none")
            return
        held = frozen or stopped
        state = "frozen" if frozen else "stopped" if stopped else "running"
        self.container_label.setText(f"⬢ {short_id[:12]} · {state}")
        how = (
            "frozen (docker pause)"
            if frozen
            else "its processes stopped by signal (SIGSTOP)"
            if stopped
            else "running"
        )
        self.container_label.setToolTip(
            f"Container {short_id}: {how}" + ("; files can still be read" if held else "")
        )
        _set_look(self.container_label, "state", state)

    def set_model(self, label: str) -> None:
        self.model_label.setText(label)
