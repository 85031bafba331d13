"""The container itself: hardening, limits, reattaching, removal, reaping and typed errors."""

from __future__ import annotations

import os
import socket
import uuid

import docker
import pytest

from sandbox import (
    ContainerGoneError,
    DockerWorkspace,
    EngineUnreachableError,
    ImageBuildError,
    ImageMissingError,
    labels,
    reap_orphans,
)
from sandbox.images import berth_image
from sandbox.images.berth_image import default_tag
from sandbox.images.offline import image_exists
from tests.sandbox.conftest import docker_host

# CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID: bits 0 1 3 4 5 6 7.
EXPECTED_CAPS = sum(1 << bit for bit in (0, 1, 3, 4, 5, 6, 7))


@pytest.fixture(scope="module")
def offline_ws(sandbox_image):
    workspace = DockerWorkspace(
        sandbox_image, conversation_id="test-hardening", network=False, cpus=1.0
    )
    workspace.start()
    yield workspace
    workspace.remove(volume=True)


def test_docker_inspect_shows_the_hardening(offline_ws: DockerWorkspace, docker_client):
    attrs = docker_client.api.inspect_container(offline_ws.container.id)
    host = attrs["HostConfig"]
    assert host["Privileged"] is False
    assert any(opt.startswith("no-new-privileges") for opt in host["SecurityOpt"])
    assert host["CapDrop"] == ["ALL"]
    assert set(host["CapAdd"]) == {
        "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "KILL"
    }  # fmt: skip
    assert host["PidsLimit"] == 512
    assert host["Memory"] == 2 * 1024**3
    assert host["NanoCpus"] == 1_000_000_000
    assert host["NetworkMode"] == "none"
    assert host["Init"] is True
    assert attrs["Config"]["Labels"] == {
        "berth.managed": "true",
        "berth.conversation": "test-hardening",
        "berth.installation": labels.ours()["berth.installation"],
    }
    mounts = attrs["Mounts"]
    assert [m["Destination"] for m in mounts] == ["/workspace"]
    assert mounts[0]["Name"] == "berth-ws-test-hardening"
    assert not any("docker.sock" in (m.get("Source") or "") for m in mounts)


def test_inside_the_container_privileges_are_dropped(offline_ws: DockerWorkspace):
    status = offline_ws.execute("grep -E '^(CapEff|NoNewPrivs)' /proc/self/status", timeout=30)
    fields = dict(line.split(":\t") for line in status.output.strip().splitlines())
    assert int(fields["CapEff"], 16) == EXPECTED_CAPS
    assert fields["NoNewPrivs"] == "1"
    assert offline_ws.execute("ls /var/run/docker.sock", timeout=30).exit_code != 0
    # No network at all: only the loopback interface exists.
    assert offline_ws.execute("ls /sys/class/net", timeout=30).output.split() == ["lo"]


def test_a_fork_bomb_is_contained(offline_ws: DockerWorkspace):
    # Bounded twice over: each process stops forking after 3 s, and the hard timeout kills
    # the whole process group after 6 s (the subshell keeps every bomber in that group).
    bomb = (
        "(end=$((SECONDS + 3)); "
        "bomb() { while (( SECONDS < end )); do bomb & done; }; "
        "bomb); echo bomb-ended"
    )
    result = offline_ws.execute(bomb, timeout=6)
    assert "Resource temporarily unavailable" in result.output  # the pids limit said no
    after = offline_ws.execute("sleep 1; echo alive", timeout=60)
    assert after.output.endswith("alive\n") and after.exit_code == 0


def test_reattach_by_label_from_a_new_workspace(sandbox_image, make_ws):
    first = make_ws()
    first.start()
    first.execute("echo kept > /workspace/mark && export ONLY_IN_SHELL=1", timeout=30)
    again = DockerWorkspace(sandbox_image, conversation_id=first.conversation_id)
    again.start()
    assert again.container.id == first.container.id
    assert again.read_bytes("/workspace/mark") == b"kept\n"
    assert again.execute("cat /workspace/mark", timeout=30).output == "kept\n"

    first.close()  # stopped, kept
    assert first.container.attrs["State"]["Status"] in ("exited", "running")
    third = DockerWorkspace(sandbox_image, conversation_id=first.conversation_id)
    third.start()  # finds the stopped container and starts it again
    assert third.container.id == first.container.id
    assert third.container.status == "running"
    assert third.execute("cat /workspace/mark", timeout=30).output == "kept\n"


def test_remove_takes_the_container_and_its_volume(make_ws, docker_client):
    workspace = make_ws()
    workspace.start()
    container_id, volume = workspace.container.id, workspace.volume
    workspace.remove(volume=True)
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(container_id)
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(volume)


def test_host_folder_is_mounted_at_workspace(make_ws, tmp_path):
    (tmp_path / "from-host.txt").write_text("host")
    workspace = make_ws(host_dir=tmp_path)
    workspace.start()
    assert workspace.execute("cat /workspace/from-host.txt", timeout=30).output == "host"
    assert workspace.volume is None


def test_reap_orphans_removes_exited_containers_only(make_ws, docker_client):
    stopped, running = make_ws(), make_ws()
    stopped.start()
    running.start()
    stopped.close()
    assert reap_orphans(docker_client) >= 1
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(stopped.container.id)
    assert docker_client.containers.get(running.container.id).status == "running"


def test_the_reaper_leaves_another_installations_exited_container_alone(
    make_ws, docker_client, sandbox_image
):
    """One engine, two Berth installations (two users, say): each reaps only its own."""
    mine = make_ws()
    mine.start()
    mine.close()
    assert mine.container.labels[labels.INSTALLATION] == labels.ours()[labels.INSTALLATION]
    theirs = docker_client.containers.create(
        sandbox_image,
        command=["true"],
        labels={labels.MANAGED: "true", labels.INSTALLATION: "0123456789abcdef" * 2},
    )
    try:
        theirs.start()
        theirs.wait(timeout=30)
        reap_orphans(docker_client)
        theirs.reload()
        assert theirs.status == "exited"  # still there
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(mine.container.id)
    finally:
        theirs.remove(force=True)


def test_container_removed_underneath_is_reported(make_ws):
    workspace = make_ws()
    workspace.start()
    assert workspace.execute("true", timeout=30).exit_code == 0
    workspace.container.remove(force=True)
    with pytest.raises(ContainerGoneError):
        workspace.execute("true", timeout=30)
    with pytest.raises(ContainerGoneError):
        workspace.read_bytes("/etc/hostname")
    workspace.start()  # a new container on the same volume
    assert workspace.execute("echo back", timeout=30).output == "back\n"


def test_engine_unreachable_says_how_to_start_it(sandbox_image):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with docker_host(f"tcp://127.0.0.1:{port}"):
        with pytest.raises(EngineUnreachableError) as caught:
            DockerWorkspace(sandbox_image, conversation_id="test-unreachable").start()
        with pytest.raises(EngineUnreachableError):
            reap_orphans()
    assert "Start it" in str(caught.value) and "DOCKER_HOST" in str(caught.value)


def test_missing_image_says_how_to_build_one(docker_client):
    workspace = DockerWorkspace("berth-no-such-image:nowhere", client=docker_client)
    with pytest.raises(ImageMissingError) as caught:
        workspace.start()
    assert "python -m sandbox.images build-offline berth-no-such-image:nowhere" in str(caught.value)


def test_berths_own_image_is_built_with_progress(docker_client, sandbox_image, monkeypatch):
    monkeypatch.delenv("BERTH_SANDBOX_IMAGE", raising=False)
    # A repository of this test's own: on a machine where Berth's image already exists
    # (anyone who ran the app) the build must still happen, and a built one is ours to remove.
    monkeypatch.setattr(berth_image, "REPOSITORY", f"berth-sandbox-test-{uuid.uuid4().hex[:8]}")
    assert not image_exists(docker_client, default_tag())
    lines: list[str] = []
    workspace = DockerWorkspace(
        client=docker_client, conversation_id="test-own-image", on_progress=lines.append
    )
    assert workspace.image == default_tag()
    try:
        workspace.start()
    except ImageBuildError as exc:  # no registry here: the error says what to do instead
        assert f"python -m sandbox.images build-offline {default_tag()}" in str(exc)
    else:  # a machine with a registry built it
        assert workspace.execute("python3 --version && git --version", timeout=60).exit_code == 0
        workspace.remove(volume=True)
        docker_client.images.remove(default_tag())
    assert lines and "Building" in lines[0]
    assert os.environ.get("BERTH_SANDBOX_IMAGE") is None
