"""Price overflow calls with the billing engine: the PAYG price of the tier of their input length.

A call served within the reservation costs nothing beyond it (`Decimal(0)`); an overflow call
costs `modeldeck.billing.price_overflow_call(...)`; when that price is not listed (or the
deployment's model is unknown) the cost is None — never $0 — and a warning says once per model
and mode what is missing and how to set a contract price.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from typing import Any

from modeldeck.billing.overflow import price_overflow_call
from modeldeck.catalog import Catalog, load_catalog
from modeldeck.errors import UserError
from modeldeck.metering.records import CallRecord, record_from_raw

log = logging.getLogger("modeldeck.metering")
ZERO = Decimal(0)


class OverflowPricer:
    """Prices calls; the catalog is loaded on first need unless one is given."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog
        self._lock = threading.Lock()
        self._warned: set[tuple[str | None, str | None, str]] = set()

    def warm_up(self) -> None:
        """Load the catalog on a background thread now, so no call waits for it later."""
        if self._catalog is None:
            threading.Thread(
                target=lambda: self.catalog, name="modeldeck-catalog", daemon=True
            ).start()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = load_catalog()
        return self._catalog

    def build(self, raw: dict[str, Any]) -> CallRecord:
        """The record of a raw journal entry, priced (an entry's own `cost` is kept)."""
        rec = record_from_raw(raw)
        served = 200 <= rec.status_code < 400
        if "cost" in raw:
            cost = raw["cost"]
            rec.cost = None if cost is None else Decimal(str(cost))
        elif served and rec.overflow and raw.get("usage") is None:
            rec.cost = None  # served beyond the reservation, but its usage never arrived
        else:
            rec.cost = self.cost(
                overflow=rec.overflow,
                failed=not served,
                model=rec.model,
                mode=rec.mode,
                input_tokens=rec.input_tokens,
                output_tokens=rec.output_tokens,
                reasoning_tokens=rec.reasoning_tokens,
            )
        return rec

    def cost(
        self,
        *,
        overflow: bool,
        failed: bool,
        model: str | None,
        mode: str | None,
        input_tokens: int,
        output_tokens: int,
        reasoning_tokens: int,
    ) -> Decimal | None:
        """What a call costs beyond the reservation (None: price not listed or model unknown)."""
        if failed or not overflow:
            return ZERO
        if model is None:
            self._warn_once(
                model,
                mode,
                "unknown",
                "an overflow call to a deployment whose model is unknown "
                "cannot be priced; its cost is recorded as null (pass `deployments=` to look "
                "deployments up).",
            )
            return None
        try:
            return price_overflow_call(
                model,
                mode or "instruct",
                input_tokens,
                output_tokens,
                reasoning_tokens,
                self.catalog,
            )
        except UserError as exc:
            self._warn_once(
                model, mode, type(exc).__name__, f"overflow cost recorded as null: {exc}"
            )
            return None

    def _warn_once(self, model: str | None, mode: str | None, kind: str, text: str) -> None:
        key = (model, mode, kind)
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning("metering: %s", text)
