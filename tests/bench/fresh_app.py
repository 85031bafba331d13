"""Running a module of tests/bench in a fresh interpreter, as a user's launch: cold imports,
a home of its own (no saved settings, no last conversation), offscreen Qt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(module: str, *args: str, home: Path, env: dict[str, str], timeout: float) -> str:
    """``python -m MODULE ARGS`` with ``env`` on top of this process's; its stdout."""
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_STATE_HOME": str(home / "state"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise AssertionError(f"{module} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout
