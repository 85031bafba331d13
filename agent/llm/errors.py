"""A provider's failure in plain words: what went wrong, and what the user can do about it.

litellm's texts are made for developers ("AuthenticationError: AuthenticationError:
OpenAIException - Incorrect API key provided ... platform.openai.com", even for a local
server). ``provider_problem`` turns a failed attempt's status, exception class and text
into a ``ProviderProblem`` a front end shows as it is: a sentence, a hint, and whether
Settings is where the fix lies. It is decided here, where litellm's answer is read (the
helper process too), so every front end says the same.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ProblemKind(StrEnum):
    AUTH = "auth"  # the key was refused (401/403)
    MODEL_NOT_FOUND = "model_not_found"  # the server does not know the model (404)
    UNREACHABLE = "unreachable"  # nothing answered at the base URL
    QUOTA = "quota"  # the account has no credit left (429 insufficient_quota)


class ProviderProblem(BaseModel):
    """``message``: the sentence shown; ``hint``: what to do next; ``in_settings``: the fix
    is in Settings (the key, the base URL, the model), so a front end offers to open it."""

    model_config = ConfigDict(frozen=True)

    kind: ProblemKind
    message: str
    hint: str
    in_settings: bool = True


_QUOTA_WORDS = ("insufficient_quota", "exceeded your current quota", "billing", "credit")
_UNREACHABLE_WORDS = (
    "connection refused",
    "connect call failed",
    "connecterror",
    "name or service not known",
    "nodename nor servname",
    "failed to establish a new connection",
    "all connection attempts failed",
    "cannot connect",
)
_NOT_FOUND_WORDS = ("model_not_found", "does not exist", "no such model", "unknown model")


def provider_problem(
    status: int | None,
    error_type: str,
    text: str,
    *,
    model: str,
    base_url: str | None,
    unreachable: bool = False,
) -> ProviderProblem | None:
    """The plain reading of a failed attempt, or None when it is none of the known kinds
    (the caller keeps litellm's text then). ``unreachable``: no connection was made (the
    exception's chain says so; litellm itself may call it an InternalServerError)."""
    lowered = text.lower()
    where = f" at {base_url}" if base_url else ""
    if status in (401, 403) or error_type in ("AuthenticationError", "PermissionDeniedError"):
        code = status or 401
        return ProviderProblem(
            kind=ProblemKind.AUTH,
            message=f"The model's server refused the API key ({code}). Check the key in Settings.",
            hint="Fix the key in Settings, then Resume.",
        )
    if status == 429 and any(word in lowered for word in _QUOTA_WORDS):
        return ProviderProblem(
            kind=ProblemKind.QUOTA,
            message=(
                "The model's provider says the account's quota is used up (429). Add credit "
                "with the provider, or choose another key or model in Settings."
            ),
            hint="Add credit or change the key in Settings, then Resume.",
        )
    if (
        status == 404
        or error_type == "NotFoundError"
        or (status in (400, None) and any(word in lowered for word in _NOT_FOUND_WORDS))
    ):
        name = model.split("/", 1)[1] if model.startswith("openai/") else model
        return ProviderProblem(
            kind=ProblemKind.MODEL_NOT_FOUND,
            message=(
                f"The model's server{where} does not know the model “{name}” (404). "
                "Choose a model it offers in Settings."
            ),
            hint="Pick the model in Settings, then Resume.",
        )
    if unreachable or (
        error_type in ("APIConnectionError", "ServiceUnavailableError")
        and any(word in lowered for word in _UNREACHABLE_WORDS)
    ):
        return ProviderProblem(
            kind=ProblemKind.UNREACHABLE,
            message=(
                f"Nothing answered{where or ' at the model server'} (connection refused). "
                "Is the server running? Check the base URL in Settings."
            ),
            hint="Start the server or fix the base URL in Settings, then Resume.",
        )
    return None


_NO_CONNECTION = ("ConnectError", "ConnectionRefusedError", "ConnectTimeout", "gaierror")


def never_connected(exc: BaseException) -> bool:
    """No connection to the server was made: the chain holds httpx's ConnectError or the
    OS's refusal (litellm wraps them as "Connection error.")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _NO_CONNECTION:
            return True
        current = current.__cause__ or current.__context__
    return False


def is_quota(status: int | None, text: str) -> bool:
    """A 429 that waiting does not cure: retrying it only wastes the user's time."""
    return status == 429 and any(word in text.lower() for word in _QUOTA_WORDS)
