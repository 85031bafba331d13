"""The README's picture of the repository door: ``make screenshot-hand-back`` (offscreen,
a real Docker engine). A conversation works on a copy of a small git repository, commits
one change and leaves another uncommitted; the picture is taken after Hand back as branch,
the Changes tab showing the real files and the `git switch` command to copy."""

# ruff: noqa: E402
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from PySide6.QtTest import QTest

from tests.support import screenshots as shots
from tests.support.git_repos import make_repo
from tests.support.llm_server import RecordedRequest, Reply, ScriptedLLMServer

IMAGE = os.environ.get("BERTH_TEST_GIT_IMAGE", "berth-test-git:bookworm-git")
WORK = (
    "cd /workspace && printf 'def main():\\n    return 3\\n' > app.py"
    " && git -c user.name=Agent -c user.email=agent@example.com commit -qam 'main returns 3'"
    " && printf 'def greet(name):\\n    return f\"Hello, {name}!\"\\n' > greet.py"
    " && mkdir -p __pycache__"
    " && printf 'pyc' > __pycache__/greet.cpython-311.pyc && git status --short"
)


def script(request: RecordedRequest) -> Reply:
    if not request.tool_results():
        return Reply.call("bash", command=WORK)
    return Reply.say(
        "`main()` now returns 3 (committed), and `greet.py` is new (not committed yet). "
        "Hand the work back as a branch when you are happy with it."
    )


from sandbox.images.offline import build_offline_image

build_offline_image(IMAGE, progress=print, include=["git"])
# The checkpoint helper (the Changes tab) needs Python: the tests' helper image, and a
# store volume of the picture's own, removed after.
HELPER = "berth-test-checkpoints:bookworm-python3-iproute2"
build_offline_image(HELPER, progress=print, include=["python3", "iproute2"])
STORE = f"berth-shot-checkpoints-{os.getpid()}"
os.environ.update(
    {
        "BERTH_SANDBOX_IMAGE": IMAGE,
        "BERTH_CHECKPOINT_IMAGE": HELPER,
        "BERTH_CHECKPOINT_VOLUME": STORE,
    }
)
server = ScriptedLLMServer(script).start()
repo = make_repo(Path(tempfile.mkdtemp()) / "click")

w = shots.open_window(server, IMAGE)


def wait(pred, ms=120000):
    shots.wait(w, pred, ms)


w.repository.choose(str(repo))
wait(lambda: w.session.repo is not None)
QTest.keyClicks(w.composer_edit, "Make main() return 3 and add a greet() helper")
w.action_send.trigger()
wait(lambda: w.status_label.text() == "Finished")
changes = w.changes_view
w.side_tabs.setCurrentWidget(changes)
wait(lambda: len(changes.changes) == 2)
w.hand_back.hand_back_button.click()
wait(lambda: w.hand_back.result.command.text() != "")
changes.select("/workspace/app.py")
QTest.qWait(300)
shots.save_and_close(w, "docs/hand_back.png", server)
import contextlib

import docker

with contextlib.suppress(Exception):
    docker.from_env().volumes.get(STORE).remove(force=True)
