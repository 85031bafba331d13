"""Test connection's work (a worker thread): ping the Docker engine, then ask the model."""

from __future__ import annotations

import time
from dataclasses import dataclass

from gui.background import first_line
from gui.settings.app_settings import AppSettings


@dataclass(frozen=True)
class ProbeResult:
    engine_ok: bool
    engine: str
    model_ok: bool
    model: str


class ConnectionProbe:
    """Ping the Docker engine, then ask the model for a one-word reply (a worker thread)."""

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
        if not self.settings.is_configured:
            return False, "Model: not set"
        try:
            llm = self.settings.make_llm().model_copy(
                update={"num_retries": 0, "timeout": 30.0, "max_output_tokens": 8, "stream": False}
            )
            started = time.monotonic()
            llm.completion([{"role": "user", "content": "Reply with the single word OK."}])
            took = time.monotonic() - started
        except Exception as exc:
            text = first_line(str(exc), 300)
            return False, f"Model {self.settings.llm_model}: {text or type(exc).__name__}"
        return True, f"Model {self.settings.llm_model} replied in {took:.1f} s"
