"""The fake Slack Web API is strict where Slack is: a lenient fake would hide the bot's bugs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack.fake_slack import FakeSlack

TOKEN = "xoxb-test-fake-token"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def _error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(exc.value.response["error"])


def test_post_then_update_in_place(slack: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0DECK", text="hello")
    assert posted["ok"] and posted["channel"] == "C0DECK"
    client.chat_update(channel="C0DECK", ts=posted["ts"], text="edited")
    msg = slack.message("C0DECK", posted["ts"])
    assert (msg.text, msg.edits) == ("edited", 1)
    assert [c.method for c in slack.calls()] == ["chat.postMessage", "chat.update"]


def test_ephemeral_messages_cannot_be_updated(slack: FakeSlack, client: WebClient) -> None:
    eph = client.chat_postEphemeral(channel="C0DECK", user="U0ALICE", text="only you")
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0DECK", ts=eph["message_ts"], text="nope")
    assert _error(exc) == "message_not_found"


def test_unknown_message_and_foreign_message(slack: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0DECK", ts="1.000001", text="x")
    assert _error(exc) == "message_not_found"
    ts = slack.post_user_message("C0DECK", "U0ALICE", "a person wrote this")
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0DECK", ts=ts, text="x")
    assert _error(exc) == "cant_update_message"


def test_channels_and_auth(slack: FakeSlack) -> None:
    client = WebClient(token=TOKEN, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0NOPE", text="x")
    assert _error(exc) == "channel_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0OTHER", text="x")
    assert _error(exc) == "not_in_channel"
    with pytest.raises(SlackApiError) as exc:
        WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert _error(exc) == "invalid_auth"
    assert client.auth_test()["user_id"] == slack.bot_user_id


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_block_limits(slack: FakeSlack, client: WebClient) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    client.chat_postMessage(channel="C0DECK", text="fine", blocks=[section] * 50)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0DECK", text="too many", blocks=[section] * 51)
    assert _error(exc) == "invalid_blocks"
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0DECK", text="too long", blocks=[long])
    assert _error(exc) == "invalid_blocks"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0DECK")
    assert _error(exc) == "no_text"


def test_trigger_ids_are_single_use(slack: FakeSlack, client: WebClient) -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Deploy"},
        "blocks": [],
    }
    trigger = slack.trigger_id()
    opened = client.views_open(trigger_id=trigger, view=view)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=trigger, view=view)
    assert _error(exc) == "invalid_trigger_id"
    client.views_update(view_id=opened["view"]["id"], view=view)
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=opened["view"]["id"], hash="stale", view=view)
    assert _error(exc) == "hash_conflict"


def test_response_url_accepts_five_posts(slack: FakeSlack) -> None:
    url = slack.response_url()
    codes = [httpx.post(url, json={"text": f"answer {i}"}).status_code for i in range(6)]
    assert codes == [200] * 5 + [404]
    assert httpx.post(slack.url + "/response/never-issued", json={"text": "x"}).status_code == 404
    assert len(slack.responses(url.rsplit("/", 1)[-1])) == 6


def test_unknown_method(slack: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.doesNotExist", json={"x": 1})
    assert _error(exc) == "unknown_method"


def test_file_upload_flow(slack: FakeSlack, client: WebClient) -> None:
    got = client.files_getUploadURLExternal(filename="chart.png", length=len(PNG))
    httpx.post(got["upload_url"], content=PNG)
    done = client.files_completeUploadExternal(files=[{"id": got["file_id"]}], channel_id="C0DECK")
    assert done["files"][0]["id"] == got["file_id"]
    empty = client.files_getUploadURLExternal(filename="never.png", length=1)
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": empty["file_id"]}])
    assert _error(exc) == "file_not_found"


def test_upload_flow_is_strict(slack: FakeSlack, client: WebClient) -> None:
    """Missing or unknown arguments, bytes not (fully) uploaded, a .png that is not a PNG, a
    thread that does not exist and a second completion are refused, as a strict Slack would."""
    with pytest.raises(SlackApiError) as exc:
        client.api_call("files.getUploadURLExternal", params={"filename": "a.png"})
    assert _error(exc) == "invalid_arguments"
    with pytest.raises(SlackApiError) as exc:
        client.files_getUploadURLExternal(filename="a.png", length=3, channel="C0DECK")
    assert _error(exc) == "invalid_arg_name"
    short = client.files_getUploadURLExternal(filename="a.png", length=len(PNG))
    assert httpx.post(short["upload_url"], content=PNG[:4]).status_code == 400
    with pytest.raises(SlackApiError) as exc:  # the bytes never arrived in full
        client.files_completeUploadExternal(files=[{"id": short["file_id"]}], channel_id="C0DECK")
    assert _error(exc) == "file_not_found"
    fake = client.files_getUploadURLExternal(filename="b.png", length=len(PNG))
    httpx.post(fake["upload_url"], content=b"GIF89a" + PNG[6:])
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": fake["file_id"]}], channel_id="C0DECK")
    assert _error(exc) == "invalid_file_type"
    good = client.files_getUploadURLExternal(filename="c.png", length=len(PNG))
    httpx.post(good["upload_url"], content=PNG)
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(
            files=[{"id": good["file_id"]}], channel_id="C0DECK", thread_ts="1.2"
        )
    assert _error(exc) == "invalid_thread_ts"
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(
            files=[{"id": good["file_id"], "name": "x"}], channel_id="C0DECK"
        )
    assert _error(exc) == "invalid_arguments"
    client.files_completeUploadExternal(
        files=[{"id": good["file_id"], "title": "Spend"}], channel_id="C0DECK"
    )
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": good["file_id"]}], channel_id="C0DECK")
    assert _error(exc) == "file_already_completed"
    [shared] = slack.shared_files("C0DECK")
    assert (shared["title"], shared["bytes"]) == ("Spend", PNG)
