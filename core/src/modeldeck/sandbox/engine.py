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

import json
import random
import re
import string
import time
from typing import Any

from modeldeck.sandbox import reservations as rsv
from modeldeck.sandbox.capacity import CapacityMixin
from modeldeck.sandbox.catalog import SandboxModel, model_table
from modeldeck.sandbox.clock import SandboxClock, gmt
from modeldeck.sandbox.common import (
    ARREARAGE,
    Caller,
    SandboxError,
    invalid,
    is_int,
    not_found,
    page_param,
    pay_as_you_go,
    prepaid_expiry,
    reservation_error,
    valid_capacity,
    valid_ptu_capacity,
)
from modeldeck.sandbox.config import FaultRule, SandboxConfig
from modeldeck.sandbox.store import SandboxStore

__all__ = [
    "ARREARAGE",
    "IDEMPOTENCY_HEADERS",
    "Caller",
    "Sandbox",
    "SandboxError",
    "invalid",
    "not_found",
    "prepaid_expiry",
    "reservation_error",
]

HOUR = 3600.0
STOP_AFTER_EXPIRY = 2 * HOUR
RELEASE_AFTER_STOP = 14 * HOUR
SUFFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,7}$")
PLANS = ("mu", "ptu", "lora", "cu")
MISSING_PERMISSION = "Missing permissions for this module"
IDEMPOTENCY_HEADERS = ("x-acs-req-uuid", "x-dashscope-requestid", "x-request-id")
SERVICE_TIERS = ("ptu_fast", "ptu_default")


class Sandbox(CapacityMixin):
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
            capacity = valid_capacity(body.get("capacity"), model.base_capacity, required=True)
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
            not is_int(max_context) or not 0 < max_context <= model.max_context_tokens
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
            "ptu_capacity": valid_ptu_capacity(capacity, thinking=not self.config.ktpm),
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
        if not is_int(days) or days < 1:
            raise invalid(
                f"Invalid pre_paid_info.duration ({days}), duration must be a whole number of "
                "days, 1 or more!"
            )
        auto = bool(info.get("auto_renewal", False))
        renew = info.get("auto_renewal_duration", days) if auto else None
        if auto and (not is_int(renew) or renew < 1):
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
            if not is_int(value) or value < 1:
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
        page_no = page_param("page_no", page_no, 1, None)
        page_size = page_param("page_size", page_size, 50, 200)
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
                capacity = valid_capacity(
                    body.get("capacity"), data["base_capacity"], required=True
                )
                changed = capacity != data["capacity"]
                data["_prev_capacity"] = data["capacity"]
                data["capacity"] = capacity
            else:
                if body.get("ptu_capacity") is None:
                    raise invalid("Miss ptu capacity info")
                target = valid_ptu_capacity(body["ptu_capacity"])
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
        page_no = page_param("page_no", page_no, 1, None)
        page_size = page_param("page_size", page_size, 50, 200)
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
                if self.status_of(data, now) is None or not pay_as_you_go(data):
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
