"""Checkpoints in the event stream, fed plain events (no Docker): each step offers Rewind
to here / Fork from here (context menu, hover button); a rewind folds the abandoned branch
under a marker, greyed once unfolded."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from agent.events import (
    ActionEvent,
    CheckpointEvent,
    CheckpointFailedEvent,
    MessageEvent,
    ObservationEvent,
    RewindEvent,
    StatusEvent,
)
from agent.status import AgentStatus
from gui.event_view import EventView
from gui.event_view.rows import MarkerRow, ToolRow
from tests.gui.test_event_view import settle


def step(
    n: int, command: str, output: str
) -> tuple[ActionEvent, ObservationEvent, CheckpointEvent]:
    call = ActionEvent(tool_call_id=f"c{n}", tool_name="bash", arguments={"command": command})
    result = ObservationEvent(tool_call_id=f"c{n}", tool_name="bash", content=output, exit_code=0)
    checkpoint = CheckpointEvent(
        checkpoint_id=f"cp{n}", step=n, event_id=result.id, after_event_id=result.id, tree="t"
    )
    return call, result, checkpoint


def story() -> tuple[list, dict[str, str]]:
    ask = MessageEvent(role="user", text="Tidy up the project")
    first = CheckpointEvent(checkpoint_id="cp0", step=0, after_event_id=ask.id, tree="t")
    one = step(1, "ls /workspace", "src  docs  README.md")
    two = step(2, "rm -rf /workspace/docs", "")
    three = step(3, "sed -i 's/1/2/' /workspace/src/app.py", "")
    rewind = RewindEvent(rewind_id="r", checkpoint_id="cp1", step=1, to_event_id=one[1].id)
    events = [
        ask,
        StatusEvent(status=AgentStatus.RUNNING),
        first,
        *one,
        *two,
        *three,
        StatusEvent(status=AgentStatus.PAUSED, detail="Paused between steps"),
        rewind,
        StatusEvent(status=AgentStatus.PAUSED, detail="Rewound to step 1"),
        MessageEvent(role="user", text="Keep the docs; only fix src/app.py"),
    ]
    return events, {"rm": two[0].id, "ls": one[0].id}


def tool_rows(view: EventView) -> dict[str, ToolRow]:
    rows = view.model().rows()
    return {row.command.split()[0]: row for row in rows if isinstance(row, ToolRow)}


def test_a_rewind_folds_the_abandoned_branch_and_unfolds_it_greyed(qtbot, view):
    events, _ids = story()
    for event in events:
        view.model().append_event(event)
    settle(qtbot, view)
    rows = tool_rows(view)
    assert not rows["ls"].abandoned and rows["ls"].step == 1
    assert rows["rm"].abandoned and rows["sed"].abandoned
    assert view.isRowHidden(rows["rm"].position) and view.isRowHidden(rows["sed"].position)
    assert not view.isRowHidden(rows["ls"].position)
    marker = next(r for r in view.model().rows() if isinstance(r, MarkerRow) and r.foldable)
    assert marker.label == "Rewound to step 1"
    assert "2 steps of the abandoned branch" in marker.detail
    if os.environ.get("BERTH_SCREENSHOTS"):
        view.grab().save(os.path.join(os.environ["BERTH_SCREENSHOTS"], "rewound-folded.png"))

    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.visualRect(view.model().index(marker.position)).center(),
    )
    settle(qtbot, view)
    assert not view.isRowHidden(rows["rm"].position)
    assert "shown greyed" in marker.detail
    if os.environ.get("BERTH_SCREENSHOTS"):
        view.grab().save(os.path.join(os.environ["BERTH_SCREENSHOTS"], "rewound-unfolded.png"))

    # Opened again from disk, the same events give the same folded stream.
    view.model().set_events(events)
    settle(qtbot, view)
    assert view.isRowHidden(tool_rows(view)["rm"].position)


def test_each_step_offers_rewind_and_fork_in_its_menu_and_on_hover(qtbot, view):
    events, _ids = story()
    view.model().set_events(events[:11])  # before the rewind
    settle(qtbot, view)
    rm = tool_rows(view)["rm"]
    centre = view.visualRect(view.model().index(rm.position)).center()

    menu = view.step_menu_at(centre)
    texts = [a.text() for a in menu.actions()]
    assert texts[-2:] == ["Rewind to here", "Fork from here"]
    with qtbot.waitSignal(view.rewind_requested) as rewound:
        menu.actions()[-2].trigger()
    assert rewound.args == ["cp2", 2]
    with qtbot.waitSignal(view.fork_requested) as forked:
        menu.actions()[-1].trigger()
    assert forked.args == ["cp2", 2]

    qtbot.mouseMove(view.viewport(), centre)
    qtbot.waitUntil(view.step_button.isVisible)
    assert view.step_button.text().endswith("Step 2")
    with qtbot.waitSignal(view.fork_requested) as forked:
        view.step_button.menu().actions()[1].trigger()
    assert forked.args == ["cp2", 2]

    # The first message carries checkpoint 0: "Rewind to here" there means the start.
    first = view.model().row_at(0)
    assert first is not None and first.step == 0
    # A marker without a checkpoint offers only Copy and Select All.
    marker = next(r for r in view.model().rows() if isinstance(r, MarkerRow))
    plain = view.step_menu_at(view.visualRect(view.model().index(marker.position)).center())
    assert [a.text() for a in plain.actions()] == ["Copy", "Select All"]


def test_a_failed_checkpoint_shows_as_a_warning(qtbot, view):
    view.model().append_event(MessageEvent(role="user", text="go"))
    view.model().append_event(
        CheckpointFailedEvent(step=0, message="Checkpoint 0 could not be taken: no image")
    )
    settle(qtbot, view)
    row = view.model().row_at(1)
    assert isinstance(row, MarkerRow) and row.label == "Checkpoint 0 not taken"
    assert "no image" in row.detail
