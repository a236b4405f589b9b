//! The dead-letter panel: per subscription, the messages that gave up, with their
//! reason, the handler's last error and death history (`x-death`), and the operator's three moves: redrive one,
//! redrive all, discard.
//!
//! Each move is injected as an operator fault (`RedriveDeadLetters`,
//! `DiscardDeadLetters`), so it is recorded in the fault script and the run replays
//! exactly. A redriven message keeps its event id, so the panel links it to the event
//! log (filtered by that id's correlation) and lists the steps at which it was
//! redriven: the message stays traceable after it leaves the DLQ.
//!
//! Cost: the DLQ contents per subscription (small, bounded by the run's dead letters)
//! and one pass over the trace for the recent redrives, at most [`REDRIVES_SHOWN`].

use yew::prelude::*;

use super::details::{emit_on_click, RunProps};
use super::regions::empty_state;
use super::state::{LogFilters, ShellAction};
use super::topology::short_type;
use crate::sim::fault::Fault;
use crate::sim::trace::Happened;

/// Dead letters listed per subscription; the count says how many more there are.
const LETTERS_SHOWN: usize = 50;
/// Past redrives listed, newest first.
const REDRIVES_SHOWN: usize = 12;

#[function_component(DlqPanel)]
pub fn dlq_panel(props: &RunProps) -> Html {
    let sim = props.run.sim.borrow();
    let subs = sim.subscription_views();
    let queues: Vec<_> = subs.iter().map(|s| (s.clone(), sim.dead_letter_views(s.id))).collect();
    // Redrives so far, newest first: (step, event id, type, subscription, correlation id).
    let mut redrives: Vec<(u64, String, String, String, Option<String>)> = sim
        .trace()
        .iter()
        .rev()
        .filter_map(|r| match r.happened {
            Happened::Redriven { message, sub } => {
                let m = sim.message(message)?;
                let sub_name = sim.compiled().subs.get(sub.0 as usize).map(|s| s.name.clone()).unwrap_or_default();
                Some((
                    r.step,
                    m.envelope.id.clone(),
                    m.envelope.event_type.clone(),
                    sub_name,
                    m.envelope.correlation_id.clone(),
                ))
            }
            _ => None,
        })
        .take(REDRIVES_SHOWN)
        .collect();
    redrives.reverse();
    let attempts_of = |event_id: &str| -> u32 {
        sim.message_by_event_id(event_id).map_or(0, |id| {
            sim.trace()
                .iter()
                .filter(|r| matches!(r.happened, Happened::Delivered { message, .. } if message == id))
                .count() as u32
        })
    };
    let total: usize = queues.iter().map(|(_, l)| l.len()).sum();
    let inject = |fault: Fault| emit_on_click(&props.dispatch, ShellAction::Inject(fault));
    let follow = |correlation: Option<String>, event_id: String| {
        let dispatch = props.dispatch.clone();
        let message = sim.message_by_event_id(&event_id);
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(ShellAction::SetFilters(LogFilters {
                correlation: correlation.clone().unwrap_or_else(|| event_id.clone()),
                ..LogFilters::default()
            }));
            dispatch.emit(ShellAction::Select(message));
        })
    };
    let body = html! {
        <>
            { for queues.iter().filter(|(s, letters)| !letters.is_empty() || s.dlq_enabled).map(|(s, letters)| {
                let name = s.name.clone();
                html! {
                    <section class="sub-settings dlq-queue" data-sub={name.clone()} aria-label={format!("Dead letters of {name}")}>
                        <h3>
                            { &s.name }
                            <span class={classes!("dlq-depth", (!letters.is_empty()).then_some("full"))}>{ format!(" {} dead", letters.len()) }</span>
                            if !s.dlq_enabled { <span class="muted">{ " \u{2014} DLQ switched off" }</span> }
                        </h3>
                        if letters.is_empty() {
                            <p class="panel-note">{ format!("Empty. After {} failed attempt(s) a message would be parked here.", s.attempts_max) }</p>
                        } else {
                            <div class="dlq-bulk">
                                <button type="button" class="control small" title="Send every dead letter of this queue back for a new delivery"
                                    onclick={inject(Fault::RedriveDeadLetters { subscription: name.clone(), message: None })}>{ format!("Redrive all {}", letters.len()) }</button>
                            </div>
                            <ul class="dead-letters">
                                { for letters.iter().take(LETTERS_SHOWN).map(|l| {
                                    let correlation = sim.message(l.message).and_then(|m| m.envelope.correlation_id.clone());
                                    html! {
                                        <li class="dead-letter" data-event={l.event_id.clone()}>
                                            <div class="dead-head">
                                                <span class="mono">{ &l.event_id }</span>
                                                <strong>{ format!(" {}", short_type(&l.event_type)) }</strong>
                                                <span class="dead-reason">{ l.reason.name() }</span>
                                                <span class="muted">{ format!(" at {} ms \u{b7} {} attempt(s)", l.at_ms, attempts_of(&l.event_id)) }</span>
                                            </div>
                                            if let Some(error) = &l.last_error {
                                                <p class="dead-error">{ "last error: " }<span class="mono">{ error.clone() }</span></p>
                                            }
                                            <table class="x-death" aria-label="Death history (x-death)">
                                                <thead><tr><th>{ "x-death: queue" }</th><th>{ "reason" }</th><th>{ "count" }</th><th>{ "first \u{2013} last" }</th></tr></thead>
                                                <tbody>
                                                    { for l.history.iter().map(|(queue, reason, count, first, last)| html! {
                                                        <tr><td>{ queue.clone() }</td><td>{ reason.name() }</td><td>{ count.to_string() }</td><td>{ format!("{first}\u{2013}{last} ms") }</td></tr>
                                                    }) }
                                                </tbody>
                                            </table>
                                            <div class="dead-actions">
                                                <button type="button" class="control small primary" title="Send it back to its queue for a new delivery; its death history is kept"
                                                    onclick={inject(Fault::RedriveDeadLetters { subscription: name.clone(), message: Some(l.event_id.clone()) })}>{ "Redrive" }</button>
                                                <button type="button" class="control small" title="Delete it for good: the event will never be handled here"
                                                    onclick={inject(Fault::DiscardDeadLetters { subscription: name.clone(), message: Some(l.event_id.clone()) })}>{ "Discard" }</button>
                                                <button type="button" class="control small" title="Filter the event log to this message's flow"
                                                    onclick={follow(correlation, l.event_id.clone())}>{ "Show in log" }</button>
                                            </div>
                                        </li>
                                    }
                                }) }
                            </ul>
                            if letters.len() > LETTERS_SHOWN {
                                <p class="panel-note">{ format!("{} more not shown.", letters.len() - LETTERS_SHOWN) }</p>
                            }
                        }
                    </section>
                }
            }) }
        </>
    };
    let redriven = html! {
        if !redrives.is_empty() {
            <section class="sub-settings">
                <h3>{ "Redriven so far" }</h3>
                <p class="panel-note">{ "A redriven message keeps its id and its death history: follow it in the log." }</p>
                <ol class="redrives">
                    { for redrives.iter().map(|(step, id, t, sub, correlation)| html! {
                        <li data-event={id.clone()}>
                            <span class="c-step">{ format!("step {step}") }</span>
                            <span class="mono">{ format!(" {id} ") }</span>{ format!("{} back to {sub} ", short_type(t)) }
                            <button type="button" class="control small" onclick={follow(correlation.clone(), id.clone())}>{ "Show in log" }</button>
                        </li>
                    }) }
                </ol>
            </section>
        }
    };
    let any_dlq = subs.iter().any(|s| s.dlq_enabled);
    drop(sim);
    html! {
        <div class="dlq-panel">
            <p class="panel-note">{ "A dead-letter queue (DLQ) parks a message that failed every attempt, with the reason and its death history (like RabbitMQ's x-death), so one bad message does not block or loop in its queue. An operator fixes the cause, then redrives or discards it." }</p>
            if total == 0 {
                { empty_state(if any_dlq { "No dead letters at this step." } else { "No subscription has a dead-letter queue." }, "Mark a message as poison (click a queued token) or make a service fail every handling: after the last attempt the message lands here.") }
            }
            { body }
            { redriven }
        </div>
    }
}
