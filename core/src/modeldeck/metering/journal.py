"""Write-ahead journal of call records: JSON lines in segment files, replayed after a crash.

Scheme (Linux/POSIX): each recorder appends to its own segment files `seg-<pid>-<random>-<n>.jsonl`
and holds an exclusive `flock` on each while alive. A record is appended on the call path,
before the call returns, by copying its line into the segment's shared memory mapping (no
system call, no GIL hand-over): from then on it is in the kernel's page cache and survives the
process being killed (SIGKILL included). Where a file cannot be mapped with its space reserved
(no `posix_fallocate`), lines are written with one `os.pwrite` instead, with the same guarantee.
The background writer `fsync`s the segments once per batch before it inserts that batch into
the store, so a machine crash loses at most the last batch interval (`fsync_each=True` syncs on
the call path instead, for machine-crash safety at a latency cost). Segments are small (1 MB):
a full one is deleted once every record in it is stored, and the active one is cleared when all
of it is stored and the writer is idle. On start, a recorder replays every segment no live
process holds a lock on — the leftovers of a killed process — and deletes it; `call_id` is
unique in the store, so a segment replayed twice inserts nothing twice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import mmap
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeldeck.errors import ConfigError
from modeldeck.metering.records import decode_raw

log = logging.getLogger("modeldeck.metering")
SUFFIX = ".jsonl"
DEFAULT_SEGMENT_BYTES = 1024 * 1024


@dataclass
class _Segment:
    number: int
    path: Path
    fd: int
    capacity: int
    mm: mmap.mmap | None = None  # None: appended with os.pwrite
    appended: int = 0
    committed: int = 0
    size: int = 0
    active: bool = True
    dirty: bool = False

    def write(self, line: bytes) -> None:
        if self.mm is not None:
            self.mm[self.size : self.size + len(line)] = line
        else:
            _write_all(self.fd, line, self.size)
        self.size += len(line)

    def clear(self) -> None:
        """Forget the content (every record in it is stored)."""
        if self.mm is not None:
            self.mm[: self.size] = bytes(self.size)
        else:
            os.ftruncate(self.fd, 0)
        self.appended = self.committed = self.size = 0
        self.dirty = False

    def close(self) -> None:
        if self.mm is not None:
            with contextlib.suppress(BufferError, ValueError):
                self.mm.close()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _reserve(fd: int, size: int) -> bool:
    """Reserve disk space for a mapped segment (so a full disk never faults a write)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise
        return False  # the file system cannot reserve: append with os.pwrite instead
    return True


class Journal:
    """The segments one recorder appends to (thread-safe)."""

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        fsync_each: bool = False,
        use_mmap: bool = True,
    ) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"The metering journal directory {self.directory} cannot be created "
                f"({exc.strerror}).",
                hint="Pass journal_dir= a writable directory.",
            ) from None
        self.segment_bytes = segment_bytes
        self.fsync_each = fsync_each
        self.use_mmap = use_mmap
        self._lock = threading.Lock()
        self._prefix = f"seg-{os.getpid()}-{secrets.token_hex(4)}"
        self._segments: dict[int, _Segment] = {}
        self._next = 0
        self._closed = False
        self.total = 0  # lines ever appended
        self._active = self._open_segment(segment_bytes)

    # -- segments -----------------------------------------------------------------------------

    def _open_segment(self, capacity: int) -> _Segment:
        """Create a segment, locked before it gets a name replay would look at."""
        number = self._next
        self._next += 1
        final = self.directory / f"{self._prefix}-{number}{SUFFIX}"
        temp = final.with_suffix(".new")
        try:
            fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ConfigError(
                f"The metering journal cannot create a file in {self.directory} ({exc.strerror}).",
                hint="Pass journal_dir= a writable directory.",
            ) from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        mapped: mmap.mmap | None = None
        try:
            if self.use_mmap and _reserve(fd, capacity):
                mapped = mmap.mmap(fd, capacity)
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                temp.unlink()
            raise ConfigError(
                f"The metering journal in {self.directory} has no room for a new segment "
                f"({exc.strerror}).",
                hint="Free disk space there or pass journal_dir= another directory.",
            ) from None
        os.rename(temp, final)
        segment = _Segment(number=number, path=final, fd=fd, capacity=capacity, mm=mapped)
        self._segments[number] = segment
        return segment

    @property
    def paths(self) -> list[Path]:
        """Paths of this journal's segment files."""
        with self._lock:
            return [s.path for s in self._segments.values()]

    @property
    def mapped(self) -> bool:
        """Whether the active segment is appended through a memory mapping."""
        return self._active.mm is not None

    def own(self, path: Path) -> bool:
        return path.name.startswith(self._prefix + "-")

    # -- the call path ------------------------------------------------------------------------

    def append(self, line: bytes) -> int:
        """Append one record line (ending in LF); returns its segment number."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the metering journal is closed")
            segment = self._active
            if segment.mm is not None and segment.size + len(line) > segment.capacity:
                segment = self._rotate(len(line))
            segment.write(line)
            segment.appended += 1
            segment.dirty = True
            self.total += 1
            if self.fsync_each:
                os.fsync(segment.fd)
                segment.dirty = False
            if segment.mm is None and segment.size >= self.segment_bytes:
                self._rotate(0)
            return segment.number

    def _rotate(self, need: int) -> _Segment:
        """Start a new active segment (the old one is deleted once all of it is stored)."""
        old = self._active
        old.active = False
        self._active = self._open_segment(max(self.segment_bytes, need))
        if old.committed >= old.appended:
            self._drop(old)
        return self._active

    # -- the writer ---------------------------------------------------------------------------

    def sync(self) -> None:
        """fsync every segment written since the last sync (the writer does this per batch).

        On Linux `fsync` also writes back pages changed through a shared mapping.
        """
        with self._lock:
            dirty = [(s.fd, s) for s in self._segments.values() if s.dirty]
            for _, segment in dirty:
                segment.dirty = False
        for fd, _ in dirty:
            with contextlib.suppress(OSError):
                os.fsync(fd)

    def committed(self, counts: dict[int, int]) -> None:
        """Note records now in the store; delete segments that are full and fully stored."""
        with self._lock:
            for number, count in counts.items():
                segment = self._segments.get(number)
                if segment is None:
                    continue
                segment.committed += count
                if not segment.active and segment.committed >= segment.appended:
                    self._drop(segment)

    def compact(self) -> bool:
        """Clear the active segment if every record in it is stored (True when it did)."""
        with self._lock:
            segment = self._active
            if self._closed or segment.appended == 0 or segment.committed < segment.appended:
                return False
            segment.clear()
            return True

    def pending(self) -> int:
        """Records appended but not yet stored."""
        with self._lock:
            return sum(s.appended - s.committed for s in self._segments.values())

    def _drop(self, segment: _Segment) -> None:
        with contextlib.suppress(OSError):
            segment.path.unlink()
        segment.close()
        self._segments.pop(segment.number, None)

    def close(self) -> int:
        """Sync and close; segments fully stored are deleted, others kept for replay.

        Returns how many records were left for a later replay.
        """
        self.sync()
        with self._lock:
            if self._closed:
                return 0
            self._closed = True
            left = 0
            for segment in list(self._segments.values()):
                if segment.committed >= segment.appended:
                    self._drop(segment)
                else:
                    left += segment.appended - segment.committed
                    segment.close()
            self._segments.clear()
            return left


# --------------------------------------------------------------------------- replay


@dataclass
class Orphan:
    """A segment left by a process that is gone: its raw entries, and bad lines skipped."""

    path: Path
    entries: list[dict[str, Any]]
    bad_lines: int


def _parse(data: bytes, path: Path) -> Orphan:
    entries: list[dict[str, Any]] = []
    bad = 0
    lines = data.rstrip(b"\0").split(b"\n")  # a mapped segment is padded with NUL bytes
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entries.append(decode_raw(line))
        except ValueError:
            if index == len(lines) - 1:
                continue  # a last line cut short by the crash: the call never returned
            bad += 1
    if bad:
        log.warning("metering: %d unreadable line(s) skipped in journal %s", bad, path.name)
    return Orphan(path=path, entries=entries, bad_lines=bad)


@contextlib.contextmanager
def claim_orphans(directory: Path, journal: Journal | None = None) -> Iterator[list[Orphan]]:
    """Lock and read the segments no live process holds; delete them if the block succeeds.

    Segments another process still holds (or this `journal`'s own) are left alone. Leaving the
    block with an exception keeps the files for the next start.
    """
    claimed: list[tuple[int, Orphan]] = []
    try:
        for path in sorted(Path(directory).glob(f"*{SUFFIX}")):
            if journal is not None and journal.own(path):
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            if os.fstat(fd).st_nlink == 0:  # replayed and deleted by someone else meanwhile
                os.close(fd)
                continue
            with open(fd, "rb", closefd=False) as fh:
                data = fh.read()
            claimed.append((fd, _parse(data, path)))
        yield [orphan for _, orphan in claimed]
        for _, orphan in claimed:
            with contextlib.suppress(FileNotFoundError):
                orphan.path.unlink()
        _remove_stale_new(Path(directory))
    finally:
        for fd, _ in claimed:
            os.close(fd)


def _remove_stale_new(directory: Path) -> None:
    """Delete `.new` files (a segment being created when its process died) nobody holds."""
    for path in directory.glob("*.new"):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
