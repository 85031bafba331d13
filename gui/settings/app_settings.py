"""The app's settings: which model to talk to and how the sandbox is set up.

They come from three places, the first that has a value winning:

1. the environment (LLM_MODEL, LLM_BASE_URL, LLM_API_KEY, BERTH_SANDBOX_IMAGE, ...), so a
   shell or a CI job configures Berth without touching its files;
2. ``settings.json`` under the user config directory (platformdirs), written by the
   settings dialog; it never holds the API key (``schema_version`` says which shape the
   file was written in);
3. the OS keyring (service "berth", user "llm_api_key") for the API key alone: only a real
   one (gui.settings.key_store); without one the key lives for the session only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent.mcp.config import McpServerConfig, McpServers, ToolApproval
from gui.network.secret_entry import SecretEntry

if TYPE_CHECKING:
    from agent import LLM
    from agent.conversation.network import NetworkSetting

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
APP_DIR_NAME = "berth"
SETTINGS_FILE = "settings.json"
KEYRING_SERVICE = "berth"
KEYRING_USER = "llm_api_key"

# Docker's own spelling of a memory size: a number and an optional b/k/m/g unit.
_MEMORY_RE = re.compile(r"^\s*\d+(\.\d+)?\s*[bkmg]?\s*$", re.IGNORECASE)
# Below this a container cannot even start bash reliably.
_MIN_MEMORY_BYTES = 6 * 1024 * 1024
# Below this a workspace cannot hold even a small project.
_MIN_DISK_BYTES = 10 * 1024 * 1024
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}

# Fields the environment can set, and the variable that sets each (it wins over the file).
ENV_VARS: dict[str, str] = {
    "llm_model": "LLM_MODEL",
    "llm_base_url": "LLM_BASE_URL",
    "llm_api_key": "LLM_API_KEY",
    "sandbox_image": "BERTH_SANDBOX_IMAGE",
    "max_iterations": "BERTH_MAX_ITERATIONS",
    "confirmation_mode": "BERTH_CONFIRMATION_MODE",
}


def config_dir() -> Path:
    """Where settings.json lives (honours XDG_CONFIG_HOME on Linux)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_DIR_NAME))


def env_overrides() -> dict[str, str]:
    """The fields set by a non-empty environment variable, with that variable's name."""
    return {field: var for field, var in ENV_VARS.items() if os.environ.get(var, "").strip()}


def read_keyring_key() -> SecretStr | None:
    """The key kept in the OS keyring, or None (also when there is no real OS keyring: a
    file-backed one is never read, see gui.settings.key_store)."""
    from gui.settings.key_store import os_keyring

    backend = os_keyring()
    if backend is None:
        return None
    try:
        value = backend.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # locked, D-Bus missing: run without a saved key
        log.warning("could not read the API key from the keyring: %s", exc)
        return None
    return SecretStr(value) if value else None


def store_keyring_key(key: str | None) -> None:
    """Keep ``key`` in the OS keyring; an empty or None key removes the saved one.

    Raises NoKeyringError when there is no OS keyring (the key must then stay in memory,
    never in a file), or the keyring's error when it cannot store it: the caller tells the
    user."""
    import keyring.errors

    from gui.settings.key_store import NoKeyringError, os_keyring

    backend = os_keyring()
    if backend is None:
        if key:
            raise NoKeyringError()
        return
    if key:
        backend.set_password(KEYRING_SERVICE, KEYRING_USER, key)
        return
    with contextlib.suppress(keyring.errors.PasswordDeleteError):  # nothing saved
        backend.delete_password(KEYRING_SERVICE, KEYRING_USER)


class AppSettings(BaseSettings):
    """What the window needs to start a conversation. Never holds anything Qt."""

    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, validate_assignment=True
    )

    schema_version: int = SCHEMA_VERSION
    llm_model: str = Field(default="", validation_alias=AliasChoices("llm_model", "LLM_MODEL"))
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("llm_base_url", "LLM_BASE_URL")
    )
    # Excluded from dumps: the key must never reach a settings file, a log or an event.
    llm_api_key: SecretStr | None = Field(
        default=None,
        exclude=True,
        repr=False,
        validation_alias=AliasChoices("llm_api_key", "LLM_API_KEY"),
    )
    sandbox_image: str | None = Field(
        default=None, validation_alias=AliasChoices("sandbox_image", "BERTH_SANDBOX_IMAGE")
    )
    # LLM steps one run may take before it stops and asks the user to go on.
    max_iterations: int = Field(
        default=100, ge=1, validation_alias=AliasChoices("max_iterations", "BERTH_MAX_ITERATIONS")
    )

    # Each tool call waits for the user's Approve or Reject before it runs.
    confirmation_mode: bool = Field(
        default=False,
        validation_alias=AliasChoices("confirmation_mode", "BERTH_CONFIRMATION_MODE"),
    )

    # Tokens a request may hold, for models litellm does not know (None: litellm's figure,
    # else a safe default). A provider that says its window is smaller is believed.
    context_window: int | None = Field(default=None, ge=1024, le=10_000_000)
    # The model that summarises older steps near the window ("": the conversation's own).
    # Same endpoint and key as the main model.
    condensation_model: str = ""
    # How hard a reasoning model thinks ("default": the provider's own choice, nothing sent).
    reasoning_effort: Literal["default", "low", "medium", "high"] = "default"
    # Tokens an Anthropic model may think before answering (None: no extended thinking).
    # Anthropic's minimum is 1024.
    thinking_budget: int | None = Field(default=None, ge=1024, le=1_000_000)

    # Sandbox limits, applied to the containers of conversations started afterwards.
    # The network: off, open, or only the allow-list's hosts through a proxy of the
    # conversation's own (agent/conversation/network.py).
    network_mode: Literal["off", "allow-list", "open"] = "open"
    network_allow: list[str] = Field(default_factory=list)
    # Secrets for allow-list conversations: names and hosts here, values in the OS keyring
    # (gui/network/secret_store.py).
    secrets: list[SecretEntry] = Field(default_factory=list)
    memory_limit: str = "2g"
    # What a conversation may store (its container's writable layer plus /workspace).
    disk_limit: str = "10g"
    cpu_limit: float = Field(default=2.0, gt=0, le=256)
    # How Pause holds a running command still: the engine's freeze, SIGSTOP to the
    # container's processes, or auto (freeze, then SIGSTOP where the freeze fails).
    pause_mode: Literal["auto", "freeze", "signals"] = "auto"

    # MCP servers every new conversation starts (the ``mcpServers`` shape; a workspace's
    # .mcp.json adds its own), and per tool, by the name the model sees
    # (``<server>__<tool>``), what the user chose: allow, ask or never.
    mcp_servers: McpServers = Field(default_factory=dict)
    mcp_approvals: dict[str, ToolApproval] = Field(default_factory=dict)
    # Seconds each server has to start and list its tools (a slow npx download needs many).
    mcp_start_timeout_s: float = Field(default=60.0, gt=0, le=600)

    @model_validator(mode="before")
    @classmethod
    def _old_network_switch(cls, data: Any) -> Any:
        # Files written before the modes had network_enabled: false for "off".
        old_off = isinstance(data, dict) and data.get("network_enabled") is False
        if old_off and "network_mode" not in data:
            data = {**data, "network_mode": "off"}
        return data

    @field_validator("network_allow", mode="before")
    @classmethod
    def _check_allow(cls, value: object) -> object:
        if isinstance(value, str):
            value = [line for line in value.replace(",", "\n").splitlines() if line.strip()]
        if not value:  # the default: no need to load the sandbox (and docker) at start-up
            return []
        from sandbox import NetworkPolicy

        return NetworkPolicy(allow=value).allow  # type: ignore[arg-type]  # says what is wrong

    def mcp_servers_to_start(self) -> dict[str, McpServerConfig]:
        """The servers for ``Agent(mcp_servers=...)``, each with the start-up timeout."""
        timeout = {"start_timeout_s": self.mcp_start_timeout_s}
        return {name: c.model_copy(update=timeout) for name, c in self.mcp_servers.items()}

    @property
    def network_enabled(self) -> bool:
        return self.network_mode != "off"

    @property
    def network(self) -> NetworkSetting:
        from agent.conversation.network import NetworkSetting

        return NetworkSetting(mode=self.network_mode, allow=self.network_allow)

    @field_validator("llm_model", "condensation_model")
    @classmethod
    def _strip_model(cls, value: str) -> str:
        return value.strip()

    @field_validator("context_window", "thinking_budget", mode="before")
    @classmethod
    def _blank_window(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace("_", "")
            return value or None
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        from urllib.parse import urlparse

        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(
                "must be an http:// or https:// address, e.g. http://localhost:8000/v1"
            )
        return value

    @field_validator("sandbox_image")
    @classmethod
    def _check_image(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if any(c.isspace() for c in value):
            raise ValueError("an image name has no spaces, e.g. berth-sandbox:latest")
        return value

    @field_validator("memory_limit", "disk_limit")
    @classmethod
    def _check_size(cls, value: str, info: ValidationInfo) -> str:
        memory = info.field_name == "memory_limit"
        if not _MEMORY_RE.match(value):
            raise ValueError(
                "must be a size such as 512m or 2g" if memory else "must be a size such as 10g"
            )
        value = value.strip().replace(" ", "").lower()
        unit = value[-1] if value[-1] in _UNITS else ""
        number = float(value[:-1] if unit else value)
        least, said = (_MIN_MEMORY_BYTES, "6m") if memory else (_MIN_DISK_BYTES, "10m")
        if number * _UNITS[unit] < least:
            raise ValueError(f"must be at least {said}")
        return value

    # Whether the keyring's key is still to be read (``load(keyring_later=True)``), and the
    # lock that makes one read of it, whichever thread asks first.
    _keyring_pending: bool = PrivateAttr(default=False)
    _keyring_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @classmethod
    def load(cls, directory: Path | None = None, *, keyring_later: bool = False) -> AppSettings:
        """The settings Berth starts with: environment, then settings.json, then keyring.

        A missing or unreadable file gives the defaults (logged): a bad file must not keep
        the app from starting. ``keyring_later``: the keyring is not read now but by the
        first ``read_keyring()`` (the window's launch does not wait for it: importing
        keyring and asking the OS's secret service took 100-400 ms, and a locked one can
        take as long as the user does)."""
        saved = cls.read_file(directory)
        for field in env_overrides():
            saved.pop(field, None)
        try:
            settings = cls(**saved)
        except ValidationError as exc:
            # Only the bad fields are dropped: a hand-edited MCP entry must not cost the
            # user their model and limits.
            bad = {str(error["loc"][0]) for error in exc.errors() if error.get("loc")}
            log.warning("ignoring saved settings that do not validate (%s): %s", bad, exc)
            try:
                settings = cls(**{k: v for k, v in saved.items() if k not in bad})
            except ValueError:
                settings = cls()
        if settings.llm_base_url == "":
            settings.llm_base_url = None
        if settings.sandbox_image == "":
            settings.sandbox_image = None
        if settings.llm_api_key is not None and not settings.llm_api_key.get_secret_value():
            settings.llm_api_key = None
        if settings.llm_api_key is None:
            if keyring_later:
                settings._keyring_pending = True
            else:
                settings.llm_api_key = read_keyring_key()
        return settings

    def read_keyring(self) -> None:
        """Take the keyring's key into ``llm_api_key`` if ``load`` left it for later.

        Called on a background thread after the window shows, and by whatever needs the
        key (``make_llm``, the Settings dialog): the first caller reads it, one arriving
        meanwhile waits for that read, later ones return at once. A key set meanwhile (the
        Settings dialog) wins over the one read."""
        with self._keyring_lock:
            if not self._keyring_pending:
                return
            key = read_keyring_key()
            if self.llm_api_key is None:
                self.llm_api_key = key
            self._keyring_pending = False

    @classmethod
    def read_file(cls, directory: Path | None = None) -> dict[str, Any]:
        """The raw values of settings.json (empty when there is none or it is unreadable)."""
        path = (directory or config_dir()) / SETTINGS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("could not read %s: %s", path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        data.pop("llm_api_key", None)  # never taken from a file, even a hand-edited one
        data.pop("schema_version", None)
        return data

    def save(self, directory: Path | None = None) -> Path:
        """Write settings.json (atomically, without the key) and return its path.

        The key goes to the keyring through ``store_keyring_key``, never here."""
        directory = directory or config_dir()
        directory.mkdir(parents=True, exist_ok=True)
        data = self.model_dump(mode="json", exclude={"llm_api_key"})
        data["schema_version"] = SCHEMA_VERSION
        path = directory / SETTINGS_FILE
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
                f.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def update_from(self, other: AppSettings) -> None:
        """Take every value of ``other`` in place: whoever holds this object (the running
        session) uses them for the next conversation."""
        other.read_keyring()
        with self._keyring_lock:  # other's key, read or not, is the one now
            for name in type(self).model_fields:
                setattr(self, name, getattr(other, name))
            self._keyring_pending = False

    def workspace_options(self) -> dict[str, Any]:
        """Keyword arguments for ``sandbox.DockerWorkspace`` from the sandbox limits."""
        return {
            "network": self.network.as_workspace_network(),
            "memory": self.memory_limit,
            "disk_limit": self.disk_limit,
            "cpus": self.cpu_limit,
            "pause_mode": self.pause_mode,
        }

    @property
    def is_configured(self) -> bool:
        """True when a model is named: enough to start (local servers need no key)."""
        return bool(self.llm_model.strip())

    @property
    def model_label(self) -> str:
        """The model's name as the window shows it ("gpt-4o" for "openai/gpt-4o")."""
        return self.llm_model.rsplit("/", 1)[-1] if self.llm_model else "no model"

    def make_llm(self) -> LLM:
        """An ``agent.LLM`` for these settings (cheap: litellm loads on the first call)."""
        from agent import LLM

        self.read_keyring()
        # The key only when one is set: otherwise LLM's own default (LLM_API_KEY) applies.
        effort = None if self.reasoning_effort == "default" else self.reasoning_effort
        kwargs: dict[str, Any] = {
            "model": self.llm_model,
            "base_url": self.llm_base_url,
            "context_window": self.context_window,
            "reasoning_effort": effort,
            "thinking_budget": self.thinking_budget,
            # The window shows the reply as it is written.
            "stream": True,
        }
        if self.llm_api_key is not None:
            kwargs["api_key"] = self.llm_api_key
        return LLM(**kwargs)

    def make_condensation_llm(self) -> LLM | None:
        """The model that summarises older steps, or None for the conversation's own."""
        if not self.condensation_model or self.condensation_model == self.llm_model:
            return None
        llm = self.make_llm()
        # Its own window comes from litellm: the setting describes the main model.
        return llm.model_copy(
            update={
                "model": self.condensation_model,
                "usage_id": "condenser",
                "context_window": None,
            }
        )
