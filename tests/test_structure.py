"""The shape of the code, checked: no import cycle inside a package, no module past 600 lines.

pyproject.toml's import-linter contracts check the layers between and inside the packages
(`make lint`); these check what a contract cannot say: that no two modules of a package need
each other, however the package is layered.
"""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600

# Modules still waiting for their split by concern; the set only shrinks.
KNOWN_LONG: set[str] = set()

ACYCLIC_PACKAGES = ["gui", "agent", "sandbox"]


def modules_in_cycles(package: str) -> dict[str, list[str]]:
    """Each module of ``package`` that some module it imports leads back to, with those."""
    graph = grimp.build_graph(package)
    found: dict[str, list[str]] = {}
    for module in sorted(graph.modules):
        back = [
            imported
            for imported in sorted(graph.find_modules_directly_imported_by(module))
            if imported != module and graph.chain_exists(importer=imported, imported=module)
        ]
        if back:
            found[module] = back
    return found


@pytest.mark.parametrize("package", ACYCLIC_PACKAGES)
def test_no_import_cycles(package: str) -> None:
    assert modules_in_cycles(package) == {}


def test_no_module_is_over_600_lines() -> None:
    long = {}
    for package in ("gui", "agent", "sandbox"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES and name not in KNOWN_LONG:
                long[name] = lines
    assert long == {}, f"split these by concern (at most {MAX_LINES} lines a module)"


def test_the_known_exceptions_are_still_long() -> None:
    """An exception that no longer needs to be one is removed from KNOWN_LONG."""
    short = [
        name
        for name in sorted(KNOWN_LONG)
        if (ROOT / name).exists()
        and len((ROOT / name).read_text(encoding="utf-8").splitlines()) <= MAX_LINES
    ]
    assert short == []


def test_agent_starts_its_threads_in_one_place() -> None:
    """agent/background.py names every thread agent/ starts and says if it is a daemon."""
    bare = []
    for path in sorted((ROOT / "agent").rglob("*.py")):
        if path.name == "background.py" and path.parent.name == "agent":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "threading.Thread(" in line or "Thread(target" in line:
                bare.append(f"{path.relative_to(ROOT).as_posix()}:{number}")
    assert bare == [], "start them with agent.background.start(name, work, daemon=...)"


def test_the_window_never_reads_a_conversations_state() -> None:
    """The window learns a conversation's state from notices: reading ``conversation.state``
    would take the engine's lock on the GUI thread."""
    readers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "gui").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        # The module agent.conversation.state (its models) may be imported; the attribute not.
        if re.search(r"conversation\.state\b", line) and not line.lstrip().startswith("from ")
    ]
    assert readers == []
