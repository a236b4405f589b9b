//! Anti-pattern switches, each with an "expected vs actual" meter that shows the
//! damage in this run.
//!
//! A switch restarts the run from step 0 with the same seed and fault script (the
//! reducer's `ToggleAntiPattern`), so the only difference is the mistake itself. Most
//! meters compare with a promise the correct design makes (no duplicate effect, no
//! event lost, every event traceable), read from the invariant checkers and the
//! trace. Three damages are relative (fat events cost bytes, events-as-commands cost
//! messages, synchronous processing costs latency); for those, while the switch is on,
//! the panel runs the same configuration *without* that one anti-pattern to its end,
//! once per configuration, and compares at the same simulated time.
//!
//! Cost per render: a few counters and one pass over the messages; the reference runs
//! are memoized by run and fault script and exist only while their switch is on.

use yew::prelude::*;

use super::state::{RunRef, ShellAction};
use crate::lessons::{Expect, Reading};
use crate::sim::anti_pattern::AntiPattern;
use crate::sim::invariant::Invariant;
use crate::sim::simulation::{RunConfig, Simulation};
use crate::sim::time::Millis;
use crate::sim::trace::Happened;

/// What a reference run (the same configuration with the fix) contributes.
#[derive(Clone, Debug, PartialEq)]
struct Reference {
    /// (publication time, payload bytes) of every message, in order.
    messages: Vec<(Millis, u64)>,
    /// (flow end, flow duration) of every flow.
    flows: Vec<(Millis, Millis)>,
}

impl Reference {
    fn messages_by(&self, t: Millis) -> i64 {
        self.messages.iter().take_while(|m| m.0 <= t).count() as i64
    }

    fn bytes_per_event_by(&self, t: Millis) -> i64 {
        let (n, bytes) = self.messages.iter().take_while(|m| m.0 <= t).fold((0u64, 0u64), |(n, b), m| (n + 1, b + m.1));
        bytes.checked_div(n).unwrap_or(0) as i64
    }

    fn slowest_by(&self, t: Millis) -> i64 {
        self.flows.iter().filter(|f| f.0 <= t).map(|f| f.1 as i64).max().unwrap_or(0)
    }
}

fn reference(config: &RunConfig, without: AntiPattern) -> Option<Reference> {
    let mut config = config.clone();
    config.anti_patterns.retain(|a| *a != without);
    let mut sim = Simulation::new(config).ok()?;
    sim.run_to_end();
    Some(Reference {
        messages: sim.messages().iter().map(|m| (m.envelope.time_ms, m.envelope.data_bytes())).collect(),
        flows: sim.flows().map(|(_, f)| (f.last_ms, f.last_ms.saturating_sub(f.started_ms))).collect(),
    })
}

fn needs_reference(a: AntiPattern) -> bool {
    matches!(a, AntiPattern::FatEvents | AntiPattern::EventsAsCommands | AntiPattern::SynchronousProcessing)
}

fn bytes_per_event(sim: &Simulation) -> i64 {
    let n = sim.messages().len() as u64;
    sim.messages().iter().map(|m| m.envelope.data_bytes()).sum::<u64>().checked_div(n).unwrap_or(0) as i64
}

fn slowest_flow(sim: &Simulation) -> i64 {
    sim.flows().map(|(_, f)| f.last_ms.saturating_sub(f.started_ms) as i64).max().unwrap_or(0)
}

/// The most consumers one publisher addresses by name (events-as-commands).
fn consumers_addressed(sim: &Simulation) -> i64 {
    // Distinct (publisher, addressed subscription) pairs: few, so a linear search.
    let mut pairs: Vec<(String, u32)> = Vec::new();
    for m in sim.messages() {
        let Some(target) = m.target else { continue };
        let publisher = m
            .emitted_by
            .and_then(|s| sim.scenario().services.get(s.0 as usize))
            .map_or_else(|| m.envelope.source.clone(), |s| s.name.clone());
        if !pairs.iter().any(|(p, t)| *p == publisher && *t == target.0) {
            pairs.push((publisher, target.0));
        }
    }
    pairs.iter().map(|(p, _)| pairs.iter().filter(|(q, _)| q == p).count() as i64).max().unwrap_or(0)
}

/// The meter of one anti-pattern for this run.
fn meter(a: AntiPattern, sim: &Simulation, reference: Option<&Reference>) -> Vec<Reading> {
    let count = |i: Invariant| sim.checkers().count(i) as i64;
    let now = sim.now_ms();
    match a {
        AntiPattern::NoDlq => {
            let parked: i64 = sim.subscription_views().iter().map(|s| i64::from(s.dlq_depth)).sum();
            vec![
                Reading::at_most(
                    "attempts beyond attempts_max (redeliveries that should have stopped)",
                    0,
                    count(Invariant::BoundedRedelivery),
                ),
                Reading::info("messages parked in a DLQ", parked),
            ]
        }
        AntiPattern::NoIdempotency => vec![
            Reading::new("effects applied twice (duplicate charges)", 0, count(Invariant::ExactlyOnceEffect)),
            Reading::new("money or stock created or destroyed", 0, count(Invariant::Conservation)),
        ],
        AntiPattern::FireAndForget => vec![Reading::new("events lost", 0, count(Invariant::NoEventLost))],
        AntiPattern::NoCorrelationId => {
            vec![Reading::new("events that cannot be traced to their flow", 0, count(Invariant::CorrelationFlows))]
        }
        AntiPattern::FatEvents => {
            let actual = bytes_per_event(sim);
            vec![Reading::at_most(
                "payload bytes per event (lean: the same run with lean events)",
                reference.map_or(actual, |r| r.bytes_per_event_by(now)),
                actual,
            )]
        }
        AntiPattern::UnorderedRetries => {
            vec![Reading::new("events handled out of key order", 0, count(Invariant::PerKeyOrder))]
        }
        AntiPattern::NoOutbox => {
            let unpublished: i64 = sim
                .trace()
                .iter()
                .map(|r| match r.happened {
                    Happened::Crashed { unpublished, .. } => i64::from(unpublished),
                    _ => 0,
                })
                .sum();
            vec![Reading::new("events committed but never published", 0, unpublished)]
        }
        AntiPattern::NoSchemaVersioning => {
            vec![Reading::new("stored events a reader cannot read", 0, count(Invariant::ReadableHistory))]
        }
        AntiPattern::EventsAsCommands => {
            let actual = sim.messages().len() as i64;
            vec![
                Reading::at_most(
                    "messages sent (one fact vs one command per consumer)",
                    reference.map_or(actual, |r| r.messages_by(now)),
                    actual,
                ),
                Reading::new("consumers one publisher must address by name", 0, consumers_addressed(sim)),
            ]
        }
        AntiPattern::SynchronousProcessing => {
            let actual = slowest_flow(sim);
            vec![Reading::at_most(
                "slowest flow end to end (ms)",
                reference.map_or(actual, |r| r.slowest_by(now)),
                actual,
            )]
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct AntiPatternsProps {
    pub run: RunRef,
    pub anti_patterns: Vec<AntiPattern>,
    /// Which run this is (bumped when the run is rebuilt), and how many faults the
    /// user injected: together they key the reference runs.
    pub run_id: u64,
    pub faults_injected: usize,
    pub dispatch: Callback<ShellAction>,
}

/// One meter: what the correct design promises against what this run did.
fn meter_table(a: AntiPattern, readings: &[Reading]) -> Html {
    html! {
        <table class="meter" aria-label={format!("Meter of {}", a.name())}>
            <thead><tr><th></th><th>{ "expected" }</th><th>{ "actual" }</th></tr></thead>
            <tbody>
                { for readings.iter().map(|r| html! {
                    <tr class={if r.ok() { "ok" } else { "bad" }}>
                        <td>{ r.label.clone() }</td>
                        <td>{ match r.expect { Expect::Exactly => r.expected.to_string(), Expect::AtMost => format!("\u{2264} {}", r.expected), Expect::Info => "\u{2014}".into() } }</td>
                        <td>{ format!("{}{}", r.actual, if r.ok() { " \u{2713}" } else { " \u{2717}" }) }</td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

#[function_component(AntiPatternsPanel)]
pub fn anti_patterns_panel(props: &AntiPatternsProps) -> Html {
    let references = {
        let sim = props.run.sim.clone();
        let active: Vec<AntiPattern> = props.anti_patterns.iter().copied().filter(|a| needs_reference(*a)).collect();
        // Keyed by the run and the number of injected faults: comparing whole fault
        // scripts would cost more code than it saves work.
        use_memo((props.run_id, props.faults_injected, active), move |(_, _, active)| {
            let config = sim.borrow().config().clone();
            active.iter().filter_map(|a| Some((*a, reference(&config, *a)?))).collect::<Vec<(AntiPattern, Reference)>>()
        })
    };
    let sim = props.run.sim.borrow();
    let cards: Vec<Html> = AntiPattern::ALL
        .iter()
        .map(|a| {
            let a = *a;
            let on = props.anti_patterns.contains(&a);
            let readings = meter(a, &sim, references.iter().find(|(x, _)| *x == a).map(|(_, r)| r));
            let damaged = readings.iter().any(|r| !r.ok());
            let dispatch = props.dispatch.clone();
            let onchange = Callback::from(move |_: Event| dispatch.emit(ShellAction::ToggleAntiPattern(a)));
            html! {
                <li class={classes!("anti-pattern", on.then_some("on"), damaged.then_some("damaged"))} data-anti-pattern={a.name()}>
                    <label class="check-field">
                        <input type="checkbox" checked={on} {onchange} aria-label={format!("Anti-pattern {}", a.name().replace('_', " "))} />
                        <strong>{ format!(" {}", a.name().replace('_', " ")) }</strong>
                    </label>
                    <p class="panel-note">{ format!("Risk: {}. Fix: {}.", a.risk(), a.fix()) }</p>
                    { meter_table(a, &readings) }
                </li>
            }
        })
        .collect();
    drop(sim);
    html! {
        <div class="anti-patterns">
            <p class="panel-note">{ "Switch on a known mistake: the run restarts from step 0 with the same seed and faults, and the meter shows the damage so far (expected = what the correct design promises; ✗ = broken). Run to the end to see the whole damage." }</p>
            if props.anti_patterns.is_empty() {
                <p class="empty-concept">{ "No anti-pattern is on: every meter shows the correct design. Tick one below." }</p>
            }
            <ul class="anti-pattern-list">{ for cards }</ul>
        </div>
    }
}
