"""Identity: principals and actors, what each role may do, and personal API tokens."""

from modeldeck.identity.permissions import (
    ALL_ROLES,
    CAPABILITIES,
    Capability,
    check_model_privilege,
    check_module_access,
    require,
    require_approver_role,
)
from modeldeck.identity.principals import (
    actor_for_principal,
    local_user,
    principal_actor,
    resolve_actor,
)

__all__ = [
    "ALL_ROLES",
    "CAPABILITIES",
    "Capability",
    "actor_for_principal",
    "check_model_privilege",
    "check_module_access",
    "local_user",
    "principal_actor",
    "require",
    "require_approver_role",
    "resolve_actor",
]
