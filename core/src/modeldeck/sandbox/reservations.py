"""PTU reservations in the sandbox: capacity instances and their asynchronous operations.

A reservations-generation PTU ModelCode keeps its instances (each a purchase) and operations in
its own JSON row (``_instances``, ``_ops``). An operation is ``PROCESSING`` until its finish time
on the sandbox clock, then :func:`settle` applies it (``SUCCEEDED``) or records the failure
(``FAILED``); until then the instance's effective capacity is the old one. Capacities here are
wire units (kTPM in this generation).
"""

from __future__ import annotations

from typing import Any

from modeldeck.sandbox.clock import gmt

HOUR = 3600.0
DAY = 86400.0
STOP_AFTER_EXPIRY = 2 * HOUR
RELEASE_AFTER_STOP = 14 * HOUR
ZERO = {"input_tpm": 0, "output_tpm": 0}

# Reservation error codes and their HTTP statuses (the spec's table).
ERROR_STATUS = {
    "CAPACITY_INSTANCE_REQUIRED": 400,
    "CAPACITY_INSTANCE_OPERATION_UNSUPPORTED": 400,
    "PREPAID_UNSUBSCRIBE_REQUIRED": 400,
    "POSTPAID_INSTANCE_ALREADY_EXISTS": 400,
    "CAPACITY_SLOT_LIMIT_EXCEEDED": 400,
    "TOTAL_CAPACITY_INSTANCE_LIMIT_EXCEEDED": 400,
    "MODEL_CODE_DELETED": 400,
    "MODEL_CODE_NOT_FOUND": 404,
    "CAPACITY_INSTANCE_NOT_FOUND": 404,
    "CAPACITY_OPERATION_NOT_FOUND": 404,
    "CAPACITY_INSTANCE_OPERATION_CONFLICT": 409,
    "IDEMPOTENCY_KEY_CONFLICT": 409,
    "BILLING_ACCOUNT_NOT_READY": 403,
    "BILLING_SERVICE_UNAVAILABLE": 503,
    "InternalError": 500,
}


def is_reservation(data: dict[str, Any]) -> bool:
    """True for a ModelCode that holds capacity instances (reservations-generation PTU)."""
    return "_instances" in data


def expiry(inst: dict[str, Any], now: float) -> float | None:
    """A prepaid instance's current expiry, pushed forward by auto-renewal while it is on."""
    expires: float | None = inst.get("_expires")
    renew = inst.get("_renew_days")
    if expires is None or not renew:
        return expires
    while now >= expires:
        expires += renew * DAY
    return expires


def undeleted(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in data["_instances"] if not i["deleted"]]


def running_op(data: dict[str, Any]) -> dict[str, Any] | None:
    """The operation still PROCESSING on this code, if any (changes on one code run in order)."""
    return next((op for op in data["_ops"] if op["operation_status"] == "PROCESSING"), None)


def find_instance(data: dict[str, Any], instance_id: str) -> dict[str, Any] | None:
    return next((i for i in data["_instances"] if i["instance_id"] == instance_id), None)


def settle(data: dict[str, Any], now: float) -> bool:
    """Apply every operation whose time has come, and release expired prepaid instances."""
    changed = False
    for op in data["_ops"]:
        if op["operation_status"] != "PROCESSING" or op["_finish"] > now:
            continue
        changed = True
        inst = find_instance(data, op["instance_id"])
        op["gmt_finished"] = gmt(op["_finish"])
        if op.get("_fail") is not None:
            code, message = op["_fail"]
            op.update(operation_status="FAILED", error_code=code, error_message=message)
            if inst is not None:
                inst["fail_reason"] = message
                if op["operation_type"] == "CREATE":
                    inst["_failed"] = True
            continue
        op["operation_status"] = "SUCCEEDED"
        if inst is None:  # pragma: no cover - operations always name an instance
            continue
        inst["_modified"] = op["_finish"]
        kind = op["operation_type"]
        if op.get("_target") is not None:
            inst["effective_capacity"] = dict(op["_target"])
        if kind == "RENEW":
            renew = op["_renew"]
            base = max(expiry(inst, op["_finish"]) or op["_finish"], op["_finish"])
            inst["_expires"] = base + renew["duration"] * DAY
            inst["_renew_days"] = (
                renew.get("auto_renewal_duration") if renew["auto_renewal"] else None
            )
            inst["pre_paid_info"] = renew
        if kind == "DELETE":
            inst["deleted"] = True
            inst["_deleted_at"] = op["_finish"]
        op["current_status"] = instance_status(data, inst, op["_finish"])
    for inst in data["_instances"]:
        expires = expiry(inst, now)
        if inst["deleted"] or expires is None:
            continue
        if now >= expires + STOP_AFTER_EXPIRY + RELEASE_AFTER_STOP:
            inst["deleted"] = True
            inst["_deleted_at"] = expires + STOP_AFTER_EXPIRY + RELEASE_AFTER_STOP
            changed = True
    return changed


def instance_status(data: dict[str, Any], inst: dict[str, Any], now: float) -> str:
    """An instance's status at `now` (after :func:`settle`)."""
    if inst["deleted"]:
        return "STOPPED"
    op = running_op(data)
    if op is not None and op["instance_id"] == inst["instance_id"]:
        billing = inst["charge_type"] == "pre_paid" and now < op["_billed"]
        kind = op["operation_type"]
        if kind == "CREATE":
            return "WAIT_PRE_PAID_BILLING_TO_DEPLOYING" if billing else "WAIT_TO_DEPLOY"
        if kind == "SCALE":
            return "WAIT_PRE_PAID_BILLING_TO_SCALING" if billing else "SCALING"
        if kind == "DELETE":
            return "DELETING"
    if inst.get("_failed"):
        return "FAILED"
    expires = expiry(inst, now)
    if expires is not None and now >= expires + STOP_AFTER_EXPIRY:
        return "SUSPENDED"
    return "RUNNING"


def code_status(data: dict[str, Any], now: float) -> str:
    """The ModelCode's status from its instances and operations."""
    live = undeleted(data)
    if not live:
        return "STOPPED"
    statuses = {instance_status(data, i, now) for i in live}
    scaling = bool(statuses & {"SCALING", "WAIT_PRE_PAID_BILLING_TO_SCALING"})
    if "RUNNING" in statuses or scaling:
        return "UPDATING" if scaling else "RUNNING"
    if "WAIT_PRE_PAID_BILLING_TO_DEPLOYING" in statuses:
        return "WAIT_PRE_PAID_BILLING_TO_DEPLOYING"
    if "WAIT_TO_DEPLOY" in statuses:
        return "PENDING"
    if "DELETING" in statuses:
        return "STOPPING"
    if statuses == {"SUSPENDED"}:
        return "SUSPENDED"
    return "FAILED" if "FAILED" in statuses else sorted(statuses)[0]


def effective_total(data: dict[str, Any]) -> dict[str, int]:
    """The capacity in force now: the sum of the undeleted instances' effective capacities."""
    total = dict(ZERO)
    for inst in undeleted(data):
        for key in total:
            total[key] += int(inst["effective_capacity"].get(key, 0))
    return total


def instance_view(data: dict[str, Any], inst: dict[str, Any], now: float) -> dict[str, Any]:
    """The API's view of one capacity instance."""
    status = instance_status(data, inst, now)
    op = running_op(data)
    busy = op is not None
    mine = busy and op is not None and op["instance_id"] == inst["instance_id"]
    prepaid = inst["charge_type"] == "pre_paid"
    target = op["_target"] if mine and op is not None and op.get("_target") else None
    out: dict[str, Any] = {
        "model_service_id": data["_service_id"],
        "deployed_model": data["deployed_model"],
        "instance_id": inst["instance_id"],
        "charge_type": inst["charge_type"],
        "status": status,
        "deleted": inst["deleted"],
        "effective_capacity": dict(inst["effective_capacity"]),
        "configured_capacity": dict(inst["effective_capacity"]),
        "target_capacity": dict(target or inst["effective_capacity"]),
        "pre_paid_info": inst.get("pre_paid_info"),
        "gmt_expired": None,
        "can_scale": status == "RUNNING" and not busy,
        "can_renew": prepaid and not inst["deleted"] and not busy and status != "FAILED",
        "can_delete": not inst["deleted"]
        and not busy
        and (not prepaid or status in ("SUSPENDED", "FAILED")),
        "fail_reason": inst.get("fail_reason"),
        "gmt_created": gmt(inst["_created"]),
        "gmt_modified": gmt(inst["_modified"]),
        "gmt_deleted": gmt(inst["_deleted_at"]) if inst.get("_deleted_at") else None,
    }
    expires = expiry(inst, now)
    if expires is not None:
        out["gmt_expired"] = gmt(expires)
    return out


def operation_view(op: dict[str, Any]) -> dict[str, Any]:
    """The API's view of one capacity operation."""
    return {k: v for k, v in op.items() if not k.startswith("_")}
