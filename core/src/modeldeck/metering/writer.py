"""The recorder: journal a call record on the call path, store it from a background thread.

`Recorder.record_entry()` costs one JSON encoding, one `os.write` to the journal and a deque
append; turning the entry into a priced `CallRecord` happens on the writer thread.
It does not wake the writer thread per record (a wake-up per record is a GIL hand-over that the
calling thread pays for): the writer sleeps `batch_interval` seconds, then takes what arrived,
fsyncs the journal and inserts the batch with its minute roll-ups in one transaction. It is
woken early only when `batch_size` records wait, when it was idle, or on `flush()`/`close()`.
A store that fails is retried with backoff; its records stay in the journal meanwhile. See
`modeldeck.metering.journal` for why nothing is lost when the process is killed.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from modeldeck.catalog import Catalog
from modeldeck.errors import ModeldeckRuntimeError, StoreError
from modeldeck.metering.journal import Journal, claim_orphans
from modeldeck.metering.persist import write_batch
from modeldeck.metering.pricing import OverflowPricer
from modeldeck.metering.records import CallRecord, decode_raw, encode_entry, record_from_raw
from modeldeck.store import Store

log = logging.getLogger("modeldeck.metering")
REPLAY_CHUNK = 1000


YIELD_EVERY = 16  # records built between two GIL hand-overs (~0.3 ms of work at most)
EXIT_TIMEOUT = 5.0  # seconds `close()` may take at interpreter exit
IDLE_WAIT = 1.0  # seconds an idle writer sleeps between checks (it is woken on new records)
_Item = tuple[int, bytes]  # journal segment number, journal line


def default_journal_dir() -> Path:
    """`<data dir>/metering-journal` (the data dir of modeldeck's settings)."""
    from modeldeck.settings import load_settings

    return load_settings().data_dir / "metering-journal"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


class Recorder:
    """Durable, batched recording of call records into a store (thread-safe; close when done).

    On start it replays what killed processes left in `journal_dir` (`replayed` says how many
    records were new to the store). Overflow calls are priced with `catalog` (default: modeldeck's
    catalog, loaded in the background at once) when they are stored. Records reach the store
    about `batch_interval` seconds after their call (0.2 s: each batch has a fixed cost in the
    interpreter, so fewer, larger batches disturb the calling threads less).
    """

    def __init__(
        self,
        store: Store,
        journal_dir: Path | None = None,
        *,
        catalog: Catalog | None = None,
        batch_size: int = 500,
        batch_interval: float = 0.2,
        fsync_each_call: bool = False,
    ) -> None:
        if batch_size < 1 or batch_interval < 0:
            raise ValueError("batch_size must be 1 or more and batch_interval 0 or more")
        self.store = store
        self.pricer = OverflowPricer(catalog)
        self.pricer.warm_up()  # loading the catalog can take seconds: not in the middle of traffic
        self.batch_size = batch_size
        self.batch_interval = batch_interval
        self.journal = Journal(
            Path(journal_dir) if journal_dir is not None else default_journal_dir(),
            fsync_each=fsync_each_call,
        )
        self._pending: deque[_Item] = deque()
        self._wake = threading.Event()
        self._idle = False
        self._urgent = False
        self._cond = threading.Condition()
        self._done = 0
        self._failures = 0
        self._closed = False
        self._stop = threading.Event()
        try:
            self.replayed = self.replay()
        except BaseException:
            self.journal.close()
            raise
        self._thread = threading.Thread(target=self._run, name="modeldeck-metering", daemon=True)
        self._thread.start()
        # At interpreter exit: drain for a few seconds; what is left is replayed next start.
        atexit.register(self.close, EXIT_TIMEOUT)

    # -- replay -------------------------------------------------------------------------------

    def replay(self) -> int:
        """Store the records of journals no live process holds; returns how many were new."""
        new = 0
        try:
            with claim_orphans(self.journal.directory, self.journal) as orphans:
                for orphan in orphans:
                    records = [self.pricer.build(raw) for raw in orphan.entries]
                    for start in range(0, len(records), REPLAY_CHUNK):
                        new += len(write_batch(self.store, records[start : start + REPLAY_CHUNK]))
                    log.info("metering: replayed %s (%d records)", orphan.path.name, len(records))
        except OSError as exc:
            raise StoreError(
                f"The metering journal in {self.journal.directory} could not be replayed "
                f"({_short(exc)}).",
                hint="Check the directory's permissions; its files are kept for the next start.",
            ) from None
        except Exception as exc:
            raise StoreError(
                f"Replaying the metering journal into the store failed ({_short(exc)}).",
                hint="The journal files are kept and replayed on the next start.",
            ) from None
        return new

    # -- the call path ------------------------------------------------------------------------

    def record(self, rec: CallRecord) -> None:
        """Journal a ready-made record (its cost kept as is) and queue it for the store."""
        self.record_entry(rec.to_entry())

    def record_entry(self, entry: list[Any]) -> bytes:
        """Journal an entry (durable against a kill from here on) and queue it for the store.

        See `modeldeck.metering.records` for its fields; it is priced when stored. Returns the
        journal line: the writer stores what the line says (a later change to `entry` or to the
        dicts inside it changes nothing), exactly as a replay would.
        """
        line = encode_entry(entry)
        try:
            segment = self.journal.append(line)
        except RuntimeError:
            raise ModeldeckRuntimeError(
                "The metering recorder is closed; the call was made but not recorded.",
                hint="Create a new MeteredClient (or Recorder) instead of reusing a closed one.",
            ) from None
        self._pending.append((segment, line))
        if self._idle or len(self._pending) >= self.batch_size:
            self._wake.set()
        return line

    # -- draining -----------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record handed over so far is in the store (False on timeout)."""
        target = self.journal.total  # every line appended so far
        with self._cond:
            if self._done >= target:
                return True
        self._urgent = True
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._done < target:
                if not self._thread.is_alive():
                    return False
                wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
                if wait <= 0:
                    return False
                self._cond.wait(wait)
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Drain into the store (up to `timeout` s), stop the writer, close the journal.

        Records the store did not take in time stay in the journal and are replayed next start.
        """
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self.flush(timeout)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        left = self.journal.close()
        if left:
            log.warning(
                "metering: %d record(s) not yet in the store are kept in the journal in %s "
                "and will be replayed on the next start",
                left,
                self.journal.directory,
            )

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> dict[str, Any]:
        """Counters: records handed over, stored, pending, replayed, failed store attempts."""
        submitted = self.journal.total
        with self._cond:
            return {
                "submitted": submitted,
                "stored": self._done,
                "pending": submitted - self._done,
                "replayed": self.replayed,
                "store_failures": self._failures,
            }

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        pending = self._pending
        while True:
            if not pending:
                if self._stop.is_set():
                    return
                self._idle = True
                if not pending and not self._stop.is_set():  # re-checked after going idle
                    self._wake.wait(IDLE_WAIT)
                self._idle = False
                self._wake.clear()
                continue
            if not (self._urgent or self._stop.is_set() or len(pending) >= self.batch_size):
                self._wake.wait(self.batch_interval)  # let the batch grow
                self._wake.clear()
            batch = [pending.popleft() for _ in range(min(len(pending), self.batch_size))]
            if not self._commit(batch):
                return  # stopping with the store down: the journal keeps the records
            if not pending:
                self._urgent = False
                self.journal.compact()

    def _build(self, line: bytes) -> CallRecord:
        raw = decode_raw(line)
        try:
            return self.pricer.build(raw)
        except Exception as exc:  # a pricing bug must not stop the writer: store it unpriced
            log.warning("metering: pricing call %s failed (%s)", raw["call_id"], _short(exc))
            return record_from_raw(raw)

    def _commit(self, batch: list[_Item]) -> bool:
        records = []
        for index, (_, line) in enumerate(batch, 1):
            records.append(self._build(line))
            if index % YIELD_EVERY == 0:
                time.sleep(0)  # hand the GIL to a calling thread that may be waiting for it
        delay = 0.1
        while True:
            try:
                self.journal.sync()
                write_batch(self.store, records, fresh=True)
                break
            except Exception as exc:  # the writer must outlive any store failure
                self._failures += 1
                log.warning(
                    "metering: storing %d call record(s) failed (%s); retrying in %.1f s",
                    len(records),
                    _short(exc),
                    delay,
                )
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, 5.0)
        self.journal.committed(dict(Counter(segment for segment, _ in batch)))
        with self._cond:
            self._done += len(batch)
            self._cond.notify_all()
        return True
