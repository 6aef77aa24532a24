"""The Model Studio deployments client, in both API generations, over the one wire layer.

Creates cannot double-buy: every create carries an explicit suffix (the caller's, else derived
from the idempotency key), is sent once, and a lost answer is settled by looking the ModelCode up
(:meth:`ModelStudioClient.find_deployment`) and adopting what is there. In the reservations
generation, PTU capacity lives in capacity instances changed by asynchronous operations: writes
carry one request id (deterministic from the idempotency key), operations are polled to a final
state, and every change is verified by reading the capacity back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from modeldeck.errors import ValidationFailed
from modeldeck.provider.body import prepaid_info
from modeldeck.provider.errors import (
    CapacityInstanceRequired,
    CapacityMismatch,
    CreateNotApplied,
    CreateOutcomeUnknown,
    OperationFailed,
    OperationPending,
    OperationUnsupported,
    PrepaidUnsubscribeRequired,
    ProviderConflict,
    ProviderConnectionError,
    ProviderError,
    ProviderNotFound,
    ServerError,
)
from modeldeck.provider.models import (
    CapacityInstance,
    CapacityInstancePage,
    CapacityOperation,
    CreateDeploymentRequest,
    DeployableModelPage,
    DeploymentInfo,
    DeploymentPage,
    PtuCapacity,
)
from modeldeck.provider.units import Generation, PtuUnit, from_wire, to_wire, unit_for
from modeldeck.provider.wire import REQUEST_ID_HEADERS, Wire, envelope, parse_retry_after

__all__ = ["ModelStudioClient", "compatible_mode_url", "derive_suffix", "parse_retry_after"]

SUFFIX_RE = re.compile(r"^[a-z0-9]{1,8}$")
SUFFIX_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
SUFFIX_LENGTH = 8
# Fixed namespace: the same idempotency key always gives the same request id, across processes.
REQUEST_ID_NAMESPACE = uuid.UUID("6f1c2a52-5a51-4d1e-9a2c-6d6f64656c64")
# A prepaid instance in these states no longer serves (expired or stopped): releasable via API.
ENDED_STATUSES = frozenset({"STOPPED", "SUSPENDED", "DELETED"})
RELEASE_REASON = "unpublished through modeldeck"


def derive_suffix(key: str) -> str:
    """A ModelCode suffix (8 chars of `[a-z0-9]`) derived from an idempotency key, stably."""
    number = int.from_bytes(uuid.uuid5(REQUEST_ID_NAMESPACE, f"suffix:{key}").bytes, "big")
    chars = []
    for _ in range(SUFFIX_LENGTH):
        number, digit = divmod(number, len(SUFFIX_ALPHABET))
        chars.append(SUFFIX_ALPHABET[digit])
    return "".join(chars)


def request_uuid(key: str | None, action: str) -> str:
    """The request id of an instance write: deterministic from `key` (a retry reuses the
    operation), distinct per `action`; random when there is no key."""
    if not key:
        return str(uuid.uuid4())
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, f"{key}:{action}"))


def compatible_mode_url(base_url: str) -> str:
    """The OpenAI-compatible base URL next to a deployments base URL (`.../compatible-mode/v1`)."""
    root = base_url.rstrip("/")
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    return f"{root}/compatible-mode/v1"


class ModelStudioClient:
    """Synchronous Model Studio deployments client; a context manager (or call `close()`)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None,
        *,
        workspace: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 60.0,
        api_generation: Generation = "reservations",
        ptu_wire_unit: PtuUnit | None = None,
        operation_timeout: float = 600.0,
        poll_initial: float = 0.2,
        poll_max: float = 5.0,
    ) -> None:
        if api_generation not in ("reservations", "legacy"):
            raise ValidationFailed(
                f"Unknown Model Studio API generation {api_generation!r}.",
                hint="Allowed: reservations (default), legacy.",
            )
        self.wire = Wire(
            base_url,
            api_key,
            workspace=workspace,
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_retry_after=max_retry_after,
            transport=transport,
        )
        self.api_generation: Generation = api_generation
        self.ptu_unit: PtuUnit = unit_for(api_generation, ptu_wire_unit)
        self.operation_timeout = operation_timeout
        self.poll_initial = poll_initial
        self.poll_max = poll_max

    # -- plumbing ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.wire.base_url

    @property
    def workspace(self) -> str | None:
        return self.wire.workspace

    @property
    def timeout(self) -> float:
        return self.wire.timeout

    @property
    def max_retries(self) -> int:
        return self.wire.max_retries

    @property
    def compatible_base_url(self) -> str:
        """Where deployed models are called (OpenAI-compatible chat completions)."""
        return compatible_mode_url(self.base_url)

    def __repr__(self) -> str:
        key = "'***'" if self.wire.api_key is not None else "None"
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, workspace={self.workspace!r}, "
            f"api_generation={self.api_generation!r}, api_key={key})"
        )

    def __enter__(self) -> ModelStudioClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.wire.close()

    def _parse(self, model: type[Any], data: dict[str, Any], what: str) -> Any:
        out = dict(envelope(data))
        for key in ("ptu_capacity", "effective_capacity", "configured_capacity", "target_capacity"):
            if key in out:
                out[key] = from_wire(out[key], self.ptu_unit)
        if "deployments" in out and isinstance(out["deployments"], list):
            out["deployments"] = [self._wire_capacity(d) for d in out["deployments"]]
        if "records" in out and isinstance(out["records"], list):
            out["records"] = [self._wire_capacity(r) for r in out["records"]]
        out.setdefault("request_id", data.get("request_id"))
        try:
            return model.model_validate(out)
        except ValidationError as exc:
            raise ProviderError(
                f"{what} answered with an unexpected shape: {exc.error_count()} field(s) invalid "
                f"({exc.errors()[0]['loc']}).",
                request_id=_text(data.get("request_id")),
            ) from None

    def _wire_capacity(self, item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        item = dict(item)
        for key in ("ptu_capacity", "effective_capacity", "configured_capacity", "target_capacity"):
            if key in item:
                item[key] = from_wire(item[key], self.ptu_unit)
        return item

    def _info(self, data: dict[str, Any], what: str) -> DeploymentInfo:
        info: DeploymentInfo = self._parse(DeploymentInfo, data, what)
        return info

    # -- create ----------------------------------------------------------------------------

    def create_deployment(
        self, body: CreateDeploymentRequest | dict[str, Any], *, idempotency_key: str | None = None
    ) -> DeploymentInfo:
        """Deploy a model (`POST /deployments`), sent once, never blindly retried.

        The body's `suffix` is kept, else derived from `idempotency_key` (else random), so the
        ModelCode `<model_name>-<suffix>` is known before the call. A lost answer (time-out, 5xx,
        dropped connection) or a 409 for that code is settled by a look-up: what is found is
        returned with ``adopted=True``; :class:`CreateNotApplied` when the look-up proves there
        is no deployment; :class:`CreateOutcomeUnknown` when the look-up cannot be done. Any
        other error is the service's refusal: nothing was created.
        """
        payload = _payload(body)
        model_name = payload.get("model_name")
        if not isinstance(model_name, str) or not model_name.strip():
            raise ValidationFailed("A create needs model_name (the model to deploy).")
        suffix = payload.get("suffix") or (
            derive_suffix(idempotency_key) if idempotency_key else derive_suffix(str(uuid.uuid4()))
        )
        if not isinstance(suffix, str) or not SUFFIX_RE.match(suffix):
            raise ValidationFailed(
                f"Invalid suffix {suffix!r}: a ModelCode suffix is 1 to 8 lowercase letters or "
                "digits.",
                hint="e.g. suffix=team1",
            )
        payload["suffix"] = suffix
        code = f"{model_name}-{suffix}"
        asked = payload.get("ptu_capacity")
        if isinstance(asked, dict):
            payload["ptu_capacity"] = to_wire(asked, self.ptu_unit)
        try:
            data = self.wire.call("POST", "/deployments", json=payload, retry=False)
            info = self._info(data, "POST /deployments")
        except ProviderConflict as err:
            return self._adopt(code, payload, err, conflict=True)
        except (ProviderConnectionError, ServerError) as err:
            return self._adopt(code, payload, err, conflict=False)
        except ProviderError as err:
            if err.status_code is not None and err.status_code >= 400:
                raise  # the service's refusal: nothing was created
            # A success whose body cannot be read is a lost answer too.
            return self._adopt(code, payload, err, conflict=False)
        cap = info.ptu_capacity
        if isinstance(asked, dict) and cap is not None and (cap.input_tpm or cap.output_tpm):
            # Zero while the create's operation runs; any other value must be what was asked.
            self._check_capacity(info.deployed_model, asked, cap, info)
        return info

    def _adopt(
        self, code: str, payload: dict[str, Any], cause: ProviderError, *, conflict: bool
    ) -> DeploymentInfo:
        """Settle a create whose answer was lost (or that met a 409) by looking `code` up."""
        lost = f"The create of {code} {'met a 409' if conflict else 'lost its answer'} ({cause})"
        try:
            found = self.find_deployment(code)
        except ProviderError as lookup:
            raise CreateOutcomeUnknown(
                f"{lost}, and looking {code} up failed too ({lookup}). A deployment may exist "
                "and bill: keep the request and reconcile it later; do not create it again.",
                deployed_model=code,
            ) from cause
        if found is None:
            if conflict:
                raise CreateOutcomeUnknown(
                    f"{lost}, yet {code} is not listed. Keep the request and reconcile it later.",
                    deployed_model=code,
                ) from cause
            raise CreateNotApplied(
                f"{lost}, and Model Studio has no deployment {code}: nothing was created.",
                deployed_model=code,
            ) from cause
        if found.model_name and found.model_name != payload.get("model_name"):
            raise ProviderConflict(
                f"{code} already exists for another model ({found.model_name}); it is not this "
                "request's deployment.",
                status_code=409,
                hint="Deploy with another suffix.",
            ) from cause
        found.adopted = True
        return found

    def find_deployment(self, deployed_model: str) -> DeploymentInfo | None:
        """The deployment with this ModelCode (GET, then the list), or None if there is none.

        Raises a ProviderError when Model Studio cannot be asked (the answer is then unknown).
        """
        try:
            return self.get_deployment(deployed_model)
        except ProviderNotFound:
            pass
        for item in self.iter_deployments():
            if item.deployed_model == deployed_model:
                return item
        return None

    # -- read ------------------------------------------------------------------------------

    def get_deployment(self, deployed_model: str) -> DeploymentInfo:
        """One deployment by its Model Code; ProviderNotFound once it is gone."""
        path = f"/deployments/{_seg(deployed_model)}"
        return self._info(self.wire.call("GET", path), f"GET {path}")

    def list_deployments(
        self, page_no: int = 1, page_size: int = 100, *, plan: str | None = None
    ) -> DeploymentPage:
        """One page of the workspace's deployments (`plan="ptu"` filters)."""
        if page_no < 1 or not 1 <= page_size <= 200:
            raise ValidationFailed(
                f"Invalid page (page_no={page_no}, page_size={page_size}).",
                hint="page_no starts at 1; page_size is 1 to 200 (100 or less is safest).",
            )
        params: dict[str, Any] = {"page_no": page_no, "page_size": page_size}
        if plan:
            params["plan"] = plan
        page: DeploymentPage = self._parse(
            DeploymentPage, self.wire.call("GET", "/deployments", params=params), "GET /deployments"
        )
        return page

    def iter_deployments(
        self, page_size: int = 100, *, plan: str | None = None
    ) -> Iterator[DeploymentInfo]:
        """Every deployment, page after page."""
        page_no, seen = 1, 0
        while True:
            page = self.list_deployments(page_no, page_size, plan=plan)
            yield from page.deployments
            seen += len(page.deployments)
            if not page.deployments or seen >= page.total or page_no >= page.total:
                return
            page_no += 1

    def list_deployable_models(
        self,
        *,
        page_no: int = 1,
        page_size: int = 100,
        model_source: str | None = None,
        version: str | None = None,
    ) -> DeployableModelPage:
        """Models the workspace can deploy, with their plans (`GET /deployments/models`)."""
        params: dict[str, Any] = {"page_no": page_no, "page_size": page_size}
        if model_source:
            params["model_source"] = model_source
        if version:
            params["version"] = version
        data = self.wire.call("GET", "/deployments/models", params=params)
        page: DeployableModelPage = self._parse(DeployableModelPage, data, "GET models")
        return page

    # -- change ----------------------------------------------------------------------------

    def scale_deployment(
        self,
        deployed_model: str,
        *,
        capacity: int | None = None,
        ptu_capacity: PtuCapacity | dict[str, Any] | None = None,
        instance_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> DeploymentInfo:
        """Set an absolute MU capacity, or the deployment's total PTU TPM, verified by read-back.

        PTU in the reservations generation: the capacity instance to change is `instance_id`, the
        only undeleted one, or the only post-paid one (else CapacityInstanceRequired); its
        operation is polled to a final state (OperationFailed / OperationPending) and the
        capacity read back (CapacityMismatch when it is not what was asked).
        """
        if (capacity is None) == (ptu_capacity is None):
            raise ValidationFailed(
                f"Scaling {deployed_model} needs exactly one of capacity (MU) or ptu_capacity "
                "(PTU).",
                hint="MU: capacity=<units>; PTU: ptu_capacity={'input_tpm': N, 'output_tpm': M}.",
            )
        path = f"/deployments/{_seg(deployed_model)}/scale"
        if capacity is not None:
            info = self._info(self.wire.call("PUT", path, json={"capacity": capacity}), path)
            if info.capacity is not None and info.capacity != capacity:
                raise CapacityMismatch(
                    f"{deployed_model} reads back {info.capacity} model units, not the "
                    f"{capacity} asked for. Not treated as success: check the deployment.",
                    deployed_model=deployed_model,
                    expected={"capacity": capacity},
                    actual={"capacity": info.capacity},
                    deployment=info,
                )
            return info
        target = _capacity_dict(ptu_capacity)
        if self.api_generation == "legacy":
            body = {"ptu_capacity": to_wire(target, self.ptu_unit)}
            self._info(self.wire.call("PUT", path, json=body), path)
        else:
            self._scale_reservation(deployed_model, target, instance_id, idempotency_key)
        after = self.get_deployment(deployed_model)
        self._check_capacity(deployed_model, target, after.ptu_capacity, after)
        return after

    def _scale_reservation(
        self,
        code: str,
        target: dict[str, Any],
        instance_id: str | None,
        idempotency_key: str | None,
    ) -> None:
        instances = self.list_capacity_instances(code)
        if not instances and instance_id is None:
            # A code without instance records: the deployment-level scale addresses it.
            path = f"/deployments/{_seg(code)}/scale"
            key = request_uuid(idempotency_key, "scale")
            body = {"ptu_capacity": to_wire(target, self.ptu_unit)}
            data = self.wire.call("PUT", path, json=body, headers=_id_headers(key))
            self._settle(code, data)
            return
        chosen = _choose_instance(code, instances, instance_id)
        others = [i for i in instances if i.instance_id != chosen.instance_id]
        wanted = {
            key: int(target.get(key) or 0) - sum(_cap(i).get(key, 0) for i in others)
            for key in ("input_tpm", "output_tpm")
        }
        if min(wanted.values()) < 0:
            raise ValidationFailed(
                f"{code}'s other capacity instances already hold more than {target}; scale "
                f"instance {chosen.instance_id} alone cannot reach it.",
                hint="Release or scale the other instances first.",
            )
        old = _cap(chosen)
        order = _order_type(old, wanted)
        self.scale_capacity_instance(
            code, chosen.instance_id, wanted, order_type=order, idempotency_key=idempotency_key
        )
        now = self.get_capacity_instance(code, chosen.instance_id)
        if now.effective_capacity is not None:
            self._check_capacity(code, wanted, now.effective_capacity, None)

    def update_limits(
        self, deployed_model: str, *, rpm_limit: int | None = None, tpm_limit: int | None = None
    ) -> DeploymentInfo:
        """Set MU rate limits (`PUT .../update`)."""
        if rpm_limit is None and tpm_limit is None:
            raise ValidationFailed(
                f"Updating the limits of {deployed_model} needs rpm_limit or tpm_limit."
            )
        pairs = (("rpm_limit", rpm_limit), ("tpm_limit", tpm_limit))
        body = {k: v for k, v in pairs if v is not None}
        path = f"/deployments/{_seg(deployed_model)}/update"
        return self._info(self.wire.call("PUT", path, json=body), path)

    def update_overflow_strategy(self, deployed_model: str, *, enabled: bool) -> DeploymentInfo:
        """Enable or disable PTU overflow to pay-as-you-go (`PUT .../update-overflowstrategy`)."""
        path = f"/deployments/{_seg(deployed_model)}/update-overflowstrategy"
        body = {"overflow_strategy": "enable" if enabled else "disable"}
        return self._info(self.wire.call("PUT", path, json=body), path)

    def delete_deployment(
        self, deployed_model: str, *, idempotency_key: str | None = None
    ) -> DeploymentInfo:
        """Unpublish. A reservations PTU first has its post-paid instances released (each
        operation waited for); a live prepaid instance raises PrepaidUnsubscribeRequired
        before anything is released."""
        path = f"/deployments/{_seg(deployed_model)}"
        if self.api_generation == "reservations":
            current = self.get_deployment(deployed_model)
            if current.is_ptu and current.status not in ("DELETING", "DELETED"):
                self._release_all(deployed_model, idempotency_key)
        return self._info(self.wire.call("DELETE", path), f"DELETE {path}")

    def _release_all(self, code: str, idempotency_key: str | None) -> None:
        instances = self.list_capacity_instances(code)
        live_prepaid = [i for i in instances if i.prepaid and i.status not in ENDED_STATUSES]
        if live_prepaid:
            ids = ", ".join(i.instance_id for i in live_prepaid)
            expiry = ", ".join(
                f"{i.instance_id} until {i.gmt_expired:%Y-%m-%d %H:%M} Beijing"
                for i in live_prepaid
                if i.gmt_expired is not None
            )
            raise PrepaidUnsubscribeRequired(
                f"{code} has a live prepaid (upfront) capacity instance ({ids}"
                f"{'; paid ' + expiry if expiry else ''}): Model Studio does not release "
                "prepaid capacity through the API, and the order's settlement (refund or not) "
                "is decided at unsubscription.",
                code="PREPAID_UNSUBSCRIBE_REQUIRED",
                hint=(
                    "Unsubscribe the instance in the Alibaba Cloud console (Expenses > "
                    "Unsubscribe), then unpublish again; or let it expire."
                ),
            )
        for item in instances:
            self.release_capacity_instance(code, item.instance_id, idempotency_key=idempotency_key)

    # -- PTU reservations: capacity instances and operations --------------------------------

    def list_capacity_instances(
        self, deployed_model: str, *, include_deleted: bool = False, page_size: int = 100
    ) -> list[CapacityInstance]:
        """Every capacity instance of a code (all pages); released ones only if asked."""
        path = f"/deployments/{_seg(deployed_model)}/capacity-instances"
        out: list[CapacityInstance] = []
        page_no = 1
        while True:
            params: dict[str, Any] = {"page_no": page_no, "page_size": page_size}
            if include_deleted:
                params["include_deleted"] = "true"
            page: CapacityInstancePage = self._parse(
                CapacityInstancePage, self.wire.call("GET", path, params=params), f"GET {path}"
            )
            out.extend(page.records)
            if (
                not page.records
                or len(out) >= page.items
                or (page.page_count and page_no >= page.page_count)
            ):
                break
            page_no += 1
        return out if include_deleted else [i for i in out if not i.deleted]

    def get_capacity_instance(self, deployed_model: str, instance_id: str) -> CapacityInstance:
        path = f"/deployments/{_seg(deployed_model)}/capacity-instances/{_seg(instance_id)}"
        instance: CapacityInstance = self._parse(
            CapacityInstance, self.wire.call("GET", path), f"GET {path}"
        )
        return instance

    def add_capacity_instance(
        self,
        deployed_model: str,
        ptu_capacity: PtuCapacity | dict[str, Any],
        *,
        days: int | None = None,
        auto_renew: bool = False,
        idempotency_key: str | None = None,
    ) -> CapacityOperation:
        """Buy one more instance (post-paid, or prepaid for `days`); its SUCCEEDED operation."""
        body: dict[str, Any] = {
            "billing_method": "PRE_PAY" if days else "POST_PAY",
            "ptu_capacity": to_wire(_capacity_dict(ptu_capacity), self.ptu_unit),
        }
        if days:
            body["pre_paid_info"] = prepaid_info(days, auto_renew)
        path = f"/deployments/{_seg(deployed_model)}/capacity-instances"
        key = request_uuid(idempotency_key, "add")
        return self._settle(
            deployed_model, self.wire.call("POST", path, json=body, headers=_id_headers(key))
        )

    def scale_capacity_instance(
        self,
        deployed_model: str,
        instance_id: str,
        ptu_capacity: PtuCapacity | dict[str, Any],
        *,
        order_type: str | None = None,
        idempotency_key: str | None = None,
    ) -> CapacityOperation:
        """Set one instance's absolute capacity (TPM); its SUCCEEDED operation."""
        body: dict[str, Any] = {
            "ptu_capacity": to_wire(_capacity_dict(ptu_capacity), self.ptu_unit)
        }
        if order_type:
            body["order_type"] = order_type
        path = f"/deployments/{_seg(deployed_model)}/capacity-instances/{_seg(instance_id)}/scale"
        key = request_uuid(idempotency_key, f"scale:{instance_id}")
        return self._settle(
            deployed_model, self.wire.call("PUT", path, json=body, headers=_id_headers(key))
        )

    def renew(
        self,
        deployed_model: str,
        days: int,
        auto_renew: bool,
        instance_id: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> CapacityOperation:
        """Renew a prepaid PTU instance for `days` (auto-renewal on or off); its SUCCEEDED
        operation. The instance is `instance_id` or the code's only prepaid one."""
        if not isinstance(days, int) or days < 1:
            raise ValidationFailed(f"A renewal needs days (1 or more), not {days!r}.")
        if self.api_generation == "legacy":
            raise OperationUnsupported(
                "Renewing through the API needs the reservations generation of Model Studio.",
                hint='Set [provider] api_generation = "reservations", or renew in the console.',
            )
        instances = self.list_capacity_instances(deployed_model)
        if instance_id is None:
            prepaid = [i for i in instances if i.prepaid]
            if len(prepaid) != 1:
                raise CapacityInstanceRequired(
                    f"{deployed_model} has {len(prepaid)} prepaid capacity instances "
                    f"({', '.join(i.instance_id for i in prepaid) or 'none'}); a renewal names "
                    "exactly one.",
                    code="CAPACITY_INSTANCE_REQUIRED",
                    hint="renew ... instance_id=<id>" if prepaid else "Only prepaid PTU renews.",
                )
            instance_id = prepaid[0].instance_id
        body = {"pre_paid_info": prepaid_info(days, auto_renew)}
        path = f"/deployments/{_seg(deployed_model)}/capacity-instances/{_seg(instance_id)}/renew"
        key = request_uuid(idempotency_key, f"renew:{instance_id}")
        return self._settle(
            deployed_model, self.wire.call("PUT", path, json=body, headers=_id_headers(key))
        )

    def release_capacity_instance(
        self,
        deployed_model: str,
        instance_id: str,
        *,
        reason: str = RELEASE_REASON,
        idempotency_key: str | None = None,
    ) -> CapacityOperation:
        """Release a post-paid instance (`DELETE …?reason=`); its SUCCEEDED operation."""
        path = f"/deployments/{_seg(deployed_model)}/capacity-instances/{_seg(instance_id)}"
        key = request_uuid(idempotency_key, f"release:{instance_id}")
        data = self.wire.call("DELETE", path, params={"reason": reason}, headers=_id_headers(key))
        return self._settle(deployed_model, data)

    def get_capacity_operation(self, deployed_model: str, operation_id: str) -> CapacityOperation:
        path = f"/deployments/{_seg(deployed_model)}/capacity-operations/{_seg(operation_id)}"
        op: CapacityOperation = self._parse(
            CapacityOperation, self.wire.call("GET", path), f"GET {path}"
        )
        return op

    def wait_for_operation(
        self, deployed_model: str, operation_id: str, *, timeout: float | None = None
    ) -> CapacityOperation:
        """Poll an operation with backoff until SUCCEEDED (returned), FAILED (OperationFailed)
        or the timeout (OperationPending: it may still succeed; poll it later)."""
        limit = self.operation_timeout if timeout is None else timeout
        retrying = Retrying(
            retry=retry_if_result(lambda op: not op.final),
            wait=wait_exponential(multiplier=self.poll_initial, max=self.poll_max),
            stop=stop_after_delay(limit),
        )
        try:
            op: CapacityOperation = retrying(
                self.get_capacity_operation, deployed_model, operation_id
            )
        except RetryError:
            raise OperationPending(
                f"Capacity operation {operation_id} on {deployed_model} was still running after "
                f"{limit:g} s; its effective capacity is still the old one.",
                hint="Poll it again later; do not send the change again with a new request id.",
                operation_id=operation_id,
            ) from None
        return _final(deployed_model, op)

    def _settle(self, code: str, data: dict[str, Any]) -> CapacityOperation:
        """The final state of the operation a write answered with (HTTP 200 can carry FAILED)."""
        out = envelope(data)
        operation_id = out.get("operation_id")
        if operation_id in (None, ""):
            raise ProviderError(
                f"A capacity change on {code} answered without an operation_id; its outcome "
                "cannot be followed.",
                request_id=_text(data.get("request_id")),
            )
        first: CapacityOperation = self._parse(CapacityOperation, data, "capacity write")
        if first.final:
            return _final(code, first)
        return self.wait_for_operation(code, first.operation_id)

    def _check_capacity(
        self,
        code: str,
        wanted: dict[str, Any],
        actual: PtuCapacity | None,
        info: DeploymentInfo | None,
    ) -> None:
        """Raise CapacityMismatch when the read-back capacity is not what was asked for."""
        if actual is None:
            return
        want = {k: int(wanted.get(k) or 0) for k in ("input_tpm", "output_tpm")}
        got = {"input_tpm": actual.input_tpm, "output_tpm": actual.output_tpm}
        if want != got:
            raise CapacityMismatch(
                f"{code} reads back {got['input_tpm']} in / {got['output_tpm']} out tokens per "
                f"minute, not the {want['input_tpm']} / {want['output_tpm']} asked for "
                f"(wire unit {self.ptu_unit}). Not treated as success: check the deployment.",
                deployed_model=code,
                expected=want,
                actual=got,
                hint="Check [provider] ptu_wire_unit / api_generation against the account.",
                deployment=info,
            )


def _final(code: str, op: CapacityOperation) -> CapacityOperation:
    """A finished operation: returned when SUCCEEDED, else OperationFailed (nothing changed)."""
    if op.succeeded:
        return op
    raise OperationFailed(
        f"Capacity operation {op.operation_id} ({op.operation_type or 'change'}) on {code} "
        f"ended {op.operation_status}: {op.error_message or 'no reason given'}. Nothing changed.",
        code=op.error_code,
        request_id=op.request_id,
        operation_id=op.operation_id,
    )


def _payload(body: CreateDeploymentRequest | dict[str, Any]) -> dict[str, Any]:
    payload = body.to_body() if isinstance(body, CreateDeploymentRequest) else dict(body)
    return {
        k: v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v
        for k, v in payload.items()
        if v is not None
    }


def _capacity_dict(value: PtuCapacity | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(value, PtuCapacity):
        return value.tpm()
    if not isinstance(value, dict):
        raise ValidationFailed("ptu_capacity must be {'input_tpm': N, 'output_tpm': M}.")
    return {k: v for k, v in value.items() if v is not None}


def _cap(instance: CapacityInstance) -> dict[str, int]:
    cap = instance.effective_capacity or instance.configured_capacity
    return cap.tpm() if cap is not None else {"input_tpm": 0, "output_tpm": 0}


def _order_type(old: dict[str, int], new: dict[str, int]) -> str | None:
    keys = ("input_tpm", "output_tpm")
    if all(new[k] >= old.get(k, 0) for k in keys):
        return "UPGRADE"
    if all(new[k] <= old.get(k, 0) for k in keys):
        return "DOWNGRADE"
    return None


def _choose_instance(
    code: str, instances: list[CapacityInstance], instance_id: str | None
) -> CapacityInstance:
    if instance_id is not None:
        for item in instances:
            if item.instance_id == instance_id:
                return item
        raise ValidationFailed(
            f"{code} has no undeleted capacity instance {instance_id}.",
            hint=f"Instances: {', '.join(i.instance_id for i in instances) or 'none'}.",
        )
    if len(instances) == 1:
        return instances[0]
    postpaid = [i for i in instances if not i.prepaid and i.can_scale is not False]
    if len(postpaid) == 1:
        return postpaid[0]
    raise CapacityInstanceRequired(
        f"{code} has {len(instances)} capacity instances "
        f"({', '.join(i.instance_id for i in instances)}); say which one to scale.",
        code="CAPACITY_INSTANCE_REQUIRED",
        hint="scale ... instance_id=<id>",
    )


def _id_headers(key: str) -> dict[str, str]:
    return dict.fromkeys(REQUEST_ID_HEADERS, key)


def _seg(value: str) -> str:
    """A path segment, percent-encoded (a Model Code never spans segments)."""
    from urllib.parse import quote

    if not value or not str(value).strip():
        raise ValidationFailed("A deployed model (Model Code) is required, got an empty one.")
    return quote(str(value).strip(), safe="")


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
