"""Identity and permissions: linked principals only, roles, and Model Studio's exact texts."""

from __future__ import annotations

import pytest

from modeldeck.deck import Deck
from modeldeck.domain import Actor, DeploySpec, RequestStatus, Surface
from modeldeck.errors import NotLinked, PermissionDenied
from modeldeck.grammar import parse
from modeldeck.sandbox.testing import RunningSandbox
from modeldeck.server.client import RemoteDeck
from modeldeck.serving import ServerThread
from modeldeck.tokens import create_token
from tests.workflow.wfhelpers import MakeDeck, sandbox_deployments

MU = "qwen3-32b"
PTU = "qwen3-max-2025-09-23"
ONE_UNIT = DeploySpec(model=MU, plan="mu", units=1)
WORKSPACE = {
    "id": "llm-team",
    "full_access": ["alice", "bob", "dave", "pat"],
    "deployable_models": [MU],
}


def jupyter(deck: Deck, user: str) -> Actor:
    return deck.resolve_actor("jupyter", user)


@pytest.mark.parametrize(
    ("surface", "user", "field"),
    [
        ("slack", "U0NOBODY", "slack_user"),
        ("jupyter", "mallory", "jupyter_user"),
        ("cli", "mallory", "jupyter_user"),
        ("api", "mallory", "name"),
    ],
)
def test_an_unknown_user_is_not_linked_never_given_a_role(
    make_deck: MakeDeck, surface: Surface, user: str, field: str
) -> None:
    deck = make_deck()
    with pytest.raises(NotLinked) as err:
        deck.resolve_actor(surface, user)
    assert "not linked" in str(err.value) and repr(user) in str(err.value)
    assert f'{field} = "{user}"' in str(err.value)  # says what the admin should add


def test_linked_users_get_their_principal_and_roles(make_deck: MakeDeck) -> None:
    deck = make_deck()
    by_slack = deck.resolve_actor("slack", "U0BOB")
    assert (by_slack.principal, by_slack.roles, by_slack.surface) == ("bob", ["approver"], "slack")
    assert jupyter(deck, "alice").roles == ["deployer"]
    # a Slack id is not a notebook user name and the other way round
    with pytest.raises(NotLinked):
        deck.resolve_actor("slack", "alice")
    with pytest.raises(NotLinked):
        deck.resolve_actor("jupyter", "U0BOB")


def test_open_mode_without_principals_gives_everyone_every_role(make_deck: MakeDeck) -> None:
    deck = make_deck(principals=[])
    someone = deck.resolve_actor("slack", "U0ANY")
    assert someone.principal == "slack:U0ANY"
    assert set(someone.roles) == {"viewer", "deployer", "approver", "admin", "service"}


def test_viewers_only_read(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck()
    victor = jupyter(deck, "victor")
    req = deck.request_deploy(ONE_UNIT, jupyter(deck, "alice"))
    assert deck.run(parse("list"), victor).ok and deck.run(parse("approvals"), victor).ok
    assert deck.run(parse("estimate qwen3-32b mu units=1"), victor).ok
    with pytest.raises(PermissionDenied, match="victor may not request"):
        deck.request_deploy(ONE_UNIT, victor)
    with pytest.raises(PermissionDenied, match="victor may not decide"):
        deck.approve(req.id, victor)
    with pytest.raises(PermissionDenied, match="victor may not decide"):
        deck.run(parse(f"reject {req.id}"), victor)
    with pytest.raises(PermissionDenied, match="may not request"):
        deck.run(parse("deploy qwen3-32b mu units=1"), victor)
    assert deck.get_request(req.id).status == RequestStatus.PENDING
    assert sandbox_deployments(sandbox) == []


def test_deployers_request_approvers_decide(make_deck: MakeDeck, sandbox: RunningSandbox) -> None:
    deck = make_deck()
    alice, bob = jupyter(deck, "alice"), deck.resolve_actor("slack", "U0BOB")
    req = deck.request_deploy(ONE_UNIT, alice, "eval")
    other = deck.request_deploy(ONE_UNIT.model_copy(update={"suffix": "b"}), alice)
    with pytest.raises(PermissionDenied, match="alice may not decide") as err:
        deck.approve(other.id, alice)  # not her own request: the role is what is missing
    assert "approver" in str(err.value)  # the hint names the role that would do
    with pytest.raises(PermissionDenied, match="bob may not request"):
        deck.request_deploy(ONE_UNIT, bob)
    assert deck.approve(req.id, bob).outcome == "executed"
    assert len(sandbox_deployments(sandbox)) == 1


def test_admins_do_everything_but_approve_their_own(make_deck: MakeDeck) -> None:
    deck = make_deck()
    dave = jupyter(deck, "dave")
    mine = deck.request_deploy(ONE_UNIT, dave)
    other = ONE_UNIT.model_copy(update={"suffix": "b"})
    alices = deck.request_deploy(other, jupyter(deck, "alice"))
    assert deck.reject(alices.id, dave, "not now").outcome == "rejected"
    assert deck.approve(mine.id, deck.resolve_actor("slack", "U0BOB")).outcome == "executed"


def test_missing_full_access_gets_model_studios_text(make_deck: MakeDeck) -> None:
    principals = [
        {"name": "alice", "jupyter_user": "alice", "roles": ["deployer"]},
        {"name": "zoe", "jupyter_user": "zoe", "roles": ["deployer", "approver"]},
        {"name": "bob", "jupyter_user": "bob", "roles": ["approver"]},
    ]
    deck = make_deck(principals=principals, workspace=WORKSPACE)
    zoe = jupyter(deck, "zoe")  # has the roles, but not ModelDeploy-FullAccess
    with pytest.raises(PermissionDenied) as err:
        deck.request_deploy(ONE_UNIT, zoe)
    assert err.value.message == "Missing permissions for this module"
    assert "ModelDeploy-FullAccess" in str(err.value.hint) and "llm-team" in str(err.value.hint)
    req = deck.request_deploy(ONE_UNIT, jupyter(deck, "alice"))
    with pytest.raises(PermissionDenied) as decided:
        deck.approve(req.id, zoe)  # deciding acts in the module too
    assert decided.value.message == "Missing permissions for this module"
    assert deck.get_request(req.id).decisions == []


def test_a_model_the_workspace_may_not_deploy_gets_model_studios_text(
    make_deck: MakeDeck, sandbox: RunningSandbox
) -> None:
    deck = make_deck(workspace=WORKSPACE)
    spec = DeploySpec(model=PTU, plan="ptu", input_tpm=20000, output_tpm=2000)
    with pytest.raises(PermissionDenied) as err:
        deck.request_deploy(spec, jupyter(deck, "alice"))
    assert err.value.message == (
        "Workspace llm-team does not have deployment privilege for model qwen3-max-2025-09-23."
    )
    assert deck.list_requests() == [] and sandbox_deployments(sandbox) == []


def test_the_exact_texts_travel_over_rest(make_deck: MakeDeck) -> None:
    """A notebook in team mode sees the same class and the same words."""
    from modeldeck.server import create_app

    deck = make_deck(principals=[], workspace={**WORKSPACE, "full_access": ["alice"]})
    with ServerThread(create_app(deck, deck.settings)) as server:
        # Who acts is the token's principal (never the body's), in open mode too.
        remote = RemoteDeck(server.url, token=create_token(deck.store, "alice")[1])
        as_zoe = RemoteDeck(server.url, token=create_token(deck.store, "zoe")[1])
        try:
            alice = remote.resolve_actor("jupyter", "alice")
            spec = DeploySpec(model=PTU, plan="ptu", input_tpm=20000, output_tpm=2000)
            with pytest.raises(PermissionDenied) as model_err:
                remote.request_deploy(spec, alice)
            assert model_err.value.message == (
                "Workspace llm-team does not have deployment privilege for model "
                "qwen3-max-2025-09-23."
            )
            with pytest.raises(PermissionDenied) as access_err:
                as_zoe.request_deploy(ONE_UNIT, as_zoe.resolve_actor("jupyter", "zoe"))
            assert access_err.value.message == "Missing permissions for this module"
        finally:
            remote.close()
            as_zoe.close()
