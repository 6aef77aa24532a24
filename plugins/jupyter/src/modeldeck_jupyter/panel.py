"""The notebook panel: estimate and deploy, deployments, approvals, comparison, costs, catalog,
charts, a playground and alerts.

`Deck()` builds it on the deck `connect()` picks (a server in team mode, else the core in-process).
Every deck call is guarded: a user mistake or a failure shows as a red message in the panel, never
as a traceback. The widgets are attributes (`panel.model`, `panel.estimate_html`, ...) so tests and
users can drive the panel from code as well as by clicking.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as W

from modeldeck.api import DeckAPI
from modeldeck.domain import (
    Actor,
    DecisionOutcome,
    DeploymentRecord,
    DeploySpec,
    Estimate,
    RequestRecord,
)
from modeldeck.errors import ConflictError, UserError, ValidationFailed
from modeldeck.grammar import DeployCommand, EstimateCommand, parse
from modeldeck.settings import Settings
from modeldeck.timeutil import to_beijing, utcnow
from modeldeck_jupyter.alerts_view import AlertsView
from modeldeck_jupyter.approvals import ApprovalQueue
from modeldeck_jupyter.catalog_view import CatalogView
from modeldeck_jupyter.charts_view import ChartsView
from modeldeck_jupyter.choices import BILLING_LABELS, BILLING_TIPS, PLAN_LABELS, PLAN_TIPS, Choices
from modeldeck_jupyter.compare_view import CompareView
from modeldeck_jupyter.connect import (
    Connection,
    checked_user,
    connect,
    describe,
    notebook_user,
)
from modeldeck_jupyter.cost_view import CostView
from modeldeck_jupyter.deployment_rows import GONE, DeploymentRow
from modeldeck_jupyter.form_fields import FIELDS, form_line
from modeldeck_jupyter.playground import Playground
from modeldeck_jupyter.poller import Poller
from modeldeck_jupyter.render import (
    MUTED,
    deployments_html,
    error_html,
    error_text,
    esc,
    estimate_html,
    request_html,
)
from modeldeck_jupyter.submissions import SubmissionKeys

log = logging.getLogger(__name__)

LABEL_STYLE = {"description_width": "90px"}
# ipywidgets gives every tab a fixed 144 px: nine titles then overflow a 1024 px window and are
# cut ("Estimate & dep…"). The panel's tabs take the width of their titles and wrap onto a
# second row when the notebook is narrow; scoped to the panel, other widgets keep their tabs.
TAB_CSS = (
    "<style>.modeldeck-panel .lm-TabBar-content,.modeldeck-panel .p-TabBar-content"
    "{flex-wrap:wrap!important}"
    ".modeldeck-panel .lm-TabBar-tab,.modeldeck-panel .p-TabBar-tab"
    "{flex:0 0 auto!important;min-width:0!important;padding:0 8px!important}</style>"
)
TAB_TITLES = (
    "Estimate & deploy",
    "Deployments",
    "Approvals",
    "Compare",
    "Cost",
    "Catalog",
    "Charts",
    "Playground",
    "Alerts",
)
(
    FORM_TAB,
    DEPLOYMENTS_TAB,
    APPROVALS_TAB,
    COMPARE_TAB,
    COST_TAB,
    CATALOG_TAB,
    CHARTS_TAB,
    PLAYGROUND_TAB,
    ALERTS_TAB,
) = range(len(TAB_TITLES))
TOGGLE_STYLE = {"description_width": "90px", "button_width": "auto"}
# The panel last opened in this kernel (weakly): `%deck` acts on its deck as its user.
_current: weakref.ref[DeckPanel] | None = None


def _wide() -> W.Layout:
    """A fresh layout per widget: a shared Layout would hide every field when one is hidden."""
    return W.Layout(width="100%", max_width="340px")


def _set_options(widget: Any, options: list[tuple[str, str]]) -> None:
    """Replace a selection's options, keeping its value when it is still offered."""
    previous = widget.value
    values = [value for _, value in options]
    if list(widget.options) != options:
        widget.options = options
    if previous in values:
        widget.value = previous
    elif values:
        widget.value = values[0]


def _show(widget: W.Widget, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


class DeckPanel:
    """The modeldeck panel for one notebook user; display it by leaving it last in a cell."""

    def __init__(
        self,
        deck: DeckAPI | None = None,
        *,
        server: str | None = None,
        token: str | None = None,
        settings: Settings | None = None,
        user: str | None = None,
        auto_refresh: bool = True,
        refresh_interval: float = 5.0,
        background: bool | None = None,
    ) -> None:
        self.user = user or notebook_user()
        self.refresh_interval = refresh_interval
        self.last_estimate: Estimate | None = None
        self.last_error: str | None = None
        self.last_request: RequestRecord | None = None
        self.deployments: list[DeploymentRecord] = []
        self._lock = threading.RLock()
        self._syncing = False
        self._last_request_key: tuple[str, str] | None = None
        self._deploy_keys = SubmissionKeys()  # a double click or a lost answer: one request
        self._poller: Poller | None = None
        self._enabled = True
        self._owns_deck = False
        self._closed = False
        self._connecting = True
        self.problem: str | None = None
        self.connection: Connection | None = None
        self.choices = Choices([])
        self.ready = threading.Event()  # set once connected and filled in (or failed)
        self._build_widgets()
        global _current  # a panel that failed is current too: %deck must not fall back silently
        _current = weakref.ref(self)
        args = (deck, server, token, settings, user, auto_refresh)
        if background if background is not None else deck is None:
            # first paint now; the sandbox start, migrations, catalog and history fill in later
            self.status_html.value = (
                f"<span class='modeldeck-connecting' style='{MUTED}'>Connecting to modeldeck… "
                "the panel fills in as the catalog and your deployments arrive.</span>"
            )
            self.header_html.value = self._header()
            self._set_enabled(False)
            threading.Thread(
                target=self._fill, args=args, name="modeldeck-panel-connect", daemon=True
            ).start()
        else:
            self._fill(*args)

    def wait(self, timeout: float | None = 60.0) -> DeckPanel:
        """Block until the panel is connected and filled in (or has failed); returns it."""
        if not self.ready.wait(timeout):
            raise TimeoutError(f"The modeldeck panel did not connect within {timeout} s.")
        return self

    def _fill(
        self,
        deck: DeckAPI | None,
        server: str | None,
        token: str | None,
        settings: Settings | None,
        user: str | None,
        auto_refresh: bool,
    ) -> None:
        """Connect, then fill the widgets: catalog, estimate, deployments, approvals."""
        try:
            self._connect_and_fill(deck, server, token, settings, user, auto_refresh)
        finally:
            self.ready.set()

    def _connect_and_fill(
        self,
        deck: DeckAPI | None,
        server: str | None,
        token: str | None,
        settings: Settings | None,
        user: str | None,
        auto_refresh: bool,
    ) -> None:
        problem: BaseException | None = None
        what = "connect to modeldeck"
        try:
            if deck is not None:
                self.connection = describe(deck)
            else:
                self.connection = connect(server=server, token=token, settings=settings)
                self._owns_deck = True
            what = "act as this user"
            self.user = checked_user(self.connection, user)
            what = "load the modeldeck catalog"
            catalog = self.connection.deck.models()
            self.choices = Choices(catalog)
            self.catalog.load(catalog)
        except Exception as exc:  # shown in the panel instead of a traceback
            log.debug("modeldeck panel could not connect", exc_info=True)
            problem = exc
            if what == "act as this user":
                self.user = notebook_user()
        self._connecting = False
        self._set_enabled(True)
        self.status_html.value = ""
        with self._quiet():
            models = self.choices.models()
            if list(self.model.options) != models:
                self.model.options = models
            if self.model.value not in models and models:
                self.model.value = models[0]
        if problem is not None:
            where = f" ({self.connection.target})" if self.connection else ""
            self.problem = f"Could not {what}{where}: {error_text(problem)}"
            self.status_html.value = error_html(self.problem)
            self._set_enabled(False)
        elif not len(self.choices):
            self.status_html.value = error_html("The catalog lists no deployable (ptu/mu) model.")
            self._set_enabled(False)
        self.header_html.value = self._header()
        self._sync_choices()
        self.update_estimate()
        if self.problem is None:
            self.refresh_deployments(sync=self._poll_syncs)
            self.approvals.refresh()
        if auto_refresh and self._enabled and not self._closed:
            self.start_auto_refresh()

    # -- construction -------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        models = self.choices.models()  # empty until connected
        self.header_html = W.HTML()
        self.status_html = W.HTML()
        self.model = W.Dropdown(
            description="Model", options=models, style=LABEL_STYLE, layout=_wide()
        )
        self.plan = W.ToggleButtons(
            description="Plan", options=[], style=TOGGLE_STYLE, layout=_wide()
        )
        self.mode = W.ToggleButtons(
            description="Mode", options=[], style=TOGGLE_STYLE, layout=_wide()
        )
        self.billing = W.ToggleButtons(
            description="Billing", options=[], style=TOGGLE_STYLE, layout=_wide()
        )
        self.fields: dict[str, W.Text] = {}
        for info in FIELDS:
            text = W.Text(
                description=info.label,
                value=info.default,
                placeholder=info.placeholder,
                continuous_update=True,  # validated as typed, with the grammar's messages
                style=LABEL_STYLE,
                layout=_wide(),
            )
            text.add_class(f"modeldeck-field-{info.key.replace('_', '-')}")
            self.fields[info.key] = text
        f = self.fields
        self.input_tpm, self.output_tpm, self.thinking_tpm = f["in"], f["out"], f["thinking_out"]
        self.units, self.hours, self.days, self.months = (
            f["units"],
            f["hours"],
            f["days"],
            f["months"],
        )
        self.start, self.suffix, self.name = f["start"], f["suffix"], f["name"]
        self.context, self.max_input = f["context"], f["max_input"]
        self.rpm_limit, self.tpm_limit, self.tags = f["rpm_limit"], f["tpm_limit"], f["tags"]
        self.auto_renew = W.Checkbox(description="Auto-renew", value=False, indent=True)
        self.estimate_html = W.HTML(
            layout=W.Layout(flex="1 1 280px", min_width="0", padding="0 0 0 16px")
        )
        self.reason = W.Text(
            description="Reason",
            placeholder="why this deployment (approvers see it)",
            style=LABEL_STYLE,
            layout=W.Layout(width="100%", max_width="520px"),
        )
        self.deploy_button = W.Button(
            description="Request deploy", button_style="primary", icon="rocket"
        )
        self.deploy_result_html = W.HTML()
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.auto_refresh = W.Checkbox(
            description=f"Auto-refresh every {self.refresh_interval:g} s",
            value=False,
            indent=False,
        )
        self.deployments_status_html = W.HTML()
        self.deployments_html = W.HTML()
        self.history = W.Checkbox(description="History (list all)", value=False, indent=False)
        self.history.add_class("modeldeck-history")
        self.rows: dict[str, DeploymentRow] = {}
        self._seen: set[str] = set()
        self.rows_box = W.VBox()
        self.rows_box.add_class("modeldeck-deployment-rows")

        for widget, css in (
            (self.header_html, "modeldeck-header"),
            (self.status_html, "modeldeck-status-line"),
            (self.model, "modeldeck-model"),
            (self.plan, "modeldeck-plan"),
            (self.mode, "modeldeck-mode"),
            (self.billing, "modeldeck-billing"),
            (self.estimate_html, "modeldeck-estimate"),
            (self.reason, "modeldeck-reason"),
            (self.deploy_button, "modeldeck-deploy"),
            (self.deploy_result_html, "modeldeck-deploy-result"),
            (self.refresh_button, "modeldeck-refresh"),
            (self.auto_refresh, "modeldeck-auto-refresh"),
            (self.deployments_html, "modeldeck-deployments"),
        ):
            widget.add_class(css)

        inputs = W.VBox(
            [
                self.model,
                self.plan,
                self.mode,
                self.billing,
                *self.fields.values(),
                self.auto_renew,
            ],
            layout=W.Layout(flex="0 1 360px", min_width="0"),
        )
        form = W.VBox(
            [
                W.HBox([inputs, self.estimate_html], layout=W.Layout(flex_flow="row wrap")),
                W.HTML("<hr style='margin:6px 0'>"),
                self.reason,
                self.deploy_button,
                self.deploy_result_html,
            ]
        )
        table = W.VBox(
            [
                W.HBox([self.refresh_button, self.auto_refresh, self.history]),
                self.deployments_status_html,
                self.deployments_html,
                self.rows_box,
            ]
        )
        self.approvals = ApprovalQueue(
            self._ready_deck, self._actor, self._lock, on_decided=self._on_decided
        )
        self.compare = CompareView(self._ready_deck, self.capacity_spec, self._lock)
        self.costs = CostView(self._ready_deck, self._actor, self._lock)
        self.catalog = CatalogView(self.fill_form)
        self.charts = ChartsView(self._ready_deck, self._lock)
        self.playground = Playground(self._ready_deck, self._lock)
        self.alerts = AlertsView(self._ready_deck, self._lock)
        self.tabs = W.Tab(
            children=[
                form,
                table,
                self.approvals.box,
                self.compare.box,
                self.costs.box,
                self.catalog.box,
                self.charts.box,
                self.playground.box,
                self.alerts.box,
            ],
            titles=TAB_TITLES,
        )
        self._add_plugin_tabs()
        self.tabs.observe(self._on_tab, names="selected_index")
        self.widget = W.VBox(
            [self.header_html, self.status_html, self.tabs],
            layout=W.Layout(width="100%", max_width="1400px", min_width="0"),
        )
        self.widget.add_class("modeldeck-panel")

        for choice in (self.model, self.plan, self.billing):
            choice.observe(self._on_choice, names="value")
        capacity = (self.model, self.plan, self.mode, self.input_tpm, self.output_tpm, self.units)
        for field in capacity:
            field.observe(self._on_capacity, names="value")
        for field in (self.mode, self.auto_renew, *self.fields.values()):
            field.observe(self._on_field, names="value")
        self.deploy_button.on_click(lambda _button: self.request_deploy())
        self.refresh_button.on_click(lambda _button: self.refresh_deployments(sync=True))
        self.auto_refresh.observe(self._on_auto_refresh, names="value")
        self.history.observe(lambda _c: self.refresh_deployments(sync=False), names="value")

    def _header(self) -> str:
        """A compact header: who acts (user → principal, roles) and where, as wrapping chips."""
        idle = "connecting…" if self._connecting else "not connected"
        target = self.connection.target if self.connection else idle
        who = f"<b>{esc(self.user)}</b>"
        if self.connection is not None:
            try:
                with self._lock:
                    actor = self.connection.deck.resolve_actor("jupyter", self.user)
                roles = ", ".join(actor.roles) or "no roles"
                who += f" → {esc(actor.principal)} ({esc(roles)})"
            except Exception as exc:
                who += (
                    " <span class='modeldeck-error' style='color:var(--jp-error-color1,#b00020)'>"
                    f"({esc(error_text(exc))})</span>"
                )
        muted = "color:var(--jp-ui-font-color2,#555)"
        return (
            TAB_CSS + "<div class='modeldeck-header-line' style='display:flex;flex-wrap:wrap;"
            "gap:2px 12px;align-items:baseline'><b>modeldeck</b>"
            f"<span class='modeldeck-who' title='notebook user → principal'>{who}</span>"
            f"<span class='modeldeck-target' style='{muted}'>{esc(target)}</span></div>"
        )

    def fill_form(self, model: str, plan: str, mode: str) -> None:
        """Set the form to a catalog choice and show it (the estimate follows)."""
        self.model.value = model
        self.plan.value = plan
        modes = [value for _, value in self.mode.options]  # options are (label, value) pairs
        if plan == "ptu" and mode in modes:
            self.mode.value = mode
        self.tabs.selected_index = FORM_TAB
        self.update_estimate()

    def _set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        for widget in (
            self.deploy_button,
            self.refresh_button,
            self.auto_refresh,
            self.approvals.refresh_button,
            self.compare.compare_button,
            self.costs.show_button,
            self.charts.draw_button,
            self.playground.send_button,
            self.alerts.check_button,
        ):
            widget.disabled = not enabled

    def _add_plugin_tabs(self) -> None:
        """Tabs other plugins add through `register_panel_tabs`, after the panel's own; a plugin
        that fails (or registers a bad tab) is logged and left out, the panel still shows."""
        from modeldeck import plugins

        added: list[tuple[str, W.Widget]] = []

        def register(title: str, widget: W.Widget) -> None:
            if not isinstance(title, str) or not title.strip():
                raise ValueError(f"A panel tab needs a non-empty title, not {title!r}.")
            taken = {*TAB_TITLES, *(t for t, _ in added)}
            if title in taken:
                raise ValueError(f"The panel already has a tab named {title!r}.")
            if not isinstance(widget, W.Widget):
                raise TypeError(f"The tab {title!r} needs an ipywidgets widget.")
            added.append((title, widget))

        plugins.call_each("register_panel_tabs", register=register, panel=self)
        if added:
            titles = (*self.tabs.titles, *(t for t, _ in added))  # before children pads them
            self.tabs.children = (*self.tabs.children, *(w for _, w in added))
            self.tabs.titles = titles

    def _actor(self) -> Actor:
        """The principal this notebook's user acts as (resolved by the deck on every action)."""
        return self._ready_deck().resolve_actor("jupyter", self.user)

    @property
    def deck(self) -> DeckAPI | None:
        return self.connection.deck if self.connection else None

    def _ready_deck(self) -> DeckAPI:
        """The deck, or a clear error if the panel could not connect."""
        if self._connecting:
            raise ValidationFailed(
                "The panel is still connecting to modeldeck.",
                hint="Wait a moment (panel.wait() blocks until it is ready) and try again.",
            )
        if self.connection is None or self.problem is not None:
            raise ValidationFailed(
                f"Not connected to modeldeck. {self.problem or ''}".strip(),
                hint="Fix the connection and run the cell again.",
            )
        return self.connection.deck

    @property
    def _poll_syncs(self) -> bool:
        """In team mode the server reconciles; in-process nobody else does, so polls sync."""
        return not (self.connection is not None and self.connection.remote)

    # -- form ---------------------------------------------------------------------------------

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Change several widgets without an estimate per change."""
        before, self._syncing = self._syncing, True
        try:
            yield
        finally:
            self._syncing = before

    def _sync_choices(self) -> None:
        """Offer only the plans, modes and billing methods the chosen model has; show its fields."""
        with self._quiet():
            model = self.model.value or ""
            plans = self.choices.plans(model)
            _set_options(self.plan, [(PLAN_LABELS.get(p, p), p) for p in plans])
            self.plan.tooltips = [PLAN_TIPS.get(p, p) for p in plans]
            plan = self.plan.value or ""
            _set_options(self.mode, [(m, m) for m in self.choices.modes(model, plan)])
            billings = self.choices.billings(plan)
            _set_options(self.billing, [(BILLING_LABELS.get(b, b), b) for b in billings])
            self.billing.tooltips = [BILLING_TIPS.get(b, b) for b in billings]
            billing = self.billing.value
            # every key the estimate or the deploy takes (tags are the deploy's alone)
            allowed = (
                (*EstimateCommand.allowed_keys(plan), *DeployCommand.allowed_keys(plan))
                if plan in ("ptu", "mu")
                else ()
            )
            for info in FIELDS:
                wanted = info.billing is None or info.billing == billing
                _show(self.fields[info.key], wanted and info.key in allowed)
            _show(self.mode, plan == "ptu")
            _show(self.auto_renew, billing in ("upfront", "monthly"))

    def _on_choice(self, _change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self._sync_choices()
        self.update_estimate()

    def _on_field(self, _change: dict[str, Any]) -> None:
        if not self._syncing:
            self.update_estimate()

    def _options(self, keys: tuple[str, ...] | None = None) -> dict[str, str]:
        """The visible fields' texts as typed, keyed by grammar key (billing and mode added)."""
        plan = self.plan.value or ""
        options: dict[str, str] = {"billing": self.billing.value or "hourly"}
        if plan == "ptu" and self.mode.value:
            options["mode"] = self.mode.value
        for info in FIELDS:
            widget = self.fields[info.key]
            if widget.layout.display != "none" and (keys is None or info.key in keys):
                options[info.key] = widget.value
        if self.auto_renew.value and options["billing"] != "hourly":
            options["auto_renew"] = "yes"
        return options

    def form_line(self, verb: str = "estimate", keys: tuple[str, ...] | None = None) -> str:
        """The form as one grammar line, exactly as typed (what `%deck` would be given)."""
        if not self.model.value or not self.plan.value:
            raise ValidationFailed(
                "Choose a model and a plan first.",
                hint="The model list comes from the catalog (deck.models()).",
            )
        plan = self.plan.value
        command = DeployCommand if verb == "deploy" else EstimateCommand
        allowed = (*command.allowed_keys(plan), "billing")
        return form_line(verb, self.model.value, plan, self._options(keys), allowed)

    def _parse(self, verb: str, keys: tuple[str, ...] | None = None) -> DeploySpec:
        command = parse(self.form_line(verb, keys))
        assert isinstance(command, DeployCommand | EstimateCommand)
        return command.spec

    def capacity_spec(self) -> DeploySpec:
        """The form's model, plan, mode and capacity, hourly with no duration (comparisons)."""
        spec = self._parse("estimate", ("in", "out", "thinking_out", "units"))
        return spec.model_copy(update={"billing": "hourly"})

    def build_spec(self, verb: str = "estimate") -> DeploySpec:
        """The DeploySpec the form describes, read by the grammar; GrammarError says what to fix."""
        return self._parse(verb)

    def update_estimate(self) -> Estimate | None:
        """Price the form now and show the total and lines, or the error in red."""
        try:
            deck = self._ready_deck()
            spec = self.build_spec()
            with self._lock:
                estimate = deck.estimate(spec)
        except Exception as exc:
            log.debug("estimate failed", exc_info=not isinstance(exc, UserError))
            self.last_estimate = None
            self.last_error = error_text(exc)
            self.estimate_html.value = error_html(exc)
            return None
        self.last_estimate = estimate
        self.last_error = None
        self.estimate_html.value = estimate_html(estimate)
        return estimate

    # -- deploy -------------------------------------------------------------------------------

    def request_deploy(self) -> RequestRecord | None:
        """Send the form as a deploy request for this notebook's user; show what became of it.

        Sending the very same form and reason twice in a row (a double click) is refused.
        """
        try:
            deck = self._ready_deck()
            spec = self.build_spec("deploy")
            reason = self.reason.value.strip()
            self._check_suffix(spec)
            key = (spec.model_dump_json(), reason)
            if key == self._last_request_key and self.last_request is not None:
                raise ValidationFailed(
                    f"This exact request was already sent as {self.last_request.id}.",
                    hint="Change the form or the reason to request another deployment.",
                )
            self.deploy_button.disabled = True
            with self._lock:
                actor = deck.resolve_actor("jupyter", self.user)
                click = self._deploy_keys.key_for("\n".join(key))
                record = deck.request_deploy(spec, actor, reason or None, idempotency_key=click)
        except Exception as exc:
            log.debug("deploy request failed", exc_info=not isinstance(exc, UserError))
            self.deploy_result_html.value = error_html(exc)
            return None
        finally:
            self.deploy_button.disabled = not self._enabled
        self._last_request_key = key
        self.last_request = record
        self.deploy_result_html.value = request_html(record)
        self.refresh_deployments(sync=False)
        self.approvals.refresh()
        return record

    def _check_suffix(self, spec: DeploySpec) -> None:
        """A suffix a live deployment of the model already uses would fail after approval
        (Model Studio answers 409): refuse now and propose a free one (never typed over)."""
        if not spec.suffix:
            return
        with self._lock:
            live = [
                d
                for d in self._ready_deck().list_deployments()
                if d.model == spec.model and str(d.status) not in GONE
            ]
        taken = {(d.deployed_model or "").lower() for d in live}
        if f"{spec.model}-{spec.suffix}".lower() not in taken:
            return
        free = next(
            s
            for n in itertools.count(2)
            if f"{spec.model}-{(s := f'{spec.suffix[: 7 - len(str(n))]}-{n}')}".lower() not in taken
        )
        raise ConflictError(
            f"{spec.model} already has a live deployment with suffix {spec.suffix!r}; Model "
            f"Studio would refuse this one after approval. Proposed suffix: {free!r}.",
            hint=f"Type suffix {free} (or another) in the Suffix field and send again.",
        )

    # -- deployments --------------------------------------------------------------------------

    def refresh_deployments(self, sync: bool = True) -> list[DeploymentRecord] | None:
        """Reload the table; with `sync`, first pull statuses from the provider (deck.refresh)."""
        note = ""
        try:
            deck = self._ready_deck()
            with self._lock:
                if sync:
                    try:
                        deck.refresh()
                    except UserError as exc:  # e.g. a viewer may list but not sync
                        note = f" (statuses not synced: {error_text(exc)})"
                every = deck.list_deployments(include_deleted=True)
        except Exception as exc:
            log.debug("listing deployments failed", exc_info=not isinstance(exc, UserError))
            self.deployments_status_html.value = error_html(exc)
            return None
        # live rows, plus any this panel showed before (an unpublished one stays, marked so);
        # with History ticked, every deployment ever made (`list all`)
        rows = [
            d
            for d in every
            if self.history.value or str(d.status) not in GONE or d.id in self._seen
        ]
        self._seen.update(d.id for d in rows)
        self.deployments = rows
        html = deployments_html(rows)
        hidden = len(every) - len(rows)
        if hidden:
            html += (
                f"<div class='modeldeck-history-note'>{hidden} gone deployment(s) hidden: "
                "tick History (list all) to see them.</div>"
            )
        if self.deployments_html.value != html:
            self.deployments_html.value = html
        self._update_rows(rows)
        stamp = to_beijing(utcnow()).strftime("%H:%M:%S")
        self.deployments_status_html.value = (
            f"<span style='{MUTED}'>{len(rows)} deployment(s), updated {stamp} "
            f"(UTC+8){esc(note)}</span>"
        )
        return rows

    def _update_rows(self, rows: list[DeploymentRecord]) -> None:
        """One action row per shown deployment, kept across refreshes (typed text survives)."""
        for dep in rows:
            row = self.rows.get(dep.id)
            if row is None:
                self.rows[dep.id] = DeploymentRow(
                    dep, self._ready_deck, self._actor, self._lock, self._on_row_request
                )
            else:
                row.update(dep)
        for gone in set(self.rows) - {d.id for d in rows}:
            self.rows.pop(gone).close()
        children = tuple(self.rows[d.id].box for d in rows)
        if self.rows_box.children != children:
            self.rows_box.children = children

    def _on_row_request(self, _record: RequestRecord) -> None:
        """A row sent a request: approvals see it at once, and auto-approved ones show."""
        self.approvals.refresh()
        self.refresh_deployments(sync=False)

    def _poll(self) -> None:
        """One auto-refresh: the deployments table, then the approval queue."""
        self.refresh_deployments(sync=self._poll_syncs)
        self.approvals.refresh()

    def _on_decided(self, outcome: DecisionOutcome) -> None:
        if outcome.outcome in ("executed", "failed", "approved"):
            self.refresh_deployments(sync=False)

    # -- tabs ---------------------------------------------------------------------------------

    def _on_tab(self, change: dict[str, Any]) -> None:
        if self.problem is not None:
            return
        index = change["new"]
        if index == APPROVALS_TAB:
            self.approvals.refresh()
        elif index == COMPARE_TAB and self.compare.stale:
            self.compare.update()
        elif index == COST_TAB:
            self.costs.load_deployments()
            self.costs.show()
        elif index == CHARTS_TAB:
            self.charts.load()
            self.charts.draw()
        elif index == PLAYGROUND_TAB:
            self.playground.load()
        elif index == ALERTS_TAB:
            self.alerts.refresh()

    def _on_capacity(self, _change: dict[str, Any]) -> None:
        """The form changed: the comparison follows now if shown, else when its tab opens."""
        if self._syncing:
            return
        self.compare.stale = True
        if self.tabs.selected_index == COMPARE_TAB:
            self.compare.update()

    def _on_auto_refresh(self, change: dict[str, Any]) -> None:
        if change["new"] and not self.auto_refreshing:
            self.start_auto_refresh()
        elif not change["new"] and self.auto_refreshing:
            self.stop_auto_refresh()

    def start_auto_refresh(self, interval: float | None = None) -> None:
        """Poll the deployments every `interval` seconds on a background thread."""
        if self.problem is not None:
            self.deployments_status_html.value = error_html(self.problem)
            return
        if interval is not None:
            if interval <= 0:
                raise ValidationFailed(f"The refresh interval must be positive; got {interval}.")
            self.refresh_interval = interval
            self.auto_refresh.description = f"Auto-refresh every {interval:g} s"
        if self._poller is not None and self._poller.running:
            self._poller.stop()
        self._poller = Poller(
            self._poll,
            self.refresh_interval,
            name="modeldeck-auto-refresh",
        )
        self._poller.start()
        if not self.auto_refresh.value:
            self.auto_refresh.value = True

    def stop_auto_refresh(self) -> None:
        """Stop polling; waits for a refresh in progress to finish."""
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self.auto_refresh.value:
            self.auto_refresh.value = False

    @property
    def auto_refreshing(self) -> bool:
        return self._poller is not None and self._poller.running

    # -- display ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop auto-refresh, close the widgets and the deck the panel opened itself."""
        self._closed = True
        self.ready.wait(60)  # a connect in progress finishes before the deck is closed
        self.stop_auto_refresh()
        global _current
        if _current is not None and _current() is self:
            _current = None
        self.approvals.close()
        self.playground.close()
        self.alerts.close()
        for row in self.rows.values():
            row.close()
        closer = getattr(self.deck, "close", None)
        if self._owns_deck and callable(closer):
            closer()
            self._owns_deck = False
        self.widget.close()
        for child in self._all_widgets(self.widget):
            child.close()

    def _all_widgets(self, root: W.Widget) -> list[W.Widget]:
        out: list[W.Widget] = []
        for child in getattr(root, "children", ()):
            out.append(child)
            out.extend(self._all_widgets(child))
        return out

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        target = self.connection.target if self.connection else "not connected"
        return f"<modeldeck panel: {target}, {len(self.choices)} models, user {self.user!r}>"


Deck = DeckPanel
