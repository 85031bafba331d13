"""A first completion rehearsed against a loopback server, so the user's first one is quick.

litellm imports much of itself lazily: its first real completion still loads some hundred
modules (its proxy types, logging callbacks, httpcore, h11, h2, hpack) and builds the
response's pydantic models, ~250-450 ms of CPU landing on the thread of the first run, as
it starts. ``rehearse_first_completion`` sends one request through ``LLM`` and litellm's
OpenAI provider to a throwaway HTTP server on 127.0.0.1 (the whole path, whatever litellm's
version imports on it). The model's tokenizer is not loaded: building it holds the GIL
for 100-200 ms, and a request is counted exactly only near its window's threshold
(agent/context/window.py), so most conversations never need it. Nothing leaves the
machine. The app's self-test uses the same server.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import SecretStr

from agent import background
from agent.llm.model import LLM, import_litellm
from agent.llm.types import LLMResponse

REHEARSAL_MODEL = "berth-rehearsal"
BASH_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "bash",
        "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
    },
}


@contextlib.contextmanager
def loopback_json_server(reply: Mapping[str, object]) -> Iterator[str]:
    """A throwaway HTTP server on 127.0.0.1 answering every POST with ``reply``; yields its
    URL."""
    body = json.dumps(reply).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    background.start("loopback-http", server.serve_forever, daemon=True)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def tool_call_reply(model: str, call_id: str, command: str) -> dict[str, Any]:
    """An OpenAI chat completion whose one choice calls ``bash`` with ``command``."""
    return {
        "id": f"chatcmpl-{call_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {
                                "name": "bash",
                                "arguments": json.dumps({"command": command}),
                            },
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


REHEARSAL_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "run true"}]


def rehearsal_llm(url: str, timeout: float = 20) -> LLM:
    """An LLM for the loopback server at ``url`` (no retries, no real key)."""
    return LLM(
        model=f"openai/{REHEARSAL_MODEL}",
        base_url=f"{url}/v1",
        api_key=SecretStr("berth-rehearsal-not-a-key"),
        num_retries=0,
        timeout=timeout,
    )


def load_tokenizers() -> None:
    """Load OpenAI's tokenizers (o200k and cl100k). litellm prices a streamed reply of a
    model it knows by counting its tokens as the stream opens, so the first such reply of a
    process waited 0.5-1 s for this before its first piece showed. Only for the LLM helper
    process: in the window's process it would hold the GIL."""
    litellm = import_litellm()
    for model in ("gpt-4o", "gpt-3.5-turbo"):
        litellm.token_counter(model=model, text="warm")


def rehearse_first_completion() -> LLMResponse:
    """One completion through the loopback server. Raises what ``LLM.completion`` raises."""
    reply = tool_call_reply(REHEARSAL_MODEL, "call_rehearsal", "true")
    with loopback_json_server(reply) as url:
        return rehearsal_llm(url).completion(REHEARSAL_MESSAGES, tools=[BASH_TOOL])
