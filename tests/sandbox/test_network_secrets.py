"""Secrets through the network door: the agent holds a placeholder, its secret's host gets
the value (HTTP, and HTTPS decrypted with the installation's CA), every other host the
placeholder; the value is nowhere the agent, the engine or state.json can show.

The test's server (tests/support/internet.py) answers the SHA-256 of the Authorization
header it got, so what arrived is known without the value ever coming back.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable, Iterator

import pytest
from pydantic import SecretStr, ValidationError

from agent.conversation.state import PersistedState
from agent.conversation.workspace import make_workspace, spec_of
from sandbox import DockerWorkspace, NetworkPolicy, SandboxError, Secret
from sandbox.network_door import proxy, proxy_ca
from tests.support.internet import Internet, auth_hash, curl, fake_internet
from tests.support.workspaces import workspace_factory

VALUE = f"tok-{uuid.uuid4().hex}"
AUTH = "-H 'Authorization: Bearer '\"$API_TOKEN\""


@pytest.fixture(scope="module")
def internet(docker_client, curl_image) -> Iterator[Internet]:
    with fake_internet(docker_client) as made:
        yield made


@pytest.fixture
def upstream_ca(internet: Internet, tmp_path, monkeypatch) -> None:
    """The proxy trusts the test server's CA (beside the public ones) when it checks the
    certificate of a secret's host."""
    path = tmp_path / "test-ca.pem"
    path.write_bytes(internet.ca)
    monkeypatch.setenv(proxy.UPSTREAM_CA_ENV, str(path))


@pytest.fixture
def make(curl_image, internet, upstream_ca) -> Iterator[Callable[..., DockerWorkspace]]:
    with workspace_factory(curl_image, prefix="secret") as factory:
        yield factory


def _secret() -> Secret:
    return Secret(name="API_TOKEN", value=SecretStr(VALUE), hosts=["api.example.test"])


def _started(make: Callable[..., DockerWorkspace], internet: Internet) -> DockerWorkspace:
    allow = ["*.example.test", "other.test", internet.address]
    ws = make(network=NetworkPolicy(allow=allow), secrets=[_secret()])
    ws.start()
    internet.join(ws)
    return ws


def test_the_secret_goes_to_its_host_only_over_http_and_https(make, internet) -> None:
    ws = _started(make, internet)
    placeholder = ws.execute('printf %s "$API_TOKEN"').output
    assert placeholder.startswith("berth-secret-API_TOKEN-") and VALUE not in placeholder
    real, stand_in = auth_hash(f"Bearer {VALUE}"), auth_hash(f"Bearer {placeholder}")

    plain = curl(ws, AUTH, "http://api.example.test:8000/")
    assert "code=200" in plain and real in plain
    # HTTPS without -k: the agent trusts the installation's CA, which the proxy signs with.
    secure = curl(ws, "-v", AUTH, "https://api.example.test:8443/", "2>&1")
    assert "code=200" in secure and real in secure, secure
    assert "Berth proxy CA" in secure  # decrypted by the proxy, not end to end

    # The same server under another name, and another host: the placeholder, unchanged.
    for url in ("http://www.example.test:8000/", "http://other.test:8001/"):
        answer = curl(ws, AUTH, url)
        assert "code=200" in answer and stand_in in answer and real not in answer
    tunnel = curl(ws, "-k", "-v", AUTH, "https://other.test:8443/", "2>&1")
    assert stand_in in tunnel and "CN=api.example.test" in tunnel  # the server's own cert
    # Not in the URL or the body: headers only.
    posted = curl(ws, "--data-binary", '"$API_TOKEN"', "http://api.example.test:8000/seen")
    assert "code=200" in posted
    seen = curl(ws, "http://api.example.test:8000/seen")
    assert placeholder in seen and VALUE not in seen


def test_the_value_is_nowhere_to_be_seen(make, internet, docker_client) -> None:
    ws = _started(make, internet)
    assert "code=200" in curl(ws, AUTH, "https://api.example.test:8443/")
    assert ws.conversation_id is not None
    beside = proxy.find(ws.client, ws.conversation_id)
    assert beside is not None
    api = docker_client.api
    for container in (ws.container, beside):
        assert VALUE not in json.dumps(api.inspect_container(container.id))
        assert VALUE.encode() not in api.logs(container.id, stdout=True, stderr=True)
    # Every file of the agent's container (its layer and /workspace), and every process's
    # environment and command line.
    assert VALUE.encode() not in b"".join(api.export(ws.container.id))
    assert VALUE.encode() not in b"".join(api.get_archive(ws.container.id, "/workspace")[0])
    procs = ws.execute("cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline | tr '\\0' '\\n'", 30)
    assert "berth-secret-API_TOKEN-" in procs.output and VALUE not in procs.output
    # The proxy read its file and deleted it: its log and files hold no value either.
    assert VALUE.encode() not in b"".join(api.export(beside.id))
    assert all(VALUE not in json.dumps(r.model_dump(mode="json")) for r in ws.network_log())
    # state.json keeps the name and hosts only.
    saved = PersistedState(id=ws.conversation_id, workspace=spec_of(ws)).model_dump_json()
    assert VALUE not in saved and "api.example.test" in saved and "API_TOKEN" in saved


def test_reopened_with_the_secret_again_it_keeps_its_placeholder(make, internet) -> None:
    ws = _started(make, internet)
    placeholder = ws.execute('printf %s "$API_TOKEN"').output
    ws.close()
    # On reopen the caller hands the value again (state.json never had it).
    spec = PersistedState(id="x", workspace=spec_of(ws)).workspace
    assert make_workspace(None, spec, "x").secrets == []
    again = make(conversation_id=ws.conversation_id, network=ws.network, secrets=[_secret()])
    again.start()
    internet.join(again)
    assert again.execute('printf %s "$API_TOKEN"').output == placeholder
    answer = curl(again, AUTH, "https://api.example.test:8443/")
    assert auth_hash(f"Bearer {VALUE}") in answer


def test_bad_secrets_are_refused_plainly(tmp_path) -> None:
    with pytest.raises(ValidationError, match="environment variable"):
        Secret(name="not a name", value=SecretStr("x"), hosts=["a.test"])
    with pytest.raises(ValidationError, match="line break"):
        Secret(name="T", value=SecretStr("a\r\nX-Evil: 1"), hosts=["a.test"])
    with pytest.raises(ValidationError, match="looks like a URL"):
        Secret(name="T", value=SecretStr("x"), hosts=["https://a.test/"])
    with pytest.raises(ValidationError, match="at least 1"):
        Secret(name="T", value=SecretStr("x"), hosts=[])
    with pytest.raises(SandboxError, match="network=NetworkPolicy"):
        DockerWorkspace("img:1", secrets=[_secret()])
    with pytest.raises(SandboxError, match="one name"):
        DockerWorkspace("img:1", network=NetworkPolicy(), secrets=[_secret(), _secret()])
    assert VALUE not in repr(_secret()) and VALUE not in str(_secret().model_dump())


def test_the_ca_is_made_once_with_its_key_for_the_user_alone(tmp_path) -> None:
    both, cert = proxy_ca.load_or_create(tmp_path)
    key_file = tmp_path / proxy_ca.KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert b"PRIVATE KEY" in both and b"PRIVATE KEY" not in cert
    assert proxy_ca.load_or_create.__wrapped__(tmp_path) == (both, cert)  # read back
    key_file.write_bytes(b"garbage")
    remade, _ = proxy_ca.load_or_create.__wrapped__(tmp_path)
    assert remade != both
    assert any(p.name.startswith(f"{proxy_ca.KEY_FILE}.unreadable") for p in tmp_path.iterdir())
