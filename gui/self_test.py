"""``berth --self-test``: is this installation whole? One line per check, then an exit code.

It runs the same code paths as the app (the Qt platform, the main window with its icons,
litellm with its bundled data files, the sandbox's image recipe, the Docker engine), so a
PyInstaller bundle that lost a module or a data file fails here rather than in front of a
user. An unreachable Docker engine is only a warning: the installation is fine, the engine
may simply not be running yet.

Nothing is written where the user keeps conversations: the window gets a throwaway folder.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel

# Object names the DESIGN promises (tests and accessibility tools find widgets by them).
WINDOW_OBJECTS = (
    "action_send",
    "action_pause",
    "action_resume",
    "action_stop",
    "action_new",
    "action_settings",
    "composer",
    "status_label",
    "file_tree",
    "file_viewer",
    "event_view",
)
ENGINE_TIMEOUT_S = 10
PROBE_FLAG = "--probe-display"


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


class CheckResult(BaseModel):
    name: str
    level: Level
    detail: str


class CheckFailed(Exception):
    """A check found the installation broken."""


class CheckWarning(Exception):
    """A check found something the user should fix that does not break the install."""


def _seconds_since_process_start() -> float | None:
    """Seconds since this process was created (Linux), so "launch" includes the bundle's
    bootloader and every import, not only the work done after main() began. The kernel
    counts from the fork: a shell that execs berth as its last command adds its own time."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def check_install() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        berth_version = version("berth-desktop")
    except PackageNotFoundError:
        berth_version = "unknown version"
    where = f"bundle at {Path(sys.executable).parent}" if _is_frozen() else "checkout"
    return f"Berth {berth_version}, {where}, Python {platform.python_version()}"


def check_modules() -> str:
    import agent
    import sandbox
    from agent.tools import BashTool, FileEditorTool  # noqa: F401

    return (
        f"agent, sandbox and the tools import "
        f"({len(agent.__all__)} + {len(sandbox.__all__)} SDK names)"
    )


def check_icons() -> str:
    from PySide6.QtGui import QIcon

    from icons import ICON_NAMES, icon_path

    missing = []
    for name in ICON_NAMES:
        try:
            if QIcon(str(icon_path(name))).pixmap(32, 32).isNull():
                missing.append(f"{name} (does not render)")
        except FileNotFoundError:
            missing.append(name)
    if missing:
        raise CheckFailed("missing icons: " + ", ".join(missing))
    return f"{len(ICON_NAMES)} icons render"


def check_window(started: float | None) -> str:
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    from gui.app import make_application
    from gui.main_window import MainWindow

    app = make_application([])
    with tempfile.TemporaryDirectory(prefix="berth-self-test-") as tmp:
        window = MainWindow(persistence_dir=Path(tmp), preload=False)
        window.show()
        QApplication.processEvents()
        shown_after = _seconds_since_process_start() if started is not None else None
        absent = [name for name in WINDOW_OBJECTS if window.findChild(QObject, name) is None]
        visible = window.isVisible()
        window.close()
        window.deleteLater()
        QApplication.processEvents()
    if absent:
        raise CheckFailed("the main window lacks " + ", ".join(absent))
    if not visible:
        raise CheckFailed("the main window did not show")
    timing = f", shown {shown_after:.2f} s after launch" if shown_after is not None else ""
    return f"MainWindow built on the '{app.platformName()}' platform{timing}"


def check_display(chosen_platform: str | None) -> str:
    """The real platform plugin (xcb, wayland...) in a child process: a plugin that cannot
    load aborts the process, which must not take the self-test down with it."""
    if chosen_platform == "offscreen":
        return "QT_QPA_PLATFORM=offscreen: the window was checked offscreen only"
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display here; the window was checked offscreen only"
    command = [sys.executable] if _is_frozen() else [sys.executable, "-m", "gui.cli"]
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    if chosen_platform:
        env["QT_QPA_PLATFORM"] = chosen_platform
    try:
        proc = subprocess.run(
            [*command, "--self-test", PROBE_FLAG],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed("the display probe hung for 60 s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise CheckFailed(f"Qt cannot open the display (exit {proc.returncode}): {tail}")
    return proc.stdout.strip() or "the display opens"


def _probe_display() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([sys.argv[0]])
    print(f"Qt opens the display through the '{app.platformName()}' platform")
    return 0


def check_litellm() -> str:
    from agent.llm import import_litellm

    began = time.perf_counter()
    litellm = import_litellm()
    took = time.perf_counter() - began
    if len(litellm.model_cost) < 100:
        raise CheckFailed(f"litellm's bundled price list is missing ({len(litellm.model_cost)})")
    # Counting tokens reads tiktoken's encoding files, which must ship with the app
    # (there may be no network to fetch them).
    tokens = litellm.token_counter(model="gpt-4o", text="Berth runs agents in containers.")
    if tokens <= 0:
        raise CheckFailed("litellm counted no tokens")
    return (
        f"litellm {_version('litellm')} imported in {took:.1f} s, "
        f"{len(litellm.model_cost)} models priced, tokenizer works"
    )


def check_llm_round_trip() -> str:
    """One request through Berth's LLM class and litellm's OpenAI provider to a throwaway
    server on 127.0.0.1: providers are imported lazily, so a bundle can import litellm and
    still lack what a real request needs."""
    from agent.llm.rehearsal import rehearse_first_completion

    # The same request the app rehearses in the background at start-up.
    response = rehearse_first_completion()
    calls = [(c.name, json.loads(c.arguments)) for c in response.tool_calls]
    if calls != [("bash", {"command": "true"})]:
        raise CheckFailed(f"the model's tool call came back as {calls!r}")
    return "a request to a local OpenAI-compatible server came back with its tool call"


def check_llm_helper() -> str:
    """The app's LLM helper process starts from this installation (the bundle's own
    executable with --llm-helper) and answers a request from a local server."""
    import threading

    from agent.llm import LLMResponse
    from agent.llm.process import LLMHelper, helper_command
    from agent.llm.rehearsal import (
        BASH_TOOL,
        REHEARSAL_MESSAGES,
        REHEARSAL_MODEL,
        loopback_json_server,
        rehearsal_llm,
        tool_call_reply,
    )

    helper = LLMHelper()
    began = time.perf_counter()
    reply = tool_call_reply(REHEARSAL_MODEL, "call_helper", "true")
    try:
        with loopback_json_server(reply) as url:
            llm = rehearsal_llm(url, timeout=60)
            outcome = helper.attempt(llm, REHEARSAL_MESSAGES, [BASH_TOOL], threading.Event(), 1)
    finally:
        helper.stop()
    if not isinstance(outcome, LLMResponse):
        raise CheckFailed(f"the LLM helper process failed: {outcome.message}")
    if [c.name for c in outcome.tool_calls] != ["bash"]:
        raise CheckFailed(f"the LLM helper's reply came back as {outcome!r}")
    program, *args = helper_command()
    command = " ".join([Path(program).name, *args])
    took = time.perf_counter() - began
    return f"the LLM helper process ({command}) answered in {took:.1f} s"


def check_bedrock_signing() -> str:
    """litellm's Bedrock provider signs its request with botocore (which the bundle keeps
    only part of) before sending it, here to the local server."""
    from agent.llm import import_litellm
    from agent.llm.rehearsal import loopback_json_server

    litellm = import_litellm()
    reply = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ready"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
    }
    with loopback_json_server(reply) as url:
        response = litellm.completion(
            model="bedrock/converse/berth-self-test",
            messages=[{"role": "user", "content": "ready?"}],
            aws_bedrock_runtime_endpoint=url,
            aws_access_key_id="AKIASELFTEST",
            aws_secret_access_key="self-test-secret",
            aws_region_name="us-east-1",
            max_retries=0,
            timeout=20,
        )
    if response.choices[0].message.content != "ready":
        raise CheckFailed(f"Bedrock's answer came back as {response.choices[0].message!r}")
    return "a signed Bedrock request to a local server came back"


def check_image_recipe() -> str:
    from sandbox.images.berth_image import IMAGES_DIR

    dockerfile = IMAGES_DIR / "Dockerfile"
    if not dockerfile.is_file():
        raise CheckFailed(f"the sandbox image recipe is missing ({dockerfile})")
    return "the sandbox image's Dockerfile ships with the app"


def check_engine() -> str:
    from sandbox.engine import engine_version

    host = os.environ.get("DOCKER_HOST", "the default socket")
    try:
        # The client's own deadline: a remote DOCKER_HOST that swallows packets would
        # otherwise hold the self-test for the SDK's default minute.
        version = engine_version(timeout=ENGINE_TIMEOUT_S)
    except Exception as exc:
        # sandbox's message already says how to start an engine.
        raise CheckWarning(f"{host}: {exc}") from exc
    return f"Docker engine {version} answers at {host}"


def check_checkpoint_image() -> str:
    """Without the checkpoint helper image no step can be taken back: a warning (the app
    builds it on first run where a registry answers) with the command that builds it offline."""
    from gui.background import first_line
    from sandbox.checkpoints.space import helper_image_status

    try:
        status = helper_image_status()
    except Exception as exc:
        detail = first_line(str(exc))
        raise CheckWarning(f"not checked, no Docker engine answers: {detail}") from exc
    if not status.present:
        raise CheckWarning(
            f"the checkpoint helper image {status.tag} is missing, so checkpoints are off; "
            f"build it offline with:  {status.build_command}"
        )
    return f"the checkpoint helper image {status.tag} is on the engine"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "(version unknown)"


def _run_check(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name=name, level=Level.OK, detail=check())
    except CheckWarning as exc:
        return CheckResult(name=name, level=Level.WARN, detail=str(exc))
    except CheckFailed as exc:
        return CheckResult(name=name, level=Level.FAIL, detail=str(exc))
    except Exception as exc:
        # An import that broke in a bundle: show where, it names the missing piece.
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(last.filename).name}:{last.lineno}"
        return CheckResult(
            name=name, level=Level.FAIL, detail=f"{type(exc).__name__}: {exc} ({where})"
        )


def run_self_test(argv: list[str] | None = None) -> int:
    """Run every check, print one line each; 0 when nothing FAILed, 1 otherwise."""
    argv = sys.argv[1:] if argv is None else argv
    if PROBE_FLAG in argv:
        return _probe_display()
    started = _seconds_since_process_start()
    chosen_platform = os.environ.get("QT_QPA_PLATFORM") or None
    # The window is checked offscreen unless the caller chose a platform; a real display,
    # if there is one, is checked separately in a child process (check_display).
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    checks: list[tuple[str, Callable[[], str]]] = [
        ("install", check_install),
        ("modules", check_modules),
        ("window", lambda: check_window(started)),
        ("icons", check_icons),
        ("display", lambda: check_display(chosen_platform)),
        ("litellm", check_litellm),
        ("llm", check_llm_round_trip),
        ("helper", check_llm_helper),
        ("bedrock", check_bedrock_signing),
        ("image", check_image_recipe),
        ("docker", check_engine),
        ("checkpoints", check_checkpoint_image),
    ]
    results = []
    for name, check in checks:
        result = _run_check(name, check)
        results.append(result)
        print(f"{result.level.value:<4}  {result.name:<11} {result.detail}", flush=True)
    failed = [r.name for r in results if r.level is Level.FAIL]
    warned = [r.name for r in results if r.level is Level.WARN]
    if failed:
        print(f"self-test FAILED: {', '.join(failed)}", flush=True)
        return 1
    summary = f" ({len(warned)} warning{'s' * (len(warned) != 1)})" if warned else ""
    print(f"self-test passed{summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_self_test())
