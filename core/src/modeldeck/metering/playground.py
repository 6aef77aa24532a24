"""One prompt to a deployed model through the metered client, as events a surface can show.

`stream_prompt` streams a chat completion (compatible mode, SSE) through a `MeteredClient`, so
the call is recorded and priced like any metered call (and shows in `cost`), and yields
`PlaygroundEvent`s: a `delta` per chunk of the answer, then one `call` with its tokens, latency,
overflow flag and cost. The in-process deck yields them directly; the server sends them as
NDJSON lines (`POST /api/playground`) and `RemoteDeck` reads them back, so the notebook's
playground works the same in both modes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from modeldeck.errors import ValidationFailed
from modeldeck.money import DecimalStr

if TYPE_CHECKING:
    from modeldeck.metering.client import MeteredClient

FLUSH_SECONDS = 10.0  # the recorder stores a call ~0.2 s after it; `cost` then sees it
MAX_PROMPT_CHARS = 20_000


class PlaygroundCall(BaseModel):
    """What one call used and cost: `cost` is PAYG for overflow, 0 within the reservation,
    None when its price is not listed."""

    deployed_model: str
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    overflow: bool = False
    latency_ms: float = 0.0
    cost: DecimalStr | None = None
    request_id: str | None = None
    error: str | None = None


class PlaygroundEvent(BaseModel):
    """A chunk of the answer (`delta`), last the call (`call`); over HTTP, `error` when the
    call failed after the answer had begun (the server can no longer change its status)."""

    delta: str | None = None
    call: PlaygroundCall | None = None
    error: str | None = None


class PlaygroundPrompt(BaseModel):
    """`POST /api/playground`: a prompt for a RUNNING deployment."""

    deployment: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    max_tokens: int = Field(default=256, ge=1, le=32_768)


def stream_prompt(
    client: MeteredClient, deployed_model: str, prompt: str, max_tokens: int
) -> Iterator[PlaygroundEvent]:
    """Stream `prompt` to `deployed_model`; the deltas, then the call as recorded (stored in
    the store before the last event, so a cost query right after includes it)."""
    if not prompt.strip():
        raise ValidationFailed("Type a prompt first.")
    stream = client.stream_chat(
        deployed_model, [{"role": "user", "content": prompt}], max_tokens=max_tokens
    )
    try:
        for chunk in stream:
            for choice in chunk.get("choices") or ():
                delta = (choice.get("delta") or {}).get("content")
                if delta:
                    yield PlaygroundEvent(delta=str(delta))
    finally:
        stream.close()
    record = stream.record
    assert record is not None  # the stream ended: the call is journaled
    client.flush(FLUSH_SECONDS)
    yield PlaygroundEvent(
        call=PlaygroundCall(
            deployed_model=record.deployed_model,
            input_tokens=record.input_tokens,
            output_tokens=record.output_tokens,
            reasoning_tokens=record.reasoning_tokens,
            overflow=record.overflow,
            latency_ms=record.latency_ms,
            cost=record.cost,
            request_id=record.request_id,
            error=record.error,
        )
    )
