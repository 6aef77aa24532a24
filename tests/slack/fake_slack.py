"""A strict local fake of the Slack Web API and of response_url, recording every call.

It runs on 127.0.0.1 with `modeldeck.serving.ServerThread`, answers `POST /api/<method>` with
Slack-shaped JSON and fails where real Slack fails (bad token, unknown channel, bot not in the
channel, `chat.update` of an ephemeral or unknown message, more than 50 blocks, an expired or
reused trigger id, a response_url used more than 5 times), so a lenient fake cannot hide a bug.
Reusable by any suite: `with FakeSlack(bot_token="xoxb-...") as slack: slack.api_url`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from modeldeck.serving import ServerThread

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_TEXT = 40000
MAX_RESPONSES_PER_URL = 5


@dataclass
class Call:
    """One Web API call as the fake saw it (the Authorization header is checked, not stored)."""

    method: str
    args: dict[str, Any]
    raw_body: str
    ok: bool
    error: str | None
    response: dict[str, Any]
    authorized: bool
    team: str | None = None  # the workspace whose token made the call


@dataclass
class ResponseUrlPost:
    """One POST to a response_url the fake handed out."""

    key: str
    body: dict[str, Any]
    raw_body: str
    headers: dict[str, str]
    accepted: bool


@dataclass
class Message:
    """A message the fake holds, so updates can be checked against what exists."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    ephemeral_for: str | None = None
    bot: bool = True
    edits: int = 0


@dataclass
class FakeSlackState:
    """Everything recorded, guarded by one lock."""

    calls: list[Call] = field(default_factory=list)
    responses: list[ResponseUrlPost] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    home: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


class SlackError(Exception):
    """A Slack API error answer: `{"ok": false, "error": code}`."""

    def __init__(self, code: str, status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class FakeSlack:
    """The fake workspace: one bot, some users, some channels (the bot is a member of some)."""

    def __init__(
        self,
        bot_token: str = "xoxb-fake-bot-token",
        *,
        app_token: str | None = None,
        channels: dict[str, bool] | None = None,
        users: dict[str, str] | None = None,
        team_id: str = "T0MODELDECK",
        bot_user_id: str = "U0BOT",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        # channel id -> whether the bot is a member
        self.channels = channels if channels is not None else {"C0DECK": True, "C0OTHER": False}
        self.users = users if users is not None else {"U0ALICE": "alice", "U0BOB": "bob"}
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.state = FakeSlackState()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._seq = itertools.count(1)
        self._triggers: dict[str, float] = {}
        self._response_keys: set[str] = set()
        # the bot's direct messages (conversations.open): channel id -> user
        self.dms: dict[str, str] = {}
        # bot tokens by workspace (an OAuth install adds one per team): token -> team id
        self.tokens: dict[str, str] = {bot_token: team_id}
        self.oauth_client: tuple[str, str] | None = None
        self._codes: dict[str, str] = {}
        self._team: str | None = None
        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["POST", "GET"]),
                Route("/response/{key}", self._response_url, methods=["POST"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
            ]
        )
        self._server: ServerThread | None = None
        # where apps.connections.open sends a Socket Mode client (see fake_socket_mode.py)
        self.socket_url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._server = ServerThread(self.app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeSlack is not started"
        return self._server.url

    @property
    def api_url(self) -> str:
        """What to pass as `base_url` to WebClient / AsyncWebClient."""
        return f"{self.url}/api/"

    # -- helpers for tests -----------------------------------------------------------------

    def response_url(self, key: str | None = None) -> str:
        """A fresh response_url pointing at this fake (accepted at most 5 times)."""
        key = key or f"R{next(self._seq):06d}"
        with self._lock:
            self._response_keys.add(key)
        return f"{self.url}/response/{key}"

    def trigger_id(self) -> str:
        """A trigger id valid for 3 seconds and a single views.open, as Slack issues them."""
        trigger = f"{next(self._seq)}.{int(time.time())}.fake"
        with self._lock:
            self._triggers[trigger] = time.monotonic() + 3.0
        return trigger

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.state.calls
                if (method is None or c.method == method) and (ok is None or c.ok == ok)
            ]

    def responses(self, key: str | None = None) -> list[ResponseUrlPost]:
        with self._lock:
            return [r for r in self.state.responses if key is None or r.key == key]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            return self.state.messages[(channel, ts)]

    def channel_messages(self, channel: str, *, thread_ts: str | None = None) -> list[Message]:
        with self._lock:
            return [
                m
                for m in self.state.messages.values()
                if m.channel == channel and m.ephemeral_for is None and m.thread_ts == thread_ts
            ]

    def opened_view(self, callback_id: str) -> dict[str, Any]:
        """The latest modal with this callback_id that views.open or views.update left."""
        with self._lock:
            found = [v for v in self.state.views.values() if v.get("callback_id") == callback_id]
        if not found:
            raise AssertionError(f"no modal {callback_id!r} was opened")
        return found[-1]

    def dm_messages(self, user: str) -> list[Message]:
        """What the bot said to `user` in their direct message (opened with conversations.open)."""
        channel = dm_channel(user)
        with self._lock:
            if channel not in self.dms:
                return []
            return [m for m in self.state.messages.values() if m.channel == channel]

    def post_user_message(self, channel: str, user: str, text: str) -> str:
        """A message written by a person (the bot may not edit it)."""
        with self._cond:
            ts = self._next_ts()
            self.state.messages[(channel, ts)] = Message(channel, ts, user, text, [], bot=False)
            return ts

    def wait_for(
        self, predicate: Callable[[FakeSlack], Any], *, timeout: float = 15.0, what: str = ""
    ) -> Any:
        """Wait until `predicate(self)` is truthy (returned); fail with what was recorded."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with self._lock:
                    recorded = [(c.method, c.ok, c.error) for c in self.state.calls]
                    posts = [r.body for r in self.state.responses]
                raise AssertionError(
                    f"fake Slack never saw {what or predicate!r}; "
                    f"calls: {recorded}; response_url posts: {posts}"
                )
            with self._cond:
                self._cond.wait(min(remaining, 0.2))

    def wait_for_call(
        self, method: str, where: Callable[[Call], bool] = lambda c: True, **kw: Any
    ) -> Call:
        """The first successful call of `method` matching `where`, waiting for it."""
        found: Call = self.wait_for(
            lambda s: next((c for c in s.calls(method, ok=True) if where(c)), None),
            what=f"a successful {method}",
            **kw,
        )
        return found

    def wait_for_response(self, key_or_url: str, **kw: Any) -> ResponseUrlPost:
        key = key_or_url.rsplit("/", 1)[-1]
        found: ResponseUrlPost = self.wait_for(
            lambda s: next(iter(s.responses(key)), None), what=f"a post to response_url {key}", **kw
        )
        return found

    def everything_recorded(self) -> str:
        """All recorded bodies and headers as one string (for leak checks)."""
        with self._lock:
            parts = [
                c.raw_body + json.dumps(c.args) + json.dumps(c.response) for c in self.state.calls
            ]
            parts += [r.raw_body + json.dumps(r.headers) for r in self.state.responses]
            parts += [json.dumps(v) for v in self.state.views.values()]
            parts += [m.text + json.dumps(m.blocks) for m in self.state.messages.values()]
        return "\n".join(parts)

    # -- HTTP endpoints --------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        raw = (await request.body()).decode("utf-8", errors="replace")
        args = _parse_args(request, raw)
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else str(args.get("token", ""))
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        status = 200
        team = None
        try:
            if handler is None:
                raise SlackError("unknown_method", 404)
            if method == "oauth.v2.access":
                self._check_client(auth, args)
            elif not token:
                raise SlackError("not_authed")
            elif method == "apps.connections.open":
                if token != self.app_token:
                    raise SlackError("invalid_auth")
            else:
                team = self.tokens.get(token)
                if team is None:
                    raise SlackError("invalid_auth")
            with self._cond:
                self._team = team
                body = handler(args)
            body = {"ok": True, **body}
        except SlackError as exc:
            body = {"ok": False, "error": exc.code}
            status = exc.status
        call = Call(
            method=method,
            args=args,
            raw_body=raw,
            ok=bool(body["ok"]),
            error=body.get("error"),
            response=body,
            authorized=bool(token) and body.get("error") not in ("invalid_auth", "not_authed"),
            team=team,
        )
        with self._cond:
            self.state.calls.append(call)
            self._cond.notify_all()
        return JSONResponse(body, status_code=status)

    async def _response_url(self, request: Request) -> Response:
        key = request.path_params["key"]
        raw = (await request.body()).decode("utf-8", errors="replace")
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {"_unparsed": raw}
        with self._cond:
            known = key in self._response_keys
            used = sum(1 for r in self.state.responses if r.key == key and r.accepted)
            accepted = known and used < MAX_RESPONSES_PER_URL and isinstance(body, dict)
            if accepted and isinstance(body, dict):
                _check_text_and_blocks(body, MAX_BLOCKS_MESSAGE, need_content=True, ok_raise=False)
            self.state.responses.append(
                ResponseUrlPost(key, body, raw, _safe_headers(request), accepted)
            )
            self._cond.notify_all()
        if not known:
            return PlainTextResponse("no_such_url", status_code=404)
        if not accepted:
            return PlainTextResponse("used_url", status_code=404)
        return PlainTextResponse("ok")

    async def _upload(self, request: Request) -> Response:
        """The upload URL of files.getUploadURLExternal: the declared number of bytes, once."""
        file_id = request.path_params["file_id"]
        data = await request.body()
        with self._cond:
            meta = self.state.files.get(file_id)
            if meta is None:
                return PlainTextResponse("file_not_found", status_code=404)
            if meta["uploaded"] is not None:
                return PlainTextResponse("already_uploaded", status_code=400)
            if len(data) != meta["length"]:
                return PlainTextResponse("length_mismatch", status_code=400)
            meta["uploaded"] = len(data)
            meta["bytes"] = data
            self._cond.notify_all()
        return PlainTextResponse(f"OK - {len(data)}")

    # -- Web API methods (called with the lock held) ---------------------------------------

    def _next_ts(self) -> str:
        n = next(self._seq)
        return f"{1_700_000_000 + n}.{n:06d}"

    def _channel(self, args: dict[str, Any], *, member: bool = True) -> str:
        channel = str(args.get("channel") or "")
        if not channel or channel not in self.channels:
            raise SlackError("channel_not_found")
        if member and not self.channels[channel]:
            raise SlackError("not_in_channel")
        return channel

    def enable_oauth(self, client_id: str, client_secret: str) -> None:
        """Accept oauth.v2.access for this app's client id and secret (HTTP Basic auth)."""
        self.oauth_client = (client_id, client_secret)

    def issue_oauth_code(self, team_id: str) -> str:
        """What Slack's consent screen hands back to the redirect URL: a one-time code."""
        code = f"code-{team_id}-{next(self._seq)}"
        with self._lock:
            self._codes[code] = team_id
        return code

    def _check_client(self, auth: str, args: dict[str, Any]) -> None:
        import base64

        if self.oauth_client is None:
            raise SlackError("invalid_client_id")
        given = (str(args.get("client_id") or ""), str(args.get("client_secret") or ""))
        if auth.lower().startswith("basic "):
            raw = base64.b64decode(auth[6:]).decode()
            given = (raw.split(":", 1)[0], raw.split(":", 1)[-1])
        if given[0] != self.oauth_client[0]:
            raise SlackError("invalid_client_id")
        if given[1] != self.oauth_client[1]:
            raise SlackError("bad_client_secret")

    def _m_oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        """Exchange a code (once) for the installing workspace's bot token."""
        team = self._codes.pop(str(args.get("code") or ""), None)
        if team is None:
            raise SlackError("invalid_code")
        token = f"xoxb-{team}-{next(self._seq)}-installed-bot-token"
        self.tokens[token] = team
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write,im:write,files:write,users:read",
            "bot_user_id": f"U0BOT{team[-3:]}",
            "app_id": "A0MODELDECK",
            "team": {"id": team, "name": f"team {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0ALICE"},
        }

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = self._team or self.team_id
        return {
            "url": "https://modeldeck-fake.slack.com/",
            "team": "modeldeck fake",
            "user": "modeldeck",
            "team_id": team,
            "user_id": self.bot_user_id,
            "bot_id": "B0BOT",
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.socket_url is None:
            raise SlackError("socket_mode_not_enabled")
        return {"url": self.socket_url}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        blocks = _check_text_and_blocks(args, MAX_BLOCKS_MESSAGE, need_content=True)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and (channel, str(thread_ts)) not in self.state.messages:
            raise SlackError("thread_not_found")
        ts = self._next_ts()
        msg = Message(
            channel,
            ts,
            self.bot_user_id,
            str(args.get("text") or ""),
            blocks,
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.state.messages[(channel, ts)] = msg
        return {"channel": channel, "ts": ts, "message": _message_json(msg)}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args, member=False)
        ts = str(args.get("ts") or "")
        msg = self.state.messages.get((channel, ts))
        if msg is None or msg.ephemeral_for is not None:
            raise SlackError("message_not_found")
        if not msg.bot:
            raise SlackError("cant_update_message")
        blocks = _check_text_and_blocks(args, MAX_BLOCKS_MESSAGE, need_content=True)
        msg.text = str(args.get("text") or "")
        msg.blocks = blocks
        msg.edits += 1
        return {"channel": channel, "ts": ts, "text": msg.text, "message": _message_json(msg)}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args, member=False)
        user = str(args.get("user") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        blocks = _check_text_and_blocks(args, MAX_BLOCKS_MESSAGE, need_content=True)
        ts = self._next_ts()
        msg = Message(
            channel, ts, self.bot_user_id, str(args.get("text") or ""), blocks, ephemeral_for=user
        )
        self.state.messages[(channel, ts)] = msg
        return {"message_ts": ts}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """The bot's direct message with one user (`users=U...`); its id is stable."""
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_enough_users")  # a group DM is not what the bot opens
        if users[0] not in self.users:
            raise SlackError("user_not_found")
        channel = dm_channel(users[0])
        self.channels[channel] = True
        self.dms[channel] = users[0]
        return {"channel": {"id": channel, "is_im": True, "user": users[0]}}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args, member=False)
        ts = str(args.get("message_ts") or "")
        msg = self.state.messages.get((channel, ts))
        if msg is None or msg.ephemeral_for is not None:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": permalink(self.url, channel, ts)}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        expires = self._triggers.pop(trigger, None)
        if expires is None:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() > expires:
            raise SlackError("expired_trigger_id")
        view = _check_view(args.get("view"), "modal")
        view_id = f"V{next(self._seq):08d}"
        stored = {**view, "id": view_id, "hash": f"h{next(self._seq)}"}
        self.state.views[view_id] = stored
        return {"view": stored}

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        external = args.get("external_id")
        current = None
        if view_id:
            current = self.state.views.get(str(view_id))
        elif external:
            current = next(
                (v for v in self.state.views.values() if v.get("external_id") == external), None
            )
        if current is None:
            raise SlackError("not_found")
        if args.get("hash") is not None and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = _check_view(args.get("view"), "modal")
        stored = {**view, "id": current["id"], "hash": f"h{next(self._seq)}"}
        self.state.views[current["id"]] = stored
        return {"view": stored}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        view = _check_view(args.get("view"), "home")
        stored = {**view, "id": f"V{next(self._seq):08d}", "hash": f"h{next(self._seq)}"}
        self.state.home[user] = stored
        return {"view": stored}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        return {"user": {"id": user, "name": self.users[user], "team_id": self.team_id}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        _only(args, required={"filename", "length"}, optional={"alt_txt", "snippet_type"})
        name = str(args["filename"])
        try:
            length = int(args["length"])
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None
        if not name or length <= 0:
            raise SlackError("invalid_arguments")
        file_id = f"F{next(self._seq):08d}"
        self.state.files[file_id] = {
            "filename": name,
            "length": length,
            "uploaded": None,
            "bytes": b"",
            "completed": False,
            "alt_txt": args.get("alt_txt"),
        }
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        """Strict: known args only, the bytes uploaded before, a PNG is a PNG, shared once."""
        _only(
            args,
            required={"files"},
            optional={"channel_id", "channels", "thread_ts", "initial_comment", "blocks"},
        )
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except json.JSONDecodeError:
                raise SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel = args.get("channel_id")
        if channel:
            self._channel({"channel": channel})
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and (
            not channel or (str(channel), str(thread_ts)) not in self.state.messages
        ):
            raise SlackError("invalid_thread_ts")
        out = []
        for item in files:
            if not isinstance(item, dict) or set(item) - {"id", "title"} or "id" not in item:
                raise SlackError("invalid_arguments")
            meta = self.state.files.get(str(item["id"]))
            if meta is None or meta["uploaded"] is None:
                raise SlackError("file_not_found")
            if meta["completed"]:
                raise SlackError("file_already_completed")
            if str(meta["filename"]).lower().endswith(".png") and not bytes(
                meta["bytes"]
            ).startswith(b"\x89PNG\r\n\x1a\n"):
                raise SlackError("invalid_file_type")
            out.append({"id": item["id"], "title": item.get("title") or meta["filename"]})
        for item in files:
            meta = self.state.files[str(item["id"])]
            meta.update(
                completed=True,
                channel=str(channel) if channel else None,
                thread_ts=str(thread_ts) if thread_ts else None,
                title=item.get("title") or meta["filename"],
            )
        return {"files": out}

    def shared_files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files completed (shared) so far, in `channel` when given: filename, title, bytes."""
        with self._lock:
            return [
                dict(m)
                for m in self.state.files.values()
                if m.get("completed") and (channel is None or m.get("channel") == channel)
            ]


# -- validation helpers ----------------------------------------------------------------------


def _only(args: dict[str, Any], *, required: set[str], optional: set[str]) -> None:
    """Real Slack refuses a method call missing an argument; the fake also refuses unknown ones
    (a typo Slack would silently ignore is a bug the bot should not ship)."""
    given = {k for k, v in args.items() if v not in (None, "")}
    if required - given:
        raise SlackError("invalid_arguments")
    if given - required - optional:
        raise SlackError("invalid_arg_name")


def dm_channel(user: str) -> str:
    """The id of the bot's direct message with `user` (Slack's start with D)."""
    return "D" + user[1:]


def permalink(base: str, channel: str, ts: str) -> str:
    """A message's permalink the way Slack shapes it (`p` + the ts without its dot)."""
    return f"{base}/archives/{channel}/p{ts.replace('.', '')}"


def _parse_args(request: Request, raw: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if "json" in ctype and raw:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SlackError("invalid_json") from exc
        if isinstance(parsed, dict):
            args.update(parsed)
    elif raw and "multipart" not in ctype:
        args.update(dict(parse_qsl(raw, keep_blank_values=True)))
    for key in ("blocks", "view", "attachments"):
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except json.JSONDecodeError as exc:
                raise SlackError(f"invalid_{key}") from exc
    return args


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _check_blocks(blocks: Any, limit: int) -> list[dict[str, Any]]:
    """The block checks Slack makes and that slack_sdk does not all make on its own."""
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackError("invalid_blocks")
    seen: set[str] = set()
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            raise SlackError("invalid_blocks")
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen or len(str(block_id)) > 255:
                raise SlackError("invalid_blocks")
            seen.add(str(block_id))
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                raise SlackError("invalid_blocks")
            if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
                raise SlackError("invalid_blocks")
            fields = block.get("fields") or []
            if len(fields) > 10 or any(len(_text_of(f)) > 2000 for f in fields):
                raise SlackError("invalid_blocks")
        elif kind == "header":
            if len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
                raise SlackError("invalid_blocks")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                raise SlackError("invalid_blocks")
            for el in elements:
                if el.get("type") == "button":
                    if len(_text_of(el.get("text"))) > MAX_BUTTON_TEXT:
                        raise SlackError("invalid_blocks")
                    if len(str(el.get("value", ""))) > 2000:
                        raise SlackError("invalid_blocks")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                raise SlackError("invalid_blocks")
    return blocks


def _check_text_and_blocks(
    args: dict[str, Any], limit: int, *, need_content: bool, ok_raise: bool = True
) -> list[dict[str, Any]]:
    blocks = args.get("blocks")
    text = args.get("text")
    try:
        if need_content and not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if text is not None and len(str(text)) > MAX_TEXT:
            raise SlackError("msg_too_long")
        return _check_blocks(blocks, limit) if blocks is not None else []
    except SlackError:
        if ok_raise:
            raise
        return []


def _check_view(view: Any, kind: str) -> dict[str, Any]:
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackError("invalid_arguments")
    if kind == "modal":
        title = view.get("title")
        if not isinstance(title, dict) or not 0 < len(_text_of(title)) <= 24:
            raise SlackError("invalid_arguments")
    _check_blocks(view.get("blocks", []), MAX_BLOCKS_VIEW)
    return view


def _message_json(msg: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "user": msg.user,
        "bot_id": "B0BOT" if msg.bot else None,
        "text": msg.text,
        "blocks": msg.blocks,
        "ts": msg.ts,
        "thread_ts": msg.thread_ts,
    }


def _safe_headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
