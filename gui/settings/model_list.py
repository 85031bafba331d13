"""The models the Settings' Model field offers: the endpoint's own list, else litellm's.

The endpoint's list is ``GET {base_url}/models`` with the key (OpenAI's shape, which most
local servers and gateways follow). Without an endpoint, or when it has no such list, the
names come from the price list litellm ships, read as a plain JSON file: the window's
process never imports litellm (it takes seconds and belongs to the helper process).
Both run on a worker thread (gui.background): a slow server never holds the dialog.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

PRICE_LIST = "model_prices_and_context_window_backup.json"
TIMEOUT_S = 10.0
# A model name without a provider prefix goes to litellm's OpenAI provider.
DEFAULT_PROVIDER = "openai"


class ModelList(BaseModel):
    model_config = ConfigDict(frozen=True)

    names: list[str]
    source: str  # where they came from, said under the field


def provider_of(model: str) -> str:
    prefix, slash, _rest = model.strip().partition("/")
    return prefix if slash and prefix else DEFAULT_PROVIDER


def endpoint_models(base_url: str, api_key: str | None, provider: str) -> list[str]:
    """The ids ``GET {base_url}/models`` lists, named as litellm wants them
    (``provider/id``). Raises OSError or ValueError when there is no such list."""
    request = urllib.request.Request(base_url.rstrip("/") + "/models")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        payload = json.loads(response.read())
    entries = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the endpoint's /models answer has no 'data' list")
    ids = [str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")]
    return sorted({_named(provider, model_id) for model_id in ids})


def _named(provider: str, model_id: str) -> str:
    return model_id if model_id.startswith(f"{provider}/") else f"{provider}/{model_id}"


@cache
def _price_list() -> dict[str, dict[str, object]]:
    spec = importlib.util.find_spec("litellm")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / PRICE_LIST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def litellm_models(provider: str) -> list[str]:
    """The chat models litellm's bundled price list has for ``provider``."""
    names = {
        _named(provider, name)
        for name, info in _price_list().items()
        if info.get("litellm_provider") == provider and info.get("mode") == "chat"
    }
    return sorted(names)


def offered_models(base_url: str | None, api_key: str | None, model: str) -> ModelList:
    """What the Model field offers for these settings (a worker thread)."""
    provider = provider_of(model)
    if base_url:
        try:
            names = endpoint_models(base_url, api_key, provider)
        except (OSError, ValueError, urllib.error.URLError):
            names = []
        if names:
            return ModelList(names=names, source=f"{len(names)} models from {base_url}")
    names = litellm_models(provider)
    return ModelList(names=names, source=f"{len(names)} {provider} models litellm knows")
