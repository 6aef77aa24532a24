"""Child process of the kill -9 test: make N metered calls, say so, then wait to be killed.

Its recorder never writes to the store on its own (a batch waits an hour to fill), so after the
SIGKILL the only copy of the records is the write-ahead journal.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from modeldeck.catalog import CatalogBuilder
from modeldeck.catalog.data import builtin_entries
from modeldeck.metering import MeteredClient, Recorder
from modeldeck.store import Store


def main() -> None:
    base_url, api_key, db_url, journal_dir, deployed_model, count = sys.argv[1:7]
    store = Store(db_url)
    builder = CatalogBuilder()
    builder.register(builtin_entries(), source="built-in")
    recorder = Recorder(
        store, Path(journal_dir), catalog=builder.build(), batch_size=10**6, batch_interval=3600
    )
    client = MeteredClient(
        base_url,
        api_key,
        store=store,
        deployments=lambda _dm: ("qwen3-max-2025-09-23", "instruct"),
        recorder=recorder,
    )
    for _ in range(int(count)):
        result = client.chat(
            deployed_model, [{"role": "user", "content": "w1 w2 w3"}], max_tokens=400
        )
        print(f"call {result.call_id} {result.overflow} {result.cost}", flush=True)
    print("done", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
