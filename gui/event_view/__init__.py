"""The event stream: a virtualised list of messages, commands, edits, errors and markers.

``EventView`` (objectName ``event_view``) owns an ``EventListModel`` fed with
``agent.events`` models and an ``EventDelegate`` that paints each row as a card.
"""

from gui.event_view.delegate import EventDelegate
from gui.event_view.model import EventListModel, EventRole
from gui.event_view.rows import RowKind
from gui.event_view.view import EventView

__all__ = ["EventDelegate", "EventListModel", "EventRole", "EventView", "RowKind"]
