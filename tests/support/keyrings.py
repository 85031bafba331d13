"""Keyring backends for tests: one in memory that the app is told to trust (as if it were
the OS's), and one that writes the key to a file as keyrings.alt's PlaintextKeyring does."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
from keyring.backend import KeyringBackend

from gui.settings import key_store


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class FileKeyring(KeyringBackend):
    """The key base64-encoded in a file under XDG_DATA_HOME: what must never be used."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _read(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        value = self._read().get(f"{service}/{username}")
        return base64.b64decode(value).decode() if value else None

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data[f"{service}/{username}"] = base64.b64encode(password.encode()).decode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        data.pop(f"{service}/{username}", None)
        self.path.write_text(json.dumps(data))


@contextlib.contextmanager
def using_keyring(backend: KeyringBackend, *, trusted: bool) -> Iterator[KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    if trusted:
        key_store.trust_for_tests(type(backend))
    try:
        yield backend
    finally:
        key_store.forget_test_trust()
        keyring.set_keyring(previous)
