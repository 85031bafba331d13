"""The LLM: a pydantic description of a model endpoint, and one call to it through litellm.

litellm takes about two seconds to import, so it is imported on the first call, never at
package import. Retries are done here rather than by litellm or the OpenAI client, so a
caller can abandon a request (pause) between attempts and so each attempt is visible.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
import uuid
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer

from agent.events import LLMUsage
from agent.llm.errors import ProviderProblem, is_quota, never_connected, provider_problem
from agent.llm.redact import protect_logs, redact
from agent.llm.replies import NoChoicesError, odd_reply, retry_after
from agent.llm.stream import DeltaCallback, deltas_of_chunk
from agent.llm.types import (
    FailedAttempt,
    LLMCancelled,
    LLMError,
    LLMResponse,
    LLMToolCall,
)

log = logging.getLogger(__name__)

DEFAULT_MODEL = "openai/gpt-4o"
# The window assumed for a model litellm does not know and no setting names: small enough
# for most local models; a provider that says its window is smaller teaches us the truth.
DEFAULT_CONTEXT_WINDOW = 32_768

# HTTP statuses worth another try: timeouts, conflicts, rate limits, server errors.
_RETRY_STATUSES = {408, 409, 429}


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def _env_key() -> SecretStr | None:
    value = _env("LLM_API_KEY")
    return SecretStr(value) if value else None


def import_litellm() -> ModuleType:
    """Import litellm with its offline price list (it must never fetch it at import)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.drop_params = True
    return litellm


# Room for the answer above an Anthropic thinking budget, when no reply limit is set.
ANSWER_TOKENS = 4096


class LLM(BaseModel):
    """A model endpoint. Any litellm model; OpenAI-compatible servers as ``openai/NAME``.

    The API key is a SecretStr and is left out of every dump of this model, so it cannot
    reach state.json, events or logs by way of the LLM's configuration.
    """

    model_config = ConfigDict(validate_assignment=True)

    model: str = Field(default_factory=lambda: _env("LLM_MODEL") or DEFAULT_MODEL)
    api_key: SecretStr | None = Field(default_factory=_env_key, exclude=True, repr=False)
    base_url: str | None = Field(default_factory=lambda: _env("LLM_BASE_URL"))
    usage_id: str = "agent"
    temperature: float | None = None
    max_output_tokens: int | None = None
    timeout: float = 120.0
    # Attempts after the first one, on 429, 5xx, timeouts and connection errors.
    num_retries: int = Field(default_factory=lambda: int(_env("LLM_NUM_RETRIES") or 4))
    # Backoff: retry_min_wait * 2**attempt, capped at retry_max_wait (seconds).
    retry_min_wait: float = Field(default_factory=lambda: float(_env("LLM_RETRY_MIN_WAIT") or 1.0))
    retry_max_wait: float = 30.0
    # A server's Retry-After is honoured up to this many seconds.
    retry_after_cap: float = 60.0
    # Ask for the reply as a stream (token callbacks see it grow). The SDK's default is a
    # whole reply; the app and ``berth run`` stream.
    stream: bool = False
    # Tokens a request may hold. None: litellm's model info, else DEFAULT_CONTEXT_WINDOW.
    context_window: int | None = Field(default=None, gt=0)
    # Sent only when set: "low", "medium" or "high" (litellm's reasoning_effort).
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    # Anthropic's extended thinking: tokens the model may think before answering.
    thinking_budget: int | None = Field(default=None, gt=0)

    @field_serializer("api_key", when_used="always")
    def _hide_key(self, value: SecretStr | None) -> None:
        return None

    def helper_request(self) -> dict[str, Any]:
        """This model's settings as the helper process takes them: the key beside them,
        in the clear only on that pipe."""
        return {
            "llm": self.model_dump(mode="json"),
            "api_key": self.api_key.get_secret_value() if self.api_key else None,
        }

    def effective_context_window(self) -> int:
        """The window requests are kept under: the setting, else what litellm knows."""
        if self.context_window is not None:
            return self.context_window
        return _known_window(self.model) or DEFAULT_CONTEXT_WINDOW

    def reads_images(self) -> bool:
        """False when litellm knows this model and it takes no images (a tool's images are
        then left out of its requests: sent, the provider would refuse every request). A
        model litellm does not know gets them."""
        return _reads_images(self.model)

    def count_tokens(self, messages: list[dict[str, Any]]) -> int:
        """Tokens of ``messages`` by litellm's counter for this model (tiktoken when it
        does not know the model's own tokenizer)."""
        from agent.llm.process import running_helper

        helper = running_helper()
        if helper is not None:
            return helper.count_tokens(self.model, messages)
        return count_tokens_here(self.model, messages)

    def completion(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        *,
        cancel: threading.Event | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> LLMResponse:
        """Ask the model once (with retries). Raises LLMError, or LLMCancelled if ``cancel``
        is set while waiting between attempts or while a stream comes in (or, through the
        helper process, at any moment). With ``stream`` on, ``on_delta`` hears each piece
        of the reply as it arrives (from the thread reading it)."""
        from agent.llm.process import running_helper

        protect_logs(self.api_key.get_secret_value() if self.api_key else None)
        cancel = cancel or threading.Event()
        helper = running_helper()
        attempt = 0
        while True:
            if cancel.is_set():
                raise LLMCancelled()
            outcome = (
                helper.attempt(self, messages, tools, cancel, attempt + 1, on_delta)
                if helper is not None
                else self.attempt_here(messages, tools, cancel, attempt + 1, on_delta)
            )
            if isinstance(outcome, LLMResponse):
                return outcome
            failed = outcome
            if failed.context_exceeded or not failed.retryable or attempt >= self.num_retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                message = f"The model request failed{tries}: {self._redact(failed.message)}"
                raise LLMError(
                    failed.problem.message if failed.problem is not None else message,
                    retryable=failed.retryable and not failed.context_exceeded,
                    status_code=failed.status_code,
                    context_exceeded=failed.context_exceeded,
                    provider_window=failed.provider_window,
                    provider_tokens=failed.provider_tokens,
                    problem=failed.problem,
                ) from failed.cause
            wait = min(self.retry_max_wait, self.retry_min_wait * (2**attempt))
            if failed.retry_after is not None:  # the server said when: honour it, within reason
                wait = min(failed.retry_after, self.retry_after_cap)
            status = failed.status_code
            log.info("LLM call failed (%s); retry %d in %.2fs", status, attempt + 1, wait)
            attempt += 1
            if cancel.wait(wait):
                raise LLMCancelled() from None

    def attempt_here(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        cancel: threading.Event,
        attempts: int,
        on_delta: DeltaCallback | None = None,
    ) -> LLMResponse | FailedAttempt:
        """One attempt through litellm in this process: the reply, or what went wrong."""
        litellm = import_litellm()
        started = time.monotonic()
        try:
            response = self._call_once(litellm, messages, tools, cancel, on_delta)
            return self._parse(litellm, response, time.monotonic() - started, attempts)
        except LLMCancelled:
            raise
        except Exception as exc:
            return failed_attempt(litellm, exc, self.base_url, self.model)

    # --- internals -------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        """Error texts end up in events and on screen: never with the key, or 8 characters
        of it, in them."""
        return redact(text, self.api_key.get_secret_value() if self.api_key else None)

    def _call_once(
        self,
        litellm: ModuleType,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        cancel: threading.Event,
        on_delta: DeltaCallback | None,
    ) -> Any:
        from agent.llm.prompt_cache import mark_cache_breakpoints, wants_cache_control

        if wants_cache_control(self.model):
            messages = mark_cache_breakpoints(messages)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "timeout": self.timeout,
            # The OpenAI client must not retry on its own: this loop does, visibly.
            "max_retries": 0,
        }
        if tools:
            kwargs["tools"] = tools
        if self.api_key is not None:
            kwargs["api_key"] = self.api_key.get_secret_value()
        if self.base_url:
            kwargs["api_base"] = self.base_url
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_output_tokens is not None:
            kwargs["max_tokens"] = self.max_output_tokens
        if self.reasoning_effort is not None:
            kwargs["reasoning_effort"] = self.reasoning_effort
        if self.thinking_budget is not None and is_anthropic(self.model):
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": self.thinking_budget}
            # Anthropic refuses a reply limit at or under the budget: leave room to answer.
            if kwargs.get("max_tokens", 0) <= self.thinking_budget:
                kwargs["max_tokens"] = self.thinking_budget + ANSWER_TOKENS
        if not self.stream:
            return litellm.completion(**kwargs)
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
        stream = litellm.completion(**kwargs)
        chunks = []
        for chunk in stream:
            if cancel.is_set():
                # Closing ends the HTTP response: the server stops generating for us.
                close = getattr(stream, "close", None)
                if callable(close):
                    close()
                raise LLMCancelled()
            chunks.append(chunk)
            if on_delta is not None:
                for delta in deltas_of_chunk(chunk):
                    try:
                        on_delta(delta)
                    except Exception:  # a watcher's failure must not fail the request
                        log.exception("a token callback failed")
        # With the usage chunk among them, the builder's usage is the provider's count.
        return litellm.stream_chunk_builder(chunks, messages=messages)

    def _parse(
        self, litellm: ModuleType, response: Any, latency: float, attempts: int
    ) -> LLMResponse:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise NoChoicesError()
        choice = choices[0]
        message = choice.message
        calls = []
        for call in getattr(message, "tool_calls", None) or []:
            function = call.function
            arguments = function.arguments
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments)
            calls.append(
                LLMToolCall(
                    id=call.id or "call_" + uuid.uuid4().hex[:12],
                    name=function.name or "",
                    arguments=arguments or "",
                )
            )
        usage = getattr(response, "usage", None)
        try:
            cost = float(litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # the model is not in litellm's price list
            cost = 0.0
        reasoning = getattr(message, "reasoning_content", None)
        return LLMResponse(
            id=getattr(response, "id", None) or uuid.uuid4().hex,
            content=message.content or None,
            reasoning_content=reasoning if isinstance(reasoning, str) and reasoning else None,
            tool_calls=calls,
            usage=LLMUsage(
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                cached_tokens=_cached_tokens(usage),
                cache_write_tokens=int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
                cost=cost,
                latency_s=latency,
            ),
            attempts=attempts,
        )


def is_anthropic(model: str) -> bool:
    """Models that take a thinking budget (Anthropic's, also through Bedrock or Vertex)."""
    return model.startswith("anthropic/") or "claude" in model.lower()


def count_tokens_here(model: str, messages: list[dict[str, Any]]) -> int:
    litellm = import_litellm()
    return int(litellm.token_counter(model=model, messages=messages))


@functools.lru_cache(maxsize=64)
def _known_window(model: str) -> int | None:
    """The input window litellm's model list gives ``model``, or None (asked once per
    model: the window is read for every request)."""
    from agent.llm.process import running_helper

    helper = running_helper()
    if helper is not None:
        return helper.known_window(model)
    return known_window_here(model)


@functools.lru_cache(maxsize=64)
def _reads_images(model: str) -> bool:
    from agent.llm.process import running_helper

    helper = running_helper()
    if helper is not None:
        return helper.reads_images(model)
    return reads_images_here(model)


def reads_images_here(model: str) -> bool:
    try:
        info = import_litellm().get_model_info(model)
    except Exception:  # not in litellm's list: it may well (a local vision model)
        return True
    return bool(info.get("supports_vision"))


def known_window_here(model: str) -> int | None:
    try:
        info = import_litellm().get_model_info(model)
    except Exception:  # not in litellm's list: the caller falls back
        return None
    window = info.get("max_input_tokens") or info.get("max_tokens")
    return int(window) if isinstance(window, int) and window > 0 else None


def failed_attempt(
    litellm: ModuleType, exc: Exception, base_url: str | None, model: str = ""
) -> FailedAttempt:
    """How an attempt's exception bears on the retry loop, and its sentence."""
    retryable, status = _classify(litellm, exc)
    if is_quota(status, str(exc)):
        retryable = False  # waiting does not bring credit back
    odd = odd_reply(exc, base_url)
    if odd is not None and odd.retryable is not None:
        retryable = odd.retryable
    exceeded = is_context_exceeded(litellm, exc)
    failed = FailedAttempt(
        retryable=retryable,
        status_code=status,
        context_exceeded=exceeded,
        message=odd.sentence if odd is not None else _describe(exc),
        retry_after=retry_after(exc),
        provider_window=_named(_WINDOW_RE, str(exc)) if exceeded else None,
        provider_tokens=_named(_REQUESTED_RE, str(exc)) if exceeded else None,
        problem=None if exceeded else _problem(exc, status, base_url, model),
    )
    failed._cause = exc
    return failed


def _problem(
    exc: Exception, status: int | None, base_url: str | None, model: str
) -> ProviderProblem | None:
    unreachable = never_connected(exc)
    text = str(exc)
    return provider_problem(
        status, type(exc).__name__, text, model=model, base_url=base_url, unreachable=unreachable
    )


def _cached_tokens(usage: Any) -> int:
    """Prompt tokens read from the provider's cache (OpenAI's field; litellm maps
    Anthropic's cache_read_input_tokens into it as well)."""
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) if details is not None else None
    if not cached:
        cached = getattr(usage, "cache_read_input_tokens", None)
    return int(cached or 0)


# What providers say when a request does not fit (litellm maps most, not all, of these to
# ContextWindowExceededError; a local server's wording reaches us as a plain 400).
_CONTEXT_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "context length",
    "prompt is too long",
    "input is too long",
    "too many tokens",
    "exceeds the model's",
    "reduce the length of the messages",
)
_WINDOW_RE = re.compile(r"maximum context length is (\d[\d,]*) tokens", re.IGNORECASE)
_REQUESTED_RE = re.compile(
    r"(?:resulted in|you requested|prompt is too long:) (\d[\d,]*) tokens", re.IGNORECASE
)


def is_context_exceeded(litellm: ModuleType, exc: BaseException) -> bool:
    if isinstance(exc, litellm.ContextWindowExceededError):
        return True
    status = getattr(exc, "status_code", None)
    if status not in (None, 400, 413, 422):
        return False
    text = str(exc).lower()
    return any(phrase in text for phrase in _CONTEXT_PHRASES)


def _named(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    return int(match.group(1).replace(",", "")) if match else None


def _classify(litellm: ModuleType, exc: Exception) -> tuple[bool, int | None]:
    """(worth retrying, HTTP status if any)."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = None
    connection = (litellm.APIConnectionError, litellm.Timeout)
    if isinstance(exc, connection):
        return True, status
    if status is not None and (status in _RETRY_STATUSES or status >= 500):
        return True, status
    return False, status


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    # litellm prefixes provider errors with long "litellm.XError: XError: " chains.
    text = text.replace("litellm.", "")
    return text if len(text) <= 500 else text[:500] + "…"
