"""The app's settings: which model to talk to and which image the sandbox uses.

For now they come from the environment variables of the seed program (LLM_MODEL,
LLM_BASE_URL, LLM_API_KEY, BERTH_SANDBOX_IMAGE). A later settings dialog saves the same
model to disk and keeps the key in the OS keyring, so ``schema_version`` is here from the
start: a saved file says which shape it was written in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from agent import LLM

SCHEMA_VERSION = 1


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

    @classmethod
    def load(cls) -> AppSettings:
        """Settings from the environment (empty strings count as unset)."""
        settings = cls()
        if settings.llm_base_url == "":
            settings.llm_base_url = None
        if settings.sandbox_image == "":
            settings.sandbox_image = None
        if settings.llm_api_key is not None and not settings.llm_api_key.get_secret_value():
            settings.llm_api_key = None
        return settings

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

        kwargs: dict[str, object] = {"model": self.llm_model, "base_url": self.llm_base_url}
        if self.llm_api_key is not None:
            kwargs["api_key"] = self.llm_api_key
        return LLM(**kwargs)
