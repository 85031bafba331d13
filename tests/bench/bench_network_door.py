"""The network door's cost: an allow-list conversation (its proxy in between) against an
open one (no proxy), both reaching the same server from the same agent image.

- a 50 MB download, HTTPS (a CONNECT tunnel the proxy passes through) and plain HTTP
  (streamed by mitmproxy): throughput of each and the ratio (goal: >= 0.8)
- 200 small HTTPS requests, one curl each (a new connection, TLS handshake and, through
  the proxy, a CONNECT each time): the median added latency (goal: < 5 ms); then the same
  200 in one curl, whose connection (and tunnel) is kept alive

The server is the tests' stand-in for the internet (tests/support/internet.py), on a
network of the bench's own; the proxy joins it as it would reach the world, the open
container joins it directly. Both workspaces are started by the bench, as a user's are.

    make bench   (or: .venv/bin/python -m pytest -s -p no:randomly
                  -o python_files='bench_*.py' tests/bench/bench_network_door.py)
"""

from __future__ import annotations

import statistics
import time

import docker
from docker.models.containers import Container

from sandbox import DockerWorkspace, NetworkPolicy, labels
from sandbox.checkpoints import helper_image
from sandbox.network_door import proxy
from tests.support.internet import Internet, fake_internet
from tests.support.workspaces import workspace_factory

SIZE = 50 * 2**20
DOWNLOADS = 5
REQUESTS = 200
GOAL_RATIO = 0.8
GOAL_ADDED_MS = 5.0
HOST = "api.example.test"


def _download_mb_s(ws: DockerWorkspace, url: str) -> float:
    done = ws.execute(
        f"curl -sk -o /dev/null -w '%{{size_download}} %{{speed_download}}' {url}", 300
    )
    size, speed = done.output.split()[-2:]
    assert int(float(size)) == SIZE, done.output
    return float(speed) / 2**20


def _downloads(door: DockerWorkspace, direct: DockerWorkspace, url: str) -> list[list[float]]:
    """MB/s of each download, [[through the door], [direct]], taken in turns: the first
    of each from fresh connections, and a load elsewhere on the machine weighs on both."""
    rates: list[list[float]] = [[], []]
    for _ in range(DOWNLOADS + 1):
        for rate, ws in zip(rates, (door, direct), strict=True):
            rate.append(_download_mb_s(ws, url))
    return rates


def _request_ms(ws: DockerWorkspace, count: int, one_curl: bool) -> list[float]:
    url = f"https://{HOST}:8443/"
    if one_curl:  # keep-alive: one connection (one tunnel) for all
        urls = " ".join(f"-o /dev/null {url}{i}" for i in range(count))
        script = f"curl -sk -w '%{{time_total}}\\n' {urls}"
    else:
        script = (
            f"for i in $(seq {count}); do curl -sk -o /dev/null -w '%{{time_total}}\\n' {url}; done"
        )
    done = ws.execute(script, 600)
    times = [float(line) * 1000 for line in done.output.split()]
    assert len(times) == count, done.output[-500:]
    return times


def _requests(door: DockerWorkspace, direct: DockerWorkspace, one_curl: bool) -> list[list[float]]:
    """ms of each of REQUESTS requests, [[through the door], [direct]], in turns of 20."""
    times: list[list[float]] = [[], []]
    for _ in range(REQUESTS // 20):
        for each, ws in zip(times, (door, direct), strict=True):
            each.extend(_request_ms(ws, 20, one_curl))
    return times


def _cpu_s(container: Container) -> float:
    """CPU seconds the container has used (its cgroup's count)."""
    stats = container.stats(stream=False)
    return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9


def _join_directly(client: docker.DockerClient, ws: DockerWorkspace, internet: Internet) -> None:
    """The open container on the server's network too. Its fence refused that network's
    gateway (an address of the host) as it started, a route that stands in the way of the
    new interface's own: taken away first, as the fence put it, by a sidecar."""
    internet.network.reload()
    gateway = internet.network.attrs["IPAM"]["Config"][0]["Gateway"]
    client.containers.run(
        helper_image(),
        ["ip", "route", "del", f"{gateway}/32"],
        network_mode=f"container:{ws.container.id}",
        cap_drop=["ALL"],
        cap_add=["NET_ADMIN"],
        labels=labels.ours(),
        remove=True,
    )
    internet.network.connect(ws.container)


def test_bench_network_door(curl_image, docker_client):
    with (
        fake_internet(docker_client) as internet,
        workspace_factory(curl_image, prefix="bench-net") as make,
    ):
        begin = time.perf_counter()
        door = make(network=NetworkPolicy(allow=[HOST, internet.address]))
        door.start()
        door_start = time.perf_counter() - begin
        internet.join(door)
        begin = time.perf_counter()
        direct = make(network=True)
        direct.start()
        direct_start = time.perf_counter() - begin
        _join_directly(docker_client, direct, internet)
        for ws in (door, direct):  # both reach it, the door's way through its proxy
            assert (
                "code=200"
                in ws.execute(
                    f"curl -sk -o /dev/null -w 'code=%{{http_code}}' https://{HOST}:8443/", 60
                ).output
            )

        https, http = f"https://{HOST}:8443/bytes/{SIZE}", f"http://{HOST}:8000/bytes/{SIZE}"
        assert door.conversation_id is not None
        the_proxy = proxy.find(docker_client, door.conversation_id)
        assert the_proxy is not None
        rates: dict[str, list[list[float]]] = {}
        cpu: dict[object, float] = {}
        for kind, url in (("HTTPS", https), ("HTTP", http)):
            before = _cpu_s(the_proxy)
            rates[kind] = _downloads(door, direct, url)
            cpu[kind] = (_cpu_s(the_proxy) - before) / (DOWNLOADS + 1)
        latency = {}
        for reuse in (False, True):
            before = _cpu_s(the_proxy)
            latency[reuse] = _requests(door, direct, reuse)
            cpu[reuse] = (_cpu_s(the_proxy) - before) / REQUESTS
        log = door.network_log()

    print(f"\n\nnetwork door benchmark (start: allow-list {door_start:.1f} s, open "
          f"{direct_start:.1f} s)")  # fmt: skip
    print(f"{'50 MB download':26} {'proxy MB/s':>11} {'direct MB/s':>12} {'ratio':>7}")
    for kind in ("HTTPS", "HTTP"):
        proxied, plain = rates[kind]
        p_first, p_med = proxied[0], statistics.median(proxied[1:])
        d_first, d_med = plain[0], statistics.median(plain[1:])
        print(f"{kind + ' first':26} {p_first:11.1f} {d_first:12.1f} {p_first / d_first:7.2f}")
        print(f"{kind + f' median of {DOWNLOADS}':26} {p_med:11.1f} {d_med:12.1f} "
              f"{p_med / d_med:7.2f}  goal >= {GOAL_RATIO}: "
              f"{'met' if p_med / d_med >= GOAL_RATIO else 'MISSED'}")  # fmt: skip
        print(f"{kind + ' proxy CPU per download':26} {cpu[kind]:11.3f} s: at most "
              f"{SIZE / 2**20 / cpu[kind]:.0f} MB/s on one free core")  # fmt: skip
    print(f"\n{REQUESTS} small HTTPS requests {'proxy ms':>10} {'direct ms':>10} {'added':>7}")
    for reuse, label in ((False, "one curl each"), (True, "one curl, kept alive")):
        p_ms, d_ms = (statistics.median(times) for times in latency[reuse])
        met = "met" if p_ms - d_ms < GOAL_ADDED_MS else "MISSED"
        verdict = "" if reuse else f"  goal < {GOAL_ADDED_MS:.0f} ms: {met}"
        print(f"{label + ', median':27} {p_ms:10.2f} {d_ms:10.2f} {p_ms - d_ms:7.2f}"
              f"{verdict}  proxy CPU {cpu[reuse] * 1000:.2f} ms each")  # fmt: skip
    # Every download and request went through the proxy and was logged.
    assert len([r for r in log if r.allowed]) >= 2 * (DOWNLOADS + 1) + REQUESTS
