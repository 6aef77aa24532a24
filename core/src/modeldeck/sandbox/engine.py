"""The sandbox's behaviour: Model Studio's deployments API as plain methods over the SQLite state.

Statuses are computed from the virtual clock when read: ``PENDING`` until the deploy delay has
passed, then ``RUNNING`` (or ``FAILED`` for a model configured to fail); ``UPDATING`` for the scale
delay after a scale; ``DELETING`` for the delete delay after an unpublish, then gone (404). An
upfront (pre-paid) order stops 2 hours after it expires (``STOPPED``), is released 14 hours later.
In the reservations generation a PTU ModelCode holds capacity instances changed by asynchronous
operations (:mod:`modeldeck.sandbox.reservations`). Like the real service, a first create has no
idempotency: a repeated create is a new one (a new generated suffix, or 409 on a repeated suffix).
Errors are :class:`SandboxError` with the documented HTTP status, code and message.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any, TypeGuard

from modeldeck.sandbox import reservations as rsv
from modeldeck.sandbox.catalog import SandboxModel, model_table
from modeldeck.sandbox.clock import SandboxClock, gmt
from modeldeck.sandbox.config import FaultRule, SandboxConfig
from modeldeck.sandbox.store import SandboxStore
from modeldeck.timeutil import BEIJING

HOUR = 3600.0
STOP_AFTER_EXPIRY = 2 * HOUR
RELEASE_AFTER_STOP = 14 * HOUR
MAX_CAPACITY = 1000
SUFFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,7}$")
PLANS = ("mu", "ptu", "lora", "cu")
MISSING_PERMISSION = "Missing permissions for this module"
IDEMPOTENCY_HEADERS = ("x-acs-req-uuid", "x-dashscope-requestid", "x-request-id")
ARREARAGE = "Access denied, please make sure your account is in good standing."
SERVICE_TIERS = ("ptu_fast", "ptu_default")


class SandboxError(Exception):
    """An error answer: HTTP status, Model Studio code and message (and optional headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.param = param


def invalid(message: str) -> SandboxError:
    return SandboxError(400, "InvalidParameter", message)


def not_found(deployed_model: str) -> SandboxError:
    return SandboxError(404, "NotFound", f"Model: {deployed_model} not found!")


def reservation_error(code: str, message: str) -> SandboxError:
    """A reservation error with its documented HTTP status."""
    return SandboxError(rsv.ERROR_STATUS.get(code, 400), code, message)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the member behind the API key and the workspace addressed."""

    member: str
    workspace: str


class Sandbox:
    """One emulated Model Studio account: its deployments, clock, faults and usage meters."""

    def __init__(self, config: SandboxConfig) -> None:
        from modeldeck.sandbox.inference import Meter

        self.config = config
        self.store = SandboxStore(config.db_path)
        self.models: dict[str, SandboxModel] = model_table(config.rate_limit_models)
        self.clock = self._load_clock()
        self.faults: list[FaultRule] = list(config.faults)
        self.fault_hits: dict[int, int] = {}
        self.meter = Meter()
        self.rng = random.Random(config.seed)

    def close(self) -> None:
        self.store.close()

    # -- clock ------------------------------------------------------------------------------

    def _load_clock(self) -> SandboxClock:
        wall = time.time()
        speed = self.config.clock_speed
        stored = self.store.get_meta("clock")
        if stored is not None:
            anchor = json.loads(stored)
            virtual = anchor["virtual"] + (wall - anchor["wall"]) * anchor["speed"]
        else:
            start = self.config.start_time
            virtual = start.timestamp() if start is not None else wall
        self.store.set_meta("clock", json.dumps({"wall": wall, "virtual": virtual, "speed": speed}))
        return SandboxClock(speed, wall, virtual)

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by `seconds` (persisted); returns the new virtual time."""
        now = self.clock.advance(seconds)
        anchor = {
            "wall": self.clock.anchor_wall,
            "virtual": self.clock.anchor_virtual,
            "speed": self.clock.speed,
        }
        self.store.set_meta("clock", json.dumps(anchor))
        return now

    # -- callers and permissions ------------------------------------------------------------

    def authenticate(self, authorization: str | None, workspace: str | None) -> Caller:
        """The caller behind a `Bearer` key; 401 `InvalidApiKey` otherwise."""
        scheme, _, key = (authorization or "").strip().partition(" ")
        member = self.config.member_for(key.strip()) if scheme.lower() == "bearer" else None
        if member is None:
            raise SandboxError(401, "InvalidApiKey", "Invalid API-key provided.")
        chosen = (workspace or "").strip() or self.config.workspace_id
        return Caller(member=member, workspace=chosen)

    def require_full_access(self, caller: Caller) -> None:
        """403 unless the member holds `ModelDeploy-FullAccess` on the workspace."""
        allowed = self.config.full_access
        if allowed is not None and caller.member not in allowed:
            raise SandboxError(403, "AccessDenied", MISSING_PERMISSION)

    def _require_privilege(self, caller: Caller, model: str) -> None:
        allowed = self.config.deployable_models
        if allowed is not None and model not in allowed:
            raise SandboxError(
                403,
                "Workspace.AccessDenied",
                f"Workspace {caller.workspace} does not have deployment privilege for model "
                f"{model}.",
            )

    # -- views ------------------------------------------------------------------------------

    def status_of(self, data: dict[str, Any], now: float) -> str | None:
        """The status at virtual time `now`, or None when the deployment is gone."""
        deleted = data.get("_deleted")
        if deleted is not None:
            return "DELETING" if now < deleted + self.config.delete_delay_seconds else None
        expires = self._expiry(data, now)
        if expires is not None and now >= expires + STOP_AFTER_EXPIRY + RELEASE_AFTER_STOP:
            return None
        arrears = data.get("_arrears_since")
        if arrears is not None and now >= arrears + self.config.arrears_release_hours * HOUR:
            return None
        if data.get("_status_override"):
            return str(data["_status_override"])
        if arrears is not None:
            return "ARREARS_DOWN"
        recovering = data.get("_arrears_recover_until")
        if recovering is not None and now < recovering:
            return "ARREARS_RECOVERING"
        if rsv.is_reservation(data):
            return rsv.code_status(data, now)
        if expires is not None and now >= expires + STOP_AFTER_EXPIRY:
            return "STOPPED"
        if now < data["_ready"]:
            return "PENDING"
        if data.get("_failed"):
            return "FAILED"
        until = data.get("_update_until")
        if until is not None and now < until:
            return "UPDATING"
        return "RUNNING"

    def _expiry(self, data: dict[str, Any], now: float) -> float | None:
        """The order's current expiry, renewing automatically while auto-renewal is on."""
        expires: float | None = data.get("_expires")
        renew = data.get("_renew_days")
        if expires is None or not renew:
            return expires
        while now >= expires:
            expires += renew * 86400.0
        return expires

    def view(self, data: dict[str, Any], now: float | None = None) -> dict[str, Any] | None:
        """The API's `output` for a deployment, or None when it is gone."""
        now = self.clock.now() if now is None else now
        status = self.status_of(data, now)
        if status is None:
            return None
        out = {k: v for k, v in data.items() if not k.startswith("_")}
        out["status"] = status
        serving = status in {"RUNNING", "UPDATING"}
        if status == "UPDATING":
            out["ready_capacity"] = data.get("_prev_capacity", data["capacity"])
        else:
            out["ready_capacity"] = data["capacity"] if serving else 0
        out["gmt_create"] = gmt(data["_created"])
        marks = [data["_modified"]]
        for key in ("_ready", "_update_until"):
            if data.get(key) is not None and data[key] <= now:
                marks.append(data[key])
        if rsv.is_reservation(data):
            out["ptu_capacity"] = rsv.effective_total(data)
            live = rsv.undeleted(data)
            out["capacity_instance_count"] = len(live)
            expiries = [e for e in (rsv.expiry(i, now) for i in live) if e is not None]
            if expiries:  # the earliest a prepaid instance of this code expires
                out["pre_paid_gmt_expired"] = gmt(min(expiries))
                first = next(i for i in live if i.get("pre_paid_info"))
                out["pre_paid_info"] = first["pre_paid_info"]
            marks += [i["_modified"] for i in data["_instances"]]
        out["gmt_modified"] = gmt(max(marks))
        expires = self._expiry(data, now)
        if expires is not None:
            out["pre_paid_gmt_expired"] = gmt(expires)
        if status == "FAILED":
            out["fail_reason"] = data.get("_fail_reason")
        return out

    def _live(self, caller: Caller, deployed_model: str) -> tuple[int, dict[str, Any], str]:
        """Row id, data and status of a deployment that still exists; 404 otherwise."""
        found = self.store.find(caller.workspace, deployed_model)
        if found is None:
            raise not_found(deployed_model)
        row_id, data = found
        now = self.clock.now()
        self._settle(row_id, data, now)
        status = self.status_of(data, now)
        if status is None:
            self.store.purge(row_id)
            raise not_found(deployed_model)
        return row_id, data, status

    def _settle(self, row_id: int, data: dict[str, Any], now: float) -> None:
        """Apply finished capacity operations (reservations) and persist the result."""
        if rsv.is_reservation(data) and rsv.settle(data, now):
            self.store.update(row_id, data)

    def lookup(self, workspace: str, deployed_model: str) -> tuple[dict[str, Any], str] | None:
        """Data and status of a live deployment (for inference), or None."""
        with self.store.lock:
            found = self.store.find(workspace, deployed_model)
            if found is None:
                return None
            now = self.clock.now()
            self._settle(found[0], found[1], now)
            status = self.status_of(found[1], now)
        return None if status is None else (found[1], status)

    def ptu_tpm(self, data: dict[str, Any]) -> dict[str, int]:
        """A PTU deployment's capacity in force, in tokens per minute (whatever the wire unit)."""
        wire = rsv.effective_total(data) if rsv.is_reservation(data) else data["ptu_capacity"]
        factor = 1000 if data.get("_ktpm") else 1
        return {k: int(v) * factor for k, v in wire.items()}

    # -- deployments API --------------------------------------------------------------------

    def create(
        self,
        caller: Caller,
        body: Any,
        idempotency_key: str | None = None,
        path: str = "",
        *,
        console: bool = False,
    ) -> dict[str, Any]:
        """`POST /deployments`.

        No idempotency on a first create (the real service keeps none): a request id header is
        ignored, so a repeated create is a second deployment (a generated suffix) or, with the
        same explicit suffix, 409 `Conflict`. `console` is a purchase in the Model Studio console
        (the admin control): MU `PRE_PAY` monthly packages are bought there whatever the API takes.
        """
        del idempotency_key  # accepted and ignored, like the service
        self.require_full_access(caller)
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        self._refuse_in_arrears()
        with self.store.lock:
            data = self._validate_create(caller, body, path, console)
            existing = self.store.find(caller.workspace, data["deployed_model"])
            if existing is not None:
                if self.status_of(existing[1], self.clock.now()) is not None:
                    raise SandboxError(
                        409,
                        "Conflict",
                        f"Deployed model {data['deployed_model']} already exists, please "
                        "specify a suffix.",
                    )
                self.store.purge(existing[0])
            row_id = self.store.insert(caller.workspace, data["deployed_model"], data)
            if rsv.is_reservation(data):
                data["_service_id"] = str(row_id)
                rsv.settle(data, self.clock.now())
                self.store.update(row_id, data)
            view = self.view(data)
        assert view is not None
        if rsv.is_reservation(data):
            op = data["_ops"][0]
            view["operation_id"] = op["operation_id"]
            if data["charge_type"] != "pre_paid":  # a prepaid order's instance id comes later
                view["instance_id"] = op["instance_id"]
        return view

    def _refuse_in_arrears(self) -> None:
        if self.arrears_since() is not None:
            raise SandboxError(400, "Arrearage", ARREARAGE)

    def _generated_suffix(self, caller: Caller, model_name: str) -> str:
        alphabet = string.ascii_lowercase + string.digits
        while True:
            suffix = "".join(self.rng.choices(alphabet, k=self.config.auto_suffix_length))
            if self.store.find(caller.workspace, f"{model_name}-{suffix}") is None:
                return suffix

    def _validate_create(
        self, caller: Caller, body: dict[str, Any], path: str, console: bool = False
    ) -> dict[str, Any]:
        model_name = body.get("model_name")
        if not isinstance(model_name, str) or not model_name.strip():
            raise invalid("Missing required parameter: model_name.")
        plan = body.get("plan")
        if plan not in PLANS:
            raise invalid(f"Invalid plan ({plan}), plan must be one of {', '.join(PLANS)}!")
        model = self.models.get(model_name)
        if model is None or plan not in model.plans:
            raise invalid(f"The model {model_name} does not exist or is not deployable")
        self._require_privilege(caller, model_name)
        if plan == "ptu":  # PTU creates carry no capacity (older tables mark it; ignored)
            capacity = 1
        else:
            capacity = _capacity(body.get("capacity"), model.base_capacity, required=True)
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or not SUFFIX_RE.match(suffix)):
            raise invalid(
                f"Invalid suffix ({suffix}), suffix must be 1 to 8 lowercase letters, digits or "
                "hyphens!"
            )
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 50):
            raise invalid("Invalid name, name must be a string of at most 50 characters!")
        if not suffix:
            suffix = self._generated_suffix(caller, model_name)
        code = f"{model_name}-{suffix}"
        now = self.clock.now()
        data: dict[str, Any] = {
            "deployed_model": code,
            "name": name or code,
            "model_name": model_name,
            "base_model": model_name,
            "plan": plan,
            "base_capacity": model.base_capacity,
            "capacity": capacity,
            "workspace_id": caller.workspace,
            "charge_type": "post_paid",
            "creator": caller.member,
            "modifier": caller.member,
            "_created": now,
            "_modified": now,
            "_ready": now + self.config.deploy_delay_seconds,
        }
        if model_name in self.config.failing_models:
            data["_failed"] = True
            data["_fail_reason"] = (
                "Insufficient resources: the capacity could not be allocated; the purchase "
                "was refunded."
            )
        if plan == "mu":
            data.update(self._mu_create(model, body, console))
        else:
            data.update(self._ptu_create(model, body, now))
            if self.config.ktpm:
                self._start_reservation(data, now, path)
        return data

    def _mu_create(
        self, model: SandboxModel, body: dict[str, Any], console: bool = False
    ) -> dict[str, Any]:
        # The official SDK sends `template_id` (GET /deployments/models: it IS the deploy spec)
        # and no billing_method; Alibaba's CLI sends deploy_spec and POST_PAY.
        spec = body.get("deploy_spec") or body.get("template_id")
        if spec is None:
            raise invalid(
                "Missing required parameter: deploy_spec or template_id (required for plan mu)."
            )
        if spec not in model.deploy_specs:
            raise invalid(
                f"Invalid deploy_spec ({spec}), deploy_spec must be one of "
                f"{', '.join(model.deploy_specs)}!"
            )
        billing = body.get("billing_method", "POST_PAY")
        prepay = console or self.config.mu_prepay_accepted
        allowed = ("POST_PAY", "PRE_PAY") if prepay else ("POST_PAY",)
        if billing not in allowed:
            raise invalid(
                f"Invalid billing_method ({billing}), billing_method must be "
                f"{' or '.join(allowed)}!"
            )
        thinking = body.get("enable_thinking")
        if thinking is True and not model.thinking:
            raise invalid(f"The model {model.name} does not support enable_thinking.")
        max_context = body.get("max_context_length")
        if max_context is not None and (
            not _is_int(max_context) or not 0 < max_context <= model.max_context_tokens
        ):
            raise invalid(
                f"Invalid max_context_length ({max_context}), max_context_length must be between "
                f"1 and {model.max_context_tokens}!"
            )
        out: dict[str, Any] = {
            "model_unit_spec": spec,
            "billing_method": billing,
            "enable_thinking": (not model.instruct) or (model.thinking and thinking is True),
            "max_context_length": max_context or model.max_context_tokens,
            "rpm_limit": None,
            "tpm_limit": None,
        }
        out.update(self._limits(model, body, required=False))
        if billing == "PRE_PAY":
            out.update(self._prepaid(body, self.clock.now()))
        return out

    def _ptu_create(self, model: SandboxModel, body: dict[str, Any], now: float) -> dict[str, Any]:
        if body.get("rpm_limit") is not None or body.get("tpm_limit") is not None:
            raise invalid("rpm_limit and tpm_limit are only supported for plan mu.")
        capacity = body.get("ptu_capacity")
        if capacity is None:
            raise invalid("Miss ptu capacity info")
        if body.get("enable_thinking") is not None:
            raise invalid("enable_thinking is only supported for plan mu.")
        overflow = body.get("overflow_strategy")
        if overflow is not None and overflow not in ("enable", "disable"):
            raise invalid(
                f"Invalid overflow_strategy ({overflow}), overflow_strategy must be enable or "
                "disable!"
            )
        out: dict[str, Any] = {
            "ptu_capacity": _ptu_capacity(capacity, thinking=not self.config.ktpm),
            "overflow_strategy": overflow or ("enable" if self.config.ptu_overflow else "disable"),
            "_ktpm": self.config.ktpm,
        }
        charge = body.get("charge_type")
        if charge is None and self.config.ktpm:
            raise invalid("Missing required parameter: charge_type (post_paid or pre_paid).")
        charge = charge or "post_paid"
        if charge not in ("post_paid", "pre_paid"):
            raise invalid(
                f"Invalid charge_type ({charge}), charge_type must be pre_paid or post_paid!"
            )
        if charge == "pre_paid":
            out.update(self._prepaid(body, now))
        elif body.get("pre_paid_info") is not None:
            raise invalid("pre_paid_info is only supported for charge_type pre_paid.")
        tier = body.get("service_tier")
        if tier is not None:
            if tier not in SERVICE_TIERS:
                raise invalid(
                    f"Invalid service_tier ({tier}), service_tier must be ptu_fast or ptu_default!"
                )
            if tier == "ptu_default" and charge != "pre_paid":
                raise invalid(
                    "service_tier ptu_default is only supported for charge_type pre_paid."
                )
        out["service_tier"] = tier or "ptu_fast"
        return out

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

    def _prepaid(self, body: dict[str, Any], now: float) -> dict[str, Any]:
        """The prepaid fields of a create (reservations: the documented `pre_paid_info` rules;
        legacy: auto-renewal defaults to the order's duration)."""
        info = body.get("pre_paid_info")
        if self.config.ktpm and body.get("plan") == "ptu":
            documented = self._prepaid_info(info)
            return {
                "charge_type": "pre_paid",
                "pre_paid_info": documented,
                "_expires": prepaid_expiry(now, documented["duration"]),
                "_renew_days": documented.get("auto_renewal_duration"),
            }
        if not isinstance(info, dict):
            raise invalid("Miss pre paid info")
        days = info.get("duration")
        if not _is_int(days) or days < 1:
            raise invalid(
                f"Invalid pre_paid_info.duration ({days}), duration must be a whole number of "
                "days, 1 or more!"
            )
        auto = bool(info.get("auto_renewal", False))
        renew = info.get("auto_renewal_duration", days) if auto else None
        if auto and (not _is_int(renew) or renew < 1):
            raise invalid(f"Invalid pre_paid_info.auto_renewal_duration ({renew})!")
        clean: dict[str, Any] = {"duration": days, "auto_renewal": auto}
        if auto:
            clean["auto_renewal_duration"] = renew
        return {
            "charge_type": "pre_paid",
            "pre_paid_info": clean,
            "_expires": prepaid_expiry(now, days),
            "_renew_days": renew,
        }

    def _limits(
        self, model: SandboxModel, body: dict[str, Any], *, required: bool
    ) -> dict[str, Any]:
        rpm, tpm = body.get("rpm_limit"), body.get("tpm_limit")
        if rpm is None and tpm is None:
            if required:
                raise invalid("At least one of rpm_limit and tpm_limit is required.")
            return {}
        if not model.rate_limits:
            raise invalid(f"The model {model.name} does not support rpm_limit and tpm_limit.")
        out: dict[str, Any] = {}
        for key, value in (("rpm_limit", rpm), ("tpm_limit", tpm)):
            if value is None:
                continue
            if not _is_int(value) or value < 1:
                raise invalid(f"Invalid {key} ({value}), {key} must be a positive integer!")
            out[key] = value
        return out

    def get(self, caller: Caller, deployed_model: str) -> dict[str, Any]:
        """`GET /deployments/{deployed_model}`."""
        self.require_full_access(caller)
        _row, data, _status = self._live(caller, deployed_model)
        view = self.view(data)
        if view is None:  # pragma: no cover - _live just saw it alive
            raise not_found(deployed_model)
        return view

    def list_deployments(
        self, caller: Caller, page_no: Any, page_size: Any, plan: str | None = None
    ) -> dict[str, Any]:
        """`GET /deployments?page_no=&page_size=&plan=` (`plan=ptu` also lists `ptu_v2`)."""
        self.require_full_access(caller)
        page_no = _page_param("page_no", page_no, 1, None)
        page_size = _page_param("page_size", page_size, 50, 200)
        wanted = (plan or "").strip().lower() or None
        if wanted == "ptu_v2":
            wanted = "ptu"
        now = self.clock.now()
        views = []
        with self.store.lock:
            for row_id, data in self.store.active(caller.workspace):
                self._settle(row_id, data, now)
                view = self.view(data, now)
                if view is None:
                    self.store.purge(row_id)
                elif wanted is None or view["plan"] == wanted:
                    views.append(view)
        start = (page_no - 1) * page_size
        return {
            "page_no": page_no,
            "page_size": page_size,
            "total": len(views),
            "deployments": views[start : start + page_size],
        }

    def scale(
        self,
        caller: Caller,
        deployed_model: str,
        body: Any,
        request_id: str | None = None,
        path: str = "",
    ) -> dict[str, Any]:
        """`PUT /deployments/{deployed_model}/scale` (absolute MU capacity or PTU TPM).

        A reservations PTU scales one capacity instance: `instance_id` is required when the code
        has more than one undeleted instance; the answer names the operation started.
        """
        self.require_full_access(caller)
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        with self.store.lock:
            row_id, data, status = self._live(caller, deployed_model)
            if rsv.is_reservation(data):
                return self._code_level(
                    caller, data, body, "scale", request_id, path, status=status
                )
            self._require_running(deployed_model, status, "scaled")
            now = self.clock.now()
            if data["plan"] == "mu":
                if body.get("ptu_capacity") is not None:
                    raise invalid("ptu_capacity is only supported for plan ptu.")
                capacity = _capacity(body.get("capacity"), data["base_capacity"], required=True)
                changed = capacity != data["capacity"]
                data["_prev_capacity"] = data["capacity"]
                data["capacity"] = capacity
            else:
                if body.get("ptu_capacity") is None:
                    raise invalid("Miss ptu capacity info")
                target = _ptu_capacity(body["ptu_capacity"])
                changed = target != data["ptu_capacity"]
                data["_prev_capacity"] = data["capacity"]
                data["ptu_capacity"] = target
            if changed:
                data["_update_until"] = now + self.config.effective_scale_delay
                data["_modified"] = now
                data["modifier"] = caller.member
            self.store.update(row_id, data)
            view = self.view(data, now)
        assert view is not None
        return view

    def update_limits(self, caller: Caller, deployed_model: str, body: Any) -> dict[str, Any]:
        """`PUT /deployments/{deployed_model}/update` (MU `rpm_limit` / `tpm_limit`)."""
        self.require_full_access(caller)
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        with self.store.lock:
            row_id, data, status = self._live(caller, deployed_model)
            if data["plan"] != "mu":
                raise invalid("rpm_limit and tpm_limit are only supported for plan mu.")
            self._require_running(deployed_model, status, "updated")
            data.update(self._limits(self.models[data["model_name"]], body, required=True))
            data["_modified"] = self.clock.now()
            data["modifier"] = caller.member
            self.store.update(row_id, data)
            view = self.view(data)
        assert view is not None
        return view

    def update_overflow(self, caller: Caller, deployed_model: str, body: Any) -> dict[str, Any]:
        """`PUT /deployments/{deployed_model}/update-overflowstrategy` (PTU only)."""
        self.require_full_access(caller)
        strategy = body.get("overflow_strategy") if isinstance(body, dict) else None
        if strategy not in ("enable", "disable"):
            raise invalid(
                f"Invalid overflow_strategy ({strategy}), overflow_strategy must be enable or "
                "disable!"
            )
        with self.store.lock:
            row_id, data, _status = self._live(caller, deployed_model)
            if data["plan"] != "ptu":
                raise invalid("overflow_strategy is only supported for plan ptu.")
            data["overflow_strategy"] = strategy
            data["_modified"] = self.clock.now()
            data["modifier"] = caller.member
            self.store.update(row_id, data)
            view = self.view(data)
        assert view is not None
        if self.config.ptu_v2_answers:  # the shape some overflow answers have: accept both
            view["plan"] = "ptu_v2"
            cap = view.get("ptu_capacity") or {}
            view["ptu_capacity"] = {
                "input_tpm_quota": cap.get("input_tpm"),
                "output_tpm_quota": cap.get("output_tpm"),
            }
        return view

    def delete(self, caller: Caller, deployed_model: str) -> dict[str, Any]:
        """`DELETE /deployments/{deployed_model}`: `DELETING` now, 404 after the delete delay.

        A reservations PTU code is deleted only when every capacity instance is released, the
        code is STOPPED and no operation runs.
        """
        self.require_full_access(caller)
        with self.store.lock:
            row_id, data, _status = self._live(caller, deployed_model)
            if rsv.is_reservation(data) and data.get("_deleted") is None:
                self._check_code_deletable(data)
            if data.get("_deleted") is None:
                now = self.clock.now()
                data["_deleted"] = now
                data["_modified"] = now
                data["modifier"] = caller.member
                self.store.update(row_id, data)
            view = self.view(data)
        if view is None:  # a zero delete delay: gone at once, but the answer still says so
            view = {k: v for k, v in data.items() if not k.startswith("_")}
            view["status"] = "DELETING"
        return view

    def deployable_models(
        self, caller: Caller, page_no: Any, page_size: Any, model_source: str | None
    ) -> dict[str, Any]:
        """`GET /deployments/models?page_no&page_size&model_source=base|custom`."""
        self.require_full_access(caller)
        page_no = _page_param("page_no", page_no, 1, None)
        page_size = _page_param("page_size", page_size, 50, 200)
        if model_source not in (None, "", "base", "custom"):
            raise invalid(
                f"Invalid model_source ({model_source}), model_source must be base or custom!"
            )
        ptu_plan = "ptu_v2" if self.config.ptu_v2_answers else "ptu"
        items = [m.as_deployable(ptu_plan) for m in self.models.values()]
        if model_source == "custom":
            items = []
        start = (page_no - 1) * page_size
        return {
            "page_no": page_no,
            "page_size": page_size,
            "total": len(items),
            "models": items[start : start + page_size],
        }

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
            target = _ptu_capacity(body.get("ptu_capacity"), thinking=False)
            order = body.get("order_type")
            up = _sum(target) >= _sum(inst["effective_capacity"])
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
                change = _ptu_capacity(body["ptu_capacity"], thinking=False)
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
        target = _ptu_capacity(body.get("ptu_capacity"), thinking=False)
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
        if not _is_int(days) or days < 1:
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
            if not _is_int(renew) or renew < 1:
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
        page_no = _page_param("page_no", query.get("page_no"), 1, None)
        page_size = _page_param("page_size", query.get("page_size"), 20, 100)
        include_deleted = str(query.get("include_deleted", "false")).lower() == "true"
        statuses = _csv(query.get("statuses"))
        charges = _csv(query.get("charge_types"))
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

    # -- arrears ----------------------------------------------------------------------------

    def arrears_since(self) -> float | None:
        """When the account became overdue (sandbox clock), or None when it is in good standing."""
        stored = self.store.get_meta("arrears_since")
        return None if not stored else float(stored)

    def set_arrears(self, overdue: bool) -> dict[str, Any]:
        """Mark the account overdue or paid.

        Overdue: every pay-as-you-go deployment goes `ARREARS_DOWN`, is kept (and billed) for
        `arrears_release_hours`, then released. Paid: those still kept go `ARREARS_RECOVERING`
        for the deploy delay, then back to their status.
        """
        now = self.clock.now()
        with self.store.lock:
            since = self.arrears_since()
            if overdue and since is None:
                self.store.set_meta("arrears_since", repr(now))
            if not overdue:
                self.store.set_meta("arrears_since", "")
            touched = []
            for row_id, data in self.store.active():
                self._settle(row_id, data, now)
                if self.status_of(data, now) is None or not _pay_as_you_go(data):
                    continue
                if overdue and data.get("_arrears_since") is None:
                    data["_arrears_since"] = now
                elif not overdue and data.get("_arrears_since") is not None:
                    data.pop("_arrears_since")
                    data["_arrears_recover_until"] = now + self.config.deploy_delay_seconds
                else:
                    continue
                data["_modified"] = now
                self.store.update(row_id, data)
                touched.append(data["deployed_model"])
        current = self.arrears_since()
        return {
            "overdue": current is not None,
            "since": gmt(current) if current is not None else None,
            "release_after_hours": self.config.arrears_release_hours,
            "deployments": touched,
        }

    @staticmethod
    def _require_running(deployed_model: str, status: str, what: str) -> None:
        if status != "RUNNING":
            raise SandboxError(
                409,
                "Conflict",
                f"Deployed model {deployed_model} is {status}; it can be {what} when it is "
                "RUNNING.",
            )

    # -- operator and test helpers ----------------------------------------------------------

    def set_status(
        self, deployed_model: str, status: str | None, workspace: str | None = None
    ) -> None:
        """Force a status (any string, e.g. `ARREARS_DOWN` or a new one); None clears it."""
        with self.store.lock:
            found = self.store.find(workspace or self.config.workspace_id, deployed_model)
            if found is None:
                raise not_found(deployed_model)
            row_id, data = found
            data["_status_override"] = status
            data["_modified"] = self.clock.now()
            self.store.update(row_id, data)

    def set_faults(self, rules: list[FaultRule]) -> None:
        """Replace the injected faults (and their hit counters)."""
        self.faults = list(rules)
        self.fault_hits = {}

    def created_count(self, model_name: str | None = None) -> int:
        """How many deployments were ever created (deleted ones included)."""
        return self.store.count(model_name)


def prepaid_expiry(ordered: float, days: int) -> float:
    """Expiry of an upfront order: 23:59:59 Beijing on day N (day 1 = order day; +1 from 22:00)."""
    at = datetime.fromtimestamp(ordered, BEIJING)
    extra = 1 if at.hour >= 22 else 0
    last_day = at.date() + timedelta(days=days - 1 + extra)
    return datetime.combine(last_day, dtime(23, 59, 59), BEIJING).timestamp()


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _capacity(value: Any, base: int, *, required: bool) -> int:
    """A valid MU capacity (the documented rule and text), or 400 InvalidParameter."""
    if value is None and not required:
        return 0
    if not _is_int(value) or value < 0 or value % base != 0 or value >= MAX_CAPACITY:
        raise invalid(
            f"Invalid capacity ({value}), capacity must be larger than or equal to 0 and "
            f"multiples of {base} and less than {MAX_CAPACITY}!"
        )
    return int(value)


def _ptu_capacity(value: Any, *, thinking: bool = True) -> dict[str, int]:
    """A PTU capacity (zero allowed); `thinking_output_tpm` only where the generation takes it."""
    if not isinstance(value, dict):
        raise invalid("Miss ptu capacity info")
    out: dict[str, int] = {}
    for key in ("input_tpm", "output_tpm"):
        item = value.get(key)
        if not _is_int(item) or item < 0:
            raise invalid(f"Invalid ptu_capacity.{key} ({item}), {key} must be an integer >= 0!")
        out[key] = item
    if value.get("thinking_output_tpm") is not None and not thinking:
        raise invalid("ptu_capacity.thinking_output_tpm is not supported by this model.")
    thinking_tpm = value.get("thinking_output_tpm")
    if thinking_tpm is not None:
        if not _is_int(thinking_tpm) or thinking_tpm < 0:
            raise invalid(
                f"Invalid ptu_capacity.thinking_output_tpm ({thinking_tpm}), it must be a "
                "non-negative integer!"
            )
        out["thinking_output_tpm"] = thinking_tpm
    return out


def _sum(capacity: dict[str, Any]) -> int:
    return int(capacity.get("input_tpm", 0)) + int(capacity.get("output_tpm", 0))


def _csv(raw: Any) -> set[str]:
    return {part.strip() for part in str(raw or "").split(",") if part.strip()}


def _pay_as_you_go(data: dict[str, Any]) -> bool:
    """Pay-as-you-go: an MU POST_PAY deployment, a post-paid PTU (or reservation whose every
    undeleted instance is post-paid)."""
    if rsv.is_reservation(data):
        live = rsv.undeleted(data)
        return bool(live) and all(i["charge_type"] == "post_paid" for i in live)
    return data.get("charge_type") == "post_paid"


def _page_param(name: str, raw: Any, default: int, maximum: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        allowed = f"between 1 and {maximum}" if maximum else "1 or more"
        raise invalid(f"Invalid {name} ({raw}), {name} must be {allowed}!")
    return value
