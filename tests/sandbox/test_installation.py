"""The installation id: made once, kept on disk, the same for every later start."""

from __future__ import annotations

from sandbox.installation import FILE_NAME, Installation, load_or_create


def test_made_once_then_read_back(tmp_path):
    first = load_or_create(tmp_path)
    assert load_or_create(tmp_path) == first
    stored = Installation.model_validate_json((tmp_path / FILE_NAME).read_bytes())
    assert stored.id == first.id and len(first.id) == 32


def test_an_unreadable_file_is_replaced_by_a_new_id(tmp_path):
    (tmp_path / FILE_NAME).write_text("{not json")
    made = load_or_create(tmp_path)
    assert load_or_create(tmp_path).id == made.id
