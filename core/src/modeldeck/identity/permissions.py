"""What each role may do, and Model Studio's workspace and model checks, with its exact texts."""

from __future__ import annotations

from typing import Literal

from modeldeck.domain import Actor
from modeldeck.errors import PermissionDenied
from modeldeck.settings import Settings

Capability = Literal["read", "request", "decide", "configure", "refs"]

ALL_ROLES = ["viewer", "deployer", "approver", "admin", "service"]
# Which roles may do what; admin may do everything a person may. `service` is a surface's own
# identity (the Slack bot's principal): it reads, and alone records where a request is shown.
CAPABILITIES: dict[Capability, set[str]] = {
    "read": {"viewer", "deployer", "approver", "admin", "service"},
    "request": {"deployer", "admin"},
    "decide": {"approver", "admin"},
    "configure": {"admin"},
    "refs": {"service"},
}


def require(actor: Actor, capability: Capability) -> None:
    """Refuse unless one of the actor's roles grants `capability`."""
    allowed = CAPABILITIES[capability]
    if not allowed.intersection(actor.roles):
        need = " or ".join(sorted(allowed))
        raise PermissionDenied(
            f"{actor.principal} may not {capability} (roles: {', '.join(actor.roles) or 'none'}).",
            hint=f"This needs the role {need}; an admin can grant it in modeldeck.toml.",
        )


def require_approver_role(actor: Actor, role: str, request_id: str) -> None:
    """The policy may name the group that decides (`approver_role`); admins always may."""
    if role in actor.roles or "admin" in actor.roles:
        return
    raise PermissionDenied(
        f"{request_id} must be decided by someone with the role {role}; {actor.principal} has "
        f"{', '.join(actor.roles) or 'no role'}.",
        hint=f"Ask a member of {role} (or an admin) to decide it.",
    )


def check_module_access(settings: Settings, actor: Actor) -> None:
    """Model Studio's workspace permission ModelDeploy-FullAccess, with its console text."""
    members = settings.workspace.full_access
    if members is not None and actor.principal not in members:
        raise PermissionDenied(
            "Missing permissions for this module",
            hint=f"{actor.principal} needs ModelDeploy-FullAccess in workspace "
            f"{settings.workspace.id} (workspace.full_access in modeldeck.toml).",
        )


def check_model_privilege(settings: Settings, model: str) -> None:
    """The workspace's per-model deployment privilege, with Model Studio's exact text."""
    allowed = settings.workspace.deployable_models
    if allowed is not None and model.lower() not in {m.lower() for m in allowed}:
        raise PermissionDenied(
            f"Workspace {settings.workspace.id} does not have deployment privilege for model "
            f"{model}."
        )
