"""The event stream as a user sees it: one row per message, command, edit, error, marker.

Real Qt (offscreen), real painting: every test shows the view and paints it, so a Python
exception in the delegate or a Qt warning fails here.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage
from PySide6.QtWidgets import QAbstractSlider

from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    InterruptEvent,
    MessageEvent,
    NoticeEvent,
    ObservationEvent,
    PauseEvent,
    ResumeEvent,
    StatusEvent,
)
from agent.status import AgentStatus
from gui.event_view import EventListModel, EventRole, EventView, RowKind
from gui.event_view.parts import HeaderPart, MonoPart
from gui.event_view.rows import Tone
from tests.support.event_demo import demo_events, mixed_events


def kinds(model: EventListModel) -> list[str]:
    return [model.index(i).data(EventRole.KIND) for i in range(model.rowCount())]


def full_text(model: EventListModel, position: int) -> str:
    return model.index(position).data(EventRole.FULL_TEXT)


def header(view: EventView, position: int) -> HeaderPart:
    row = view.model().row_at(position)
    card = view.event_delegate().card(row)
    part = card.parts[0]
    assert isinstance(part, HeaderPart)
    return part


def chip_texts(view: EventView, position: int) -> dict[str, Tone]:
    return {chip.text: chip.tone for chip in header(view, position).chips}


def settle(qtbot, view: EventView) -> QImage:
    """Let coalesced repaints and idle measuring run, then paint the view."""
    qtbot.wait(80)
    qtbot.waitUntil(lambda: not view._measure_timer.isActive(), timeout=5000)
    return view.viewport().grab().toImage()


def bash(call_id: str, command: str, count: int | None = None) -> ActionEvent:
    return ActionEvent(
        tool_call_id=call_id,
        tool_name="bash",
        arguments={"command": command},
        request_event_count=count,
    )


def test_every_event_kind_gets_a_row(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(demo_events())
    settle(qtbot, view)
    assert kinds(model) == [
        "user",
        "marker",  # Running
        "assistant",  # the thought before the first command
        "command",
        "assistant",
        "edit",
        "marker",  # Paused
        "user",
        "marker",  # Resumed
        "command",
        "command",
        "error",
        "assistant",
        "marker",  # Finished
        "user",
        "marker",  # Running
        "command",
        "user",  # queued
    ]
    assert model.index(3).data() == "$ cd /workspace && python -m pytest -q tests/test_totals.py"
    assert "14 passed" in full_text(model, 9)
    assert model.index(6).data() == "Paused"


def test_command_shows_exit_code_in_colour_and_how_it_ended(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(demo_events())
    settle(qtbot, view)
    assert chip_texts(view, 3) == {"exit 1": Tone.DANGER}
    assert chip_texts(view, 9) == {"exit 0": Tone.SUCCESS}
    assert chip_texts(view, 10) == {"timed out": Tone.WARNING, "exit 1": Tone.DANGER}
    assert chip_texts(view, 16) == {"running…": Tone.INFO}
    # The accent bar follows the outcome: red for a failure, green for success.
    delegate = view.event_delegate()
    assert delegate.card(model.row_at(3)).tone is Tone.DANGER
    assert delegate.card(model.row_at(9)).tone is Tone.SUCCESS


def test_live_output_streams_into_its_own_row(qtbot, view: EventView) -> None:
    model = view.model()
    model.append_event(MessageEvent(role="user", text="build both"))
    model.append_event(bash("a", "make -C one", count=1))
    model.append_event(bash("b", "make -C two", count=1))
    repaints = []
    model.dataChanged.connect(lambda first, last, roles: repaints.append(first.row()))
    for i in range(100):
        model.append_output("b", f"compiling file{i}.c\n")
    assert "compiling file99.c" in full_text(model, 2)
    assert "compiling" not in full_text(model, 1)
    image = settle(qtbot, view)
    # A hundred chunks, one repaint: output is coalesced, not painted chunk by chunk.
    assert repaints == [2]
    assert not image.isNull()
    # The row shows a head and a tail of the output and says how much is hidden.
    card = view.event_delegate().card(model.row_at(2))
    shown = [line.text for line in card.parts[-1].lines]
    assert shown[0] == "compiling file0.c"
    assert shown[-1] == "compiling file99.c"
    assert "… 80 more lines" in shown

    model.append_event(
        ObservationEvent(
            tool_call_id="b", tool_name="bash", content="done\n", exit_code=2, cwd="/src"
        )
    )
    settle(qtbot, view)
    assert full_text(model, 2).endswith("done\n[exit code 2]")
    assert chip_texts(view, 2) == {"exit 2": Tone.DANGER}
    assert header(view, 2).meta.startswith("/src")
    # Output arriving after the result (a late chunk) changes nothing.
    model.append_output("b", "late\n")
    assert "late" not in full_text(model, 2)


def test_interrupted_command_and_markers(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(
        [
            MessageEvent(role="user", text="sleep"),
            StatusEvent(status=AgentStatus.RUNNING),
            bash("s", "sleep 100", count=2),
            PauseEvent(),
            StatusEvent(status=AgentStatus.PAUSED),
            ResumeEvent(),
            StatusEvent(status=AgentStatus.RUNNING),
            InterruptEvent(),
            ObservationEvent(
                tool_call_id="s",
                tool_name="bash",
                content="",
                exit_code=130,
                ended="interrupted",
            ),
            StatusEvent(status=AgentStatus.PAUSED),
        ]
    )
    settle(qtbot, view)
    labels = [model.index(i).data() for i in range(model.rowCount())]
    # A status change that only confirms the marker before it is not shown twice.
    assert labels == ["sleep", "Running", "$ sleep 100", "Paused", "Resumed", "Stopped"]
    assert chip_texts(view, 2) == {"interrupted": Tone.WARNING, "exit 130": Tone.DANGER}


def test_errors_stand_out(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(
        [
            MessageEvent(role="user", text="go"),
            ActionEvent(
                tool_call_id="e",
                tool_name="file_editor",
                arguments={"command": "view"},
                raw_arguments=None,
                request_event_count=1,
            ),
            ObservationEvent(
                tool_call_id="e",
                tool_name="file_editor",
                content="Missing required argument: path",
                is_error=True,
            ),
            AgentErrorEvent(message="Connection refused", source="llm"),
        ]
    )
    image = settle(qtbot, view)
    delegate = view.event_delegate()
    assert kinds(model)[1:] == ["edit", "error"]
    assert chip_texts(view, 1) == {"error": Tone.DANGER}
    assert delegate.card(model.row_at(1)).tone is Tone.DANGER
    assert model.index(2).data() == "The model request failed: Connection refused"
    # The error card is filled with the danger tint: find it on screen.
    tint = delegate.env.colors.fill(Tone.DANGER)
    rect = view.visualRect(model.index(2))
    assert count_pixels(image, rect.center().y(), tint) > rect.width() // 2


def count_pixels(image: QImage, y: int, colour: QColor, tolerance: int = 6) -> int:
    """Pixels on line ``y`` within ``tolerance`` of ``colour``."""
    scale = image.devicePixelRatio()
    y = int(y * scale)
    found = 0
    for x in range(image.width()):
        pixel = image.pixelColor(x, y)
        if (
            abs(pixel.red() - colour.red()) <= tolerance
            and abs(pixel.green() - colour.green()) <= tolerance
            and abs(pixel.blue() - colour.blue()) <= tolerance
        ):
            found += 1
    return found


def test_edit_shows_a_coloured_unified_diff(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(demo_events()[:6])
    image = settle(qtbot, view)
    edit = model.index(5)
    assert edit.data(EventRole.KIND) == RowKind.EDIT
    assert edit.data() == "Edited /workspace/app/totals.py"
    assert chip_texts(view, 5) == {"+3": Tone.SUCCESS, "\N{MINUS SIGN}1": Tone.DANGER}
    card = view.event_delegate().card(model.row_at(5))
    diff = card.parts[-1]
    assert isinstance(diff, MonoPart)
    styles = {line.text.strip(): str(line.style) for line in diff.lines}
    assert styles["-        result += item.price".strip()] == "removed"
    assert styles["+        if item.price is None:".strip()] == "added"
    assert styles["@@ -12,7 +12,9 @@ def total(items):"] == "hunk"
    # And on screen: lines filled green and red, hunk text in blue, inside the edit's row.
    colors = view.event_delegate().env.colors
    rect = view.visualRect(edit)
    rows_by_colour = {
        name: [
            y
            for y in range(rect.top(), rect.bottom())
            if count_pixels(image, y, colour) > rect.width() // 2
        ]
        for name, colour in (
            ("added", colors.fill(Tone.SUCCESS)),
            ("removed", colors.fill(Tone.DANGER)),
        )
    }
    line = view.event_delegate().env.metrics.mono_line
    assert len(rows_by_colour["added"]) >= 3 * line - 3
    assert len(rows_by_colour["removed"]) >= line - 1
    assert max(rows_by_colour["removed"]) < min(rows_by_colour["added"])
    blue = colors.accent(Tone.INFO)
    assert any(count_pixels(image, y, blue, tolerance=40) for y in range(rect.top(), rect.bottom()))


def test_messages_render_markdown(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(demo_events()[:1])
    settle(qtbot, view)
    doc = view.event_delegate().document(model.row_at(0))
    assert doc is not None
    text = doc.toPlainText()
    assert "**" not in text and "`" not in text
    assert "The order total is wrong" in text
    bold, code = set(), set()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().fontWeight() >= QFont.Weight.Bold:
                bold.add(fragment.text())
            if fragment.charFormat().fontFixedPitch():
                code.add(fragment.text())
            it += 1
        block = block.next()
    assert bold == {"order total"}
    assert code == {"app/totals.py"}
    # User and assistant messages are drawn in different bubbles.
    model.append_event(MessageEvent(role="assistant", text="Sure.", request_event_count=1))
    delegate = view.event_delegate()
    assert delegate.card(model.row_at(0)).style != delegate.card(model.row_at(1)).style


def test_queued_message_tag_disappears_once_the_model_sees_it(qtbot, view: EventView) -> None:
    model = view.model()
    model.append_event(MessageEvent(role="user", text="list files"))  # event 0
    model.append_event(StatusEvent(status=AgentStatus.RUNNING))  # event 1
    model.append_event(bash("l", "ls", count=2))  # built from events 0..1: message delivered
    assert model.index(0).data(EventRole.QUEUED) is False
    model.append_event(MessageEvent(role="user", text="and hidden ones too"))  # event 3
    assert model.index(3).data(EventRole.QUEUED) is True
    settle(qtbot, view)
    assert chip_texts(view, 3) == {"queued": Tone.WARNING}
    model.append_event(ObservationEvent(tool_call_id="l", tool_name="bash", content="a\n"))
    assert model.index(3).data(EventRole.QUEUED) is True
    # The next request is built from five events: the queued message is in it.
    model.append_event(bash("h", "ls -a", count=5))
    assert model.index(3).data(EventRole.QUEUED) is False
    settle(qtbot, view)
    assert chip_texts(view, 3) == {}
    # Reopening a conversation computes the same from the saved events.
    events = [
        MessageEvent(role="user", text="one"),
        MessageEvent(role="assistant", text="ok", request_event_count=1),
        MessageEvent(role="user", text="two"),
    ]
    model.set_events(events)
    assert [model.index(i).data(EventRole.QUEUED) for i in range(3)] == [False, False, True]
    model.mark_delivered(3)
    assert model.index(2).data(EventRole.QUEUED) is False


def test_follows_new_rows_unless_scrolled_up(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(mixed_events(300))
    settle(qtbot, view)
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()
    assert view.following

    # The user pages up: new rows no longer move the view.
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    assert not view.following
    top_row = view.indexAt(QPoint(10, 10)).row()
    for i in range(20):
        model.append_event(MessageEvent(role="assistant", text=f"step {i} **done**"))
    model.append_event(bash("x", "yes | head -n 300"))
    model.append_output("x", "y\n" * 300)
    settle(qtbot, view)
    assert bar.value() < bar.maximum()
    assert view.indexAt(QPoint(10, 10)).row() == top_row
    assert view.jump_button.isVisible()

    # A command above the viewport finishing with output grows; what the user reads stays.
    anchor = view.indexAt(QPoint(10, 10))
    anchor_top = view.visualRect(anchor).top()
    first_command = next(
        i for i in range(model.rowCount()) if model.index(i).data(EventRole.KIND) == "command"
    )
    assert first_command < anchor.row()
    row = model.row_at(first_command)
    model.append_event(
        ObservationEvent(
            tool_call_id=row.tool_call_id,
            tool_name="bash",
            content="".join(f"more {i}\n" for i in range(30)),
            exit_code=0,
        )
    )
    settle(qtbot, view)
    assert view.indexAt(QPoint(10, 10)) == anchor
    assert view.visualRect(anchor).top() == anchor_top

    # Back at the bottom: following resumes.
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)
    assert view.following
    assert not view.jump_button.isVisible()
    model.append_event(MessageEvent(role="assistant", text="last"))
    settle(qtbot, view)
    assert bar.value() == bar.maximum()
    last = view.visualRect(model.index(model.rowCount() - 1))
    assert view.viewport().rect().contains(last)


def test_long_output_is_clipped_and_copy_gives_all_of_it(qtbot, view: EventView) -> None:
    model = view.model()
    output = "".join(f"row {i}\n" for i in range(5000))
    model.set_events(
        [
            bash("big", "seq 5000"),
            ObservationEvent(tool_call_id="big", tool_name="bash", content=output, exit_code=0),
        ]
    )
    settle(qtbot, view)
    rect = view.visualRect(model.index(0))
    assert rect.height() < 600
    assert "5,000 lines" in model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    view.setFocus()
    view.selectAll()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("$ seq 5000\nrow 0\n")
    assert "row 2500\n" in copied
    assert copied.endswith("row 4999\n[exit code 0]")


def test_copy_joins_selected_rows_in_order(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(demo_events())
    settle(qtbot, view)
    selection = view.selectionModel()
    selection.select(model.index(7), selection.SelectionFlag.Select)
    selection.select(model.index(0), selection.SelectionFlag.Select)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    first, second = QGuiApplication.clipboard().text().split("\n\n")
    assert first.startswith("The **order total** is wrong")
    assert second == "Also keep the old behaviour for *negative* prices."


def test_rows_are_never_cut_off_after_a_resize(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(demo_events())
    settle(qtbot, view)
    for width in (420, 1100):
        view.resize(width, 900)
        settle(qtbot, view)
        delegate = view.event_delegate()
        for position in range(model.rowCount()):
            row = model.row_at(position)
            assert view.visualRect(model.index(position)).height() == delegate.row_height(
                row, exact=True
            ), row


def test_ten_thousand_events_load_and_scroll_end_to_end(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(mixed_events(10_000))
    assert model.event_count == 10_000
    assert model.rowCount() > 5_000
    qtbot.wait(10)
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum()
    view.scrollToTop()
    view.viewport().grab()
    assert view.indexAt(QPoint(10, 10)).row() == 0
    view.scroll_to_end()
    view.viewport().grab()
    assert view.indexAt(QPoint(10, view.viewport().height() - 10)).row() == model.rowCount() - 1
    model.clear()
    assert model.rowCount() == 0


def test_output_reads_as_a_terminal_shows_it(qtbot, view: EventView) -> None:
    model = view.model()
    model.append_event(bash("p", "pip install -q thing"))
    model.append_output("p", "\x1b[32mCollecting\x1b[0m thing\n")
    model.append_output("p", "  10%\r  55%\r 100%\n")
    model.append_output("p", "col1\tcol2\n")
    settle(qtbot, view)
    card = view.event_delegate().card(model.row_at(0))
    assert [line.text for line in card.parts[-1].lines] == [
        "Collecting thing",
        " 100%",
        "col1    col2",
    ]


def test_rejected_and_orphaned_calls_are_neither_success_nor_failure(qtbot, view) -> None:
    from agent.events import RejectionEvent

    model = view.model()
    model.set_events(
        [
            bash("r", "rm -rf /workspace/build", count=0),
            StatusEvent(status=AgentStatus.WAITING_FOR_CONFIRMATION),
            RejectionEvent(tool_call_id="r", reason="keep the build"),
            ObservationEvent(
                tool_call_id="r", tool_name="bash", content="Rejected", ended="rejected"
            ),
            # A result whose call is not in the log (an old or damaged log).
            ObservationEvent(
                tool_call_id="gone", tool_name="bash", content="", ended="app_stopped"
            ),
        ]
    )
    settle(qtbot, view)
    labels = [model.index(i).data() for i in range(model.rowCount())]
    assert labels[1:3] == ["Waiting for your approval", "Rejected: keep the build"]
    delegate = view.event_delegate()
    assert chip_texts(view, 0) == {"rejected": Tone.WARNING}
    assert delegate.card(model.row_at(0)).tone is Tone.WARNING
    assert chip_texts(view, 3) == {"app stopped": Tone.WARNING}
    assert len(delegate.card(model.row_at(3)).parts) == 1  # no empty "$" line


def test_latest_button_jumps_back_and_follows_again(qtbot, view: EventView) -> None:
    model = view.model()
    model.set_events(mixed_events(200))
    settle(qtbot, view)
    bar = view.verticalScrollBar()
    assert not view.jump_button.isVisible()
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)
    assert view.jump_button.isVisible()
    assert view.viewport().rect().contains(view.jump_button.geometry())
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert bar.value() == bar.maximum()
    assert view.following
    assert not view.jump_button.isVisible()
    # The End key does the same.
    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMinimum)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert bar.value() == bar.maximum() and view.following


def test_a_command_in_a_frozen_container_reads_paused_not_running(qtbot, view: EventView) -> None:
    model = view.model()
    model.append_event(MessageEvent(role="user", text="count"))
    model.append_event(bash("c", "for i in 1 2 3; do sleep 1; done", count=1))
    settle(qtbot, view)
    assert chip_texts(view, 1) == {"running…": Tone.INFO}
    model.append_event(PauseEvent())
    settle(qtbot, view)
    assert chip_texts(view, 1) == {"paused": Tone.WARNING}
    model.append_event(ResumeEvent())
    settle(qtbot, view)
    assert chip_texts(view, 1) == {"running…": Tone.INFO}
    model.append_event(
        ObservationEvent(tool_call_id="c", tool_name="bash", content="", exit_code=0)
    )
    model.append_event(PauseEvent())
    settle(qtbot, view)
    # A finished command keeps its result when the conversation pauses later.
    assert chip_texts(view, 1) == {"exit 0": Tone.SUCCESS}


def test_a_pause_that_could_not_hold_the_command_reads_running_on(qtbot, view: EventView) -> None:
    model = view.model()
    model.append_event(MessageEvent(role="user", text="count"))
    model.append_event(bash("c", "for i in 1 2 3; do sleep 1; done", count=1))
    model.append_event(PauseEvent(hold="running"))
    settle(qtbot, view)
    assert chip_texts(view, 1) == {"running…": Tone.INFO}  # never "paused": it runs on
    model.append_event(PauseEvent(hold="stopped"))
    settle(qtbot, view)
    assert chip_texts(view, 1) == {"paused": Tone.WARNING}


def test_a_recreated_container_is_a_notice_not_an_error(qtbot, view: EventView) -> None:
    model = view.model()
    model.append_event(
        NoticeEvent(
            title="The container was gone; Berth made a new one",
            text="Lost: every process. Files in /workspace are kept.",
            source="container",
        )
    )
    settle(qtbot, view)
    assert kinds(model) == [RowKind.MARKER]
    assert full_text(model, 0) == (
        "The container was gone; Berth made a new one: "
        "Lost: every process. Files in /workspace are kept."
    )
