"""What an LLM call gives back, and how it fails: plain data, shared by the model (model.py)
and its helper process (process.py) without either importing the other's machinery."""

from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr

from agent.events import LLMUsage
from agent.llm.errors import ProviderProblem


class LLMCancelled(Exception):
    """The caller abandoned the request (pause or interrupt); nothing of it may be used."""


class LLMError(Exception):
    """A call failed for good (after the retries, or on an error retrying cannot fix).

    ``context_exceeded``: the provider said the request is longer than the model's context
    window; ``provider_window`` is the window it named and ``provider_tokens`` what it
    counted in the request, when it said so."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        context_exceeded: bool = False,
        provider_window: int | None = None,
        provider_tokens: int | None = None,
        problem: ProviderProblem | None = None,
    ):
        super().__init__(message)
        self.problem = problem  # the failure in plain words, when it is a known kind
        self.retryable = retryable
        self.status_code = status_code
        self.context_exceeded = context_exceeded
        self.provider_window = provider_window
        self.provider_tokens = provider_tokens


class LLMToolCall(BaseModel):
    id: str
    name: str
    arguments: str  # raw JSON text, as the model produced it


class LLMResponse(BaseModel):
    """What one call produced."""

    id: str
    content: str | None = None
    # The model's reasoning (OpenAI-style ``reasoning_content``, Claude's thinking).
    reasoning_content: str | None = None
    tool_calls: list[LLMToolCall] = Field(default_factory=list)
    usage: LLMUsage = Field(default_factory=LLMUsage)
    attempts: int = 1


class FailedAttempt(BaseModel):
    """What one attempt that failed tells the retry loop (judged where litellm is, so it
    crosses from the helper process as it is)."""

    retryable: bool
    status_code: int | None = None
    context_exceeded: bool = False
    message: str  # one sentence for the user (the key not yet redacted)
    retry_after: float | None = None  # seconds the server asked to wait
    provider_window: int | None = None
    provider_tokens: int | None = None
    problem: ProviderProblem | None = None  # in plain words (agent/llm/errors.py)
    # The exception itself, in the process that raised it (for the traceback's chain).
    _cause: BaseException | None = PrivateAttr(default=None)

    @property
    def cause(self) -> BaseException | None:
        return self._cause
