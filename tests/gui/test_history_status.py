"""Every row of the history shows its conversation's status: the live one the window reports
for an open conversation, else the one saved on disk. No Docker here: the rows come from
real conversation folders, listed by the real panel in the background."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.conversation.persistence import ConversationStore
from agent.conversation.state import PersistedState
from agent.status import AgentStatus
from gui.history.panel import (
    HistoryPanel,
    LiveRole,
    StatusColorRole,
    StatusDetailRole,
    StatusRole,
    StatusWordRole,
)
from gui.theme import STATUS_COLORS

SCREENSHOT = "/tmp/berth_history_status.png"
NOW = datetime.now(UTC)


def _save(root: Path, name: str, title: str, status: AgentStatus, detail: str = "", age=0):
    store = ConversationStore(root / name)
    store.create()
    moment = NOW - timedelta(minutes=age)
    store.save_state(
        PersistedState(
            id=name,
            title=title,
            agent_status=status,
            status_detail=detail,
            created=moment,
            updated=moment,
        )
    )


def _row(panel: HistoryPanel, conversation_id: str) -> dict[str, object]:
    index = panel.model.index(panel.model.row_of(conversation_id))
    assert index.isValid(), f"no row for {conversation_id}"
    return {
        "status": index.data(StatusRole),
        "word": index.data(StatusWordRole),
        "detail": index.data(StatusDetailRole),
        "color": index.data(StatusColorRole),
        "live": index.data(LiveRole),
    }


def _listed(qtbot, panel: HistoryPanel, count: int) -> None:
    qtbot.waitUntil(lambda: len(panel.ids()) == count and not panel.refreshing, timeout=10_000)


@pytest.fixture
def panel(qtbot, tmp_path: Path) -> HistoryPanel:
    root = tmp_path / "conversations"
    _save(root, "build", "Build the release and run the test suite", AgentStatus.FINISHED, age=1)
    _save(root, "docs", "Write the docs for the new API", AgentStatus.PAUSED, "Paused", age=5)
    _save(
        root,
        "deps",
        "Upgrade the dependencies",
        AgentStatus.WAITING_FOR_CONFIRMATION,
        "Approve: rm -rf node_modules",
        age=30,
    )
    # The app stopped while this one ran: nothing runs it now.
    _save(root, "crash", "Fix the flaky login test", AgentStatus.RUNNING, "step 4", age=90)
    _save(root, "bad", "Profile the slow query", AgentStatus.ERROR, "The model refused", age=600)
    widget = HistoryPanel(root)
    widget.resize(218, 420)  # the width the window's 230 px history panel leaves the list
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.refresh()
    _listed(qtbot, widget, 5)
    return widget


def test_rows_not_open_show_the_status_saved_on_disk(panel: HistoryPanel):
    assert _row(panel, "build")["word"] == "Finished"
    assert _row(panel, "deps") == {
        "status": AgentStatus.WAITING_FOR_CONFIRMATION,
        "word": "Waiting for approval",
        "detail": "Approve: rm -rf node_modules",
        "color": STATUS_COLORS[AgentStatus.WAITING_FOR_CONFIRMATION],
        "live": False,
    }
    # Saved mid-run by an app that has since stopped: paused, as reopening it will say.
    assert _row(panel, "crash")["word"] == "Paused"
    assert _row(panel, "bad")["word"] == "Error"


def test_live_statuses_show_as_they_change_and_go_back_to_the_saved_one(qtbot, panel):
    changed: list[int] = []
    panel.model.dataChanged.connect(lambda top, _bottom, _roles: changed.append(top.row()))

    panel.set_live_status("docs", AgentStatus.IDLE, "Starting the container…", starting=True)
    assert _row(panel, "docs")["word"] == "Starting"
    panel.set_live_status("docs", AgentStatus.RUNNING, "step 1")
    assert _row(panel, "docs") == {
        "status": AgentStatus.RUNNING,
        "word": "Running",
        "detail": "step 1",
        "color": STATUS_COLORS[AgentStatus.RUNNING],
        "live": True,
    }
    panel.set_live_status("build", AgentStatus.WAITING_FOR_CONFIRMATION, "Approve: make dist")
    assert _row(panel, "build")["word"] == "Waiting for approval"
    assert changed.count(panel.model.row_of("docs")) == 2  # only the rows that changed repaint
    # The same status again repaints nothing.
    panel.set_live_status("docs", AgentStatus.RUNNING, "step 1")
    assert changed.count(panel.model.row_of("docs")) == 2

    # A refresh lists the rows again from disk; what is live stays on them.
    panel.refresh()
    _listed(qtbot, panel, 5)
    assert _row(panel, "docs")["word"] == "Running"

    panel.set_live_status("docs", None)  # closed: back to what is saved
    assert _row(panel, "docs")["word"] == "Paused" and _row(panel, "docs")["live"] is False


def test_a_conversation_live_before_it_is_listed_shows_its_status_once_listed(qtbot, panel):
    panel.set_live_status("fresh", AgentStatus.RUNNING)  # a new one, not on disk yet
    _save(Path(panel.persistence_dir), "fresh", "A brand new task", AgentStatus.IDLE)
    panel.refresh()
    _listed(qtbot, panel, 6)
    assert _row(panel, "fresh")["word"] == "Running"


def test_refreshes_asked_while_one_lists_fold_into_one_more_that_sees_the_latest(qtbot, panel):
    root = Path(panel.persistence_dir)
    panel.refresh()
    assert panel.refreshing
    for n in range(5):  # each new conversation asks for a refresh while one runs
        _save(root, f"new{n}", f"Task {n}", AgentStatus.FINISHED)
        panel.refresh()
    _listed(qtbot, panel, 10)  # the last ask was not lost


def test_the_rows_read_well_in_the_panels_width(qtbot, panel):
    panel.set_live_status("build", AgentStatus.RUNNING, "step 12 · running make dist")
    panel.set_live_status("docs", AgentStatus.PAUSED, "Paused; the container is frozen")
    panel.set_live_status("deps", AgentStatus.WAITING_FOR_CONFIRMATION, "Approve: rm -rf x")
    panel.set_current("docs")
    qtbot.wait(50)
    assert panel.grab().save(SCREENSHOT)
    view = panel.list_view
    # Every row fits: nothing scrolls sideways, all five rows are in view at this height.
    assert view.horizontalScrollBar().maximum() == 0
    last = view.visualRect(panel.model.index(4))
    assert view.viewport().rect().contains(last)
