"""Metering: call deployed models through a client that records every call's usage and cost.

`MeteredClient` / `AsyncMeteredClient` call a deployed model OpenAI-compatibly and record, per
call, the deployment, tokens (input, output, reasoning, cached), the PTU overflow flag, latency,
request id, status or error, and the overflow cost from the billing engine. Records are
journaled before the call returns and stored in batches by a background writer (`Recorder`), so
metering neither slows calls down nor loses records when the process is killed. The writer keeps
per-deployment, per-minute roll-ups (`usage_minutes`); `rollup` rebuilds them and `minute_stats`
reads them (the TPM statistics).
"""

from modeldeck.metering.client import (
    AsyncChatStream,
    AsyncMeteredClient,
    ChatResult,
    ChatStream,
    MeteredClient,
)
from modeldeck.metering.lookup import CachedLookup, StoreDeployments
from modeldeck.metering.persist import write_batch
from modeldeck.metering.pricing import OverflowPricer
from modeldeck.metering.records import OVERFLOW_HEADER, CallRecord, usage_counts
from modeldeck.metering.rollup import MinuteStats, minute_stats, rollup
from modeldeck.metering.writer import Recorder, default_journal_dir

__all__ = [
    "OVERFLOW_HEADER",
    "AsyncChatStream",
    "AsyncMeteredClient",
    "CachedLookup",
    "CallRecord",
    "ChatResult",
    "ChatStream",
    "MeteredClient",
    "MinuteStats",
    "OverflowPricer",
    "Recorder",
    "StoreDeployments",
    "default_journal_dir",
    "minute_stats",
    "rollup",
    "usage_counts",
    "write_batch",
]
