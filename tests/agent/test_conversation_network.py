"""A conversation's network changed while it lives, as state.json keeps it, and its saved
secrets filled in by name on reopen (state.json has names and hosts, never values)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from agent.conversation.network import (
    NetworkSetting,
    fill_secrets,
    keep_saved_secrets,
    with_host,
    with_network,
)
from agent.conversation.state import PersistedState, SecretSpec, WorkspaceSpec
from agent.conversation.workspace import make_workspace, spec_of
from sandbox import NetworkPolicy

ALLOW = WorkspaceSpec(image="img:1", network=True, allow=["pypi.org"])
TOKEN = SecretSpec(name="GITHUB_TOKEN", hosts=["api.github.com"])


@pytest.mark.parametrize(
    ("spec", "setting"),
    [
        (WorkspaceSpec(network=False), NetworkSetting(mode="off")),
        (WorkspaceSpec(network=True), NetworkSetting(mode="open")),
        (ALLOW, NetworkSetting(mode="allow-list", allow=["pypi.org"])),
    ],
)
def test_the_mode_is_read_from_the_spec_and_back(spec, setting) -> None:
    assert NetworkSetting.of_spec(spec) == setting
    network = setting.as_workspace_network()
    assert NetworkSetting.of_spec(with_network(WorkspaceSpec(), network)) == setting


def test_a_host_allowed_is_added_once_and_kept_through_state_json() -> None:
    policy = with_host(NetworkPolicy(allow=["pypi.org"]), "API.Example.test")
    assert policy.allow == ["pypi.org", "api.example.test"]
    assert with_host(policy, "api.example.test").allow == policy.allow
    saved = PersistedState(id="abc", workspace=with_network(ALLOW, policy)).model_dump_json()
    workspace = make_workspace(None, PersistedState.model_validate_json(saved).workspace, "abc")
    assert workspace.network == policy


def test_switching_off_keeps_the_list_for_later() -> None:
    off = with_network(ALLOW, False)
    assert off.options()["network"] is False and off.allow == ["pypi.org"]


@pytest.mark.parametrize("network", [True, False])
def test_allowing_a_host_needs_an_allow_list(network: bool) -> None:
    with pytest.raises(ValueError, match="no allow-list"):
        with_host(network, "pypi.org")


def test_a_bad_host_is_refused_plainly() -> None:
    with pytest.raises(ValueError, match="looks like a URL"):
        with_host(NetworkPolicy(allow=[]), "https://pypi.org/simple")


def test_saved_secrets_get_their_values_by_name_on_reopen() -> None:
    spec = ALLOW.model_copy(update={"secrets": [TOKEN, SecretSpec(name="GONE", hosts=["x.io"])]})
    values = {"GITHUB_TOKEN": "ghp_value"}
    workspace = make_workspace(None, spec, "abc", values.get)
    reopened = spec_of(workspace)
    # The one without a value is left out of the container but kept in state.json.
    assert [s.name for s in reopened.secrets] == ["GITHUB_TOKEN"]
    assert [s.name for s in keep_saved_secrets(reopened, spec).secrets] == [
        "GITHUB_TOKEN",
        "GONE",
    ]
    assert "ghp_value" not in keep_saved_secrets(reopened, spec).model_dump_json()


def test_no_values_without_a_lookup_or_an_allow_list() -> None:
    spec = ALLOW.model_copy(update={"secrets": [TOKEN]})
    assert fill_secrets(spec, None) == []
    assert fill_secrets(spec.model_copy(update={"allow": None}), lambda _n: "v") == []

    def locked(_name: str) -> SecretStr:
        raise RuntimeError("the keyring is locked")

    assert fill_secrets(spec, locked) == []  # the conversation still opens
