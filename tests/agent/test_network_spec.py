"""A conversation's network (off, open, an allow-list) is saved in state.json's workspace
spec and comes back on reopen and fork (network-off was once lost on reopen)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.conversation.state import PersistedState, WorkspaceSpec
from agent.conversation.workspace import make_workspace, spec_of
from sandbox import DockerWorkspace, NetworkPolicy


def _reopened(network: bool | NetworkPolicy) -> DockerWorkspace:
    spec = spec_of(DockerWorkspace("img:1", conversation_id="abc", network=network))
    saved = PersistedState(id="abc", workspace=spec).model_dump_json()
    loaded = PersistedState.model_validate_json(saved)
    return make_workspace(None, loaded.workspace, "abc")


@pytest.mark.parametrize(
    "network",
    [False, True, NetworkPolicy(allow=["pypi.org", "*.githubusercontent.com", "10.0.0.5:8080"])],
)
def test_the_network_comes_back_as_it_was(network: bool | NetworkPolicy) -> None:
    assert _reopened(network).network == network


def test_an_empty_allow_list_stays_an_allow_list() -> None:
    # Nothing allowed is not the same as open: the proxy refuses everything.
    assert _reopened(NetworkPolicy(allow=[])).network == NetworkPolicy(allow=[])


def test_a_state_saved_before_allow_lists_opens_as_it_was() -> None:
    old = '{"id": "abc", "workspace": {"network": true, "image": "img:1"}}'
    spec = PersistedState.model_validate_json(old).workspace
    assert spec.allow is None and make_workspace(None, spec, "abc").network is True
    assert WorkspaceSpec(network=False, allow=["pypi.org"]).options()["network"] is False


@pytest.mark.parametrize(
    ("entries", "normal"),
    [
        (["PyPI.org.", "pypi.org"], ["pypi.org"]),
        (["*.GitHub.com:443"], ["*.github.com:443"]),
        (
            ["10.0.0.5:8080", "[fd00::1]:80", "fd00::2"],
            ["10.0.0.5:8080", "[fd00::1]:80", "[fd00::2]"],
        ),
        ("pypi.org", ["pypi.org"]),
    ],
)
def test_entries_are_kept_normalized(entries: list[str], normal: list[str]) -> None:
    assert NetworkPolicy(allow=entries).allow == normal


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("https://pypi.org/simple", "looks like a URL"),
        ("pypi.org:http", "must be a number"),
        ("pypi.org:70000", "between 1 and 65535"),
        ("*.com", "top-level domain"),
        ("py*pi.org", "not a host name"),
        ("", "empty"),
        ("[fd00::1", "lacks its ']'"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says.replace("(", r"\(")):
        NetworkPolicy(allow=[entry])
