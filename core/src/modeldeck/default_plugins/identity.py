"""Default plugin: actors come from `[[principals]]` (trylast: SSO plugins can answer first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modeldeck.hookspecs import hookimpl

if TYPE_CHECKING:
    from modeldeck.domain import Actor, Surface
    from modeldeck.settings import Settings


@hookimpl(trylast=True)
def actor_from_identity(surface: Surface, external_id: str, settings: Settings) -> Actor:
    """The configured principal for the user (open mode: every role), NotLinked otherwise."""
    from modeldeck.identity.principals import principal_actor

    return principal_actor(settings, surface, external_id)
