"""Condensation and AGENTS.md in the event view: a marker says which steps the model now
sees as a summary, and a click unfolds the summary itself."""

from __future__ import annotations

from PySide6.QtCore import Qt

from agent.events import CondensationEvent, ContextFileEvent, MessageEvent
from gui.event_view import EventRole, EventView
from gui.event_view.parts import MarkdownPart
from tests.support.event_demo import demo_events

SUMMARY = "- Fixed `app/totals.py`: skip items without a price.\n- 13 of 14 tests pass."


def events() -> list:
    shown = demo_events()
    condensation = CondensationEvent(
        summary=SUMMARY,
        first_event_id=shown[1].id,
        last_event_id=shown[4].id,
        first_step=3,
        last_step=41,
    )
    agents = ContextFileEvent(path="/workspace/AGENTS.md", text="x", size=40_000, truncated=True)
    return [agents, *shown, condensation, MessageEvent(role="user", text="Carry on.")]


def marker_position(view: EventView) -> int:
    model = view.model()
    return next(
        i for i in range(model.rowCount()) if model.index(i).data(EventRole.KIND) == "summary"
    )


def test_marker_names_the_steps_and_a_click_unfolds_the_summary(qtbot, view: EventView):
    view.model().set_events(events())
    position = marker_position(view)
    index = view.model().index(position)
    row = view.model().row_at(position)
    assert "Steps 3\N{EN DASH}41 summarised" in index.data(Qt.ItemDataRole.DisplayRole)
    folded = view.event_delegate().card(row)
    assert not folded.parts  # a one-line marker
    folded_height = view.visualRect(index).height()

    view.scrollTo(index)
    view.viewport().grab().save("/tmp/condensation-marker-folded.png")
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )

    unfolded = view.event_delegate().card(row)
    assert any(isinstance(p, MarkdownPart) and p.text == SUMMARY for p in unfolded.parts)
    assert view.visualRect(index).height() > folded_height  # the summary is laid out
    assert view.viewport().rect().intersects(view.visualRect(index))  # and kept in view
    view.viewport().grab().save("/tmp/condensation-marker.png")

    view.setCurrentIndex(index)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert not view.event_delegate().card(row).parts  # folded again


def test_agents_md_read_is_shown_with_its_cut(view: EventView):
    view.model().set_events(events())
    first = view.model().index(0).data(EventRole.FULL_TEXT)
    assert first.startswith("Read AGENTS.md")
    assert "first 32 KB of 39.1 KB" in first


def test_status_bar_shows_cached_tokens_once_there_are_some(qtbot):
    from agent import ConversationStats
    from gui.main_window.status_bar import StatusBar

    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.set_stats(ConversationStats(prompt_tokens=12_300, completion_tokens=678))
    assert bar.tokens_label.text() == "↑ 12.3k  ↓ 678"
    bar.set_stats(
        ConversationStats(
            prompt_tokens=12_300, completion_tokens=678, cached_tokens=9_100, condensations=2
        )
    )
    assert bar.tokens_label.text() == "↑ 12.3k (9.1k cached)  ↓ 678"
    tip = bar.tokens_label.toolTip()
    assert "prompt cache: 9,100" in tip and "summarised to fit the context window: 2 times" in tip
