"""Regenerate the README's screenshot: ``make screenshot`` (offscreen, real Docker engine).

The window mid-conversation: a finished first task, a second one paused mid-command, a file
open in the viewer, a correction queued. The LLM is the tests' scripted server, so the
picture is the same every time.
"""

# ruff: noqa: E402, E501
import inspect
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import tempfile

from pydantic import SecretStr
from PySide6.QtTest import QTest

from tests.support.llm_server import Reply, ScriptedLLMServer, replies_in_order

COUNT_SH = """#!/bin/bash
# Count lines, words and characters of each file given.
set -euo pipefail
for f in "$@"; do
  words=$(wc -w < "$f")
  lines=$(wc -l < "$f")
  printf '%-24s %6d words %5d lines\\n' "$(basename "$f")" "$words" "$lines"
done
"""
replies = [
    Reply.call(
        "bash",
        "I'll set up a folder with a sample file first.",
        command="mkdir -p /workspace/wc && cd /workspace/wc && printf 'the quick brown fox\\njumps over the lazy dog\\n' > sample.txt && ls -la",
    ),
    Reply.call(
        "file_editor",
        command="create",
        path="/workspace/wc/count.sh",
        file_text=COUNT_SH.replace('  lines=$(wc -l < "$f")\n', "")
        .replace(" %5d lines", "")
        .replace(' "$lines"', ""),
    ),
    Reply.call(
        "file_editor",
        "The user may want line counts too; adding them.",
        command="str_replace",
        path="/workspace/wc/count.sh",
        old_str='  words=$(wc -w < "$f")\n  printf \'%-24s %6d words\\n\' "$(basename "$f")" "$words"',
        new_str='  words=$(wc -w < "$f")\n  lines=$(wc -l < "$f")\n  printf \'%-24s %6d words %5d lines\\n\' "$(basename "$f")" "$words" "$lines"',
    ),
    Reply.call("bash", command="cd /workspace/wc && chmod +x count.sh && ./count.sh sample.txt"),
    Reply.say(
        "Done. `count.sh` prints **words and lines** for each file:\n\n"
        "- `./count.sh sample.txt` → `9 words, 2 lines`\n- it stops at the first unreadable file (`set -e`)\n\n"
        "Run it on any files under `/workspace`."
    ),
    Reply.call(
        "bash",
        "Running it over every file in /etc, one at a time.",
        command='cd /workspace/wc && for f in /etc/*; do [ -f "$f" ] && ./count.sh "$f" 2>/dev/null; sleep 0.2; done',
    ),
]
IMAGE = os.environ.get("BERTH_TEST_IMAGE", "berth-test:bookworm-minbase")
from sandbox.images.offline import build_offline_image

build_offline_image(IMAGE, progress=print)
server = ScriptedLLMServer(replies_in_order(replies, then=Reply.say("All counted."))).start()

from gui.app import make_application

app = make_application([])
from agent.llm.model import import_litellm
from gui.main_window import MainWindow
from gui.settings.app_settings import AppSettings

import_litellm()
settings = AppSettings(
    llm_model=server.model,
    llm_base_url=server.base_url,
    llm_api_key=SecretStr("sk-shot"),
    sandbox_image=IMAGE,
)
w = MainWindow(settings, persistence_dir=tempfile.mkdtemp(), preload=False)
w.resize(1400, 880)
w.show()
QTest.qWaitForWindowExposed(w)

import atexit


def _cleanup():
    conv = w.session.conversation
    w.close()
    if conv is not None:
        conv.delete(remove_container=True)
    server.stop()


atexit.register(_cleanup)


def wait(pred, ms=60000):
    end = time.time() + ms / 1000
    while time.time() < end:
        app.processEvents()
        if pred():
            return
        QTest.qWait(20)
    raise SystemExit(
        f"timed out: {inspect.getsource(pred).strip()} status={w.status_label.text()} detail={w.status_bar.detail_label.text()}"
    )


QTest.keyClicks(
    w.composer_edit, "Write a word counter script in /workspace/wc and test it on a sample file."
)
w.action_send.trigger()
wait(lambda: w.status_label.text() == "Finished")
QTest.keyClicks(w.composer_edit, "Now run it over every config file in /etc.")
w.action_send.trigger()
wait(lambda: w.status_label.text() == "Running")
from tests.gui.window_helpers import tree_index, view_has

wait(lambda: view_has(w, "adduser.conf"))
QTest.qWait(900)
w.grab().save(
    (sys.argv[1] if len(sys.argv) > 1 else "docs/berth-window.png").replace(".png", "_running.png")
)
w.action_pause.trigger()
wait(lambda: w.status_label.text() == "Paused")
wait(lambda: "frozen" in w.status_bar.container_label.text(), 5000)
w.file_browser.refresh_now()
wait(lambda: tree_index(w, "/workspace/wc").isValid())
w.file_tree.expand(tree_index(w, "/workspace/wc"))
wait(lambda: tree_index(w, "/workspace/wc/count.sh").isValid())
w.file_tree.setCurrentIndex(tree_index(w, "/workspace/wc/count.sh"))
wait(lambda: "wc -w" in w.file_viewer.text_view.toPlainText())
QTest.keyClicks(w.composer_edit, "Skip files that are not plain text, and sort by word count.")
w.action_send.trigger()
QTest.qWait(400)
QTest.keyClicks(w.composer_edit, "Also print a total at the end")
QTest.qWait(300)
out = sys.argv[1] if len(sys.argv) > 1 else "docs/berth-window.png"
w.grab().save(out)
print("saved", out)
