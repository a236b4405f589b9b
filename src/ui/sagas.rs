//! The saga view: every saga instance of the run with its steps (done, running,
//! pending, failed, compensating, compensated), the pivot step, the remaining path and
//! the compensations armed so far, plus the operator actions that make a saga fail.
//!
//! Orchestrated sagas come from the core's `saga_views()`, which folds each instance
//! from the coordinator's own event store, so what is drawn is exactly what the
//! coordinator knows. A choreography has no coordinator and therefore no instance
//! state: the view lists its compensation messages instead, which is the honest
//! picture of that style. An instance stuck in "compensating" gets a red banner that
//! says where its compensation is (retrying or parked in a dead-letter queue) and what
//! an operator does about it, because a half-undone business transaction is the most
//! expensive state a saga can be in.
//!
//! Cost: one pass over the trace per step while the tab is open (failed attempts of
//! compensation messages), and at most [`INSTANCES_SHOWN`] instance cards. Each card
//! is a component with its instance as props, so a step re-renders only the cards of
//! the instances it changed.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::details::{emit_on_click, RunProps};
use super::regions::empty_state;
use super::state::{ShellAction, Tab};
use super::topology::short_type;
use crate::sim::fault::Fault;
use crate::sim::health::{SagaHealth, SagaState, StuckReason};
use crate::sim::simulation::Simulation;
use crate::sim::trace::{Happened, SubId};
use crate::sim::view::{SagaStepState, SagaView};

/// Instance cards drawn at most; stuck and compensating instances come first.
pub const INSTANCES_SHOWN: usize = 40;
/// Compensation messages listed at most for a choreography.
const COMPENSATIONS_SHOWN: usize = 40;

fn step_label(state: SagaStepState) -> &'static str {
    match state {
        SagaStepState::Pending => "pending",
        SagaStepState::Running => "running",
        SagaStepState::Done => "done",
        SagaStepState::Failed => "failed",
        SagaStepState::Compensating => "compensating",
        SagaStepState::Compensated => "compensated",
    }
}

/// Where a compensation message is now: parked in a DLQ or retrying, with its failures.
#[derive(Clone, Debug, Default, PartialEq)]
struct CompensationWhereabouts {
    /// (subscription name, event id) of DLQs holding it.
    dead_in: Vec<(String, String)>,
    failures: u32,
    event_type: String,
}

/// Per saga instance (subject), what its compensation messages went through. A few
/// instances at most are in trouble, so a vector with a linear search does.
fn compensation_trouble(sim: &Simulation) -> Vec<(String, CompensationWhereabouts)> {
    let mut out: Vec<(String, CompensationWhereabouts)> = Vec::new();
    fn entry(out: &mut Vec<(String, CompensationWhereabouts)>, subject: &str) -> usize {
        match out.iter().position(|(s, _)| s == subject) {
            Some(i) => i,
            None => {
                out.push((subject.to_string(), CompensationWhereabouts::default()));
                out.len() - 1
            }
        }
    }
    let mut touched: Vec<(usize, String)> = Vec::new();
    for record in sim.trace() {
        if let Happened::HandlingFailed { message, .. } = record.happened {
            let Some(m) = sim.message(message).filter(|m| m.compensation) else { continue };
            let i = entry(&mut out, &m.envelope.subject);
            touched.push((i, m.envelope.event_type.clone()));
        }
    }
    for (i, sub) in sim.compiled().subs.iter().enumerate() {
        for letter in &sim.sub_state(SubId(i as u32)).dlq {
            let Some(m) = sim.message(letter.delivery.message).filter(|m| m.compensation) else { continue };
            let k = entry(&mut out, &m.envelope.subject);
            out[k].1.dead_in.push((sub.name.clone(), m.envelope.id.clone()));
            out[k].1.event_type = m.envelope.event_type.clone();
        }
    }
    for (i, event_type) in touched {
        out[i].1.failures += 1;
        out[i].1.event_type = event_type;
    }
    out
}

#[function_component(SagaPanel)]
pub fn saga_panel(props: &RunProps) -> Html {
    let sim = props.run.sim.borrow();
    let has_sagas = !sim.compiled().sagas.is_empty();
    let intro = html! {
        <p class="panel-note">{ "A saga is one business transaction split into local steps, each with a compensation that undoes it. When a step fails, the steps already done are compensated in reverse order; after the pivot step the saga can only go forward." }</p>
    };
    let actions =
        html! { <OperatorActions targets={Rc::new(operator_targets(&sim))} dispatch={props.dispatch.clone()} /> };
    if !has_sagas {
        let compensations: Vec<(u64, String, String, String)> = sim
            .trace()
            .iter()
            .filter_map(|r| match r.happened {
                Happened::Published { message, .. } => {
                    let m = sim.message(message)?;
                    m.compensation.then(|| {
                        let from = m
                            .emitted_by
                            .and_then(|s| sim.scenario().services.get(s.0 as usize))
                            .map_or_else(|| m.envelope.source.clone(), |s| s.name.clone());
                        (r.step, short_type(&m.envelope.event_type).to_string(), from, m.envelope.subject.clone())
                    })
                }
                _ => None,
            })
            .take(COMPENSATIONS_SHOWN)
            .collect();
        drop(sim);
        return html! {
            <div class="sagas">
                { intro }
                { empty_state("No saga coordinator in this scenario.", "In a choreography no one holds the saga's state: each service reacts to events, and a failure event makes the others undo their part. Compensation messages are listed below and drawn as a dashed purple path on the topology.") }
                if !compensations.is_empty() {
                    <h3>{ format!("Compensation messages ({})", compensations.len()) }</h3>
                    <ol class="saga-compensations">
                        { for compensations.iter().map(|(step, t, from, subject)| {
                            let step = *step;
                            let dispatch = props.dispatch.clone();
                            let onclick = emit_on_click(&dispatch, ShellAction::RewindTo(step + 1));
                            html! {
                                <li><button type="button" class="attempt" {onclick} title="Go to this step">
                                    <span class="c-step">{ format!("step {step}") }</span>
                                    <span class="compensation-text">{ format!("\u{21b6} {t}") }</span>
                                    <span class="muted">{ format!(" from {from} for {subject}") }</span>
                                </button></li>
                            }
                        }) }
                    </ol>
                }
                { actions }
            </div>
        };
    }
    let views = sim.saga_views();
    let trouble = compensation_trouble(&sim);
    let healths = if views.is_empty() { Vec::new() } else { sim.health().sagas };
    drop(sim);
    let count = |status: &str| views.iter().filter(|v| v.status == status).count();
    // Instances in trouble first: compensating, then running, then the finished ones
    // (a pass per status keeps instance order within each and needs no sort).
    let ordered: Vec<&SagaView> = ["compensating", "running", "aborted", "completed"]
        .iter()
        .flat_map(|status| views.iter().filter(move |v| v.status == *status))
        .collect();
    let open_dlq = use_callback(props.dispatch.clone(), |_: MouseEvent, d| d.emit(ShellAction::ShowTab(Tab::Dlq)));
    html! {
        <div class="sagas">
            { intro }
            { actions }
            if views.is_empty() {
                { empty_state("No saga has started yet: step the run until the first order arrives.", "The coordinator stores each saga instance as a stream of events in its own event store, so its state survives a crash.") }
            } else {
                <p class="saga-summary" aria-label="Saga instances by status">
                    <span class="saga-status running">{ format!("{} running", count("running")) }</span>
                    <span class={classes!("saga-status", "compensating", (count("compensating") == 0).then_some("none"))}>{ format!("{} compensating", count("compensating")) }</span>
                    <span class="saga-status completed">{ format!("{} completed", count("completed")) }</span>
                    <span class="saga-status aborted">{ format!("{} aborted (undone)", count("aborted")) }</span>
                </p>
                <ul class="saga-list">
                    { for ordered.iter().take(INSTANCES_SHOWN).map(|v| html! {
                        <SagaCard view={(*v).clone()} trouble={trouble.iter().find(|(s, _)| *s == v.instance).map(|(_, t)| t.clone())}
                            health={healths.iter().find(|h| h.saga == v.saga && h.instance == v.instance).cloned()} open_dlq={open_dlq.clone()} />
                    }) }
                </ul>
                if views.len() > INSTANCES_SHOWN {
                    <p class="panel-note">{ format!("{} more instances not shown.", views.len() - INSTANCES_SHOWN) }</p>
                }
            }
        </div>
    }
}

/// The steps of one instance as a row of chips.
fn steps_view(v: &SagaView) -> Html {
    html! {
        <ol class="saga-steps" aria-label={format!("Steps of {}", v.instance)}>
            { for v.steps.iter().map(|s| {
                let state = step_label(s.state);
                html! {
                    <li class={classes!("saga-step", format!("step-{state}"), s.is_pivot.then_some("pivot"))}
                        data-step={s.name.clone()} data-state={state}
                        title={s.is_pivot.then_some("The pivot: once it succeeds the saga can only go forward")}>
                        <span class="step-name">{ s.name.clone() }</span>
                        <span class="step-state">{ state }</span>
                        if s.is_pivot { <span class="step-flag">{ "\u{2691} pivot" }</span> }
                        if s.compensation_armed { <span class="step-flag armed">{ "\u{21b6} armed" }</span> }
                    </li>
                }
            }) }
        </ol>
    }
}

#[derive(Properties, PartialEq)]
struct SagaCardProps {
    view: SagaView,
    trouble: Option<CompensationWhereabouts>,
    /// The instance's verdict from the run-health model: stuck or not, and what it holds.
    health: Option<SagaHealth>,
    open_dlq: Callback<MouseEvent>,
}

/// One saga instance: its status, its steps, what remains and what is armed.
#[function_component(SagaCard)]
fn saga_card(props: &SagaCardProps) -> Html {
    let (v, trouble, open_dlq) = (&props.view, props.trouble.as_ref(), &props.open_dlq);
    let compensating = v.status == "compensating";
    let undoing = v.steps.iter().find(|s| s.state == SagaStepState::Compensating).map(|s| s.name.clone());
    let failed = v.steps.iter().find(|s| s.state == SagaStepState::Failed).map(|s| s.name.clone());
    let stuck = compensating.then(|| {
        let t = trouble.cloned().unwrap_or_default();
        let what = undoing.clone().unwrap_or_else(|| "a step".into());
        let text = if let Some((sub, _)) = t.dead_in.first() {
            format!(
                "Stuck compensating: undoing \u{201c}{what}\u{201d} failed {} time(s) and its {} is parked in the DLQ of {sub}. Fix the service, then redrive it.",
                t.failures,
                short_type(&t.event_type)
            )
        } else if t.failures > 0 {
            format!(
                "Compensating: undoing \u{201c}{what}\u{201d} has failed {} time(s) so far and is being retried; compensations are retried until they succeed.",
                t.failures
            )
        } else {
            format!("Compensating: undoing \u{201c}{what}\u{201d}, waiting for its reply.")
        };
        (text, !t.dead_in.is_empty())
    });
    html! {
        <li class={classes!("saga-card", format!("status-{}", v.status), stuck.as_ref().filter(|(_, parked)| *parked).map(|_| "stuck"))}
            data-instance={v.instance.clone()} data-status={v.status}>
            <div class="saga-head">
                <strong>{ format!("{} \u{b7} {}", v.saga, v.instance) }</strong>
                // A saga that cannot move says so in its chip, not "running".
                if let Some(stuck) = props.health.as_ref().filter(|h| h.state.is_stuck()) {
                    <span class="saga-status stuck">{ stuck.state.name() }</span>
                } else {
                    <span class={classes!("saga-status", v.status)}>{ v.status }</span>
                }
            </div>
            if let Some((text, parked)) = stuck {
                <p class={classes!("saga-stuck", parked.then_some("parked"))} role="status">
                    { text }
                    if parked {
                        <button type="button" class="control small danger" onclick={open_dlq.clone()}>{ "Open the DLQ" }</button>
                    }
                </p>
            }
            if let Some(SagaState::StuckForward { step, why }) = props.health.as_ref().map(|h| &h.state) {
                <p class="saga-stuck parked" role="status" data-health="stuck">
                    { format!("Stuck at step \u{201c}{step}\u{201d}: {why}. It cannot go on by itself.") }
                    if matches!(why, StuckReason::DeadLettered { .. }) {
                        <button type="button" class="control small danger" onclick={open_dlq.clone()}>{ "Open the DLQ" }</button>
                    }
                </p>
            }
            if let Some(SagaState::StuckCompensating { step, why }) = props.health.as_ref().map(|h| &h.state).filter(|_| !compensating) {
                <p class="saga-stuck parked" role="status" data-health="stuck-compensating">
                    { format!("Stuck compensating \u{201c}{step}\u{201d}: {why}.") }
                </p>
            }
            if let Some(held) = props.health.as_ref().map(|h| &h.holding).filter(|held| !held.is_empty()) {
                <p class="saga-holding">
                    { "Still held by this saga: " }
                    { for held.iter().enumerate().map(|(i, r)| html! {
                        <>
                            if i > 0 { { "; " } }
                            <code>{ format!("{} {} {:+}", r.service, r.key, r.delta) }</code>
                            { format!(" (step {})", r.step) }
                        </>
                    }) }
                </p>
            }
            { steps_view(v) }
            <p class="saga-paths">
                if !v.remaining.is_empty() {
                    <span>{ "Remaining: " }<strong>{ v.remaining.join(" \u{2192} ") }</strong></span>
                }
                if !v.compensations_armed.is_empty() && v.status == "running" {
                    <span>{ " If a step fails now, undo: " }<strong class="compensation-text">{ v.compensations_armed.join(" \u{2192} ") }</strong></span>
                }
                if let Some(step) = failed.filter(|_| !compensating) {
                    <span>{ format!("Step \u{201c}{step}\u{201d} failed; the steps before it were undone in reverse order.") }</span>
                }
                if v.status == "completed" {
                    <span>{ "Every step succeeded." }</span>
                }
            </p>
        </li>
    }
}

/// What an operator can act on: every state counter of a service with its value
/// (service, key, value), and the services.
#[derive(Clone, Debug, PartialEq)]
struct OperatorTargets {
    keys: Vec<(String, String, i64)>,
    services: Vec<String>,
}

fn operator_targets(sim: &Simulation) -> OperatorTargets {
    let keys = sim
        .service_views()
        .into_iter()
        .flat_map(|s| s.state.into_iter().map(move |(k, v)| (s.name.clone(), k, v)))
        .take(200)
        .collect();
    OperatorTargets { keys, services: sim.scenario().services.iter().map(|s| s.name.clone()).collect() }
}

#[derive(Properties, PartialEq)]
struct OperatorProps {
    targets: Rc<OperatorTargets>,
    dispatch: Callback<ShellAction>,
}

/// What the operator actions do, in this scenario's own words: the example names a
/// counter the scenario has, never another scenario's.
pub fn advice(keys: &[(String, String, i64)]) -> String {
    let example = keys
        .iter()
        .find(|(_, key, _)| key == "trucks")
        .map(|(service, key, _)| format!(" (here: {service}'s {key} at 0 makes the pivot step fail)"))
        .unwrap_or_default();
    format!(
        "Applied now and recorded in the fault script. Setting a counter a step depends on to 0 makes that step fail{example}; making a service fail after it acted makes its compensation fail too."
    )
}

/// Operator actions that make a saga fail or heal: set a state counter of a service
/// (no trucks left), make a service fail every handling, or heal it. Each is injected
/// like any fault, so it lands in the fault script and the run replays exactly.
#[function_component(OperatorActions)]
fn operator_actions(props: &OperatorProps) -> Html {
    let (keys, services) = (&props.targets.keys, &props.targets.services);
    // By name, not position: counters appear as the run goes (a charge adds `captured`).
    let chosen_key = use_state(|| None::<(String, String)>);
    let value = use_state(|| 0i64);
    let chosen_service = use_state(|| 0usize);
    let chosen = (*chosen_key)
        .as_ref()
        .and_then(|(service, key)| keys.iter().position(|(s, k, _)| s == service && k == key))
        .unwrap_or(0);
    let on_key = {
        let chosen_key = chosen_key.clone();
        let names: Vec<(String, String)> = keys.iter().map(|(s, k, _)| (s.clone(), k.clone())).collect();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let index: usize = select.value().parse().unwrap_or(0);
            chosen_key.set(names.get(index).cloned());
        })
    };
    let on_value = {
        let value = value.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            value.set(input.value().trim().parse().unwrap_or(0));
        })
    };
    let on_service = {
        let chosen_service = chosen_service.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            chosen_service.set(select.value().parse().unwrap_or(0));
        })
    };
    let set_state = keys.get(chosen).map(|(service, key, _)| {
        emit_on_click(
            &props.dispatch,
            ShellAction::Inject(Fault::SetState { service: service.clone(), key: key.clone(), value: *value }),
        )
    });
    let fail = |per_mille: u32| {
        services.get(*chosen_service).map(|service| {
            emit_on_click(
                &props.dispatch,
                ShellAction::Inject(Fault::FailHandlers { service: service.clone(), per_mille }),
            )
        })
    };
    if keys.is_empty() && services.is_empty() {
        return html! {};
    }
    html! {
        <section class="sub-settings operator-actions" aria-label="Make something fail">
            <h3>{ "Make something fail" }</h3>
            <p class="panel-note">{ advice(keys) }</p>
            if !keys.is_empty() {
                <div class="operator-row">
                    <select aria-label="State counter to set" onchange={on_key}>
                        { for keys.iter().enumerate().map(|(i, (service, key, v))| html! {
                            <option value={i.to_string()} selected={i == chosen}>{ format!("{service}: {key} (now {v})") }</option>
                        }) }
                    </select>
                    <input type="text" inputmode="numeric" class="operator-value" aria-label="New value" value={value.to_string()} onchange={on_value} />
                    <button type="button" class="control small" onclick={set_state}>{ "Set" }</button>
                </div>
            }
            <div class="operator-row">
                <select aria-label="Service whose handlers fail" onchange={on_service}>
                    { for services.iter().enumerate().map(|(i, s)| html! { <option value={i.to_string()} selected={i == *chosen_service}>{ s.clone() }</option> }) }
                </select>
                <button type="button" class="control small danger" onclick={fail(1000)}>{ "Fail every handling" }</button>
                <button type="button" class="control small" onclick={fail(0)}>{ "Heal (0% failures)" }</button>
            </div>
        </section>
    }
}
