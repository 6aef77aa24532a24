"""Images to Slack with the current upload flow (`files.upload` is retired for new apps).

Three steps: `files.getUploadURLExternal` (filename, length) gives an upload URL and a file id;
the bytes are POSTed to that URL; `files.completeUploadExternal` (files=[{id, title}],
channel_id, thread_ts) shares the file in the channel (and thread). Synchronous, for the hooks'
worker threads and `asyncio.to_thread`; the bot token never leaves the Web API client.
"""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass

from slack_sdk import WebClient

from modeldeck.errors import ModeldeckRuntimeError

log = logging.getLogger(__name__)

UPLOAD_TIMEOUT_SECONDS = 30
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class UploadFailed(ModeldeckRuntimeError):
    """Slack did not take the file (the step and Slack's own word are in the message)."""


@dataclass(frozen=True)
class Uploaded:
    """A file shared in a channel: its Slack id and title."""

    file_id: str
    title: str
    channel: str


def upload_png(
    client: WebClient,
    data: bytes,
    *,
    filename: str,
    title: str,
    channel: str,
    thread_ts: str | None = None,
    alt_text: str | None = None,
) -> Uploaded:
    """Upload PNG bytes and share them in `channel` (in `thread_ts`'s thread when given)."""
    if not data.startswith(PNG_MAGIC):
        raise ValueError("upload_png was given bytes that are not a PNG image")
    got = client.files_getUploadURLExternal(
        filename=filename, length=len(data), alt_txt=alt_text[:1000] if alt_text else None
    )
    upload_url, file_id = str(got["upload_url"]), str(got["file_id"])
    _post_bytes(upload_url, data, filename)
    client.files_completeUploadExternal(
        files=[{"id": file_id, "title": title}], channel_id=channel, thread_ts=thread_ts
    )
    return Uploaded(file_id=file_id, title=title, channel=channel)


def _post_bytes(url: str, data: bytes, filename: str) -> None:
    """POST the raw bytes to the URL Slack handed out (it needs no token: it is single-use)."""
    if not url.startswith(("https://", "http://")):
        raise UploadFailed(f"Slack gave an upload URL that is not http(s) for {filename}.")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/octet-stream"}
    )
    try:
        with urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT_SECONDS) as resp:
            status = resp.status
    except OSError as exc:  # urllib's HTTPError is an OSError too
        raise UploadFailed(
            f"Slack refused the bytes of {filename}: {type(exc).__name__}."
        ) from None
    if status != 200:
        raise UploadFailed(f"Slack answered {status} to the bytes of {filename}.")
