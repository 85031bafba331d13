"""The agent package's names: each one DESIGN.md's programs import is there, and importing
the package, or one small module of it, does not import the engine (the window's launch
imports agent.status and agent.events, not the conversation, the LLM or Docker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import agent

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", agent.__all__)
def test_every_exported_name_imports(name: str) -> None:
    assert getattr(agent, name) is not None
    assert name in dir(agent)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        agent.Nope  # noqa: B018


def test_a_small_module_does_not_import_the_engine() -> None:
    code = (
        "import json, sys\n"
        "from agent.status import AgentStatus\n"
        "import agent\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('agent'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["agent", "agent.status"]
