"""kill -9 safety: a process killed before closing loses no record; replay is idempotent."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modeldeck.metering import Recorder
from modeldeck.store.models import UsageCallRow, UsageMinuteRow
from tests.metering.meterhelpers import API_KEY, Deck, builtin_catalog

CHILD = Path(__file__).with_name("killed_recorder.py")


def count_calls(deck: Deck) -> int:
    with deck.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(UsageCallRow)) or 0)


@pytest.mark.slow
def test_sigkill_before_close_then_replay_gives_exactly_n_records(
    deck: Deck, tmp_path: Path
) -> None:
    dm = deck.deploy_ptu(output_tpm=1_000)
    n = 7
    journal = tmp_path / "child-journal"
    child = subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            deck.base_url,
            API_KEY,
            deck.store.url,
            str(journal),
            dm,
            str(n),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip() for _ in range(n + 1)]
        if lines[-1] != "done":
            child.kill()
            _, err = child.communicate(timeout=30)
            pytest.fail(f"the child did not finish its calls: {lines} {err[-2000:]}")
        acknowledged = {line.split()[1]: line.split()[2:] for line in lines[:-1]}
        assert count_calls(deck) == 0  # the child's writer never stored anything
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    segments = list(journal.glob("*.jsonl"))
    assert segments
    backup = tmp_path / "backup"
    backup.mkdir()
    for segment in segments:
        shutil.copy(segment, backup / segment.name)

    recorder = Recorder(deck.store, journal, catalog=builtin_catalog())
    assert recorder.replayed == n
    recorder.close()
    assert not list(journal.glob("*.jsonl"))  # replayed, then removed

    with deck.store.session() as session:
        rows = {r.call_id: r for r in session.scalars(select(UsageCallRow))}
        [minute] = session.scalars(select(UsageMinuteRow)).all()
    assert set(rows) == set(acknowledged)
    # 400 + 400 fit the 1,000 output TPM; the other five overflow and are priced.
    assert sum(r.overflow for r in rows.values()) == 5
    for call_id, (overflow, cost) in acknowledged.items():
        assert str(rows[call_id].overflow) == overflow
        assert str(rows[call_id].cost) == cost
    assert (minute.calls, minute.overflow_calls) == (n, 5)
    assert minute.overflow_cost == sum((r.cost or Decimal(0) for r in rows.values()), Decimal(0))

    # The same journal replayed again (a crash after storing, before deleting) adds nothing.
    for segment in backup.iterdir():
        shutil.copy(segment, journal / segment.name)
    again = Recorder(deck.store, journal, catalog=builtin_catalog())
    assert again.replayed == 0
    again.close()
    assert count_calls(deck) == n
    with deck.store.session() as session:
        assert session.scalars(select(UsageMinuteRow.calls)).all() == [n]
