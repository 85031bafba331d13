"""The pictures of MCP in the window, from a real run: ``make screenshot-mcp`` (offscreen,
a real Docker engine). Settings name the reference ``mcp-server-git`` (from PyPI, in the
tests' MCP image), which runs in the conversation's container; the scripted model makes a
small repository with bash, asks git_status and git_diff_unstaged (read-only: they run),
then git_add (it writes: the approval bar asks, and this script approves).

- docs/mcp_card.png: the event view: the server's line, the calls' cards with their
  arguments and results, the model's answer;
- docs/mcp_settings.png: Settings' MCP servers page as the conversation left it: git ready
  with its tools, each with its approval.

The conversation's container, its volumes and the checkpoint store go when it is done.
``python docs/mcp_demo_screenshot.py`` draws the same views from fed events instead."""

# ruff: noqa: E402
import contextlib
import os
import sys
import tempfile
import uuid

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()  # never the user's own settings
for name in ("LLM_MODEL", "LLM_BASE_URL", "LLM_API_KEY", "BERTH_SANDBOX_IMAGE"):
    os.environ.pop(name, None)

import docker
from pydantic import SecretStr
from PySide6.QtCore import QRect
from PySide6.QtTest import QTest

from agent.mcp.config import McpServerConfig
from sandbox.images.offline import build_offline_image
from tests.support import screenshots as shots
from tests.support.llm_server import RecordedRequest, Reply, ScriptedLLMServer
from tests.support.mcp_image import ensure_mcp_image

HELPER = os.environ.get(
    "BERTH_TEST_CHECKPOINT_IMAGE", "berth-test-checkpoints:bookworm-python3-iproute2"
)
STORE = f"berth-screenshot-checkpoints-{uuid.uuid4().hex[:8]}"
client = docker.from_env()
image = ensure_mcp_image(client)
build_offline_image(HELPER, client=client, include=["python3", "iproute2"], progress=print)
os.environ["BERTH_CHECKPOINT_IMAGE"] = HELPER
os.environ["BERTH_CHECKPOINT_VOLUME"] = STORE

MAKE_REPO = (
    "cd /workspace && git init -q -b main && git config user.email dev@example.com && "
    "git config user.name Dev && printf 'def total(items):\\n    return sum(items)\\n' > "
    "cart.py && git add cart.py && git commit -qm 'Cart totals' && "
    "printf 'def total(items):\\n    return round(sum(items), 2)\\n' > cart.py && "
    "printf '# Rounding\\n\\nTotals are rounded to cents.\\n' > NOTES.md && git status --short"
)
REPLIES = [
    Reply.call("bash", "I'll set up the repository first.", command=MAKE_REPO),
    Reply.call("git__git_status", "What does the git server say?", repo_path="/workspace"),
    Reply.call("git__git_diff_unstaged", repo_path="/workspace"),
    Reply.call(
        "git__git_add",
        "cart.py rounds totals now and NOTES.md is new: staging both.",
        repo_path="/workspace",
        files=["cart.py", "NOTES.md"],
    ),
    Reply.say(
        "Staged **cart.py** (totals are now rounded to cents) and the new **NOTES.md**. "
        "Nothing is committed yet: say the word and I will commit them."
    ),
]


def script(request: RecordedRequest) -> Reply:
    return REPLIES[min(len(request.tool_results()), len(REPLIES) - 1)]


server = ScriptedLLMServer(script).start()

from gui.app import make_application

app = make_application([])
from agent.llm.process import use_helper_process
from gui.main_window import MainWindow
from gui.settings.app_settings import AppSettings
from gui.settings.dialog import SettingsDialog

use_helper_process().start()
card_path = sys.argv[1] if len(sys.argv) > 1 else "docs/mcp_card.png"
settings_path = sys.argv[2] if len(sys.argv) > 2 else "docs/mcp_settings.png"
settings = AppSettings(
    llm_model=server.model,
    llm_base_url=server.base_url,
    llm_api_key=SecretStr("sk-shot"),
    sandbox_image=image,
    mcp_servers={"git": McpServerConfig(command="python3", args=["-m", "mcp_server_git"])},
)
w = MainWindow(settings, persistence_dir=tempfile.mkdtemp(), preload=False)
w.resize(1500, 1750)  # tall enough for the whole run, top to bottom
w.show()
QTest.qWaitForWindowExposed(w)
try:
    QTest.keyClicks(w.composer_edit, "Stage my rounding change and its notes.")
    w.action_send.trigger()
    bar = w.confirmation_bar
    shots.wait(w, lambda: bar.isVisible() and bar.approve_button.isEnabled())
    bar.approve_button.click()
    shots.wait(w, lambda: w.status_label.text() == "Finished")
    QTest.qWait(800)
    view = w.event_view
    model = view.model()
    bottom = view.visualRect(model.index(model.rowCount() - 1)).bottom() + 12
    view.grab(QRect(0, 0, view.width(), min(bottom, view.height()))).save(card_path)
    print("saved", card_path)

    w.action_settings.trigger()
    dialog = next(d for d in w.findChildren(SettingsDialog) if d.isVisible())
    dialog.resize(900, 700)
    QTest.qWait(300)
    # The MCP servers box alone: the rest of the dialog is the demo's and other pages'.
    box = dialog.mcp_editor.parentWidget()
    box.parentWidget().grab(box.geometry().adjusted(-10, -10, 10, 10)).save(settings_path)
    print("saved", settings_path)
    dialog.reject()
finally:
    shots.close_and_clean(w, server)
    volumes = client.volumes.list(filters={"label": f"berth.checkpoints.store={STORE}"})
    for volume in [*volumes, *client.volumes.list(filters={"name": STORE})]:
        with contextlib.suppress(docker.errors.APIError):
            volume.remove(force=True)
