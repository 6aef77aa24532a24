"""PTU reservations on the sandbox's HTTP surface: capacity instances, their operations, request
ids on instance writes and the documented reservation errors (a mixin of :class:`Sandbox`).

The state rules (statuses, settling operations on the clock) are in
:mod:`modeldeck.sandbox.reservations`; this module validates requests and starts operations.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import TYPE_CHECKING, Any

from modeldeck.sandbox import reservations as rsv
from modeldeck.sandbox.clock import SandboxClock, gmt
from modeldeck.sandbox.common import (
    Caller,
    capacity_sum,
    csv_set,
    invalid,
    is_int,
    page_param,
    prepaid_expiry,
    reservation_error,
    valid_ptu_capacity,
)
from modeldeck.sandbox.config import FaultRule, SandboxConfig
from modeldeck.sandbox.store import SandboxStore


class CapacityMixin:
    """Capacity-instance and capacity-operation endpoints of one emulated account."""

    if TYPE_CHECKING:
        config: SandboxConfig
        store: SandboxStore
        clock: SandboxClock
        faults: list[FaultRule]
        fault_hits: dict[int, int]
        rng: random.Random

        def require_full_access(self, caller: Caller) -> None: ...
        def status_of(self, data: dict[str, Any], now: float) -> str | None: ...
        def _settle(self, row_id: int, data: dict[str, Any], now: float) -> None: ...
        def get(self, caller: Caller, deployed_model: str) -> dict[str, Any]: ...
        def arrears_since(self) -> float | None: ...

    def _start_reservation(self, data: dict[str, Any], now: float, path: str) -> None:
        """Turn a reservations-generation PTU create into its first instance and CREATE op."""
        prepaid = data["charge_type"] == "pre_paid"
        billed = now + (self.config.billing_delay_seconds if prepaid else 0.0)
        data["_ready"] = billed + self.config.deploy_delay_seconds
        inst = self._new_instance(data["charge_type"], now)
        if prepaid:
            inst.update(
                pre_paid_info=data.pop("pre_paid_info"),
                _expires=data.pop("_expires"),
                _renew_days=data.pop("_renew_days"),
            )
        data["_instances"] = [inst]
        data["_ops"] = []
        data["_service_id"] = ""
        fail = None
        if data.pop("_failed", False):
            fail = ("InternalError", str(data.pop("_fail_reason")))
        self._new_op(
            data,
            "CREATE",
            inst,
            now,
            finish=data["_ready"],
            billed=billed,
            target=data.pop("ptu_capacity"),
            fail=fail,
            method="POST",
            path=path,
        )

    def _new_instance(self, charge: str, now: float) -> dict[str, Any]:
        return {
            "instance_id": f"ci-{self._next('instance_seq'):06d}",
            "charge_type": charge,
            "deleted": False,
            "effective_capacity": dict(rsv.ZERO),
            "_created": now,
            "_modified": now,
        }

    def _next(self, name: str) -> int:
        value = int(self.store.get_meta(name) or 0) + 1
        self.store.set_meta(name, str(value))
        return value

    def _new_op(
        self,
        data: dict[str, Any],
        kind: str,
        inst: dict[str, Any],
        now: float,
        *,
        finish: float,
        billed: float | None = None,
        target: dict[str, int] | None = None,
        renew: dict[str, Any] | None = None,
        fail: tuple[str, str] | None = None,
        request_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> dict[str, Any]:
        """Start an operation; a matching `operation_failed` fault makes it end FAILED."""
        if fail is None:
            rule = self._operation_fault(method, path)
            if rule is not None:
                fail = (
                    rule.code or "InternalError",
                    "The capacity operation failed (injected by the sandbox).",
                )
                if rule.immediate:
                    finish = now
        from_status = "WAIT_TO_DEPLOY" if kind == "CREATE" else rsv.instance_status(data, inst, now)
        op: dict[str, Any] = {
            "operation_id": str(self._next("operation_seq")),
            "request_id": request_id,
            "operation_type": kind,
            "operation_status": "PROCESSING",
            "instance_id": inst["instance_id"],
            "from_status": from_status,
            "current_status": None,
            "error_code": None,
            "error_message": None,
            "gmt_created": gmt(now),
            "gmt_finished": None,
            "_finish": finish,
            "_billed": billed if billed is not None else now,
            "_target": target,
            "_renew": renew,
            "_fail": fail,
        }
        data["_ops"].append(op)
        op["current_status"] = rsv.instance_status(data, inst, now)
        return op

    def _operation_fault(self, method: str, path: str) -> FaultRule | None:
        with self.store.lock:
            for index, rule in enumerate(self.faults):
                if rule.kind != "operation_failed" or not rule.matches(method, path):
                    continue
                hits = self.fault_hits.get(index, 0)
                if rule.times is not None and hits >= rule.times:
                    continue
                if rule.rate < 1.0 and self.rng.random() >= rule.rate:
                    continue
                self.fault_hits[index] = hits + 1
                return rule
        return None

    # -- PTU reservations: capacity instances and operations -------------------------------

    def _check_code_deletable(self, data: dict[str, Any]) -> None:
        code = data["deployed_model"]
        op = rsv.running_op(data)
        if op is not None:
            raise reservation_error(
                "CAPACITY_INSTANCE_OPERATION_CONFLICT",
                f"Operation {op['operation_id']} ({op['operation_type']}) is still running on "
                f"{code}; wait until it ends, then delete.",
            )
        live = rsv.undeleted(data)
        if live:
            now = self.clock.now()
            names = ", ".join(
                f"{i['instance_id']} ({rsv.instance_status(data, i, now)}, {i['charge_type']})"
                for i in live
            )
            raise reservation_error(
                "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
                f"{code} still has capacity instances that are not released: {names}. Release "
                "every capacity instance (a prepaid one is unsubscribed in the console) before "
                "deleting the ModelCode.",
            )

    def _reservation(self, caller: Caller, deployed_model: str) -> tuple[int, dict[str, Any]]:
        """Row and data of a reservations PTU code, with the documented errors otherwise."""
        found = self.store.find(caller.workspace, deployed_model)
        if found is None:
            raise reservation_error(
                "MODEL_CODE_NOT_FOUND", f"ModelCode {deployed_model} does not exist."
            )
        row_id, data = found
        now = self.clock.now()
        self._settle(row_id, data, now)
        status = self.status_of(data, now)
        if status is None:
            self.store.purge(row_id)
            raise reservation_error(
                "MODEL_CODE_NOT_FOUND", f"ModelCode {deployed_model} does not exist."
            )
        if data.get("_deleted") is not None:
            raise reservation_error(
                "MODEL_CODE_DELETED", f"ModelCode {deployed_model} has been deleted."
            )
        if not rsv.is_reservation(data):
            raise reservation_error(
                "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
                f"{deployed_model} is not a PTU reservation; capacity instances are for plan ptu.",
            )
        return row_id, data

    def _instance(self, data: dict[str, Any], instance_id: str) -> dict[str, Any]:
        inst = rsv.find_instance(data, instance_id)
        if inst is None:
            raise reservation_error(
                "CAPACITY_INSTANCE_NOT_FOUND",
                f"Capacity instance {instance_id} does not exist on {data['deployed_model']}.",
            )
        return inst

    def _idempotent(
        self, caller: Caller, request_id: str | None, fingerprint: str
    ) -> dict[str, Any] | None:
        """The operation an earlier write with this request id started (same parameters)."""
        if not request_id:
            return None
        stored = self.store.get_meta(f"request:{caller.workspace}:{request_id}")
        if stored is None:
            return None
        seen = json.loads(stored)
        if seen["fingerprint"] != fingerprint:
            raise reservation_error(
                "IDEMPOTENCY_KEY_CONFLICT",
                f"The request id {request_id} was already used with other parameters.",
            )
        found = self.store.find(caller.workspace, seen["code"])
        if found is None:  # pragma: no cover - codes are never removed from the store
            return None
        self._settle(found[0], found[1], self.clock.now())
        op = next(o for o in found[1]["_ops"] if o["operation_id"] == seen["operation_id"])
        return rsv.operation_view(op)

    def _remember(
        self,
        caller: Caller,
        request_id: str | None,
        fingerprint: str,
        code: str,
        op: dict[str, Any],
    ) -> None:
        if request_id:
            record = {"fingerprint": fingerprint, "code": code, "operation_id": op["operation_id"]}
            self.store.set_meta(f"request:{caller.workspace}:{request_id}", json.dumps(record))

    def _require_idle(self, data: dict[str, Any]) -> None:
        op = rsv.running_op(data)
        if op is not None:
            raise reservation_error(
                "CAPACITY_INSTANCE_OPERATION_CONFLICT",
                f"Operation {op['operation_id']} ({op['operation_type']}) is still running on "
                f"{data['deployed_model']}; changes on one ModelCode run in order.",
            )

    def instance_write(
        self,
        caller: Caller,
        deployed_model: str,
        action: str,
        instance_id: str | None,
        body: Any,
        request_id: str | None,
        path: str,
        method: str,
    ) -> dict[str, Any]:
        """POST (add), PUT scale, PUT renew or DELETE (release) of a capacity instance."""
        self.require_full_access(caller)
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        fingerprint = hashlib.sha256(
            json.dumps([method, path, body], sort_keys=True).encode()
        ).hexdigest()
        with self.store.lock:
            row_id, data = self._reservation(caller, deployed_model)
            seen = self._idempotent(caller, request_id, fingerprint)
            if seen is not None:
                return seen
            op = self._start(caller, data, action, instance_id, body, request_id, path, method)
            rsv.settle(data, self.clock.now())  # an operation that ends at once (a fault)
            self.store.update(row_id, data)
            self._remember(caller, request_id, fingerprint, deployed_model, op)
            return rsv.operation_view(op)

    def _start(
        self,
        caller: Caller,
        data: dict[str, Any],
        action: str,
        instance_id: str | None,
        body: dict[str, Any],
        request_id: str | None,
        path: str,
        method: str,
    ) -> dict[str, Any]:
        self._require_idle(data)
        now = self.clock.now()
        data["modifier"] = caller.member
        if action == "add":
            return self._add_instance(data, body, now, request_id, path, method)
        assert instance_id is not None
        inst = self._instance(data, instance_id)
        if inst["deleted"]:
            raise reservation_error(
                "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
                f"Capacity instance {instance_id} is released.",
            )
        status = rsv.instance_status(data, inst, now)
        prepaid = inst["charge_type"] == "pre_paid"
        kwargs: dict[str, Any] = {"request_id": request_id, "method": method, "path": path}
        if action == "scale":
            if status != "RUNNING":
                raise reservation_error(
                    "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
                    f"Capacity instance {instance_id} is {status}; it can be scaled when it is "
                    "RUNNING"
                    + (
                        " (a suspended prepaid instance is renewed first)."
                        if status == "SUSPENDED"
                        else "."
                    ),
                )
            target = valid_ptu_capacity(body.get("ptu_capacity"), thinking=False)
            order = body.get("order_type")
            up = capacity_sum(target) >= capacity_sum(inst["effective_capacity"])
            if order is not None and order not in ("UPGRADE", "DOWNGRADE"):
                raise invalid(
                    f"Invalid order_type ({order}), order_type must be UPGRADE or DOWNGRADE!"
                )
            if order is not None and (order == "UPGRADE") != up:
                raise invalid(
                    f"order_type {order} does not match the change from "
                    f"{inst['effective_capacity']} to {target}."
                )
            self._check_slots(data, target, inst)
            billed = now + (self.config.billing_delay_seconds if prepaid and up else 0.0)
            return self._new_op(
                data,
                "SCALE",
                inst,
                now,
                finish=billed + self.config.effective_operation_delay,
                billed=billed,
                target=target,
                **kwargs,
            )
        if action == "renew":
            if not prepaid:
                raise reservation_error(
                    "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED",
                    f"Capacity instance {instance_id} is post-paid; only prepaid instances are "
                    "renewed.",
                )
            if body.get("order_type") is not None:
                raise invalid("order_type is not accepted on renew.")
            info = self._prepaid_info(body.get("pre_paid_info"))
            change: dict[str, int] | None = None
            if body.get("is_change") and body.get("ptu_capacity") is not None:
                change = valid_ptu_capacity(body["ptu_capacity"], thinking=False)
                self._check_slots(data, change, inst)
            billed = now + self.config.billing_delay_seconds
            return self._new_op(
                data,
                "RENEW",
                inst,
                now,
                finish=billed + self.config.effective_operation_delay,
                billed=billed,
                target=change,
                renew=info,
                **kwargs,
            )
        # release
        if prepaid and status not in ("SUSPENDED", "FAILED"):
            raise reservation_error(
                "PREPAID_UNSUBSCRIBE_REQUIRED",
                f"Capacity instance {instance_id} is prepaid and live until "
                f"{gmt(rsv.expiry(inst, now) or now)}; unsubscribe it in the console "
                "(the settlement is refunded there) instead of releasing it.",
            )
        return self._new_op(
            data, "DELETE", inst, now, finish=now + self.config.delete_delay_seconds, **kwargs
        )

    def _add_instance(
        self,
        data: dict[str, Any],
        body: dict[str, Any],
        now: float,
        request_id: str | None,
        path: str,
        method: str,
    ) -> dict[str, Any]:
        billing = body.get("billing_method")
        charge = {"PRE_PAY": "pre_paid", "POST_PAY": "post_paid"}.get(str(billing))
        if charge is None:
            raise invalid(
                f"Invalid billing_method ({billing}), billing_method must be PRE_PAY or POST_PAY!"
            )
        live = rsv.undeleted(data)
        if charge == "post_paid" and any(i["charge_type"] == "post_paid" for i in live):
            raise reservation_error(
                "POSTPAID_INSTANCE_ALREADY_EXISTS",
                f"{data['deployed_model']} already has a post-paid capacity instance; scale it "
                "instead of adding another.",
            )
        if len(live) >= self.config.max_capacity_instances:
            raise reservation_error(
                "TOTAL_CAPACITY_INSTANCE_LIMIT_EXCEEDED",
                f"{data['deployed_model']} already has {len(live)} capacity instances (at most "
                f"{self.config.max_capacity_instances}).",
            )
        if charge == "pre_paid" and self.arrears_since() is not None:
            raise reservation_error(
                "BILLING_ACCOUNT_NOT_READY", "The billing account is overdue; pay it first."
            )
        target = valid_ptu_capacity(body.get("ptu_capacity"), thinking=False)
        self._check_slots(data, target, None)
        inst = self._new_instance(charge, now)
        if charge == "pre_paid":
            info = self._prepaid_info(body.get("pre_paid_info"))
            inst["pre_paid_info"] = info
            inst["_expires"] = prepaid_expiry(now, info["duration"])
            inst["_renew_days"] = (
                info.get("auto_renewal_duration") if info["auto_renewal"] else None
            )
        elif body.get("pre_paid_info") is not None:
            raise invalid("pre_paid_info is only supported for billing_method PRE_PAY.")
        data["_instances"].append(inst)
        billed = now + (self.config.billing_delay_seconds if charge == "pre_paid" else 0.0)
        return self._new_op(
            data,
            "CREATE",
            inst,
            now,
            finish=billed + self.config.effective_operation_delay,
            billed=billed,
            target=target,
            request_id=request_id,
            method=method,
            path=path,
        )

    def _check_slots(
        self, data: dict[str, Any], target: dict[str, int], replacing: dict[str, Any] | None
    ) -> None:
        limit = self.config.capacity_slot_limit_ktpm
        if limit is None:
            return
        total = sum(
            i["effective_capacity"]["input_tpm"]
            for i in rsv.undeleted(data)
            if replacing is None or i["instance_id"] != replacing["instance_id"]
        )
        if total + target["input_tpm"] > limit:
            raise reservation_error(
                "CAPACITY_SLOT_LIMIT_EXCEEDED",
                f"The requested capacity exceeds the slots available to {data['deployed_model']} "
                f"({limit} kTPM of input in all).",
            )

    def _prepaid_info(self, info: Any) -> dict[str, Any]:
        """A validated `pre_paid_info` (the documented fields)."""
        if not isinstance(info, dict):
            raise invalid("Miss pre paid info")
        days = info.get("duration")
        if not is_int(days) or days < 1:
            raise invalid(
                f"Invalid pre_paid_info.duration ({days}), duration must be a whole number of "
                "days, 1 or more!"
            )
        auto = info.get("auto_renewal", False)
        if not isinstance(auto, bool):
            raise invalid(f"Invalid pre_paid_info.auto_renewal ({auto}), it must be true or false!")
        clean: dict[str, Any] = {"duration": days, "auto_renewal": auto}
        if auto:
            renew = info.get("auto_renewal_duration")
            if not is_int(renew) or renew < 1:
                raise invalid(
                    f"Invalid pre_paid_info.auto_renewal_duration ({renew}): it is required "
                    "(days, 1 or more) when auto_renewal is on!"
                )
            clean["auto_renewal_duration"] = renew
            clean["auto_renewal_cycle"] = info.get("auto_renewal_cycle", "Day")
        return clean

    def _code_level(
        self,
        caller: Caller,
        data: dict[str, Any],
        body: dict[str, Any],
        action: str,
        request_id: str | None,
        path: str,
        *,
        status: str,
    ) -> dict[str, Any]:
        """Deployment-level `PUT /scale` or `/renew` on a reservation: one instance addressed."""
        instance_id = body.get("instance_id")
        if instance_id is None:
            live = rsv.undeleted(data)
            if len(live) > 1:
                raise reservation_error(
                    "CAPACITY_INSTANCE_REQUIRED",
                    f"{data['deployed_model']} has {len(live)} capacity instances; send "
                    f"instance_id (one of {', '.join(i['instance_id'] for i in live)}).",
                )
            if not live:
                raise reservation_error(
                    "CAPACITY_INSTANCE_NOT_FOUND",
                    f"{data['deployed_model']} has no capacity instance left.",
                )
            instance_id = live[0]["instance_id"]
        rest = {k: v for k, v in body.items() if k != "instance_id"}
        view = self.instance_write(
            caller, data["deployed_model"], action, str(instance_id), rest, request_id, path, "PUT"
        )
        out = self.get(caller, data["deployed_model"])
        out["operation_id"] = view["operation_id"]
        out["instance_id"] = view["instance_id"]
        out["operation_status"] = view["operation_status"]
        return out

    def renew(
        self, caller: Caller, deployed_model: str, body: Any, request_id: str | None, path: str
    ) -> dict[str, Any]:
        """`PUT /deployments/{deployed_model}/renew` (a prepaid reservation's instance)."""
        self.require_full_access(caller)
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        with self.store.lock:
            _row, data = self._reservation(caller, deployed_model)
            return self._code_level(caller, data, body, "renew", request_id, path, status="")

    def list_instances(self, caller: Caller, deployed_model: str, query: Any) -> dict[str, Any]:
        """`GET /deployments/{code}/capacity-instances` with the documented filters and paging."""
        self.require_full_access(caller)
        page_no = page_param("page_no", query.get("page_no"), 1, None)
        page_size = page_param("page_size", query.get("page_size"), 20, 100)
        include_deleted = str(query.get("include_deleted", "false")).lower() == "true"
        statuses = csv_set(query.get("statuses"))
        charges = csv_set(query.get("charge_types"))
        with self.store.lock:
            _row, data = self._reservation(caller, deployed_model)
            now = self.clock.now()
            views = [rsv.instance_view(data, i, now) for i in data["_instances"]]
        views = [
            v
            for v in views
            if (include_deleted or not v["deleted"])
            and (not statuses or v["status"] in statuses)
            and (not charges or v["charge_type"] in charges)
        ]
        start = (page_no - 1) * page_size
        return {
            "records": views[start : start + page_size],
            "items": len(views),
            "page": page_no,
            "itemsPerPage": page_size,
            "pageCount": max(1, -(-len(views) // page_size)),
        }

    def get_instance(self, caller: Caller, deployed_model: str, instance_id: str) -> dict[str, Any]:
        """`GET /deployments/{code}/capacity-instances/{id}`."""
        self.require_full_access(caller)
        with self.store.lock:
            _row, data = self._reservation(caller, deployed_model)
            return rsv.instance_view(data, self._instance(data, instance_id), self.clock.now())

    def get_operation(
        self, caller: Caller, deployed_model: str, operation_id: str
    ) -> dict[str, Any]:
        """`GET /deployments/{code}/capacity-operations/{id}` (a non-numeric id is a 500)."""
        self.require_full_access(caller)
        if not operation_id.isdigit():
            raise reservation_error(
                "InternalError", f"An internal error has occurred (operation id {operation_id})."
            )
        with self.store.lock:
            found = self.store.find(caller.workspace, deployed_model)
            if found is None:
                raise reservation_error(
                    "MODEL_CODE_NOT_FOUND", f"ModelCode {deployed_model} does not exist."
                )
            self._settle(found[0], found[1], self.clock.now())
            for op in found[1].get("_ops", []):
                if op["operation_id"] == operation_id:
                    return rsv.operation_view(op)
        raise reservation_error(
            "CAPACITY_OPERATION_NOT_FOUND",
            f"Capacity operation {operation_id} does not exist on {deployed_model}.",
        )
