"""The recorder: journal a call record on the call path, store it from a background thread.

`Recorder.record()` costs one JSON encoding, one `os.write` to the journal and a queue put; the
writer thread batches what arrived (up to `batch_size` records or `batch_interval` seconds),
fsyncs the journal, and inserts the batch with its minute roll-ups in one transaction. A store
that fails is retried with backoff; its records stay in the journal meanwhile. See
`modeldeck.metering.journal` for why nothing is lost when the process is killed.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from modeldeck.errors import ModeldeckRuntimeError, StoreError
from modeldeck.metering.journal import Journal, claim_orphans
from modeldeck.metering.persist import write_batch
from modeldeck.metering.records import CallRecord
from modeldeck.store import Store

log = logging.getLogger("modeldeck.metering")
REPLAY_CHUNK = 1000


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_FLUSH = _Signal("flush")
_STOP = _Signal("stop")
_Item = tuple[int, CallRecord] | _Signal


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
    records were new to the store).
    """

    def __init__(
        self,
        store: Store,
        journal_dir: Path | None = None,
        *,
        batch_size: int = 500,
        batch_interval: float = 0.05,
        fsync_each_call: bool = False,
    ) -> None:
        if batch_size < 1 or batch_interval < 0:
            raise ValueError("batch_size must be 1 or more and batch_interval 0 or more")
        self.store = store
        self.batch_size = batch_size
        self.batch_interval = batch_interval
        self.journal = Journal(
            Path(journal_dir) if journal_dir is not None else default_journal_dir(),
            fsync_each=fsync_each_call,
        )
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._submitted = 0
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
        atexit.register(self.close)

    # -- replay -------------------------------------------------------------------------------

    def replay(self) -> int:
        """Store the records of journals no live process holds; returns how many were new."""
        new = 0
        try:
            with claim_orphans(self.journal.directory, self.journal) as orphans:
                for orphan in orphans:
                    records = orphan.records
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
        """Journal `rec` (durable against a kill from here on) and queue it for the store."""
        line = rec.to_json_line()
        try:
            segment = self.journal.append(line)
        except RuntimeError:
            raise ModeldeckRuntimeError(
                "The metering recorder is closed; the call was made but not recorded.",
                hint="Create a new MeteredClient (or Recorder) instead of reusing a closed one.",
            ) from None
        with self._cond:
            self._submitted += 1
        self._queue.put((segment, rec))

    # -- draining -----------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record handed over so far is in the store (False on timeout)."""
        with self._cond:
            target = self._submitted
            if self._done >= target:
                return True
        self._queue.put(_FLUSH)
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
        self._queue.put(_STOP)
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
        with self._cond:
            return {
                "submitted": self._submitted,
                "stored": self._done,
                "pending": self._submitted - self._done,
                "replayed": self.replayed,
                "store_failures": self._failures,
            }

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[tuple[int, CallRecord]] = []
        stop = False
        while not stop:
            item = self._queue.get()
            flush = item is _FLUSH
            stop = item is _STOP
            if isinstance(item, tuple):
                pending.append(item)
            deadline = time.monotonic() + self.batch_interval
            while not stop and len(pending) < self.batch_size:
                try:
                    if flush:
                        item = self._queue.get_nowait()
                    else:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                elif item is _FLUSH:
                    flush = True
                elif isinstance(item, tuple):
                    pending.append(item)
            if pending:
                if not self._commit(pending):
                    return  # stopping with the store down: the journal keeps the records
                pending = []
            if self._queue.empty():
                self.journal.compact()

    def _commit(self, batch: list[tuple[int, CallRecord]]) -> bool:
        records = [rec for _, rec in batch]
        delay = 0.1
        while True:
            try:
                self.journal.sync()
                write_batch(self.store, records)
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
