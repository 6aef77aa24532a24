"""The journal's segments and replay rules, and the recorder's batching, without HTTP."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from modeldeck.errors import ModeldeckRuntimeError
from modeldeck.metering import CallRecord, OverflowPricer, Recorder, minute_stats, usage_counts
from modeldeck.metering.journal import Journal, claim_orphans
from modeldeck.metering.records import (
    UsageCounts,
    decode_raw,
    encode_entry,
    entry_counts,
    epoch_us,
    scan_headers,
    usage_list,
)
from modeldeck.store import Store
from modeldeck.store.models import UsageCallRow
from tests.metering.meterhelpers import builtin_catalog

T0 = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)


def record(i: int = 0, **fields: Any) -> CallRecord:
    values: dict[str, Any] = {
        "call_id": uuid.uuid4().hex,
        "deployed_model": "dm-a",
        "at": T0 + timedelta(seconds=i),
        "status_code": 200,
        "input_tokens": 10,
        "output_tokens": 5,
    }
    values.update(fields)
    return CallRecord(**values)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'modeldeck.db'}")


def test_headers_are_scanned_for_request_id_and_overflow() -> None:
    both = httpx.Headers(
        [
            ("X-DashScope-Request-Id", "ds"),
            ("X-Request-Id", "r1"),
            ("X-DashScope-PTU-Overflow", " TRUE "),
        ]
    )
    assert scan_headers(both) == ("r1", True)  # x-request-id wins over the DashScope one
    assert scan_headers(httpx.Headers([("x-dashscope-request-id", "ds")])) == ("ds", False)
    assert scan_headers(httpx.Headers([("x-dashscope-ptu-overflow", "false")])) == (None, False)
    assert scan_headers(None) == (None, False)


def test_record_round_trips_through_a_journal_line() -> None:
    rec = record(
        cost=Decimal("0.0000042"),
        overflow=True,
        model="m",
        mode="thinking",
        reasoning_tokens=2,
        cached_tokens=1,
        latency_ms=12.5,
        request_id="r-1",
        error=None,
    )
    line = encode_entry(rec.to_entry())
    assert line.endswith(b"\n") and b"\n" not in line[:-1]
    assert b'"0.0000042"' in line  # money as a decimal string, never a float
    assert OverflowPricer(builtin_catalog()).build(decode_raw(line)) == rec
    for broken in (b"{}", b"[2]", b'[1, "c", "dm"]', line.replace(b",200,", b',"200",')):
        with pytest.raises(ValueError):
            decode_raw(broken)


def entry(**fields: Any) -> dict[str, Any]:
    """A journal entry as the call path writes it (no cost), decoded."""
    values = {
        "call_id": "c1",
        "deployed_model": "dm",
        "at_us": epoch_us(T0),
        "status_code": 200,
        "model": "qwen3-max-2025-09-23",
        "mode": "instruct",
        "request_id": None,
        "usage": [1000, 500, 0, 0],
        "overflow": False,
        "latency_us": 1500,
        "error": None,
    }
    values.update(fields)
    return decode_raw(encode_entry([1, *values.values()]))


def test_entries_are_priced_when_built() -> None:
    pricer = OverflowPricer(builtin_catalog())
    assert pricer.build(entry(overflow=True)).cost == Decimal("0.0042")
    assert pricer.build(entry()).cost == Decimal(0)
    refused = pricer.build(entry(status_code=429, overflow=True, usage=None))
    assert refused.cost == Decimal(0) and refused.failed
    no_usage = pricer.build(entry(overflow=True, usage=None))
    assert no_usage.cost is None  # billed by the provider, but how much is unknown
    assert pricer.build(entry(model=None, overflow=True)).cost is None
    built = pricer.build(entry())
    assert (built.at, built.latency_ms) == (T0, 1.5)


def test_usage_counts_tolerate_missing_and_odd_fields() -> None:
    assert usage_counts(None) == usage_counts({}) == usage_counts("x")
    counts = usage_counts(
        {
            "prompt_tokens": 7,
            "completion_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 3},
            "completion_tokens_details": {"reasoning_tokens": 4},
        }
    )
    assert (counts.input_tokens, counts.output_tokens) == (7, 9)
    assert (counts.reasoning_tokens, counts.cached_tokens) == (4, 3)
    odd = usage_counts({"prompt_tokens": -1, "completion_tokens": True, "prompt_tokens_details": 1})
    assert (odd.input_tokens, odd.output_tokens, odd.cached_tokens) == (0, 0, 0)
    # The call path copies the four counts; the writer checks them.
    copied = usage_list(
        {
            "prompt_tokens": 7,
            "completion_tokens": 9,
            "completion_tokens_details": {"reasoning_tokens": 4},
        }
    )
    assert copied == [7, 9, 4, 0]
    assert entry_counts(copied) == UsageCounts(7, 9, 4, 0)
    assert entry_counts(["x", None, 99, -3]) == UsageCounts(0, 0, 0, 0)
    assert usage_list(None) is None and entry_counts(None) == UsageCounts()


@pytest.mark.parametrize("use_mmap", [True, False], ids=["mapped", "pwrite"])
def test_segments_rotate_and_are_deleted_or_cleared_once_stored(
    tmp_path: Path, use_mmap: bool
) -> None:
    line = encode_entry(record().to_entry())
    journal = Journal(tmp_path, segment_bytes=len(line) * 3, use_mmap=use_mmap)
    assert journal.mapped is use_mmap  # this file system can reserve space for a mapping
    numbers = [journal.append(line) for _ in range(7)]
    assert numbers == [0, 0, 0, 1, 1, 1, 2]
    assert len(journal.paths) == 3
    assert journal.pending() == 7
    journal.sync()
    journal.committed({0: 3})
    assert len(journal.paths) == 2  # the full, fully stored segment is gone
    assert not journal.compact()  # the active segment still has unstored records
    journal.committed({1: 3, 2: 1})
    assert journal.compact()
    [active] = journal.paths

    def content() -> bytes:
        return active.read_bytes().rstrip(b"\0")  # a mapped segment is padded with NULs

    assert content() == b""
    assert journal.append(line) == 2
    assert content() == line  # appends continue at the new start
    assert journal.close() == 1  # one record left for a replay
    assert active.exists() and content() == line


def test_replay_skips_live_journals_and_cut_lines(tmp_path: Path) -> None:
    live = Journal(tmp_path)
    live.append(encode_entry(record().to_entry()))
    dead = tmp_path / "seg-1-dead-0.jsonl"
    good = [record(i) for i in range(3)]
    dead.write_bytes(
        encode_entry(good[0].to_entry())
        + b"not json\n"
        + encode_entry(good[1].to_entry())
        + encode_entry(good[2].to_entry())
        + encode_entry(record().to_entry())[:25]  # the last write of a killed process, cut short
        + bytes(4096)  # the unused rest of a mapped segment
    )
    pricer = OverflowPricer(builtin_catalog())
    with claim_orphans(tmp_path) as orphans:
        [orphan] = orphans  # the live journal's segment is locked: not an orphan
        assert orphan.path == dead
        assert [pricer.build(raw) for raw in orphan.entries] == good
        assert orphan.bad_lines == 1
    assert not dead.exists()
    assert len(live.paths) == 1 and live.paths[0].exists()
    live.close()


def test_a_failed_replay_keeps_the_files(tmp_path: Path) -> None:
    dead = tmp_path / "seg-1-dead-0.jsonl"
    dead.write_bytes(encode_entry(record().to_entry()))
    with pytest.raises(RuntimeError), claim_orphans(tmp_path) as orphans:
        assert len(orphans) == 1
        raise RuntimeError("store down")
    assert dead.exists()


def test_recorder_stores_records_from_many_threads(store: Store, tmp_path: Path) -> None:
    recorder = Recorder(
        store, tmp_path / "journal", catalog=builtin_catalog(), batch_size=64, batch_interval=0.01
    )
    per_thread, threads = 250, 4

    def work(offset: int) -> None:
        for i in range(per_thread):
            recorder.record(
                record(
                    i % 120,
                    deployed_model=f"dm-{offset}",
                    overflow=i % 5 == 0,
                    cost=Decimal("0.0001") if i % 5 == 0 else Decimal(0),
                )
            )

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert recorder.flush(30)
    stats = recorder.stats()
    assert stats["stored"] == stats["submitted"] == per_thread * threads
    recorder.close()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(UsageCallRow)) == 1000
    minutes = minute_stats(store, "dm-2", T0, T0 + timedelta(minutes=2))
    assert [m.calls for m in minutes] == [
        sum(1 for i in range(per_thread) if i % 120 < 60),
        sum(1 for i in range(per_thread) if i % 120 >= 60),
    ]
    assert sum((m.overflow_cost for m in minutes), Decimal(0)) == Decimal("0.0001") * 50
    assert not list((tmp_path / "journal").glob("*.jsonl"))


def test_a_closed_recorder_refuses_records(store: Store, tmp_path: Path) -> None:
    recorder = Recorder(store, tmp_path / "journal", catalog=builtin_catalog())
    recorder.close()
    recorder.close()  # idempotent
    with pytest.raises(ModeldeckRuntimeError, match="closed"):
        recorder.record(record())


def test_default_journal_dir_is_in_the_data_dir(store: Store, isolated_env: Path) -> None:
    recorder = Recorder(store, catalog=builtin_catalog())
    try:
        assert recorder.journal.directory == isolated_env / "metering-journal"
    finally:
        recorder.close()
