"""The README's picture of a reply streaming in: ``make screenshot-streaming`` (offscreen,
a real Docker engine). The scripted server streams the model's reasoning, then its answer;
the picture is taken halfway through the answer with the Thinking card opened."""

# ruff: noqa: E402
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from PySide6.QtTest import QTest

from tests.support import screenshots as shots
from tests.support.llm_server import Reply, ScriptedLLMServer

REASONING = (
    "The user asks why their Flask app returns 404 for `/api/items`. The blueprint is "
    "registered with `url_prefix='/api'` and the route itself is declared as "
    "`/api/items`, so the real path is `/api/api/items`. I should explain that and show "
    "the one-line fix, then offer to run the tests."
)
ANSWER = """The route is registered twice under `/api`:

1. the blueprint is mounted with `url_prefix="/api"`, and
2. the view itself is declared as `@bp.route("/api/items")`.

Flask joins the two, so the endpoint actually lives at **`/api/api/items`**. Declare the
view relative to its blueprint:

```python
@bp.route("/items")
def list_items():
    return jsonify(items.all())
```

After that `GET /api/items` answers 200. I can run the test suite to confirm nothing else
relied on the doubled prefix, and add a test for the route so this cannot come back.
"""
IMAGE = os.environ.get("BERTH_TEST_IMAGE", "berth-test:bookworm-minbase")
from sandbox.images.offline import build_offline_image

build_offline_image(IMAGE, progress=print)
server = ScriptedLLMServer(
    lambda _r: Reply.say(ANSWER, reasoning=REASONING, stream_pace=0.06, delay=2.5)
).start()

w = shots.open_window(server, IMAGE)


def wait(pred, ms=90000):
    shots.wait(w, pred, ms)


QTest.keyClicks(w.composer_edit, "Why does GET /api/items return 404 in my Flask app?")
w.action_send.trigger()
model = w.event_view.model()
wait(lambda: model.live_row is not None and "Flask joins" in model.live_row.content)
live = model.live_row
live.toggle()  # the user opens the Thinking card again to read it
model.add_stream([])
index = model.index(live.position)
model.dataChanged.emit(index, index)
QTest.qWait(300)
shots.save_and_close(w, "docs/streaming.png", server)
