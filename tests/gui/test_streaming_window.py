"""The reply streams into the window (real Docker, the LLM helper process, real HTTP to the
scripted server streaming slowly): "Thinking… N s", the Thinking card open while the model
reasons and folded once it answers, the answer growing before the reply has ended, a tool
call's arguments as they stream, and the finished reply in place of the live row, once."""

from __future__ import annotations

from gui.event_view.rows import StreamRow, ThinkingRow
from gui.event_view.stream_cards import card_for
from tests.gui.window_helpers import queued_rows, view_texts
from tests.support.llm_server import RecordedRequest, Reply, ToolCall

STARTUP_S = 90_000
REASONING = "The user wants a file. I will write app.py, then say so. " * 3
ANSWER = "I wrote **app.py**; it prints a greeting. " + "More words follow here. " * 12
FILE_TEXT = "print('hello from the stream')\n" * 8


def _script(request: RecordedRequest) -> Reply:
    if not request.tool_results():
        call = ToolCall(
            "file_editor",
            {"command": "create", "path": "/workspace/app.py", "file_text": FILE_TEXT},
        )
        return Reply.calls(call, reasoning=REASONING, stream_pace=0.04, delay=1.5)
    return Reply.say(ANSWER, reasoning=REASONING, stream_pace=0.04)


def _live(window) -> StreamRow | None:
    return window.event_view.model().live_row


def _header_titles(window, row) -> list[str]:
    card = card_for(row)
    return [getattr(part, "title", "") for part in card.parts]


def test_the_reply_streams_into_the_event_view(qtbot, make_window, llm_server):
    llm_server.script = _script
    window = make_window()
    qtbot.keyClicks(window.composer_edit, "Write app.py")
    window.action_send.trigger()

    # Asked and no token yet: "Thinking… N s", and the message is no longer "queued".
    qtbot.waitUntil(lambda: _live(window) is not None, timeout=STARTUP_S)
    row = _live(window)
    assert row is not None and not row.reasoning
    assert card_for(row).label == "Thinking…"
    assert not queued_rows(window)
    qtbot.waitUntil(lambda: (_live(window) or row).elapsed >= 1, timeout=5_000)
    assert card_for(_live(window)).detail.endswith(" s")

    # The reasoning streams: the Thinking card is open.
    qtbot.waitUntil(lambda: len((_live(window) or row).reasoning) > 20, timeout=30_000)
    live = _live(window)
    assert live is not None and live.shows_thinking
    assert any(
        "Thinking" in t and "\N{BLACK DOWN-POINTING SMALL TRIANGLE}" in t
        for t in _header_titles(window, live)
    )

    # The tool call's arguments as they stream: "Writing /workspace/app.py…".
    qtbot.waitUntil(
        lambda: (
            _live(window) is not None
            and "Writing /workspace/app.py…" in _header_titles(window, _live(window))
        ),
        timeout=30_000,
    )
    assert not _live(window).shows_thinking  # folded once the answer began
    first = llm_server.requests[0]
    assert not first.answered  # the reply had not ended

    # The answer grows before its reply ends, in the view's own text.
    qtbot.waitUntil(lambda: len(llm_server.requests) >= 2, timeout=60_000)
    qtbot.waitUntil(
        lambda: any("I wrote **app.py**" in t for t in view_texts(window)), timeout=30_000
    )
    assert not llm_server.requests[1].answered
    live = _live(window)
    assert live is not None and 0 < len(live.content) < len(ANSWER)
    assert not live.shows_thinking

    # Finished: the live row is gone, the answer shown once, its reasoning folded above it.
    qtbot.waitUntil(
        lambda: _live(window) is None and llm_server.requests[1].answered, timeout=60_000
    )
    qtbot.waitUntil(
        lambda: sum(ANSWER.strip() in t for t in view_texts(window)) == 1, timeout=10_000
    )
    model = window.event_view.model()
    thinking = [r for r in model.rows() if isinstance(r, ThinkingRow)]
    assert len(thinking) == 2 and not any(r.expanded for r in thinking)
    index = model.index(thinking[-1].position)
    window.event_view.clicked.emit(index)
    assert thinking[-1].expanded
    assert any("Created /workspace/app.py" in t for t in view_texts(window))
