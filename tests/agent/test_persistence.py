"""The conversation folder: events fsynced line by line, state.json replaced atomically."""

from __future__ import annotations

from agent.conversation.persistence import (
    ConversationStore,
    default_persistence_dir,
    list_conversations,
)
from agent.conversation.state import PersistedState, make_title
from agent.events import MessageEvent, PauseEvent
from agent.status import AgentStatus


def test_events_round_trip_and_a_torn_line_is_dropped(tmp_path):
    store = ConversationStore(tmp_path / "c1")
    store.create()
    first, second = MessageEvent(role="user", text="hi"), PauseEvent()
    store.append(first)
    store.append(second)
    store.close()
    with open(store.events_path, "a") as handle:
        handle.write('{"kind": "message", "role": "us')  # a crash mid-write
    reopened = ConversationStore(tmp_path / "c1")
    assert reopened.load_events() == [first, second]
    third = MessageEvent(role="user", text="after")
    reopened.append(third)
    assert reopened.load_events() == [first, second, third]


def test_state_is_replaced_whole_and_listed(tmp_path):
    for n, status in enumerate([AgentStatus.FINISHED, AgentStatus.PAUSED]):
        store = ConversationStore(tmp_path / f"c{n}")
        store.create()
        store.save_state(PersistedState(id=f"c{n}", title=f"task {n}", agent_status=status))
        store.save_state(PersistedState(id=f"c{n}", title=f"task {n}!", agent_status=status))
        assert [p.name for p in store.folder.iterdir()] == ["state.json"]
    (tmp_path / "junk").mkdir()
    summaries = list_conversations(tmp_path)
    assert [s.id for s in summaries] == ["c1", "c0"]  # newest first
    assert summaries[0].title == "task 1!"
    assert summaries[0].agent_status == AgentStatus.PAUSED


def test_a_listing_carries_the_saved_status_as_it_stands_with_no_app_running_it(tmp_path):
    saved = {
        "waits": (AgentStatus.WAITING_FOR_CONFIRMATION, "Approve rm -rf build?"),
        "ran": (AgentStatus.RUNNING, "step 3"),  # the app quit (or crashed) mid-run
    }
    for name, (status, detail) in saved.items():
        store = ConversationStore(tmp_path / name)
        store.create()
        store.save_state(PersistedState(id=name, agent_status=status, status_detail=detail))
    listed = {s.id: (s.agent_status, s.status_detail) for s in list_conversations(tmp_path)}
    assert listed == {
        "waits": (AgentStatus.WAITING_FOR_CONFIRMATION, "Approve rm -rf build?"),
        # Nothing runs it any more: paused, as reopening it records, without the stale words.
        "ran": (AgentStatus.PAUSED, ""),
    }


def test_default_dir_is_in_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_persistence_dir() == tmp_path / "berth" / "conversations"


def test_titles_are_one_short_line():
    assert make_title("Fix the\n  login bug") == "Fix the login bug"
    long = make_title("word " * 40)
    assert len(long) <= 60 and long.endswith("…")
