"""Test connection's work (a worker thread): ping the Docker engine, then ask the model."""

from __future__ import annotations

import time
from dataclasses import dataclass

from agent.llm.stream import StreamDelta
from gui.background import first_line
from gui.settings.app_settings import AppSettings

PING_NAME = "ping"
PING_TOOL = {
    "type": "function",
    "function": {
        "name": PING_NAME,
        "description": "Say that the connection works.",
        "parameters": {"type": "object", "properties": {}, "required": []},
    },
}
PING_PROMPT = f"Call the {PING_NAME} tool, once, with no arguments."


@dataclass(frozen=True)
class ProbeResult:
    engine_ok: bool
    engine: str
    model_ok: bool
    model: str


class ConnectionProbe:
    """Ping the Docker engine, then ask the model to call a trivial tool (a worker thread)."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings

    def run(self) -> ProbeResult:
        engine_ok, engine_text = self._ping_engine()
        model_ok, model_text = self._ping_model()
        return ProbeResult(engine_ok, engine_text, model_ok, model_text)

    @staticmethod
    def _ping_engine() -> tuple[bool, str]:
        try:
            from sandbox.engine import engine_version

            # A short timeout: a host that swallows packets must not hold the test for a minute.
            version = engine_version(timeout=10)
        except Exception as exc:
            first = first_line(str(exc))
            return False, f"Docker engine unreachable: {first or type(exc).__name__}"
        return True, f"Docker engine reachable (version {version})"

    def _ping_model(self) -> tuple[bool, str]:
        """One short streamed request offering a trivial tool: the reply says whether the
        model answers, streams (pieces arrived before the end) and calls tools."""
        if not self.settings.is_configured:
            return False, "Model: not set"
        pieces: list[StreamDelta] = []

        def heard(delta: StreamDelta) -> None:
            if not delta.empty:
                pieces.append(delta)

        try:
            llm = self.settings.make_llm().model_copy(
                update={"num_retries": 0, "timeout": 30.0, "max_output_tokens": 64, "stream": True}
            )
            started = time.monotonic()
            reply = llm.completion(
                [{"role": "user", "content": PING_PROMPT}],
                [PING_TOOL],
                on_delta=heard,
            )
            took = time.monotonic() - started
        except Exception as exc:
            text = first_line(str(exc), 300)
            return False, f"Model {self.settings.llm_model}: {text or type(exc).__name__}"
        streams = "streams" if pieces else "does not stream (the reply came whole)"
        called = [call.name for call in reply.tool_calls]
        if PING_NAME in called:
            tools = "calls tools"
        elif called:
            tools = f"called an unknown tool ({', '.join(called)})"
        else:
            # Berth's agent works only through tool calls.
            tools = "did not call the tool it was asked to call: it may not support tools"
        return True, f"Model {self.settings.llm_model} replied in {took:.1f} s; {streams}; {tools}"
