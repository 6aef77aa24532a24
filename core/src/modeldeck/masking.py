"""Secrets: normalised when loaded, and masked in every form text can carry them in.

A secret read from a mounted file usually ends in a newline; HTTP libraries refuse such a header
and quote it back *escaped* (`...key\\n'`), which a plain `text.replace(key, "***")` misses. So a
secret is stripped when it is loaded (whitespace inside one is refused), and masking replaces
each of its forms: as is, repr/backslash-escaped, JSON-escaped, URL-encoded and base64.

Every secret the settings load is registered here, and a log-record factory masks all
registered secrets in every record (message, arguments and traceback) of the process.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values are not worth masking (and would mask ordinary words).
MIN_SECRET_LENGTH = 6

_registered: set[str] = set()
_lock = threading.Lock()
_installed = False


def normalise(value: str, name: str = "a secret") -> str:
    """The secret without surrounding whitespace; refuse one that is empty or has inner spaces.

    A trailing newline is what a mounted secret file or `echo key > file` leaves: stripped.
    Whitespace or control characters *inside* a key are never valid in an HTTP header, so they
    are refused with a message that names the setting but never shows the value.
    """
    stripped = value.strip()
    if not stripped:
        raise ValueError(f"{name} is empty or only whitespace; set a value or leave it unset")
    if any(ch.isspace() or not ch.isprintable() for ch in stripped):
        raise ValueError(
            f"{name} contains whitespace or control characters inside it (the value is not "
            "shown); check the secret file or variable it comes from"
        )
    return stripped


def _base64_forms(raw: bytes) -> set[str]:
    """Base64 of the secret at each of the three alignments it can have inside a longer value."""
    found: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(b"\0" * offset + raw).decode().rstrip("=")
            # Drop the characters the unknown neighbours change: the first group when shifted,
            # and the last (partial) group.
            start = 4 if offset else 0
            end = len(text) - (len(text) % 4 or 4) if len(text) > 8 else len(text)
            core = text[start:end]
            if len(core) >= MIN_SECRET_LENGTH:
                found.add(core)
    return found


@functools.lru_cache(maxsize=256)
def forms(secret: str) -> frozenset[str]:
    """Every text form `secret` plausibly takes in a message, a log line or a traceback."""
    if len(secret) < MIN_SECRET_LENGTH:
        return frozenset()
    raw = secret.encode("utf-8", "surrogatepass")
    found = {
        secret,
        repr(secret)[1:-1],  # str repr: backslash escapes
        repr(raw)[2:-1],  # bytes repr: b'...'
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],  # JSON string body
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),  # URL-encoded (path, query)
        quote_plus(secret, safe=""),
        raw.hex(),
    }
    found |= _base64_forms(raw)
    return frozenset(form for form in found if len(form) >= MIN_SECRET_LENGTH)


def mask(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every form of every secret (the registered ones if none are given) masked."""
    pool = registered() if secrets is None else set(secrets)
    for form in _all_forms(frozenset(pool)):
        if form in text:
            text = text.replace(form, MASK)
    return text


@functools.lru_cache(maxsize=64)
def _all_forms(pool: frozenset[str]) -> tuple[str, ...]:
    """Every form of every secret in `pool`, longest first (so a longer form masks whole)."""
    return tuple(sorted({f for s in pool for f in forms(s)}, key=len, reverse=True))


def contains_secret(text: str, secrets: Iterable[str] | None = None) -> bool:
    """Whether `text` carries any form of a secret (so it must not be shown or chained)."""
    return mask(text, secrets) != text


def register(secret: str) -> None:
    """Remember a loaded secret, so every log record of this process has it masked."""
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _registered.add(secret)
    install_log_masking()


def registered() -> set[str]:
    with _lock:
        return set(_registered)


def forget_all() -> None:
    """Drop every registered secret (tests that check the unmasked log path use this)."""
    with _lock:
        _registered.clear()


def mask_record(record: logging.LogRecord) -> None:
    """Mask the registered secrets in a log record's message and traceback, in place."""
    pool = registered()
    if not pool:
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: mask its raw parts
        message = f"{record.msg} {record.args}"
    masked = mask(message, pool)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        masked = mask(text, pool)
        if masked != text:  # the traceback carried one: keep only its masked text
            record.exc_info, record.exc_text = None, masked
    if record.exc_text:
        record.exc_text = mask(record.exc_text, pool)
    if record.stack_info:
        record.stack_info = mask(record.stack_info, pool)


def install_log_masking() -> None:
    """Wrap the log-record factory once, so every record is masked as it is created."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    logging.setLogRecordFactory(factory)
