"""gui/'s structure: no import cycles among its modules, none over 600 lines, docker only
through sandbox, and the window never reads a conversation's state (the engine's lock)."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

GUI = Path(__file__).resolve().parents[2] / "gui"


def test_gui_modules_import_each_other_without_cycles() -> None:
    graph = grimp.build_graph("gui")
    cycles = sorted(
        {
            tuple(sorted((module, imported)))
            for module in graph.modules
            for imported in graph.find_modules_directly_imported_by(module)
            if graph.find_shortest_chain(importer=imported, imported=module)
        }
    )
    assert cycles == []


def test_no_gui_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(GUI)): n
        for path in GUI.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_the_window_never_reads_a_conversations_state() -> None:
    readers = [
        str(path.relative_to(GUI))
        for path in GUI.rglob("*.py")
        if re.search(r"conversation\.state\b", path.read_text(encoding="utf-8"))
    ]
    assert readers == []
