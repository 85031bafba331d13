"""This installation's id: made once, kept in the user's data folder, put in the labels of
everything Berth creates on the engine.

One engine may serve several users (or several Berth installations of one user): the reaper
and the leftovers list touch only what carries this id, never another installation's.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

FILE_NAME = "installation.json"


class Installation(BaseModel):
    schema_version: int = 1
    id: str = Field(min_length=8, pattern=r"^[0-9a-f]+$")
    created: datetime


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("berth", appauthor=False))


def load_or_create(directory: Path | None = None) -> Installation:
    """The stored installation, or a new one stored now (the first writer wins a race)."""
    path = (directory or data_dir()) / FILE_NAME
    with contextlib.suppress(FileNotFoundError, ValidationError, ValueError):
        return Installation.model_validate_json(path.read_bytes())
    made = Installation(id=uuid.uuid4().hex, created=datetime.now(UTC))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".installation-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(made.model_dump_json())
            out.flush()
            os.fsync(out.fileno())
        if path.exists():  # unreadable: replaced, else its id would never come back
            os.replace(temp, path)
            return made
        try:
            os.link(temp, path)  # fails if another process made it meanwhile
        except FileExistsError:
            return Installation.model_validate_json(path.read_bytes())
        return made
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


@functools.cache
def installation_id() -> str:
    return load_or_create().id
