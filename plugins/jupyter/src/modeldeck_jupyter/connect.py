"""Pick the deck a notebook talks to: a modeldeck server (team mode) or the core in-process.

`server=` or `MODELDECK_SERVER__URL` selects the server's REST API through `RemoteDeck`; otherwise
the core runs in the kernel (`Deck.from_settings`: SQLite and the embedded sandbox by default,
started in the kernel when nothing serves it yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from modeldeck.api import DeckAPI
from modeldeck.errors import ConfigError, PermissionDenied, UserError
from modeldeck.settings import Settings, load_settings


@dataclass(frozen=True)
class Connection:
    """A deck plus a human description of where it is (never containing a secret)."""

    deck: DeckAPI
    target: str
    remote: bool


def notebook_user() -> str:
    """The notebook user, as core names it: JUPYTERHUB_USER, MODELDECK_USER, or the OS user."""
    from modeldeck.identity import local_user

    try:
        return local_user()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        return "unknown"


def _principal(deck: DeckAPI, user: str) -> str | None:
    """The principal `user` maps to on `deck`, or None when it maps to none."""
    try:
        return deck.resolve_actor("jupyter", user).principal
    except UserError:
        return None


def checked_user(connection: Connection | None, user: str | None) -> str:
    """Who this notebook acts as: the notebook user, or `user` when that cannot impersonate.

    In-process with `[[principals]]` configured, `user=` may only name the notebook user's own
    principal (JUPYTERHUB_USER or the OS user); a server decides identity by its token instead.
    """
    own = notebook_user()
    if user is None or user == own or connection is None or connection.remote:
        return user or own
    settings = getattr(connection.deck, "settings", None)
    if not getattr(settings, "principals", None):
        return user  # open mode (no principals): single user and demos
    theirs = _principal(connection.deck, user)
    if theirs is None or theirs == _principal(connection.deck, own):
        return user  # an unlinked name acts as nobody; the same principal is no impersonation
    raise PermissionDenied(
        f"user={user!r} would act as principal {theirs!r}, but this kernel's notebook user is "
        f"{own!r} and principals are configured: in-process, identity is the notebook user's.",
        hint="Leave user= out to act as yourself, or connect to the team server with a token "
        "of that principal (server=..., token=...).",
    )


def check_server_url(url: str) -> str:
    """Return `url` without a trailing slash, or explain what a server URL must look like."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"The modeldeck server URL {public_url(text)!r} is not an http(s) URL.",
            hint="Pass server='http://host:port' or set MODELDECK_SERVER__URL to the server's "
            "address, e.g. http://127.0.0.1:8765.",
        )
    if parts.username or parts.password:
        raise ConfigError(
            "The modeldeck server URL must not carry credentials.",
            hint="Put the token in token=... or MODELDECK_SERVER__TOKEN instead.",
        )
    return text.rstrip("/")


def public_url(url: str) -> str:
    """The URL with any user:password part removed, safe to show."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def describe(deck: DeckAPI) -> Connection:
    """A Connection for a deck the caller built (a RemoteDeck counts as remote)."""
    from modeldeck.server.client import RemoteDeck

    if isinstance(deck, RemoteDeck):
        return Connection(deck, f"server {public_url(deck.url)}", True)
    return Connection(deck, f"in-process ({type(deck).__name__})", False)


def connect(
    server: str | None = None,
    token: str | None = None,
    settings: Settings | None = None,
) -> Connection:
    """The deck for this notebook: remote if a server URL is given or configured, else local."""
    settings = settings or load_settings()
    url = server if server is not None else settings.server.url
    if url:
        from modeldeck.server.client import RemoteDeck

        checked = check_server_url(url)
        if token is None and settings.server.token is not None:
            token = settings.server.token.get_secret_value()
        return Connection(RemoteDeck(checked, token=token), f"server {checked}", True)

    from modeldeck.deck import Deck

    if settings.uses_sandbox:
        from modeldeck_jupyter.embedded import ensure_sandbox

        where = ensure_sandbox(settings)
    else:
        where = f"Model Studio, {settings.provider.region} region"
    return Connection(Deck.from_settings(settings), f"in-process ({where})", False)
