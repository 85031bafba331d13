"""JSON in slices gives what the json module gives, byte for byte, errors included; and the
stand-ins are used only on the thread that asked, only while it asks."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent import json_slices
from agent.json_slices import dumps_in_slices, in_slices_on_this_thread, loads_in_slices

LITELLM = Path(str(importlib.util.find_spec("litellm").origin)).parent  # not imported: slow
# The documents litellm reads while it imports: the reason this module exists.
DOCUMENTS = [
    LITELLM / "model_prices_and_context_window_backup.json",
    LITELLM / "litellm_core_utils" / "tokenizers" / "anthropic_tokenizer.json",
]

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_litellms_documents_read_and_write_back_the_same(path: Path) -> None:
    body = path.read_bytes()
    value = json.loads(body)
    assert loads_in_slices(body) == value
    assert dumps_in_slices(value) == json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from(["", " ", "\n\t "]), st.integers(0, 4))
def test_any_document_reads_and_writes_as_json_does(value, space: str, depth: int) -> None:
    text = json.dumps(value, indent=2 if space else None)
    assert loads_in_slices(space + text + space, depth) == json.loads(space + text + space)
    assert dumps_in_slices(value, depth) == json.dumps(value)


@pytest.mark.parametrize(
    "text",
    ['{"a": 1,}', '{"a" 1}', "[1 2]", '{"a": 1} x', "", "[", "{1: 2}", "\ufeff{}", '{"a": [1, }'],
)
def test_a_broken_document_fails_as_json_fails(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        loads_in_slices(text)
    assert got.value.msg == expected.value.msg


def test_only_the_thread_that_asked_and_only_while_it_asks(monkeypatch) -> None:
    big = {str(i): [i, {"x": i}] for i in range(20_000)}
    text = json.dumps(big)
    calls: list[str] = []
    real_loads, real_dumps = json_slices.loads_in_slices, json_slices.dumps_in_slices
    monkeypatch.setattr(
        json_slices, "loads_in_slices", lambda t: calls.append("loads") or real_loads(t)
    )
    monkeypatch.setattr(
        json_slices, "dumps_in_slices", lambda v: calls.append("dumps") or real_dumps(v)
    )
    standard = json.loads, json.dumps

    elsewhere: list[object] = []
    with in_slices_on_this_thread():
        assert json.loads(text) == big and json.dumps(big) == text
        assert calls == ["loads", "dumps"]
        assert json.loads(text, object_hook=dict) == big  # options: the standard way
        assert json.loads("[1]") == [1]  # small: the standard way
        worker = threading.Thread(target=lambda: elsewhere.append(json.loads(text)))
        worker.start()
        worker.join()
        assert calls == ["loads", "dumps"]  # another thread: the standard way
    assert elsewhere == [big]
    assert (json.loads, json.dumps) == standard
    assert json.loads(text) == big
    assert calls == ["loads", "dumps"]
