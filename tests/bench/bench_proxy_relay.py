"""What the way into a conversation's proxy from this machine costs
(DockerWorkspace.proxy_endpoint(): a 127.0.0.1 listener, one docker exec per connection):

- a request on a new connection each time (an exec started for each; the test server
  answers HTTP/1.0, so each request is a connection of its own);
- the same server reached directly from this machine, for scale.
A kept connection (httpx keeps them with an HTTP/1.1 server such as an MCP server's)
pays the exec once; the proxy itself then adds what it adds for the agent's requests.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -p no:randomly
        -o python_files='bench_*.py' tests/bench/bench_proxy_relay.py
"""

from __future__ import annotations

import statistics
import time

import httpx2

from sandbox import NetworkPolicy
from tests.support.internet import fake_internet
from tests.support.workspaces import workspace_factory

ROUNDS = 20


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms"


def test_relay_costs(docker_client, curl_image) -> None:
    with fake_internet(docker_client) as internet, workspace_factory(curl_image, "bench") as make:
        ws = make(network=NetworkPolicy(allow=[f"{internet.address}:8000"]))
        ws.start()
        internet.join(ws)
        url = f"http://{internet.address}:8000/"
        proxy = ws.proxy_endpoint()

        fresh: list[float] = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            with httpx2.Client(proxy=proxy, trust_env=False, timeout=30) as client:
                assert client.get(url).status_code == 200
            fresh.append(time.perf_counter() - start)

        direct: list[float] = []
        with httpx2.Client(trust_env=False, timeout=30) as client:
            client.get(url)
            for _ in range(ROUNDS):
                start = time.perf_counter()
                assert client.get(url).status_code == 200
                direct.append(time.perf_counter() - start)

        print(f"\nnew connection through the relay: {_ms(fresh)}")
        print(f"direct from this machine: {_ms(direct)}")
