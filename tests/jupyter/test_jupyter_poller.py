"""The auto-refresh poller calls back repeatedly, survives a failing call, and stops."""

from __future__ import annotations

import threading

import pytest

from modeldeck_jupyter.poller import Poller


def test_polls_until_stopped_and_survives_errors() -> None:
    third_call = threading.Event()
    calls: list[int] = []

    def callback() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first poll fails")
        if len(calls) >= 3:
            third_call.set()

    poller = Poller(callback, interval=0.01)
    poller.start()
    assert third_call.wait(30), "the poller stopped calling back after an error"
    poller.stop()
    assert not poller.running
    count = len(calls)
    poller.stop()  # idempotent
    assert len(calls) == count


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Poller(lambda: None, interval=0)
