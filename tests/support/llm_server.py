"""A scripted OpenAI-compatible chat completions server for tests.

It listens on 127.0.0.1 (a free port), answers ``POST /v1/chat/completions`` with and
without ``stream`` (SSE chunks, tool calls as deltas), and records every request. What it
replies is chosen by a Python function of the request, so a test reads like a dialogue:

    def script(req: RecordedRequest) -> Reply:
        if req.last_user_text().startswith("Create"):
            return Reply.call("bash", command="echo hi > /workspace/a.txt")
        return Reply.say("Done.")

    with ScriptedLLMServer(script) as server:
        llm = LLM(model=server.model, base_url=server.base_url, api_key=SecretStr("k"))

Requests can be delayed (``server.delay`` or ``Reply(delay=...)``) to catch an agent while
it waits, and HTTP errors injected for the next N requests (``server.fail_next(2, 429)``).

Streamed like a real model (llm_stream.py): ``Reply.say(text, reasoning="...",
stream_pace=0.05)`` sends the reasoning, then the text, a piece every 50 ms
(``server.stream_pace`` sets the pace for every reply); tool calls' arguments come in pieces.

``server.window_chars`` makes it a model with a context window: a request whose messages
hold more characters than that is refused with the 400 body OpenAI sends (code
``context_length_exceeded``), the server counting four characters to a token.
The real HTTP round trip goes through litellm and the OpenAI client, nothing is mocked.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from tests.support.llm_stream import chunks, write_stream

MODEL_NAME = "berth-scripted"
# The window's unit: the server counts this many characters to a token.
CHARS_PER_TOKEN = 4


def context_length_exceeded(chars: int, window_chars: int) -> dict[str, Any]:
    """The body OpenAI answers (HTTP 400) to a request longer than the model's window."""
    return {
        "error": {
            "message": (
                f"This model's maximum context length is {window_chars // CHARS_PER_TOKEN} "
                f"tokens. However, your messages resulted in {chars // CHARS_PER_TOKEN} "
                "tokens. Please reduce the length of the messages."
            ),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }


@dataclass
class ToolCall:
    name: str
    # A dict is sent as JSON; a str is sent as is (to test malformed arguments).
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str = field(default_factory=lambda: "call_" + uuid.uuid4().hex[:12])

    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass
class Reply:
    """One assistant reply: text, tool calls, or both."""

    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    # Seconds to wait before answering (on top of the server's delay).
    delay: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    # Of prompt_tokens, those the "provider" read from its prompt cache (OpenAI's field).
    cached_tokens: int = 0
    # The model's reasoning (``reasoning_content`` deltas, streamed before the text).
    reasoning: str | None = None
    # Seconds between two streamed pieces (None: the server's ``stream_pace``).
    stream_pace: float | None = None

    def usage(self) -> dict[str, Any]:
        return _usage(self)

    @classmethod
    def say(cls, text: str, **kw: Any) -> Reply:
        return cls(content=text, **kw)

    @classmethod
    def call(cls, tool: str, _thought: str | None = None, **arguments: Any) -> Reply:
        return cls(content=_thought, tool_calls=[ToolCall(tool, arguments)])

    @classmethod
    def raw_call(cls, tool: str, raw_arguments: str) -> Reply:
        return cls(tool_calls=[ToolCall(tool, raw_arguments)])

    @classmethod
    def calls(cls, *calls: ToolCall, thought: str | None = None, **kw: Any) -> Reply:
        return cls(content=thought, tool_calls=list(calls), **kw)


@dataclass
class RecordedRequest:
    """A request as the server saw it."""

    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float
    # Set when the reply was sent (None if an error was injected or the client went away).
    answered: bool = False
    # Set when the request was refused as longer than the server's window.
    refused: bool = False

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def tool_names(self) -> list[str]:
        return [t["function"]["name"] for t in self.body.get("tools", [])]

    def texts(self, role: str) -> list[str]:
        return [_text_of(m) for m in self.messages if m.get("role") == role]

    def user_texts(self) -> list[str]:
        return self.texts("user")

    def last_user_text(self) -> str:
        users = self.user_texts()
        return users[-1] if users else ""

    def tool_results(self) -> list[str]:
        return self.texts("tool")

    def last_tool_result(self) -> str | None:
        last = self.messages[-1] if self.messages else None
        if last and last.get("role") == "tool":
            return _text_of(last)
        return None

    def count_tool_calls(self) -> int:
        return sum(len(m.get("tool_calls") or []) for m in self.messages)

    def image_urls(self) -> list[tuple[str, str]]:
        """``(role, url)`` of every image part of the messages, in order."""
        found = []
        for message in self.messages:
            content = message.get("content")
            for part in content if isinstance(content, list) else ():
                if isinstance(part, dict) and part.get("type") == "image_url":
                    url = part["image_url"]
                    found.append((message["role"], url if isinstance(url, str) else url["url"]))
        return found

    def all_text(self) -> str:
        return "\n".join(_text_of(m) for m in self.messages)

    def chars(self) -> int:
        """What the window counts: the text of every message and of its tool calls."""
        total = 0
        for message in self.messages:
            total += len(_text_of(message))
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                total += len(function.get("name") or "") + len(function.get("arguments") or "")
        return total

    def system_text(self) -> str:
        systems = self.texts("system")
        return systems[0] if systems else ""


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    # content parts: [{"type": "text", "text": ...}, ...]
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


Script = Callable[[RecordedRequest], Reply]


def replies_in_order(replies: Iterable[Reply], then: Reply | None = None) -> Script:
    """A script that answers each request with the next reply, then ``then`` forever."""
    queue = list(replies)
    lock = threading.Lock()
    final = then or Reply.say("Nothing left to do.")

    def script(_request: RecordedRequest) -> Reply:
        with lock:
            return queue.pop(0) if queue else final

    return script


class RawAnswer(NamedTuple):
    status: int
    body: bytes
    headers: dict[str, str]


class _QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up (a pause closes the stream mid-reply) is what real servers
    see too: not a traceback in the test output."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ScriptedLLMServer:
    """An OpenAI-compatible server answering from a script; start()/stop() or ``with``."""

    def __init__(self, script: Script | None = None, *, delay: float = 0.0) -> None:
        self.script: Script = script or (lambda _r: Reply.say("Done."))
        self.delay = delay
        # Seconds between two streamed pieces, for replies that do not set their own.
        self.stream_pace = 0.0
        # Requests with more characters than this are refused (None: no window).
        self.window_chars: int | None = None
        self.model_name = MODEL_NAME
        # GET /v1/models lists these (None: the one model it answers as).
        self.models: list[str] | None = None
        # When set, a request whose bearer key differs gets OpenAI's 401 (a wrong key); and
        # one naming a model not in ``models`` its 404 (an unknown model).
        self.required_key: str | None = None
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._failures: list[RawAnswer] = []
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._request_arrived = threading.Condition(self._lock)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> ScriptedLLMServer:
        handler = _make_handler(self)
        self._httpd = _QuietHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="scripted-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests configure and read -----------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model name as litellm wants it."""
        return f"openai/{self.model_name}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self, script: Script | None = None) -> None:
        """Forget recorded requests and pending failures; optionally swap the script."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            if script is not None:
                self.script = script
            self.delay = 0.0
            self.stream_pace = 0.0
            self.window_chars = None
            self.models = None
            self.required_key = None

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` (429, 500, ...)."""
        body = {"error": {"message": f"injected {status}", "type": "server_error"}}
        self.answer_next(count, status, json.dumps(body).encode())

    def answer_next(
        self,
        count: int,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer the next ``count`` requests with exactly this status, body and headers
        (a Retry-After, an HTML error page, a reply without choices...)."""
        answer = RawAnswer(status, body, {"Content-Type": content_type, **(headers or {})})
        with self._lock:
            self._failures.extend([answer] * count)

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> RecordedRequest:
        """Block until at least ``count`` requests arrived; return the ``count``-th."""
        deadline = time.monotonic() + timeout
        with self._request_arrived:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} requests, got {len(self._requests)} in {timeout}s"
                    )
                self._request_arrived.wait(remaining)
            return self._requests[count - 1]

    # --- used by the handler ---------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> RawAnswer | None:
        with self._request_arrived:
            self._requests.append(request)
            self._request_arrived.notify_all()
            return self._failures.pop(0) if self._failures else None

    def _next_id(self) -> str:
        return f"chatcmpl-{next(self._ids)}"


def unanswered_tool_calls(messages: list[dict[str, Any]]) -> list[str]:
    """Tool calls not followed by their tool results (OpenAI refuses such a request), and
    results answering no call just before them."""
    problems: list[str] = []
    waiting: list[str] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id in waiting:
                waiting.remove(call_id)
            else:
                problems.append(f"tool result {call_id} answers no call")
            continue
        problems.extend(f"tool call {call_id} has no result" for call_id in waiting)
        waiting = [c.get("id") for c in message.get("tool_calls") or []]
    problems.extend(f"tool call {call_id} has no result" for call_id in waiting)
    return problems


def _make_handler(server: ScriptedLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                names = server.models or [server.model_name]
                listed = [
                    {"id": name, "object": "model", "owned_by": "berth-tests"} for name in names
                ]
                self._json(200, {"object": "list", "data": listed})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            chat = self.path.rstrip("/").endswith("/chat/completions")
            # Anthropic's route is recorded (tests read what litellm sent) but not answered.
            anthropic = self.path.rstrip("/").endswith("/v1/messages")
            if not (chat or anthropic):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._json(400, {"error": {"message": "body is not JSON"}})
                return
            if anthropic:
                server._record(RecordedRequest(body=body, headers={}, received_at=time.monotonic()))
                self._json(404, {"error": {"message": "Anthropic's API is not scripted"}})
                return
            request = RecordedRequest(
                body=body,
                headers={k.lower(): v for k, v in self.headers.items()},
                received_at=time.monotonic(),
            )
            failure = server._record(request)
            refusal = _refusal(server, request)
            if failure is None and refusal is not None:
                request.refused = True
                self._json(*refusal)
                return
            window = server.window_chars
            if failure is None and window is not None and request.chars() > window:
                request.refused = True
                self._json(400, context_length_exceeded(request.chars(), window))
                return
            problems = unanswered_tool_calls(request.messages)
            if failure is None and problems:
                request.refused = True
                message = "Invalid 'messages': " + "; ".join(problems)
                error = {"message": message, "type": "invalid_request_error", "code": None}
                self._json(400, {"error": error})
                return
            if failure is not None:
                self.send_response(failure.status)
                for name, value in failure.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(failure.body)))
                self.end_headers()
                self.wfile.write(failure.body)
                self.wfile.flush()
                return
            try:
                reply = server.script(request)
            except Exception as exc:  # a broken script must show in the test, not hang it
                self._json(500, {"error": {"message": f"script raised {exc!r}"}})
                return
            wait = server.delay + reply.delay
            if wait > 0:
                time.sleep(wait)
            try:
                if request.stream:
                    self._stream(reply, body)
                else:
                    self._json(200, _completion(server._next_id(), reply, _model_of(body)))
                request.answered = True
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client abandoned the request: that is what some tests do

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            pieces = chunks(server._next_id(), reply, _model_of(body), usage)
            pace = server.stream_pace if reply.stream_pace is None else reply.stream_pace

            def write(data: bytes) -> None:
                self.wfile.write(data)
                self.wfile.flush()

            write_stream(write, pieces, pace)

    return Handler


def _refusal(
    server: ScriptedLLMServer, request: RecordedRequest
) -> tuple[int, dict[str, Any]] | None:
    """OpenAI's answers to a wrong key and to an unknown model, word for word."""
    key = request.headers.get("authorization", "").removeprefix("Bearer ")
    if server.required_key is not None and key != server.required_key:
        message = (
            f"Incorrect API key provided: {key[:3]}***{key[-4:]}. You can find your API key "
            "at https://platform.openai.com/account/api-keys."
        )
        error = {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}
        return 401, {"error": error}
    model = str(request.body.get("model", ""))
    if server.models is not None and model not in server.models:
        message = f"The model `{model}` does not exist or you do not have access to it."
        error = {"message": message, "type": "invalid_request_error", "code": "model_not_found"}
        return 404, {"error": error}
    return None


QUOTA_BODY = json.dumps(
    {
        "error": {
            "message": "You exceeded your current quota, please check your plan and billing "
            "details.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
).encode()


def _usage(reply: Reply) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
    return usage


def _completion(completion_id: str, reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            }
            for call in reply.tool_calls
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage(reply),
    }


def _model_of(body: dict[str, Any]) -> str:
    """Answer as the model that was asked for (so litellm can price known models)."""
    return str(body.get("model") or MODEL_NAME)
