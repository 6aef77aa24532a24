"""No secret the suite configures ever shows: logs, Slack traffic, errors, reprs, notebook outputs.

The secrets: the Slack bot token and signing secret of the Slack suite, a DashScope API key, and
the modeldeck API tokens created here. Every log record of the session is scanned as well (see
tests/conftest.py); these tests check the other places a secret could surface, with real traffic.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import nbformat
import pytest
from nbclient import NotebookClient
from pydantic import SecretStr, ValidationError

from modeldeck import masking
from modeldeck.audit import read_audit
from modeldeck.deck import Deck
from modeldeck.domain import RequestStatus
from modeldeck.errors import ConfigError, ModeldeckError
from modeldeck.grammar import parse
from modeldeck.provider.client import ModelStudioClient
from modeldeck.sandbox.testing import RunningSandbox, running_sandbox
from modeldeck.server.client import RemoteDeck
from modeldeck.settings import Settings, load_settings
from modeldeck.testing import Stack
from modeldeck.tokens import create_token
from modeldeck_slack.blocks import APPROVE_ACTION
from tests.slack.fake_slack import FakeSlack
from tests.slack.slack_env import CHANNEL, SlackUser
from tests.slack.slack_wire import SlackSender

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebook.ipynb"
PRINCIPALS = [
    {"name": "alice", "slack_user": "U0ALICE", "jupyter_user": "alice", "roles": ["deployer"]},
    {"name": "bob", "slack_user": "U0BOB", "roles": ["approver"]},
]


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Which secrets occur in `text` (named by their first characters only)."""
    return [s[:6] + "…" for s in secrets if s in text]


# --- the session scan itself ----------------------------------------------------------------


def test_the_session_scan_sees_every_record_and_finds_secrets(
    secret_scanner: Any, suite_secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(masking, "_registered", set())  # records unmasked, as if never loaded
    before = secret_scanner.seen
    logging.getLogger("modeldeck.some.library").debug("an ordinary debug line")
    assert secret_scanner.seen == before + 1  # DEBUG of any logger reaches it

    private = type(secret_scanner)()  # the same check, on a logger of its own
    quiet = logging.getLogger("tests.secret.scan")
    quiet.propagate = False
    quiet.addHandler(private)
    try:
        quiet.warning("connecting with %s", suite_secrets["dashscope_api_key"])
        quiet.info("harmless")
        try:
            raise RuntimeError(f"bad token {suite_secrets['slack_bot_token']}")
        except RuntimeError:
            quiet.exception("failed")  # the traceback is scanned too
        quiet.debug("token mdk_" + "A" * 43)  # any full modeldeck API token
        key = suite_secrets["dashscope_api_key"]
        quiet.error("Illegal header value %r", f"Bearer {key}\n".encode())  # escaped form
        quiet.error("url %s", "https://x/?k=" + quote(key + "/=", safe=""))  # URL-encoded
        quiet.error("basic %s", base64.b64encode(f"user:{key}".encode()).decode())  # base64
    finally:
        quiet.removeHandler(private)
    assert len(private.leaks) == 6 and private.seen == 7
    assert not any(secret in " ".join(private.leaks) for secret in suite_secrets.values())


def test_a_leak_anywhere_in_the_session_fails_the_run(tmp_path: Path) -> None:
    """The session check in tests/conftest.py, loaded as a plugin into a pytest run of its own."""
    (tmp_path / "test_leaky.py").write_text(
        textwrap.dedent(
            """
            import logging

            def test_passes_but_logs_a_key():
                logging.getLogger("some.lib").debug(
                    "key %s", "sk-dashscope-test-7d41c0e9-never-shown"
                )
            """
        )
    )
    tests_dir = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conftest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_leaky.py"),
        ],
        env={**os.environ, "PYTHONPATH": str(tests_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "secrets in log records" in done.stdout and "some.lib DEBUG" in done.stdout
    assert "sk-dashscope-test-7d41c0e9-never-shown" not in done.stdout  # reported, not repeated


# --- errors and reprs -----------------------------------------------------------------------


@pytest.fixture
def strict_sandbox() -> Iterator[RunningSandbox]:
    """A sandbox that accepts only its own key, so the suite's DashScope key is refused."""
    with running_sandbox(api_keys=["sk-the-only-accepted-key"]) as running:
        yield running


def test_a_refused_api_key_shows_in_no_error_text(
    strict_sandbox: RunningSandbox, suite_secrets: dict[str, str], tmp_path: Path
) -> None:
    key = suite_secrets["dashscope_api_key"]
    client = ModelStudioClient(strict_sandbox.base_url, key, max_retries=0)
    try:
        with pytest.raises(ModeldeckError) as err:
            client.list_deployments()
    finally:
        client.close()
    texts = [str(err.value), repr(err.value), err.value.message, str(err.value.hint), repr(client)]
    assert "401" in str(err.value)  # it is the authentication failure
    assert not leaks("\n".join(texts), [key])

    deck = Deck(
        Settings(
            data_dir=tmp_path,
            provider={"api_key": key, "max_retries": 0},
            sandbox={"host": strict_sandbox.server.host, "port": strict_sandbox.server.port},
            policy={"auto_approve_below_usd_per_day": 100_000},
        )
    )
    try:
        result = deck.run(parse("deploy qwen3-32b mu units=1"), deck.resolve_actor("cli", "alice"))
        request = deck.get_request(result.request.id)  # type: ignore[attr-defined]
        audit = json.dumps(read_audit(deck.store), default=str)
    finally:
        deck.close()
    assert request.status == RequestStatus.FAILED and request.error
    assert not leaks("\n".join([result.text, request.model_dump_json(), audit]), [key])


def test_reprs_dumps_and_config_errors_hide_every_secret(
    suite_secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = list(suite_secrets.values())
    settings = Settings(
        provider={"api_key": suite_secrets["dashscope_api_key"]},
        slack={
            "bot_token": suite_secrets["slack_bot_token"],
            "signing_secret": suite_secrets["slack_signing_secret"],
        },
        server={"token": "mdk_" + "x" * 43},
    )
    assert settings.slack.enabled  # the secrets are really there
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    shown += [repr(settings.slack), repr(settings.provider), repr(settings.server)]
    remote = RemoteDeck("http://127.0.0.1:9", "mdk_" + "y" * 43)
    shown.append(repr(remote))
    remote.close()
    assert not leaks("\n".join(shown), [*secrets, "mdk_" + "x" * 43, "mdk_" + "y" * 43])

    monkeypatch.setenv("DASHSCOPE_API_KEY", suite_secrets["dashscope_api_key"])
    monkeypatch.setenv("SLACK_BOT_TOKEN", suite_secrets["slack_bot_token"])
    monkeypatch.setenv("MODELDECK_PROVIDER__TIMEOUT_SECONDS", "soon")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "timeout_seconds" in str(err.value)
    assert not leaks(str(err.value) + repr(err.value), secrets)


# --- a whole team setup: Slack, REST, audit and a notebook ----------------------------------


@pytest.mark.slow
def test_slack_rest_audit_and_notebook_outputs_carry_no_secret(
    suite_secrets: dict[str, str], tmp_path: Path
) -> None:
    key = suite_secrets["dashscope_api_key"]
    with (
        FakeSlack(bot_token=suite_secrets["slack_bot_token"]) as fake,
        Stack(
            slack={
                "bot_token": suite_secrets["slack_bot_token"],
                "signing_secret": suite_secrets["slack_signing_secret"],
                "api_url": fake.api_url,
                "channel": CHANNEL,
            },
            principals=PRINCIPALS,
            provider={"api_key": key},
            sandbox_options={"api_keys": [key]},
        ) as stack,
    ):
        assert stack.deck is not None
        _, alice_token = create_token(stack.deck.store, "alice")
        sender = SlackSender(stack.server_url, suite_secrets["slack_signing_secret"])
        try:
            alice = SlackUser("U0ALICE", sender, fake)
            bob = SlackUser("U0BOB", sender, fake)
            said = [alice.answer("deploy qwen3-32b mu units=1 reason=secrets")]
            card = fake.wait_for_call("chat.postMessage", lambda c: not c.args.get("thread_ts"))
            ts = str(card.response["ts"])
            rid = card.args["blocks"][-1]["elements"][0]["value"]
            assert bob.click(APPROVE_ACTION, rid, CHANNEL, ts).status_code == 200
            fake.wait_for_call("chat.update", lambda c: "(executed)" in str(c.args.get("text")))
        finally:
            sender.close()
        headers = {"Authorization": f"Bearer {alice_token}"}
        rest = [
            httpx.get(f"{stack.server_url}{path}", headers=headers).text
            for path in ("/api/requests", "/api/deployments", "/metrics", "/openapi.json")
        ]
        rest.append(httpx.get(f"{stack.server_url}/api/requests").text)  # refused: no token
        audit = json.dumps(read_audit(stack.deck.store), default=str)

        outputs = run_notebook(
            tmp_path,
            {
                **os.environ,
                **stack.env,
                "MODELDECK_SERVER__TOKEN": alice_token,
                "JUPYTERHUB_USER": "alice",
                "DASHSCOPE_API_KEY": key,
                "SLACK_BOT_TOKEN": suite_secrets["slack_bot_token"],
                "SLACK_SIGNING_SECRET": suite_secrets["slack_signing_secret"],
            },
        )
        recorded = fake.everything_recorded()

    assert rid in recorded and "RemoteDeck(" in outputs and "SecretStr(" in outputs
    secrets = [*suite_secrets.values(), alice_token]
    assert not leaks(recorded, secrets), "a secret reached Slack"
    assert not leaks("\n".join(said + rest), secrets), "a secret was answered"
    assert not leaks(audit, secrets), "a secret is in the audit log"
    assert not leaks(outputs, secrets), "a secret is in a notebook output"


def run_notebook(tmp_path: Path, env: dict[str, str]) -> str:
    """Run docs/notebook.ipynb, plus the cells people type to see where they are connected."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("panel.connection"))
    nb.cells.append(
        nbformat.v4.new_code_cell("from modeldeck.settings import load_settings\nload_settings()")
    )
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        store_widget_state=True,
    )
    client.execute(env=env)
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, errors
    return nbformat.writes(nb)  # every output and the stored widget state


# --- a key that ends in a newline (a mounted secret file) -----------------------------------


def test_a_key_with_a_trailing_newline_is_stripped_when_loaded_and_never_shown(
    suite_secrets: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The finding: `key\\n` was refused by the HTTP library, whose escaped quote of the header
    escaped the masking into the request error, the audit, REST, `audit --jsonl` and the log."""
    key = suite_secrets["dashscope_api_key"]
    caplog.set_level(logging.DEBUG)
    with Stack(
        provider={"api_key": key + "\n"},
        sandbox_options={"api_keys": [key]},
        policy={"auto_approve_below_usd_per_day": 100_000},
    ) as stack:
        assert stack.deck is not None and stack.settings is not None
        assert stack.settings.provider.api_key is not None
        assert stack.settings.provider.api_key.get_secret_value() == key  # stripped on load
        command = parse("deploy qwen3-32b mu units=1")
        result = stack.deck.run(command, stack.deck.resolve_actor("cli", "a"))
        request = stack.deck.get_request(result.request.id)  # type: ignore[attr-defined]
        rest = httpx.get(f"{stack.server_url}/api/requests").text
        audit = json.dumps(read_audit(stack.deck.store), default=str)
        jsonl = subprocess.run(
            [sys.executable, "-m", "modeldeck", "audit", "--jsonl"],
            env={**os.environ, **stack.env},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert request.status == RequestStatus.EXECUTED, request.error  # the key works
    assert jsonl.returncode == 0, jsonl.stderr
    shown = "\n".join([result.text, request.model_dump_json(), rest, audit, jsonl.stdout])
    assert not masking.contains_secret(shown + caplog.text, [key])


def test_a_secret_with_whitespace_inside_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-two words-in-one-key")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "provider.api_key" in str(err.value) and "whitespace" in str(err.value)
    assert "words" not in str(err.value)
    with pytest.raises(ValidationError) as raw:  # even the raw pydantic error hides the input
        Settings(slack={"bot_token": "xoxb-a\tb-c"})
    assert "xoxb" not in str(raw.value)


def test_masking_covers_escaped_bytes_json_url_and_base64_forms() -> None:
    key = "sk-Ab/c+d=e\"quote'ü-0123"
    texts = {
        "raw": f"key {key}",
        "repr": repr(f"Bearer {key}\n"),
        "bytes": repr(f"Bearer {key}\n".encode()),
        "json": json.dumps({"header": f"Bearer {key}\n"}),
        "url": "https://h/p?api_key=" + quote(key, safe=""),
        "url_plus": "a=" + quote(key, safe="").replace("%20", "+"),
        "base64": base64.b64encode(f"Bearer {key}".encode()).decode(),
        "base64_shifted": base64.b64encode(f"x:{key}".encode()).decode(),
        "urlsafe_base64": base64.urlsafe_b64encode(f"ab{key}".encode()).decode(),
        "hex": key.encode().hex(),
    }
    for name, text in texts.items():
        assert masking.contains_secret(text, [key]), name
        assert masking.MASK in masking.mask(text, [key]), name
    assert masking.mask("nothing secret here", [key]) == "nothing secret here"


def test_a_client_given_a_newline_key_masks_it_in_errors_and_their_chain(
    strict_sandbox: RunningSandbox,
) -> None:
    """Even a key that bypasses the settings (built in code) never shows, escaped or chained."""
    key = "sk-built-in-code-5f0c2a71"
    client = ModelStudioClient(strict_sandbox.base_url, SecretStr(key + "\n"), max_retries=0)
    try:
        with pytest.raises(ModeldeckError) as err:
            client.list_deployments()
    finally:
        client.close()
    chain = "".join(traceback.format_exception(err.value))
    assert not masking.contains_secret(chain + repr(err.value) + str(err.value), [key])


def test_every_log_record_masks_registered_secrets_in_messages_and_exception_chains() -> None:
    """A secret the settings loaded is masked in any record, escaped or deep in a chain."""
    key = "sk-loaded-by-settings-93ac1e"
    Settings(provider={"api_key": key + "\n"})  # loading registers it
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    quiet = logging.getLogger("tests.secret.masking")
    quiet.propagate = False
    quiet.addHandler(keep := Keep())
    try:
        quiet.error("header %r", f"Bearer {key}\n".encode())
        try:
            try:
                raise ValueError(f"Illegal header value {f'Bearer {key}'.encode()!r}")
            except ValueError as inner:
                raise RuntimeError("the call failed") from inner
        except RuntimeError:
            quiet.exception("wrapped")
    finally:
        quiet.removeHandler(keep)
    formatter = logging.Formatter()
    texts = [formatter.format(record) for record in seen]
    assert len(texts) == 2 and masking.MASK in texts[0] and "the call failed" in texts[1]
    assert "Illegal header value" in texts[1]  # the chain is kept, only the key is masked
    assert not masking.contains_secret("\n".join(texts), [key])
