"""MCP in the event stream: a call of an MCP server's tool is a card naming the server and
the tool, with its arguments and its result; the conversation's McpServersEvent is a line
per server ("MCP: git — 5 tools", a failed one as a warning with why); the approval bar
says which server's tool asks to run, with the whole of its arguments.

Real Qt, real painting (tests/gui/test_event_view.py's way); events as a session records
them, no MCP server needed."""

from __future__ import annotations

import base64

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QColor, QImage

from agent.attachments import Attachment
from agent.events import McpServersEvent, ObservationEvent
from agent.mcp.config import McpServerState, McpServerStatus
from gui.event_view import EventView
from gui.event_view.cards import Card
from gui.event_view.parts import HeaderPart, ImagePart, LineStyle, MonoPart
from gui.event_view.rows import MarkerRow, Tone
from gui.main_window.confirmation_bar import ConfirmationBar
from tests.gui.test_event_view import kinds, settle
from tests.support.mcp_demo import mcp_call, mcp_events, servers_event


def _card(view: EventView, position: int) -> Card:
    return view.event_delegate().card(view.model().row_at(position))


def _lines(part: object) -> list[tuple[str, LineStyle]]:
    assert isinstance(part, MonoPart)
    return [(line.text, line.style) for line in part.lines]


def test_an_mcp_call_is_a_card_with_server_tool_arguments_and_result(qtbot, view) -> None:
    model = view.model()
    model.set_events(mcp_events())
    image = settle(qtbot, view)
    assert kinds(model) == ["user", "marker", "marker", "marker", "mcp", "mcp", "assistant"]

    status = _card(view, 4)
    header = status.parts[0]
    assert isinstance(header, HeaderPart)
    assert header.title == "git · git_status"
    assert [(c.text, c.tone) for c in header.chips] == [("MCP", Tone.INFO)]
    assert _lines(status.parts[1]) == [
        ("{", LineStyle.DIM),
        ('  "repo_path": "/workspace"', LineStyle.DIM),
        ("}", LineStyle.DIM),
    ]
    result = [text for text, _style in _lines(status.parts[2])]
    assert result[0] == "Repository status:" and "        notes/rounding.md" in result
    assert status.tone is Tone.SUCCESS

    commit = _card(view, 5)
    header = commit.parts[0]
    assert isinstance(header, HeaderPart)
    assert header.title == "git · git_commit"
    assert [(c.text, c.tone) for c in header.chips] == [("MCP", Tone.INFO), ("error", Tone.DANGER)]
    assert commit.tone is Tone.DANGER
    arguments = "\n".join(text for text, _style in _lines(commit.parts[1]))
    assert "Round totals half-up to cents" in arguments
    assert "more characters)" in arguments  # the long message is cut, and says so
    error = _lines(commit.parts[2])
    assert error[0][0].startswith("Error executing tool git_commit: nothing added to commit")
    assert {style for _text, style in error} == {LineStyle.ERROR}  # red, as a failed tool's
    # The row's full text (Ctrl+C, screen readers) names the server and the tool.
    assert model.row_at(5).plain_text().startswith("git · git_commit\n{")
    assert not image.isNull()


def test_the_servers_event_is_a_line_per_server_that_changed(qtbot, view) -> None:
    model = view.model()
    model.set_events(mcp_events()[:3])
    settle(qtbot, view)
    ready, failed = model.row_at(2), model.row_at(3)
    assert isinstance(ready, MarkerRow) and isinstance(failed, MarkerRow)
    assert (ready.label, ready.tone, ready.detail) == ("MCP: git — 5 tools", Tone.INFO, "")
    assert (failed.label, failed.tone) == ("MCP: jira failed", Tone.WARNING)
    assert failed.detail.startswith("The server did not answer initialize within 60 s.")
    assert "404 Not Found" in failed.detail

    # Said again unchanged: nothing new. git dies: one line, about git.
    model.append_event(servers_event(at=30))
    assert model.rowCount() == 4
    died = McpServerStatus(
        name="git", transport="stdio", state=McpServerState.FAILED, error="exited with code 1"
    )
    jira = servers_event().servers[1]
    model.append_event(McpServersEvent(servers=[died, jira]))
    settle(qtbot, view)
    assert model.rowCount() == 5
    last = model.row_at(4)
    assert isinstance(last, MarkerRow)
    assert (last.label, last.detail, last.tone) == (
        "MCP: git failed",
        "exited with code 1",
        Tone.WARNING,
    )


def test_the_approval_bar_names_the_server_and_tool_with_whole_arguments(qtbot) -> None:
    bar = ConfirmationBar()
    qtbot.addWidget(bar)
    message = "Round totals half-up to cents. " * 20
    action = mcp_call("c1", "git__git_commit", {"repo_path": "/workspace", "message": message}, 1)
    bar.show_actions([action])
    assert bar.text.startswith("MCP server git — tool git_commit, with:\n    {")
    assert '"repo_path": "/workspace"' in bar.text
    assert message.strip() in bar.text  # never cut: the user approves what will be sent


def _png(width: int, height: int) -> bytes:
    """A PNG whose every pixel (x, y) is (x, y, 200): findable, by its rows, on screen."""
    image = QImage(width, height, QImage.Format.Format_RGB888)
    for y in range(height):
        for x in range(width):
            image.setPixelColor(x, y, QColor(x, y, 200))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def test_an_image_a_tool_returned_is_a_thumbnail_in_its_card(qtbot, view) -> None:
    png = _png(120, 80)
    image = Attachment(mime_type="image/png", data=base64.b64encode(png).decode(), size=len(png))
    model = view.model()
    model.set_events(
        [
            mcp_call("p1", "pics__screenshot", {}, 1),
            ObservationEvent(
                tool_call_id="p1",
                tool_name="pics__screenshot",
                content="The screen:\n[Image 1: image/png, 300 bytes; attached.]",
                attachments=[image],
            ),
        ]
    )
    shot = settle(qtbot, view).convertToFormat(QImage.Format.Format_RGB888)
    thumbnail = _card(view, 0).parts[-1]
    assert isinstance(thumbnail, ImagePart)
    assert [(s.width(), s.height()) for s in thumbnail.sizes(600)] == [(120, 80)]  # not scaled
    # Painted at its size: a row of its pixels is on screen, as the PNG has it.
    row = b"".join(bytes((x, 40, 200)) for x in range(120))
    pixels = bytes(shot.constBits())
    assert row in pixels
