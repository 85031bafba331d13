"""The model: ``LLM`` (any litellm model), the helper process its calls go through in the
app (process.py, helper.py), what a call gives back (types.py), redaction, prompt caching
and the rehearsal of a first call.

litellm is imported in agent/llm/ and nowhere else in agent/ (a contract in pyproject.toml),
and only when a call needs it. The names below are imported when first asked for (PEP 562),
so the helper process starts reading requests before the model's module is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.lazy import lazy_exports

if TYPE_CHECKING:
    from agent.llm.model import LLM, import_litellm
    from agent.llm.process import use_helper_process
    from agent.llm.types import FailedAttempt, LLMCancelled, LLMError, LLMResponse, LLMToolCall

_HOMES = {
    "FailedAttempt": "agent.llm.types",
    "LLM": "agent.llm.model",
    "LLMCancelled": "agent.llm.types",
    "LLMError": "agent.llm.types",
    "LLMResponse": "agent.llm.types",
    "LLMToolCall": "agent.llm.types",
    "import_litellm": "agent.llm.model",
    "use_helper_process": "agent.llm.process",
}

__all__ = [
    "LLM",
    "FailedAttempt",
    "LLMCancelled",
    "LLMError",
    "LLMResponse",
    "LLMToolCall",
    "import_litellm",
    "use_helper_process",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
