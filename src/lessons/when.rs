//! The run states a lesson's pieces are true in.
//!
//! A sentence such as "the relay publishes what was waiting: shipping hears of every
//! order" is true in the run with an outbox and false in the run with a dual write,
//! although both runs restart the same service at the same step. So a narration line
//! is tied to a cue (the moment it tells of) *and* declares the state it is true in; a
//! meter reading declares the state in which it ends as expected; a "try this" declares
//! the states in which pressing it can change anything, each with the reason shown
//! when it cannot. The states are a closed set, evaluated against the simulation and
//! its health, so the player shows only what the run on screen bears out, and the
//! native tests can check every declaration against every reachable run.

use std::cell::OnceCell;

use super::{Cue, Lesson, TryAction};
use crate::sim::fault::Trigger;
use crate::sim::health::{InvariantState, RunHealth, SagaState};
use crate::sim::{AntiPattern, Invariant, Simulation};

/// A condition on the run at its current step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    Never,
    /// A record matching the cue is in the trace up to the current step.
    Happened(Cue),
    /// This anti-pattern is switched on in the run.
    AntiPattern(AntiPattern),
    /// The lesson's "try this" action with this index is in this run: its anti-pattern
    /// is on, or its fault was applied at or before the current step.
    Tried(usize),
    /// The run cannot step further: nothing is left to do, or it reached its step limit.
    Ended,
    /// The prediction's reveal has happened, so its question was asked and answered.
    Revealed,
    /// The named service is down or cut off from the bus.
    ServiceDown(&'static str),
    /// The subscription's dead-letter queue holds at least one message.
    DeadLetters(&'static str),
    /// The named projection's read model holds at least one applied event.
    ProjectionApplied(&'static str),
    /// At least one saga instance ended compensated.
    SagaCompensated,
    /// At least one saga instance is stuck: going forward (`false`) or compensating
    /// (`true`), with nothing of its step able to move by itself.
    SagaStuck {
        compensating: bool,
    },
    /// The invariant is held (not broken and nothing parked).
    Held(Invariant),
    /// The invariant's checker recorded a violation.
    Broken(Invariant),
    Not(&'static When),
    All(&'static [When]),
    Any(&'static [When]),
}

/// A condition a "try this" needs, and what the learner is told while it does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Need {
    pub when: When,
    pub otherwise: &'static str,
}

/// Most faults only matter while something still happens.
pub const WHILE_RUNNING: Need = Need {
    when: When::Not(&When::Ended),
    otherwise:
        "The run has ended: nothing is left for this to change. Rewind first (Home, or a step of the narration).",
};

/// Why a "try this" is disabled now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// The question is open: it comes first.
    Asking,
    /// The fault already took effect at this step of the run.
    Done { step: u64 },
    /// A declared need does not hold; the text says why.
    Needs(&'static str),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Asking => write!(f, "Answer the question first."),
            Self::Done { step } => write!(
                f,
                "Done at step {step}: it is in the run's fault script. Rewind before that step to try it at another moment."
            ),
            Self::Needs(why) => write!(f, "{why}"),
        }
    }
}

/// The run as conditions see it: the simulation at its current step, and its health,
/// computed at most once (it walks every queue).
pub struct RunState<'a> {
    pub sim: &'a Simulation,
    health: OnceCell<RunHealth>,
}

impl<'a> RunState<'a> {
    pub fn new(sim: &'a Simulation) -> Self {
        RunState { sim, health: OnceCell::new() }
    }

    pub fn health(&self) -> &RunHealth {
        self.health.get_or_init(|| self.sim.health())
    }
}

/// The step at which the fault of an "inject" try was applied in this run, if it was,
/// at or before the current step (an injection is a scripted fault at the step it was
/// made; a rewind before that step undoes it, though the script keeps it).
pub fn applied_at(l: &Lesson, index: usize, sim: &Simulation) -> Option<u64> {
    let TryAction::Inject(fault) = &l.try_this.get(index)?.action else { return None };
    let fault = fault();
    let now = sim.step_index();
    sim.fault_script().scripted.iter().rev().find_map(|e| match e.at {
        Trigger::Step(step) if step < now && e.fault == fault => Some(step),
        _ => None,
    })
}

impl Lesson {
    /// Whether the condition holds for this lesson's run at its current step.
    pub fn holds(&self, when: &When, run: &RunState) -> bool {
        let sim = run.sim;
        match when {
            When::Always => true,
            When::Never => false,
            When::Happened(cue) => cue.first_step(sim).is_some(),
            When::AntiPattern(a) => sim.config().anti_patterns.contains(a),
            When::Tried(i) => match self.try_this.get(*i).map(|t| &t.action) {
                Some(TryAction::Toggle(a)) => sim.config().anti_patterns.contains(a),
                Some(TryAction::Inject(_)) => applied_at(self, *i, sim).is_some(),
                None => false,
            },
            When::Ended => sim.finished().is_some(),
            When::Revealed => self.prediction.reveal.first_step(sim).is_some(),
            When::ServiceDown(name) => sim.compiled().service_by_name(name).is_some_and(|id| {
                let s = sim.service_state(id);
                !s.up || s.partitioned_until.is_some()
            }),
            When::DeadLetters(name) => {
                sim.compiled().sub_by_name(name).is_some_and(|id| !sim.sub_state(id).dlq.is_empty())
            }
            When::ProjectionApplied(name) => {
                let index = sim.compiled().projections.iter().position(|p| p.name == *name);
                index.and_then(|i| sim.projection_state(i as u32)).is_some_and(|p| p.checkpoint > 0)
            }
            When::SagaCompensated => run.health().sagas.iter().any(|s| s.state == SagaState::Compensated),
            When::SagaStuck { compensating } => run.health().sagas.iter().any(|s| match s.state {
                SagaState::StuckForward { .. } => !compensating,
                SagaState::StuckCompensating { .. } => *compensating,
                _ => false,
            }),
            When::Held(i) => *run.health().invariant(*i) == InvariantState::Held,
            When::Broken(i) => matches!(run.health().invariant(*i), InvariantState::Broken { .. }),
            When::Not(w) => !self.holds(w, run),
            When::All(ws) => ws.iter().all(|w| self.holds(w, run)),
            When::Any(ws) => ws.iter().any(|w| self.holds(w, run)),
        }
    }
}
