"""DockerWorkspace.proxy_endpoint(): a client on this machine goes through the
conversation's proxy (its allow-list, its log) by a listener on 127.0.0.1 relayed by an
exec into the proxy container; only with the relay's token, and only while the workspace
is open. The test's server container stands in for the internet (tests/support/internet.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx2
import pytest

from sandbox import DockerWorkspace, NetworkPolicy, SandboxError
from tests.support.internet import Internet, fake_internet
from tests.support.workspaces import workspace_factory


@pytest.fixture(scope="module")
def internet(docker_client, curl_image) -> Iterator[Internet]:
    with fake_internet(docker_client) as made:
        yield made


def test_this_machine_goes_through_the_proxy_with_the_token_only(curl_image, internet) -> None:
    with workspace_factory(curl_image, prefix="relay") as make:
        allow = ["api.example.test:8000", f"{internet.address}:8000"]
        ws = make(network=NetworkPolicy(allow=allow))
        ws.start()
        internet.join(ws)
        url = ws.proxy_endpoint()
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.password
        assert ws.proxy_endpoint() == url  # one listener for the workspace's life

        with httpx2.Client(proxy=url, trust_env=False, timeout=20) as client:
            allowed = client.get("http://api.example.test:8000/")
            again = client.get("http://api.example.test:8000/")
            denied = client.get("http://www.example.test:8000/")
        assert allowed.status_code == 200 and again.status_code == 200
        assert "hello from 8000 for api.example.test:8000" in allowed.text
        assert denied.status_code == 403
        assert "www.example.test" in denied.text and "allow-list" in denied.text

        # Another process of this machine without the token (or with a wrong one) is refused.
        for proxy in (
            f"http://127.0.0.1:{parts.port}",
            f"http://berth:wrong@127.0.0.1:{parts.port}",
        ):
            with httpx2.Client(proxy=proxy, trust_env=False, timeout=20) as client:
                refused = client.get("http://api.example.test:8000/")
            assert refused.status_code == 407 and "hello" not in refused.text

        logged = [(r.host, r.allowed) for r in ws.network_log()]
        assert logged.count(("api.example.test", True)) == 2
        assert ("www.example.test", False) in logged

        ws.close()  # the listener goes with the open workspace
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", parts.port), timeout=2).close()


def test_no_proxy_without_an_allow_list(curl_image) -> None:
    for network in (True, False):
        with pytest.raises(SandboxError, match="no network proxy"):
            DockerWorkspace(curl_image, network=network).proxy_endpoint()
