"""The README's picture of the Network tab: ``make screenshot-network`` (offscreen, a real
Docker engine). An allow-list conversation's agent asks a host that is not on its list;
the picture shows the denied request in the Network tab with its Allow this host button.
A server container stands in for the internet (tests/support/internet.py)."""

# ruff: noqa: E402
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import docker
from pydantic import SecretStr
from PySide6.QtTest import QTest

from sandbox.images.offline import build_offline_image
from sandbox.network_door.image import IMAGE_ENV, ensure_proxy_image
from tests.support import screenshots as shots
from tests.support.internet import fake_internet
from tests.support.llm_server import Reply, ScriptedLLMServer

IMAGE = os.environ.get("BERTH_TEST_CURL_IMAGE", "berth-test-curl:bookworm-curl")
HELPER = os.environ.get(
    "BERTH_TEST_CHECKPOINT_IMAGE", "berth-test-checkpoints:bookworm-python3-iproute2"
)
PROXY = os.environ.get(IMAGE_ENV, "berth-test-proxy:mitmproxy-11.0.2")
client = docker.from_env()
build_offline_image(IMAGE, client=client, include=["curl", "ca-certificates"], progress=print)
build_offline_image(HELPER, client=client, include=["python3", "iproute2"], progress=print)
ensure_proxy_image(client, PROXY, HELPER)
os.environ[IMAGE_ENV] = PROXY
os.environ["BERTH_CHECKPOINT_IMAGE"] = HELPER

CURL = "curl -s -w ' HTTP %{http_code}' http://api.example.test:8000/v1/status"


def script(request):
    done = len(request.tool_results())
    if done == 0:
        return Reply.call("bash", command=CURL)
    return Reply.say(
        "The request to **api.example.test** was refused: it is not on this conversation's "
        "allow-list. Allow it in the Network tab and I will try again."
    )


server = ScriptedLLMServer(script).start()

from gui.app import make_application

app = make_application([])
from agent.llm.process import use_helper_process
from gui.main_window import MainWindow
from gui.settings.app_settings import AppSettings

use_helper_process().start()
with fake_internet(client) as internet:
    settings = AppSettings(
        llm_model=server.model,
        llm_base_url=server.base_url,
        llm_api_key=SecretStr("sk-shot"),
        sandbox_image=IMAGE,
        network_mode="allow-list",
        network_allow=["pypi.org", "files.pythonhosted.org", internet.address],
    )
    w = MainWindow(settings, persistence_dir=tempfile.mkdtemp(), preload=False)
    w.resize(1400, 860)
    w.show()
    QTest.qWaitForWindowExposed(w)

    def wait(pred):
        shots.wait(w, pred)

    w.side_tabs.setCurrentWidget(w.network_view)
    QTest.keyClicks(w.composer_edit, "Check that the API answers")
    w.action_send.trigger()
    wait(lambda: w.network_view.row_of_denied("api.example.test") is not None)
    wait(lambda: w.status_label.text() == "Finished")
    # The user widens the panel a little, as one does to read a table.
    w.main_splitter.setSizes([600, 560])
    w.network_view.table.clearSelection()
    QTest.qWait(1000)
    shots.save_and_close(w, "docs/network_tab.png", server)
