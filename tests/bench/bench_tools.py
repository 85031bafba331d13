"""What the tools add on top of the sandbox calls they make.

Each tool call is timed next to its baseline, the bare workspace call it wraps, measured in
the same run on the same container: file_editor view vs read_bytes, str_replace vs
read_bytes + write_bytes, a folder view vs list_dir, bash vs execute. The ratio is the
tools' cost (argument checks, stat calls, diffs); the absolute figures depend on the engine.

    make bench   (or: .venv/bin/python -m pytest -s -o python_files='bench_*.py' tests/bench)
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

from agent.tools import BashTool, FileEditorTool

TRIES = 20


def _median_ms(action: Callable[[], object]) -> float:
    action()  # warm-up: connection pool, page cache
    samples = []
    for _ in range(TRIES):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def test_tool_overhead(sandbox_image) -> None:
    from sandbox import DockerWorkspace

    ws = DockerWorkspace(sandbox_image, conversation_id="bench-tools-" + uuid.uuid4().hex[:8])
    ws.start()
    try:
        editor, bash = FileEditorTool(), BashTool()
        path = "/workspace/bench/source.py"
        body = "".join(f"value_{i} = {i}  # some text on the line\n" for i in range(2000))
        ws.write_bytes(path, body.encode())
        for i in range(30):
            ws.write_bytes(f"/workspace/bench/pkg{i % 5}/mod{i}.py", b"x = 1\n")
        flip = [False]

        def replace() -> None:
            old, new = ("value_1000 = 1000", "value_1000 = -1") if not flip[0] else (
                "value_1000 = -1", "value_1000 = 1000")  # fmt: skip
            flip[0] = not flip[0]
            result = editor.run(
                {"command": "str_replace", "path": path, "old_str": old, "new_str": new}, ws
            )
            assert not result.is_error, result.content

        def raw_replace() -> None:
            data = ws.read_bytes(path)
            ws.write_bytes(path, data, mode=0o644)

        rows = [
            ("view 200 lines", lambda: editor.run(
                {"command": "view", "path": path, "view_range": [900, 1100]}, ws),
             "read_bytes", lambda: ws.read_bytes(path)),
            ("str_replace", replace, "read_bytes + write_bytes", raw_replace),
            ("view folder (2 levels)", lambda: editor.run(
                {"command": "view", "path": "/workspace/bench"}, ws),
             "list_dir (1 level)", lambda: ws.list_dir("/workspace/bench")),
            ("bash true", lambda: bash.run({"command": "true"}, ws),
             "execute('true')", lambda: ws.execute("true")),
        ]  # fmt: skip
        measured = [
            (name, _median_ms(action), base_name, _median_ms(base))
            for name, action, base_name, base in rows
        ]
        ws.freeze()
        try:
            frozen_view = _median_ms(
                lambda: editor.run({"command": "view", "path": path, "view_range": [1, 50]}, ws)
            )
        finally:
            ws.thaw()
    finally:
        ws.remove()

    print(f"\nTool overhead (median of {TRIES}, ms)")
    print(f"{'tool call':<24}{'ms':>9}   {'baseline':<26}{'ms':>9}{'ratio':>8}")
    for name, ms, base_name, base_ms in measured:
        print(f"{name:<24}{ms:9.1f}   {base_name:<26}{base_ms:9.1f}{ms / base_ms:8.2f}")
    view_ms = measured[0][1]
    print(f"{'view 50 lines, frozen':<24}{frozen_view:9.1f}   {'view 200 lines, running':<26}"
          f"{view_ms:9.1f}{frozen_view / view_ms:8.2f}")  # fmt: skip
