//! Side by side: the same checkout workload, seed and faults run as a choreography
//! (`checkout`) and as an orchestration (`checkout-orchestration`), stepped together,
//! with a table comparing what each style costs and how each handled the failure.
//!
//! **Stepped by simulated time, not by step.** The two styles need different numbers
//! of steps for the same business work (the orchestration sends a command and gets a
//! reply where the choreography sends one event), so stepping both by one step would
//! soon compare different moments. Instead each press of Step moves both runs to the
//! earlier of their next step times: a run steps while its next step is due at or
//! before that time. Both clocks then always show the same moment, and a failure
//! injected now lands at the same simulated time on both sides. Each run is computed
//! to its end up front (the runs are small), so the next step's time is read from the
//! recorded trace; a fault forks both runs and recomputes their futures.
//!
//! The pair is local state of this view: it is a second pair of runs for comparison,
//! independent of the main run (its seed is the main run's seed).

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::sequence::SequenceDiagram;
use super::state::{Shell, ShellAction};
use super::topology::short_type;
use crate::sim::analysis::coupling;
use crate::sim::envelope::{EventKind, MessageId};
use crate::sim::fault::Fault;
use crate::sim::health::{InvariantState, RunHealth};
use crate::sim::scenario::builtin;
use crate::sim::simulation::{RunConfig, Simulation};
use crate::sim::time::Millis;
use crate::sim::trace::{Happened, SubId};

/// The two sides: (scenario name, title).
pub const SIDES: [(&str, &str); 2] = [("checkout", "Choreography"), ("checkout-orchestration", "Orchestration")];

/// One side of the comparison.
pub struct Side {
    pub scenario: &'static str,
    pub title: &'static str,
    pub sim: Rc<RefCell<Simulation>>,
}

/// Both runs and what was done to them.
pub struct Pair {
    pub seed: u64,
    pub sides: Vec<Side>,
    /// Faults applied to both, with the simulated time they were applied at.
    pub applied: Vec<(Millis, String)>,
}

impl Pair {
    /// Both runs at step 0, their futures computed. A built-in that fails to build is
    /// left out rather than panicking (the native tests check that both build).
    pub fn new(seed: u64) -> Pair {
        let sides = SIDES
            .iter()
            .filter_map(|(scenario, title)| {
                let mut sim = Simulation::new(RunConfig::new(builtin(scenario)?, seed)).ok()?;
                sim.run_to_end();
                sim.rewind_to(0);
                Some(Side { scenario, title, sim: Rc::new(RefCell::new(sim)) })
            })
            .collect();
        Pair { seed, sides, applied: Vec::new() }
    }

    fn next_time(sim: &Simulation) -> Option<Millis> {
        sim.trace_to_horizon().get(sim.step_index() as usize).map(|r| r.time_ms)
    }

    /// Moves both runs to the earlier of their next step times. False at the end.
    pub fn step(&mut self) -> bool {
        let Some(t) = self.sides.iter().filter_map(|s| Pair::next_time(&s.sim.borrow())).min() else {
            return false;
        };
        for side in &self.sides {
            let mut sim = side.sim.borrow_mut();
            while Pair::next_time(&sim).is_some_and(|next| next <= t) {
                if sim.step().is_none() {
                    break;
                }
            }
        }
        true
    }

    pub fn run_to_end(&mut self) {
        for side in &self.sides {
            let mut sim = side.sim.borrow_mut();
            let horizon = sim.horizon();
            sim.rewind_to(horizon);
        }
    }

    /// Applies `fault` now to every side whose scenario has its target, then
    /// recomputes each future. Returns how many sides took it.
    pub fn inject(&mut self, fault: &Fault) -> usize {
        let mut taken = 0;
        let now = self.now_ms();
        for side in &self.sides {
            let mut sim = side.sim.borrow_mut();
            let step = sim.step_index();
            if sim.inject(fault.clone()).is_ok() {
                taken += 1;
                sim.run_to_end();
                sim.rewind_to(step + 1);
            }
        }
        if taken > 0 {
            self.applied.push((now, format!("{} {}", fault.label(), fault.target())));
        }
        taken
    }

    /// Redrives every dead letter of every subscription, on both sides.
    pub fn redrive_all(&mut self) {
        for side in &self.sides {
            let mut sim = side.sim.borrow_mut();
            let full: Vec<String> = (0..sim.compiled().subs.len())
                .filter(|i| !sim.sub_state(SubId(*i as u32)).dlq.is_empty())
                .map(|i| sim.compiled().subs[i].name.clone())
                .collect();
            for sub in full {
                let step = sim.step_index();
                if sim.inject(Fault::RedriveDeadLetters { subscription: sub, message: None }).is_ok() {
                    sim.run_to_end();
                    sim.rewind_to(step + 1);
                }
            }
        }
        let now = self.now_ms();
        self.applied.push((now, "redrive all dead letters".into()));
    }

    pub fn now_ms(&self) -> Millis {
        self.sides.iter().map(|s| s.sim.borrow().now_ms()).max().unwrap_or(0)
    }

    pub fn finished(&self) -> bool {
        self.sides.iter().all(|s| {
            let sim = s.sim.borrow();
            sim.step_index() == sim.horizon()
        })
    }
}

/// What the comparison concludes, with its colour class and, when not settled, why.
pub struct CompareVerdict {
    pub text: &'static str,
    pub class: &'static str,
    pub reasons: Vec<String>,
}

/// How many reasons a verdict lists per side before it stops.
const REASONS_SHOWN: usize = 4;

/// The verdict from both sides' health: broken beats pending beats the outcome. Green
/// ("same") needs both runs finished, equal outcomes and every invariant held on both.
pub fn compare_verdict(healths: &[(&'static str, RunHealth)], same: bool, finished: bool) -> CompareVerdict {
    let mut reasons = Vec::new();
    let mut broken = false;
    for (title, health) in healths {
        let mut listed = 0;
        for invariant in &health.invariants {
            match &invariant.state {
                InvariantState::Held => {}
                InvariantState::Broken { violations, first_step } => {
                    broken = true;
                    reasons.push(format!(
                        "{title}: {} broken ({violations} violation(s), the first at step {first_step})",
                        invariant.invariant.name()
                    ));
                }
                InvariantState::Pending(parked) => {
                    for reason in parked.iter().take(REASONS_SHOWN.saturating_sub(listed)) {
                        let line = format!("{title}: {reason}");
                        if !reasons.contains(&line) {
                            reasons.push(line);
                            listed += 1;
                        }
                    }
                }
            }
        }
    }
    if broken {
        return CompareVerdict {
            text: "An invariant is broken: the outcomes are not to be trusted.",
            class: "broken",
            reasons,
        };
    }
    if !reasons.is_empty() {
        let text = if finished {
            "Not settled: work is parked, so neither outcome is final. Redrive the dead letters or restart what is down, then compare."
        } else {
            "Not settled yet: some work is parked at this moment."
        };
        return CompareVerdict { text, class: "pending", reasons };
    }
    let (text, class) = match (same, finished) {
        (true, true) => (
            "Both reach the same outcome: the same orders shipped and cancelled, every customer's money where it should be.",
            "same",
        ),
        (true, false) => ("Same outcome so far.", "same"),
        (false, true) => ("The outcomes differ.", "differs"),
        (false, false) => ("The outcomes differ at this moment: one style is further along; step on.", "differs"),
    };
    CompareVerdict { text, class, reasons }
}

/// The business outcome of one side, in the keys both checkout scenarios share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub shipped: i64,
    pub cancelled: i64,
    pub balances: i64,
    pub stock: i64,
}

fn state(sim: &Simulation, service: &str, key_prefix: &str) -> i64 {
    sim.compiled().service_by_name(service).map_or(0, |id| {
        sim.service_state(id).state.iter().filter(|(k, _)| k.starts_with(key_prefix)).map(|(_, v)| *v).sum()
    })
}

pub fn outcome(sim: &Simulation) -> Outcome {
    Outcome {
        shipped: state(sim, "order", "orders.shipped"),
        cancelled: state(sim, "order", "orders.cancelled"),
        balances: state(sim, "payment", "balance."),
        stock: state(sim, "inventory", "stock.widget"),
    }
}

/// Where the first failure showed: (step, time, failure type, who heard of it).
fn first_failure(sim: &Simulation) -> Option<(u64, Millis, String, Vec<String>)> {
    let is_failure = |t: &str| {
        let t = short_type(t);
        t.ends_with(".failed") || t.ends_with(".declined") || t.ends_with(".unavailable")
    };
    let record = sim.trace().iter().find(|r| {
        matches!(r.happened, Happened::Published { message, .. }
            if sim.message(message).is_some_and(|m| is_failure(&m.envelope.event_type)))
    })?;
    let Happened::Published { message, .. } = record.happened else { return None };
    let m = sim.message(message)?;
    let from = m.emitted_by.and_then(|s| sim.scenario().services.get(s.0 as usize)).map_or("?", |s| s.name.as_str());
    let heard: Vec<String> = sim
        .trace()
        .iter()
        .filter_map(|r| match r.happened {
            Happened::Handled { message: h, sub, .. } if h == message => sim
                .compiled()
                .subs
                .get(sub.0 as usize)
                .and_then(|s| sim.scenario().services.get(s.service.0 as usize))
                .map(|s| s.name.clone()),
            _ => None,
        })
        .collect();
    Some((record.step, record.time_ms, format!("{} from {from}", short_type(&m.envelope.event_type)), heard))
}

/// The compensation messages of the first compensated flow, in publication order.
fn compensations(sim: &Simulation) -> Vec<String> {
    let first: Option<&str> =
        sim.messages().iter().find(|m| m.compensation).and_then(|m| m.envelope.correlation_id.as_deref());
    let mut out: Vec<String> = Vec::new();
    for r in sim.trace() {
        if let Happened::Published { message, .. } = r.happened {
            let Some(m) = sim.message(message) else { continue };
            if m.compensation && m.envelope.correlation_id.as_deref() == first {
                let who = m
                    .emitted_by
                    .and_then(|s| sim.scenario().services.get(s.0 as usize))
                    .map_or("?", |s| s.name.as_str());
                out.push(format!("{} ({who})", short_type(&m.envelope.event_type)));
            }
        }
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct CompareProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

/// The comparison for a shell: only its seed matters (see [`SideBySide`]).
#[function_component(CompareView)]
pub fn compare_view(props: &CompareProps) -> Html {
    html! { <SideBySide seed={props.shell.seed} /> }
}

#[derive(Properties, PartialEq)]
pub struct SideBySideProps {
    /// The main run's seed, which both sides use.
    pub seed: u64,
}

/// Where the first failure showed, as a cell of the table.
fn failure_cell(sim: &Simulation) -> Html {
    match first_failure(sim) {
        Some((step, t, what, heard)) => html! {
            <>
                { format!("{what} at {t} ms (step {step})") }<br />
                <span class="muted">{ format!("handled by: {}", if heard.is_empty() { "nobody yet".to_string() } else { heard.join(", ") }) }</span>
            </>
        },
        None => html! { <span class="muted">{ "no failure yet" }</span> },
    }
}

/// Who knows whom in the scenario's design, as a cell of the table.
fn knows_cell(sim: &Simulation) -> Html {
    html! {
        <ul class="knows">
            { for coupling(sim.scenario()).iter().filter(|(_, k)| !k.is_empty()).map(|(service, known)| html! {
                <li><strong>{ service.clone() }</strong>{ format!(" knows {}", known.len()) }<span class="muted">{ format!(": {}", known.join(", ")) }</span></li>
            }) }
        </ul>
    }
}

#[function_component(SideBySide)]
pub fn side_by_side(props: &SideBySideProps) -> Html {
    let seed = props.seed;
    let pair = use_mut_ref(|| Pair::new(seed));
    let revision = use_state(|| 0u64);
    if pair.borrow().seed != seed {
        *pair.borrow_mut() = Pair::new(seed);
    }
    let act = |f: Rc<dyn Fn(&mut Pair)>| {
        let pair = pair.clone();
        let revision = revision.clone();
        Callback::from(move |_: MouseEvent| {
            f(&mut pair.borrow_mut());
            revision.set(*revision + 1);
        })
    };
    let inject = |fault: Fault| {
        act(Rc::new(move |p: &mut Pair| {
            p.inject(&fault);
        }))
    };
    let p = pair.borrow();
    let finished = p.finished();
    let now = p.now_ms();
    let rows: Vec<Html> = p
        .sides
        .iter()
        .map(|side| {
            let sim = side.sim.borrow();
            let step = sim.step_index();
            let on_pick = Callback::from(|_: (u64, Option<MessageId>)| {});
            html! {
                <section class="compare-side" data-side={side.scenario} aria-label={side.title}>
                    <h3>{ side.title }<span class="muted">{ format!(" \u{b7} {} \u{b7} step {step} of {} \u{b7} {} ms", side.scenario, sim.horizon(), sim.now_ms()) }</span></h3>
                    <SequenceDiagram sim={side.sim.clone()} revision={*revision * 100_000 + step} compact={true} {on_pick} />
                </section>
            }
        })
        .collect();
    // The comparison table, one column per side.
    let column =
        |f: &dyn Fn(&Simulation) -> Html| -> Vec<Html> { p.sides.iter().map(|s| f(&s.sim.borrow())).collect() };
    let messages = column(&|sim| {
        let commands = sim.messages().iter().filter(|m| m.envelope.kind == EventKind::Command).count();
        html! { <>{ format!("{} ", sim.messages().len()) }<span class="muted">{ format!("({commands} commands)") }</span></> }
    });
    let knows = column(&knows_cell);
    let failure = column(&failure_cell);
    let compensated = column(&|sim| {
        let c = compensations(sim);
        if c.is_empty() {
            html! { <span class="muted">{ "nothing compensated yet" }</span> }
        } else {
            html! { <span class="compensation-text">{ c.join(" \u{2192} ") }</span> }
        }
    });
    let outcomes: Vec<Outcome> = p.sides.iter().map(|s| outcome(&s.sim.borrow())).collect();
    let outcome_cells: Vec<Html> = outcomes
        .iter()
        .map(|o| {
            html! {
                <>
                    { format!("{} shipped, {} cancelled", o.shipped, o.cancelled) }<br />
                    <span class="muted">{ format!("customer balances {} \u{b7} widgets in stock {}", o.balances, o.stock) }</span>
                </>
            }
        })
        .collect();
    let same = outcomes.windows(2).all(|w| w[0] == w[1]);
    let healths: Vec<(&'static str, RunHealth)> = p.sides.iter().map(|s| (s.title, s.sim.borrow().health())).collect();
    let applied = p.applied.clone();
    drop(p);
    let table = html! {
        <table class="compare-table" aria-label="Choreography and orchestration compared">
            <thead><tr><th></th>{ for SIDES.iter().map(|(_, title)| html! { <th scope="col">{ *title }</th> }) }</tr></thead>
            <tbody>
                { for [
                    ("Messages sent", "so far", messages),
                    ("Who knows whom", "from the scenario's design", knows),
                    ("Where the failure shows", "", failure),
                    ("How it was compensated", "first flow undone, in order", compensated),
                    ("Outcome", "at this moment", outcome_cells),
                ].into_iter().map(|(label, note, cells)| html! {
                    <tr>
                        <th scope="row">{ label }<span class="row-note">{ note }</span></th>
                        { for cells.into_iter().map(|cell| html! { <td>{ cell }</td> }) }
                    </tr>
                }) }
            </tbody>
        </table>
    };
    // The verdict reads the run-health model: the same numbers on both sides are no
    // success while either side has work parked (a dead letter, a stuck saga, a service
    // down) or an invariant broken.
    let verdict = compare_verdict(&healths, same, finished);
    let verdict_html = html! {
        <div class={classes!("compare-verdict", verdict.class)} role="status">
            <p>{ verdict.text }</p>
            if !verdict.reasons.is_empty() {
                <ul class="pending-reasons">{ for verdict.reasons.iter().map(|r| html! { <li>{ r.clone() }</li> }) }</ul>
            }
        </div>
    };
    html! {
        <div class="compare">
            <div class="compare-controls" role="group" aria-label="Step both runs">
                <button type="button" class="control primary" disabled={finished} onclick={act(Rc::new(|p: &mut Pair| { p.step(); }))}
                    title="Move both runs to the next moment of simulated time at which either has something to do">{ "Step both" }</button>
                <button type="button" class="control" disabled={finished} onclick={act(Rc::new(|p: &mut Pair| p.run_to_end()))}>{ "Run both to the end" }</button>
                <button type="button" class="control" onclick={act(Rc::new(move |p: &mut Pair| *p = Pair::new(seed)))}>{ "Reset" }</button>
                <span class="compare-clock">{ format!("both at {now} ms \u{b7} seed {seed}") }</span>
            </div>
            <div class="compare-controls" role="group" aria-label="Faults applied to both">
                <span class="muted">{ "Apply to both now:" }</span>
                <button type="button" class="control small danger" onclick={inject(Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 })}
                    title="Shipping has no trucks left: the pivot step fails and the earlier steps are compensated">{ "No trucks left" }</button>
                <button type="button" class="control small danger" onclick={inject(Fault::CrashService { service: "payment".into(), restart_after_ms: Some(200) })}>{ "Crash payment (200 ms)" }</button>
                <button type="button" class="control small danger" onclick={inject(Fault::FailHandlers { service: "payment".into(), per_mille: 1000 })}>{ "Payment fails" }</button>
                <button type="button" class="control small" onclick={inject(Fault::FailHandlers { service: "payment".into(), per_mille: 0 })}>{ "Heal payment" }</button>
                <button type="button" class="control small" onclick={act(Rc::new(|p: &mut Pair| p.redrive_all()))}>{ "Redrive all DLQs" }</button>
            </div>
            if !applied.is_empty() {
                <p class="panel-note">{ format!("Applied to both: {}", applied.iter().map(|(t, f)| format!("{f} at {t} ms")).collect::<Vec<_>>().join("; ")) }</p>
            }
            <p class="panel-note">{ "Stepped together by simulated time: each Step moves both runs to the next moment either has something to do, so both clocks always agree. The same five orders, the same seed, the same faults." }</p>
            { verdict_html }
            { table }
            <div class="compare-sides">{ for rows }</div>
        </div>
    }
}
