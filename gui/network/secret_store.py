"""Where secrets' values are kept: the OS keyring (service "berth", user "secret:NAME"), as
the API key is (gui/settings/key_store.py: only a real OS keyring, never a file). Without
one, a value lives in this process's memory for the session only, and Settings says so.

Reads and writes may block on the OS's secret service: call them off the GUI thread where
a conversation starts (the session's thread), or on a click that saves (as the key is).
"""

from __future__ import annotations

import contextlib
import logging
import threading

from pydantic import SecretStr

from gui.settings.key_store import os_keyring

log = logging.getLogger(__name__)

SERVICE = "berth"
NO_KEYRING_NOTE = (
    "No system keyring found: secret values are kept for this session only (never in a file)."
)

_session: dict[str, str] = {}  # no OS keyring: this session's values
_lock = threading.Lock()


def _user(name: str) -> str:
    return f"secret:{name}"


def has_keyring() -> bool:
    return os_keyring() is not None


def store_secret(name: str, value: str) -> bool:
    """Keep ``value`` for ``name``; True when it went to the OS keyring, False when it is
    kept for this session only. The keyring's own error (locked) is raised for the caller
    to show."""
    backend = os_keyring()
    if backend is None:
        with _lock:
            _session[name] = value
        return False
    backend.set_password(SERVICE, _user(name), value)
    return True


def read_secret(name: str) -> SecretStr | None:
    """The value kept for ``name``, or None."""
    with _lock:
        kept = _session.get(name)
    if kept:
        return SecretStr(kept)
    backend = os_keyring()
    if backend is None:
        return None
    try:
        value = backend.get_password(SERVICE, _user(name))
    except Exception as exc:  # locked: the conversation opens without this secret
        log.warning("could not read the secret %s from the keyring: %s", name, exc)
        return None
    return SecretStr(value) if value else None


def forget_secret(name: str) -> None:
    with _lock:
        _session.pop(name, None)
    backend = os_keyring()
    if backend is None:
        return
    import keyring.errors

    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        backend.delete_password(SERVICE, _user(name))
