//! The details column: envelope inspector, invariants, fault script and delivery
//! settings, as tabs, plus the tabs of the other views (sagas, event store, read
//! models, DLQ, metrics, anti-patterns), each in its own module.
//!
//! Only the open tab's panel is rendered, so a hidden view costs nothing per step.
//! Tabs keep dense panels readable at 1280×800 next to the topology; each tab
//! button carries a live summary (a red count of broken invariants, the number of
//! faults) so a change in a hidden tab is still noticed. Every panel opens with a
//! short explanation of its concept, and shows an empty state until it has content.
//!
//! The column is the one place that reads the run for its panels: it derives each
//! panel's view model (a plain value compared with `PartialEq`) and hands it down, so a
//! step that changes nothing a panel shows does not re-render that panel, and a button
//! inside it keeps the keyboard focus. Panels whose own state (a chosen stream, a typed
//! query) decides what to derive take the run itself ([`RunRef`]) and memoise on it.
//! Every click is a typed callback carrying what it means (a step, a message, a fault).

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::regions::empty_state;
use super::state::{LogFilters, MenuTarget, RunRef, Shell, ShellAction, SubscriptionEdit, Tab};
use super::topology::{delivery_label, kind_class, short_type};
use crate::sim::anti_pattern::AntiPattern;
use crate::sim::envelope::{EventKind, MessageId};
use crate::sim::fault::{Fault, FaultScript, ScriptedFault, Trigger};
use crate::sim::health::{InvariantState, RunHealth};
use crate::sim::scenario::{Delivery, Scenario, ATTEMPTS_MAX_LIMIT, DURATION_MS_MAX, WORKLOAD_MESSAGES_MAX};
use crate::sim::simulation::Simulation;
use crate::sim::trace::SubId;
use crate::sim::view::{InvariantView, TokenPlace};

/// What the app hands the column: the whole shell, which it slices into the narrow
/// props of [`DetailsColumn`].
#[derive(Properties, PartialEq)]
pub struct DetailsProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

/// The details column of a shell (see [`DetailsColumn`]).
pub fn details(props: &DetailsProps) -> Html {
    let shell = &props.shell;
    html! {
        <DetailsColumn run={shell.run()} tab={shell.tab} selected={shell.selected} filters={shell.filters.clone()}
            faults={shell.faults.clone()} anti_patterns={shell.anti_patterns.clone()} run_id={shell.run_id}
            scenario={shell.scenario.clone()} steps_max={shell.steps_max} dispatch={props.dispatch.clone()} />
    }
}

/// The run and the dispatcher: the props of a panel that reads the run itself.
#[derive(Properties, PartialEq, Clone)]
pub struct RunProps {
    pub run: RunRef,
    pub dispatch: Callback<ShellAction>,
}

/// The slice of the shell the column shows.
#[derive(Properties, PartialEq)]
pub struct ColumnProps {
    pub run: RunRef,
    pub tab: Tab,
    pub selected: Option<MessageId>,
    pub filters: LogFilters,
    /// The user's fault script (the scenario's own faults are read from the run).
    pub faults: FaultScript,
    pub anti_patterns: Vec<AntiPattern>,
    pub run_id: u64,
    pub scenario: Rc<Scenario>,
    pub steps_max: u64,
    pub dispatch: Callback<ShellAction>,
}

/// Dead letters in every subscription's DLQ at this step.
pub fn dead_letter_count(sim: &Simulation) -> usize {
    (0..sim.compiled().subs.len()).map(|i| sim.sub_state(SubId(i as u32)).dlq.len()).sum()
}

/// A tab's live summary: its text and its class (`bad`, `good`, `count`).
type Badge = Option<(String, &'static str)>;

#[derive(Properties, PartialEq)]
struct TabButtonProps {
    tab: Tab,
    label: AttrValue,
    active: bool,
    badge: Badge,
    on_show: Callback<Tab>,
}

#[function_component(TabButton)]
fn tab_button(props: &TabButtonProps) -> Html {
    let onclick = {
        let (on_show, tab) = (props.on_show.clone(), props.tab);
        Callback::from(move |_: MouseEvent| on_show.emit(tab))
    };
    html! {
        <button type="button" role="tab" class={classes!("tab", props.active.then_some("active"))}
            aria-selected={props.active.to_string()} {onclick}>
            { props.label.clone() }
            if let Some((text, class)) = &props.badge {
                <span class={classes!("tab-badge", *class)}>{ text.clone() }</span>
            }
        </button>
    }
}

#[function_component(DetailsColumn)]
pub fn details_column(props: &ColumnProps) -> Html {
    let dispatch = &props.dispatch;
    let on_show = use_callback(dispatch.clone(), |tab: Tab, dispatch| dispatch.emit(ShellAction::ShowTab(tab)));
    let sim = props.run.sim.borrow();
    // Read once per render: it walks the queues, dead letters and sagas.
    let health = sim.health();
    let scenario_faults = sim.scenario().faults.scripted.len();
    // Badges of the saga and DLQ tabs: cheap counters, so a change in a hidden tab shows.
    let dead_letters = dead_letter_count(&sim);
    let compensating = if sim.compiled().sagas.is_empty() {
        0
    } else {
        sim.saga_instances().iter().filter(|(_, _, i)| i.status.name() == "compensating").count()
    };
    let fault_count = props.faults.scripted.len() + scenario_faults;
    let badges: [(Tab, &'static str, Badge); 10] = [
        (Tab::Inspector, "Inspector", None),
        (Tab::Invariants, "Invariants", Some(invariants_badge(&health))),
        (Tab::Faults, "Faults", (fault_count > 0).then(|| (fault_count.to_string(), "count"))),
        (Tab::Delivery, "Delivery", None),
        (Tab::Sagas, "Sagas", (compensating > 0).then(|| (format!("{compensating} \u{21b6}"), "bad"))),
        (Tab::Store, "Store", None),
        (Tab::ReadModels, "Read models", None),
        (Tab::Dlq, "DLQ", (dead_letters > 0).then(|| (dead_letters.to_string(), "bad"))),
        (Tab::Metrics, "Metrics", None),
        (
            Tab::AntiPatterns,
            "Anti-patterns",
            (!props.anti_patterns.is_empty()).then(|| (props.anti_patterns.len().to_string(), "count")),
        ),
    ];
    let run = props.run.clone();
    let panel = match props.tab {
        Tab::Inspector => match inspector_model(&sim, props.selected) {
            Some(model) => html! { <Inspector model={Rc::new(model)} filters={props.filters.clone()} dispatch={dispatch.clone()} /> },
            None => empty_state(
                "Click a row of the event log or a token on the topology to inspect that message: its envelope, its delivery attempts and what it caused.",
                "The envelope is the metadata every message carries, here in CloudEvents form: id, source, type, time, subject, and the correlation and causation ids that tie a flow together.",
            ),
        },
        Tab::Invariants => html! { <Invariants model={Rc::new(invariants_model(&sim, &health))} dispatch={dispatch.clone()} /> },
        Tab::Faults => {
            html! { <FaultScriptPanel builtin={sim.scenario().faults.scripted.clone()} user={props.faults.scripted.clone()} dispatch={dispatch.clone()} /> }
        }
        Tab::Delivery => html! {
            <DeliveryPanel dead_letters={dead_letters} scenario={props.scenario.clone()} steps_max={props.steps_max} dispatch={dispatch.clone()} />
        },
        Tab::Sagas => html! { <super::sagas::SagaPanel {run} dispatch={dispatch.clone()} /> },
        Tab::Store => html! { <super::store::StorePanel {run} dispatch={dispatch.clone()} /> },
        Tab::ReadModels => html! { <super::projections::ReadModelsPanel {run} dispatch={dispatch.clone()} /> },
        Tab::Dlq => html! { <super::dlq::DlqPanel {run} dispatch={dispatch.clone()} /> },
        Tab::Metrics => html! { <super::metrics::MetricsPanel {run} dispatch={dispatch.clone()} /> },
        Tab::AntiPatterns => html! {
            <super::antipatterns::AntiPatternsPanel {run} anti_patterns={props.anti_patterns.clone()}
                run_id={props.run_id} faults_injected={props.faults.scripted.len()} dispatch={dispatch.clone()} />
        },
    };
    drop(sim);
    let active_label = badges.iter().find(|(tab, _, _)| *tab == props.tab).map_or("Details", |(_, label, _)| *label);
    html! {
        <aside class="region details" aria-label="Details of the run">
            <div class="tabs" role="tablist">
                { for badges.into_iter().map(|(tab, label, badge)| html! {
                    <TabButton {tab} label={label} active={props.tab == tab} {badge} on_show={on_show.clone()} />
                }) }
            </div>
            // Focusable, as the ARIA tabs pattern has it: a panel that scrolls but holds
            // nothing focusable (a chart, a table) can still be scrolled by keyboard.
            <div class="tab-panel" role="tabpanel" tabindex="0" aria-label={active_label}>{ panel }</div>
        </aside>
    }
}

// ---------------------------------------------------------------------------------
// Inspector
// ---------------------------------------------------------------------------------

/// The token of an event kind, drawn as on the topology: its shape in its colour. A
/// drawing helper rather than a component: it has no state, and the component it sits
/// in already decides when it re-renders.
pub fn kind_token(kind: EventKind) -> Html {
    let shape = match kind {
        EventKind::Domain => html! { <circle class="token-shape" r="7" /> },
        EventKind::Integration => html! { <path class="token-shape" d="M0 -8.5L8.5 0L0 8.5L-8.5 0Z" /> },
        EventKind::Command => html! { <path class="token-shape" d="M-7 -7L8 0L-7 7L-3 0Z" /> },
        EventKind::ChangeDataCapture => {
            html! { <rect class="token-shape" x="-6.5" y="-6.5" width="13" height="13" /> }
        }
    };
    html! {
        <svg class={classes!("legend-token", kind_class(kind))} viewBox="-10 -10 20 20" aria-hidden="true">{ shape }</svg>
    }
}

/// A message as a link of the causal tree.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageLinkView {
    pub id: MessageId,
    pub kind: EventKind,
    pub event_type: String,
    /// The service that emitted it, or the envelope's source for a client's message.
    pub from: String,
}

impl MessageLinkView {
    fn of(sim: &Simulation, id: MessageId) -> Option<MessageLinkView> {
        let m = sim.message(id)?;
        let from = m
            .emitted_by
            .and_then(|s| sim.scenario().services.get(s.0 as usize))
            .map_or(m.envelope.source.as_str(), |s| s.name.as_str());
        Some(MessageLinkView {
            id,
            kind: m.envelope.kind,
            event_type: m.envelope.event_type.clone(),
            from: from.into(),
        })
    }
}

/// A message and the messages it caused, recursively (bounded in depth and size).
#[derive(Clone, Debug, PartialEq)]
struct CausedNode {
    link: MessageLinkView,
    caused: Vec<CausedNode>,
}

fn caused_tree(sim: &Simulation, id: MessageId, depth: u32, budget: &mut u32) -> Vec<CausedNode> {
    let (_, caused) = sim.causal_links(id);
    let mut out = Vec::new();
    if depth >= 6 {
        return out;
    }
    for child in caused {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let Some(link) = MessageLinkView::of(sim, child) else { continue };
        let caused = caused_tree(sim, child, depth + 1, budget);
        out.push(CausedNode { link, caused });
    }
    out
}

/// One delivery attempt, as the trace's one-line form splits it.
#[derive(Clone, Debug, PartialEq)]
struct AttemptRow {
    step: u64,
    verb: String,
    place: String,
    detail: String,
}

/// What the inspector shows of one message at this step.
#[derive(Clone, Debug, PartialEq)]
pub struct InspectorModel {
    id: MessageId,
    kind: EventKind,
    event_type: String,
    event_id: String,
    status: String,
    correlation: Option<String>,
    /// Where a fault menu on it would act: the subscription it is queued in, if any.
    queued_sub: Option<SubId>,
    in_flight: bool,
    ancestors: Vec<MessageLinkView>,
    caused: Vec<CausedNode>,
    attempts: Vec<AttemptRow>,
    json: String,
}

/// The inspector's model of the selected message; `None` when nothing (that exists in
/// this run) is selected.
fn inspector_model(sim: &Simulation, selected: Option<MessageId>) -> Option<InspectorModel> {
    let id = selected?;
    let m = sim.message(id)?;
    let json = serde_json::to_string_pretty(&m.envelope.to_cloudevent()).unwrap_or_default();
    let places: Vec<(TokenPlace, u32)> =
        sim.token_views().into_iter().filter(|t| t.message == id).map(|t| (t.place, t.attempt)).collect();
    let queued_sub = places.iter().find_map(|(p, _)| match p {
        TokenPlace::Queued { sub, .. } => Some(*sub),
        _ => None,
    });
    let sub_name = |sub: SubId| sim.compiled().subs.get(sub.0 as usize).map_or("?", |s| s.name.as_str());
    let now: Vec<String> = places
        .iter()
        .map(|(p, attempt)| match p {
            TokenPlace::Publishing { .. } => "on its way to its topic".to_string(),
            TokenPlace::Queued { sub, position } => {
                format!("queued in {} (position {}, attempt {attempt})", sub_name(*sub), position + 1)
            }
            TokenPlace::Handling { sub, .. } => format!("being handled from {} (attempt {attempt})", sub_name(*sub)),
            TokenPlace::Waiting { sub, due_ms } => format!("waiting to retry in {} until {due_ms} ms", sub_name(*sub)),
        })
        .collect();
    let dead_in: Vec<&str> = sim
        .compiled()
        .subs
        .iter()
        .enumerate()
        .filter(|(i, _)| sim.sub_state(SubId(*i as u32)).dlq.iter().any(|l| l.delivery.message == id))
        .map(|(_, s)| s.name.as_str())
        .collect();
    let (cause, _) = sim.causal_links(id);
    let mut ancestors = Vec::new();
    let mut cursor = cause;
    while let Some(c) = cursor {
        if ancestors.len() >= 12 {
            break;
        }
        ancestors.extend(MessageLinkView::of(sim, c));
        cursor = sim.message(c).and_then(|m| m.cause);
    }
    ancestors.reverse();
    let status = match (now.is_empty(), dead_in.is_empty()) {
        (_, false) => format!(
            "In the dead-letter queue of {}{}.",
            dead_in.join(", "),
            if now.is_empty() { String::new() } else { format!("; also {}", now.join("; ")) }
        ),
        (true, true) => "Not in flight at this step: handled everywhere, lost, or not yet published.".to_string(),
        (false, true) => format!("Now: {}.", now.join("; ")),
    };
    let attempts = sim
        .attempts_of(id)
        .iter()
        .filter_map(|a| {
            let record = sim.trace().get(a.step as usize)?;
            let row = super::log::LogRow::from(sim.fields(record));
            Some(AttemptRow { step: a.step, verb: row.verb, place: row.place, detail: row.detail })
        })
        .collect();
    let mut budget = 40;
    Some(InspectorModel {
        id,
        kind: m.envelope.kind,
        event_type: m.envelope.event_type.clone(),
        event_id: m.envelope.id.clone(),
        status,
        correlation: m.envelope.correlation_id.clone(),
        queued_sub,
        in_flight: !places.is_empty(),
        ancestors,
        caused: caused_tree(sim, id, 0, &mut budget),
        attempts,
        json,
    })
}

#[derive(Properties, PartialEq)]
pub struct MessageLinkProps {
    pub link: MessageLinkView,
    pub on_select: Callback<MessageId>,
}

/// A reference to a message: pressing it inspects that message.
#[function_component(MessageLink)]
pub fn message_link(props: &MessageLinkProps) -> Html {
    let link = &props.link;
    let onclick = {
        let (on_select, id) = (props.on_select.clone(), link.id);
        Callback::from(move |_: MouseEvent| on_select.emit(id))
    };
    html! {
        <button type="button" class="message-link" title="Inspect this message" {onclick}>
            { kind_token(link.kind) }
            <span class="link-type" title={link.event_type.clone()}>{ short_type(&link.event_type) }</span>
            <span class="link-from">{ format!("from {}", link.from) }</span>
        </button>
    }
}

fn caused_list(nodes: &[CausedNode], on_select: &Callback<MessageId>) -> Html {
    if nodes.is_empty() {
        return html! {};
    }
    html! {
        <ul class="tree">
            { for nodes.iter().map(|node| html! {
                <li>
                    <MessageLink link={node.link.clone()} on_select={on_select.clone()} />
                    { caused_list(&node.caused, on_select) }
                </li>
            }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
struct AttemptButtonProps {
    row: AttemptRow,
    on_goto: Callback<u64>,
}

/// One delivery attempt: pressing it rewinds the run to just after that step.
#[function_component(AttemptButton)]
fn attempt_button(props: &AttemptButtonProps) -> Html {
    let row = &props.row;
    let onclick = {
        let (on_goto, step) = (props.on_goto.clone(), row.step + 1);
        Callback::from(move |_: MouseEvent| on_goto.emit(step))
    };
    html! {
        <button type="button" class="attempt" title="Rewind to this step" {onclick}>
            <span class="c-step">{ format!("step {}", row.step) }</span>
            <span class="c-verb">{ row.verb.clone() }</span>
            <span class="c-where">{ row.place.clone() }</span>
            <span class="c-detail">{ row.detail.clone() }</span>
        </button>
    }
}

#[derive(Properties, PartialEq)]
struct InspectorProps {
    model: Rc<InspectorModel>,
    filters: LogFilters,
    dispatch: Callback<ShellAction>,
}

#[function_component(Inspector)]
fn inspector(props: &InspectorProps) -> Html {
    let m = &props.model;
    let dispatch = &props.dispatch;
    let on_select = use_callback(dispatch.clone(), |id: MessageId, d| d.emit(ShellAction::Select(Some(id))));
    let on_goto = use_callback(dispatch.clone(), |step: u64, d| d.emit(ShellAction::RewindTo(step)));
    let filter_flow = m.correlation.clone().map(|c| {
        let dispatch = dispatch.clone();
        let filters = props.filters.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(ShellAction::SetFilters(LogFilters { correlation: c.clone(), ..filters.clone() }))
        })
    });
    let open_menu = {
        let dispatch = dispatch.clone();
        let (message, sub) = (m.id, m.queued_sub);
        Callback::from(move |_: MouseEvent| dispatch.emit(ShellAction::OpenMenu(MenuTarget::Message { message, sub })))
    };
    html! {
        <div class="inspector">
            <h2 class="panel-title">
                { kind_token(m.kind) }
                <span title={m.event_type.clone()}>{ format!("{} {}", short_type(&m.event_type), m.event_id) }</span>
            </h2>
            <p class="panel-note">{ m.status.clone() }</p>
            <div class="inspector-actions">
                if let Some(on_filter) = filter_flow {
                    <button type="button" class="control small" onclick={on_filter} title="Show only this business flow in the event log">{ "Filter log by its correlation id" }</button>
                }
                if m.in_flight {
                    <button type="button" class="control small" onclick={open_menu}>{ "Inject a fault on it\u{2026}" }</button>
                }
            </div>
            <h3>{ "Causal tree" }</h3>
            <p class="panel-note">{ "Caused by (causationid) above, caused below: each handler's emits name the event that triggered them." }</p>
            <ul class="tree causal">
                { for m.ancestors.iter().map(|link| html! {
                    <li class="ancestor"><MessageLink link={link.clone()} on_select={on_select.clone()} /></li>
                }) }
                <li class="this"><strong>{ "this message" }</strong>{ caused_list(&m.caused, &on_select) }</li>
            </ul>
            <h3>{ format!("Delivery attempts ({})", m.attempts.len()) }</h3>
            if m.attempts.is_empty() {
                <p class="panel-note">{ "No subscription has received it yet." }</p>
            } else {
                <ol class="attempts">
                    { for m.attempts.iter().map(|row| html! {
                        <li><AttemptButton row={row.clone()} on_goto={on_goto.clone()} /></li>
                    }) }
                </ol>
            }
            <h3>{ "Envelope (CloudEvents 1.0)" }</h3>
            <pre class="json" aria-label="The envelope as CloudEvents JSON">{ m.json.clone() }</pre>
        </div>
    }
}

// ---------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------

/// An invariant's verdict from the run-health model and, when broken, the first
/// violation's words.
#[derive(Clone, Debug, PartialEq)]
struct InvariantRow {
    view: InvariantView,
    state: InvariantState,
    first_detail: String,
}

fn invariants_model(sim: &Simulation, health: &RunHealth) -> Vec<InvariantRow> {
    sim.invariant_views()
        .into_iter()
        .map(|view| {
            let first_detail = if view.violations == 0 {
                String::new()
            } else {
                sim.checkers()
                    .violations
                    .iter()
                    .find(|f| f.invariant == view.invariant)
                    .map_or_else(String::new, |f| f.detail.clone())
            };
            let state = health.invariant(view.invariant).clone();
            InvariantRow { view, state, first_detail }
        })
        .collect()
}

/// The tab's badge: broken ones in red, else pending ones in amber, else a green tick.
/// Green only when every invariant is held: a run with work parked is not yet a pass.
fn invariants_badge(health: &RunHealth) -> (String, &'static str) {
    let count = |name: &str| health.invariants.iter().filter(|i| i.state.name() == name).count();
    match (count("broken"), count("pending")) {
        (0, 0) => ("\u{2713}".into(), "good"),
        (0, pending) => (format!("{pending} pending"), "pending"),
        (broken, _) => (format!("{broken} \u{2717}"), "bad"),
    }
}

#[derive(Properties, PartialEq)]
struct InvariantsProps {
    model: Rc<Vec<InvariantRow>>,
    dispatch: Callback<ShellAction>,
}

#[function_component(Invariants)]
fn invariants(props: &InvariantsProps) -> Html {
    html! {
        <div class="invariants">
            <p class="panel-note">
                { "Promises checked after every step. Held is green; pending (amber) means nothing broke yet but work is parked \u{2014} in a DLQ, at a service that is down, in a stuck saga \u{2014} and can still settle either way; broken is red and links to the step that broke it." }
            </p>
            <ul class="invariant-list">
                { for props.model.iter().map(|row| {
                    let v = &row.view;
                    let (class, mark) = match &row.state {
                        InvariantState::Held => ("ok", "\u{2713}"),
                        InvariantState::Pending(_) => ("pending", "\u{2026}"),
                        InvariantState::Broken { .. } => ("broken", "\u{2717}"),
                    };
                    let name = v.invariant.name();
                    let go = v.first_step.filter(|_| v.violations > 0).map(|step| {
                        let dispatch = props.dispatch.clone();
                        let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(ShellAction::RewindTo(step + 1)));
                        html! { <button type="button" class="control small danger" {onclick}>{ format!("Broken at step {step}: go there") }</button> }
                    });
                    html! {
                        <li class={classes!("invariant", class)} data-invariant={name} data-state={row.state.name()}>
                            <span class="invariant-mark" aria-hidden="true">{ mark }</span>
                            <div>
                                <p class="invariant-name">{ name }<span class="invariant-state">{ format!(" {}", row.state.name()) }</span></p>
                                <p class="invariant-promise">{ v.invariant.promise() }</p>
                                if let InvariantState::Pending(reasons) = &row.state {
                                    <p class="invariant-detail">{ "Not broken, not yet held: " }</p>
                                    <ul class="pending-reasons">
                                        { for reasons.iter().map(|reason| html! { <li>{ reason.to_string() }</li> }) }
                                    </ul>
                                }
                                if v.violations > 0 {
                                    <p class="invariant-detail">{ format!("{} violation(s). First: {}", v.violations, row.first_detail) }</p>
                                }
                                { for go }
                            </div>
                        </li>
                    }
                }) }
            </ul>
        </div>
    }
}

// ---------------------------------------------------------------------------------
// Fault script
// ---------------------------------------------------------------------------------

fn when(entry: &ScriptedFault) -> String {
    match entry.at {
        Trigger::Step(step) => format!("step {step}"),
        Trigger::TimeMs(ms) => format!("at {ms} ms"),
    }
}

fn fault_where(fault: &Fault) -> String {
    match fault {
        Fault::DropMessage { message, subscription: Some(s) }
        | Fault::DuplicateMessage { message, subscription: Some(s) }
        | Fault::DelayMessage { message, subscription: Some(s), .. }
        | Fault::ReorderMessage { message, subscription: Some(s) } => format!("{message} in {s}"),
        other => other.target().to_string(),
    }
}

fn fault_what(fault: &Fault) -> String {
    match fault {
        Fault::CrashService { restart_after_ms: Some(ms), .. } => format!("crash (restarts after {ms} ms)"),
        Fault::SlowService { extra_ms, .. } => format!("slow down +{extra_ms} ms"),
        Fault::FailHandlers { per_mille, .. } => format!("fail {}% of handlings", per_mille / 10),
        Fault::PartitionService { duration_ms, .. } => format!("partition for {duration_ms} ms"),
        Fault::DelayMessage { delay_ms, .. } => format!("delay {delay_ms} ms"),
        other => other.label().to_string(),
    }
}

#[derive(Properties, PartialEq)]
struct FaultScriptProps {
    /// The scenario's own scripted faults, which cannot be removed here.
    builtin: Vec<ScriptedFault>,
    /// The user's, in order; each can be removed by its index.
    user: Vec<ScriptedFault>,
    dispatch: Callback<ShellAction>,
}

#[function_component(FaultScriptPanel)]
fn fault_script_panel(props: &FaultScriptProps) -> Html {
    let rows = props.builtin.iter().map(|e| (e, None)).chain(props.user.iter().enumerate().map(|(i, e)| (e, Some(i))));
    html! {
        <div class="fault-script">
            <p class="panel-note">{ "Every fault is recorded with the step it happened at, so the run replays exactly from its seed. Click a service or a token on the topology to inject one; removing one rebuilds the run without it." }</p>
            if props.user.is_empty() && props.builtin.is_empty() {
                { empty_state("No faults yet.", "A fault is something going wrong on purpose: a crash, a lost or duplicated message, a poison message. Injecting one while rewound forks the run: the future is recomputed.") }
            } else {
                <table class="fault-table">
                    <thead><tr><th>{ "when" }</th><th>{ "what" }</th><th>{ "where" }</th><th></th></tr></thead>
                    <tbody>
                        { for rows.map(|(entry, remove)| html! {
                            <tr>
                                <td class="c-when">{ when(entry) }</td>
                                <td>{ fault_what(&entry.fault) }</td>
                                <td class="c-target">{ fault_where(&entry.fault) }</td>
                                <td>
                                    if let Some(index) = remove {
                                        <button type="button" class="control small" title="Rebuild the run without this fault and return to the same step"
                                            onclick={emit_on_click(&props.dispatch, ShellAction::RemoveFault(index))}>{ "Remove" }</button>
                                    } else {
                                        <span class="muted">{ "scenario" }</span>
                                    }
                                </td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </div>
    }
}

/// A click listener that dispatches `action`.
pub fn emit_on_click(dispatch: &Callback<ShellAction>, action: ShellAction) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
}

// ---------------------------------------------------------------------------------
// Delivery settings, dead letters, workload and anti-patterns
// ---------------------------------------------------------------------------------

fn delivery_explained(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::AtMostOnce => "Acks before handling: a crash or failure loses the event.",
        Delivery::AtLeastOnce => "Acks after handling: a crash redelivers, so a duplicate can be applied twice.",
        Delivery::ExactlyOnceEffect => {
            "At-least-once plus an idempotent consumer: processed ids are stored with the effect, so duplicates are skipped."
        }
    }
}

#[derive(Properties, PartialEq)]
struct NumberFieldProps {
    label: AttrValue,
    value: u64,
    max: u64,
    #[prop_or_default]
    min: u64,
    #[prop_or_default]
    hint: Option<AttrValue>,
    on_commit: Callback<u64>,
}

/// A whole-number field: the typed text stays while invalid, with the reason next to it;
/// only a number within range is committed (on Enter or leaving the field).
#[function_component(NumberField)]
fn number_field(props: &NumberFieldProps) -> Html {
    let error = use_state(|| None::<String>);
    let onchange = {
        let error = error.clone();
        let (min, max) = (props.min, props.max);
        let on_commit = props.on_commit.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            match input.value().trim().parse::<u64>() {
                Ok(value) if (min..=max).contains(&value) => {
                    error.set(None);
                    on_commit.emit(value);
                }
                _ => error.set(Some(format!("a whole number from {min} to {max}"))),
            }
        })
    };
    html! {
        <label class={classes!("number-field", error.is_some().then_some("invalid"))} title={props.hint.clone()}>
            <span class="number-label">{ props.label.clone() }</span>
            <input type="text" inputmode="numeric" value={props.value.to_string()} {onchange}
                aria-label={props.label.clone()} aria-invalid={error.is_some().to_string()} />
            if let Some(message) = &*error {
                <span class="field-error" role="alert">{ message.clone() }</span>
            }
        </label>
    }
}

#[derive(Properties, PartialEq)]
struct DeliveryProps {
    dead_letters: usize,
    scenario: Rc<Scenario>,
    steps_max: u64,
    dispatch: Callback<ShellAction>,
}

#[function_component(DeliveryPanel)]
fn delivery_panel(props: &DeliveryProps) -> Html {
    let show = |tab: Tab| emit_on_click(&props.dispatch, ShellAction::ShowTab(tab));
    let dead_letters = props.dead_letters;
    html! {
        <div class="delivery">
            <p class="panel-note">{ "Delivery guarantees, retries and dead-letter queues of each subscription. Changing one restarts the run from step 0 with the same seed and fault script, so you can compare." }</p>
            if dead_letters > 0 {
                <p class="panel-note dlq-pointer">{ format!("{dead_letters} dead letter(s) at this step: inspect, redrive or discard them in the ") }
                    <button type="button" class="control small" onclick={show(Tab::Dlq)}>{ "DLQ tab" }</button></p>
            }
            <SubscriptionSettings scenario={props.scenario.clone()} dispatch={props.dispatch.clone()} />
            <WorkloadSettings scenario={props.scenario.clone()} steps_max={props.steps_max} dispatch={props.dispatch.clone()} />
            <p class="panel-note">{ "Anti-pattern switches, with a meter of the damage each does, are in the " }
                <button type="button" class="control small" onclick={show(Tab::AntiPatterns)}>{ "Anti-patterns tab" }</button></p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SettingsProps {
    scenario: Rc<Scenario>,
    #[prop_or_default]
    steps_max: u64,
    dispatch: Callback<ShellAction>,
}

/// The editable settings of every subscription. Depends on the scenario only, so it
/// does not re-render at every step of the run.
#[function_component(SubscriptionSettings)]
fn subscription_settings(props: &SettingsProps) -> Html {
    let edit = |index: usize, make: fn(u64) -> SubscriptionEdit| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |value: u64| dispatch.emit(ShellAction::EditSubscription(index, make(value))))
    };
    html! {
        <>
            { for props.scenario.subscriptions.iter().enumerate().map(|(i, sub)| {
                let on_delivery = {
                    let dispatch = props.dispatch.clone();
                    Callback::from(move |e: Event| {
                        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                        if let Some(d) = Delivery::ALL.into_iter().find(|d| d.name() == value) {
                            dispatch.emit(ShellAction::EditSubscription(i, SubscriptionEdit::Delivery(d)));
                        }
                    })
                };
                let on_dlq = {
                    let dispatch = props.dispatch.clone();
                    Callback::from(move |e: Event| {
                        let on = e.target_unchecked_into::<HtmlInputElement>().checked();
                        dispatch.emit(ShellAction::EditSubscription(i, SubscriptionEdit::Dlq(on)));
                    })
                };
                let r = &sub.retry;
                html! {
                    <section class="sub-settings" data-sub={sub.name.clone()} aria-label={format!("Settings of {}", sub.name)}>
                        <h3>{ &sub.name }<span class="muted">{ format!(" {} \u{2192} {}", sub.topic, sub.service) }</span></h3>
                        <label class="select-field">
                            <span class="number-label">{ "Delivery" }</span>
                            <select aria-label={format!("Delivery mode of {}", sub.name)} onchange={on_delivery}>
                                { for Delivery::ALL.iter().map(|d| html! {
                                    <option value={d.name()} selected={*d == sub.delivery}>{ delivery_label(*d) }</option>
                                }) }
                            </select>
                        </label>
                        <p class="panel-note">{ delivery_explained(sub.delivery) }</p>
                        <div class="retry-grid">
                            <NumberField label="Attempts max" value={u64::from(r.attempts_max)} min={1} max={u64::from(ATTEMPTS_MAX_LIMIT)}
                                hint="Counts the first attempt: 3 means one try and two retries (as SQS and Temporal count; Step Functions counts retries only)"
                                on_commit={edit(i, |v| SubscriptionEdit::AttemptsMax(v as u32))} />
                            <NumberField label="Backoff first (ms)" value={r.backoff_initial_ms} max={DURATION_MS_MAX}
                                hint="Wait before the first retry" on_commit={edit(i, SubscriptionEdit::BackoffInitialMs)} />
                            <NumberField label="Multiplier (%)" value={u64::from(r.backoff_multiplier_percent)} min={100} max={1000}
                                hint="Growth of the wait per attempt: 200 doubles it" on_commit={edit(i, |v| SubscriptionEdit::BackoffMultiplierPercent(v as u32))} />
                            <NumberField label="Backoff max (ms)" value={r.backoff_max_ms} max={DURATION_MS_MAX}
                                hint="The wait never grows beyond this" on_commit={edit(i, SubscriptionEdit::BackoffMaxMs)} />
                            <NumberField label="Jitter (‰)" value={u64::from(r.jitter_per_mille)} max={1000}
                                hint="Random spread of each wait, from the seeded generator: 200 = up to 20% shorter or longer"
                                on_commit={edit(i, |v| SubscriptionEdit::JitterPerMille(v as u32))} />
                        </div>
                        <p class="panel-note">{ format!("Attempts max counts the first attempt: {} = 1 try + {} retr{}.", r.attempts_max, r.attempts_max.saturating_sub(1), if r.attempts_max == 2 { "y" } else { "ies" }) }</p>
                        <label class="check-field">
                            <input type="checkbox" checked={sub.dlq} onchange={on_dlq} aria-label={format!("Dead-letter queue for {}", sub.name)} />
                            { " Dead-letter queue" }
                            <span class="muted">{ if sub.dlq { " \u{2014} after the last attempt a message is parked here with its death history" } else { " off (anti-pattern): a poison message loops or blocks its queue" } }</span>
                        </label>
                    </section>
                }
            }) }
        </>
    }
}

/// How much work the scenario's clients send: the repeat count of each repeated item.
#[function_component(WorkloadSettings)]
fn workload_settings(props: &SettingsProps) -> Html {
    let items: Vec<Html> = props
        .scenario
        .workload
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let repeat = w.repeat.as_ref()?;
            let dispatch = props.dispatch.clone();
            let on_commit = Callback::from(move |v: u64| dispatch.emit(ShellAction::SetWorkloadCount(i, v as u32)));
            Some(html! {
                <div class="workload-item">
                    <NumberField label={format!("{} from {} (every {} ms)", short_type(&w.event_type), w.source, repeat.every_ms)}
                        value={u64::from(repeat.count)} min={1} max={WORKLOAD_MESSAGES_MAX.min(u64::from(u32::MAX))}
                        hint="How many of these the client sends; more makes a longer run (up to the step limit)" {on_commit} />
                </div>
            })
        })
        .collect();
    if items.is_empty() {
        return html! {};
    }
    html! {
        <section class="sub-settings">
            <h3>{ "Workload" }</h3>
            <p class="panel-note">{ format!("How many messages the clients send. The run stops at its step limit of {} steps.", props.steps_max) }</p>
            { for items }
        </section>
    }
}
