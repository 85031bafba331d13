"""Where the API key may be kept: a real OS keyring, or nowhere but this session's memory.

``keyring`` picks whatever backend is installed, and some of those write the key to a file:
keyrings.alt's PlaintextKeyring keeps it base64-encoded in ~/.local/share. Only the OS's own
secret stores are trusted here (Secret Service, macOS Keychain, Windows Credential Manager);
anything else, the null and fail backends and chainers of them included, is "no keyring":
the key then lives for the session only, or comes from LLM_API_KEY.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

# By module and class name, so checking never imports a platform's backend module.
TRUSTED_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)

NO_KEYRING_NOTICE = (
    "No system keyring (Secret Service, Keychain or Credential Manager) was found: the API "
    "key is kept for this session only. Set LLM_API_KEY to give it at every start."
)

# Backend classes tests have said to trust (trust_for_tests): never set by the app.
_trusted_for_tests: set[type] = set()


def trust_for_tests(backend_class: type) -> None:
    """Test-only hook: trust ``backend_class`` as if it were an OS keyring."""
    _trusted_for_tests.add(backend_class)


def forget_test_trust() -> None:
    _trusted_for_tests.clear()


def _name(backend: object) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _trusted(backend: object) -> bool:
    return type(backend) in _trusted_for_tests or _name(backend) in TRUSTED_BACKENDS


def os_keyring() -> KeyringBackend | None:
    """The OS keyring the key may go to, or None when there is none."""
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend

        chosen = keyring.get_keyring()
    except Exception as exc:  # a broken backend module: no keyring, not a crash
        log.warning("no keyring: %s", exc)
        return None
    # A chainer writes to its first backend that takes the key, which may be a file: use
    # the trusted one in it directly.
    candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    return next((backend for backend in candidates if _trusted(backend)), None)


class NoKeyringError(RuntimeError):
    def __init__(self) -> None:
        super().__init__(NO_KEYRING_NOTICE)


class KeyReader(Protocol):
    """Settings that can take the saved key in (AppSettings is one; app_settings imports
    this module, so it is not imported back)."""

    def read_keyring(self) -> object: ...


def read_saved_key(settings: KeyReader) -> str:
    """Take the saved key into ``settings`` (off the GUI thread); the notice to show once
    when there is no OS keyring and no LLM_API_KEY, else ""."""
    settings.read_keyring()
    if os_keyring() is None and not os.environ.get("LLM_API_KEY", "").strip():
        return NO_KEYRING_NOTICE
    return ""
