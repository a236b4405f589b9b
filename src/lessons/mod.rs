//! Lessons: a guided path through event-driven architecture, as plain data.
//!
//! Each lesson teaches one idea with one built-in scenario and seed. Its narration is
//! attached to *trace events* (the first `deliver` of a `payment.requested`, say), not
//! to step numbers, so it stays right when the learner injects a fault and the run
//! takes another course. A lesson asks the learner to predict what happens before the
//! run reveals it, offers "try this" actions that inject the fault or switch on the
//! anti-pattern that teaches the point, and measures the damage with an "expected vs
//! actual" meter read from the simulation. A cue says *when* a sentence becomes
//! relevant, not whether it is true: the same restart reads differently with an outbox
//! and with a dual write. So every sentence, meter reading and action also declares the
//! run state it is true in ([`When`]), and the lesson yields only what holds now
//! ([`Lesson::narration_at`], [`Lesson::try_availability`]). The UI renders all of
//! this; nothing here knows about the browser.

mod catalog;
pub mod checklist;
pub mod when;

pub use catalog::lessons;
pub use when::{Need, RunState, Unavailable, When};

use crate::sim::trace::TraceRecord;
use crate::sim::{AntiPattern, Fault, Simulation};

pub struct Lesson {
    /// The lesson's URL slug.
    pub slug: &'static str,
    pub number: u32,
    pub title: &'static str,
    /// The one new idea, in one sentence.
    pub idea: &'static str,
    pub scenario: &'static str,
    pub seed: u64,
    /// For the side-by-side lesson: a second scenario run with the same seed and faults.
    pub compare_with: Option<&'static str>,
    pub intro: &'static str,
    pub narration: &'static [Narration],
    pub prediction: Prediction,
    pub try_this: &'static [TryThis],
    pub meter: Meter,
    /// The item of the verification checklist this lesson proves.
    pub checklist: Option<checklist::Item>,
    /// What to remember, as short sentences.
    pub remember: &'static [&'static str],
}

/// Identifies trace records: the verb of the one-line form, optionally the end of the
/// event type (`"payment.requested"`) and the subscription, service, topic or
/// projection named in the `where` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cue {
    pub verb: &'static str,
    pub event_type: Option<&'static str>,
    pub place: Option<&'static str>,
    /// Text the record's detail column must contain (`"dead-lettered"`).
    pub detail: Option<&'static str>,
}

impl Cue {
    pub const fn verb(verb: &'static str) -> Self {
        Cue { verb, event_type: None, place: None, detail: None }
    }

    pub const fn of(verb: &'static str, event_type: &'static str) -> Self {
        Cue { verb, event_type: Some(event_type), place: None, detail: None }
    }

    pub const fn at(verb: &'static str, event_type: &'static str, place: &'static str) -> Self {
        Cue { verb, event_type: Some(event_type), place: Some(place), detail: None }
    }

    pub const fn in_place(verb: &'static str, place: &'static str) -> Self {
        Cue { verb, event_type: None, place: Some(place), detail: None }
    }

    /// The same cue, also requiring this text in the detail column.
    pub const fn saying(self, detail: &'static str) -> Self {
        Cue { detail: Some(detail), ..self }
    }

    /// Whether a trace record of this run matches the cue.
    pub fn matches(&self, sim: &Simulation, record: &TraceRecord) -> bool {
        if record.happened.verb() != self.verb {
            return false;
        }
        let fields = sim.fields(record);
        self.event_type.is_none_or(|t| fields.event_type.ends_with(t))
            && self.place.is_none_or(|p| fields.place == p)
            && self.detail.is_none_or(|d| fields.detail.contains(d))
    }

    /// The first step of the run (up to the current step) that matches.
    pub fn first_step(&self, sim: &Simulation) -> Option<u64> {
        sim.trace().iter().find(|r| self.matches(sim, r)).map(|r| r.step)
    }
}

/// A sentence of narration shown once its cue has happened, while the run is in the
/// state the sentence is true in.
pub struct Narration {
    pub cue: Cue,
    pub text: &'static str,
    /// Shown only after this "try this" action (by index), whose run produces the cue.
    pub after_try: Option<usize>,
    /// The state of the run the sentence is true in. Sentences that tell of the same
    /// cue in different states (with an outbox, with a dual write) are alternatives:
    /// their states exclude each other.
    pub when: When,
}

/// A question asked before the run reveals the answer.
pub struct Prediction {
    pub question: &'static str,
    pub choices: &'static [&'static str],
    pub answer: usize,
    pub explanation: &'static str,
    /// The run pauses just before the first record matching this cue, asks, then goes on.
    pub reveal: Cue,
    /// The question belongs to the run after this "try this" action (by index).
    pub after_try: Option<usize>,
}

pub struct TryThis {
    pub label: &'static str,
    pub explain: &'static str,
    pub action: TryAction,
    /// What the run must be like for the action to change anything; the first need
    /// that does not hold disables the button with its reason.
    pub needs: &'static [Need],
}

pub enum TryAction {
    /// Inject this fault now (into the running simulation; it is recorded in the
    /// fault script like any other).
    Inject(fn() -> Fault),
    /// Restart the run from step 0 with this anti-pattern switched on (or off again).
    Toggle(AntiPattern),
}

/// What a reading's `expected` means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The design promises exactly this value.
    Exactly,
    /// The design promises at most this value.
    AtMost,
    /// No promise: the value is shown for context.
    Info,
}

/// One expected-vs-actual reading of a meter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub label: String,
    pub expected: i64,
    pub actual: i64,
    pub expect: Expect,
}

impl Reading {
    /// The design promises exactly `expected`.
    pub fn new(label: impl Into<String>, expected: i64, actual: i64) -> Self {
        Reading { label: label.into(), expected, actual, expect: Expect::Exactly }
    }

    /// The design promises at most `limit`.
    pub fn at_most(label: impl Into<String>, limit: i64, actual: i64) -> Self {
        Reading { label: label.into(), expected: limit, actual, expect: Expect::AtMost }
    }

    /// A value shown for context, with no promise attached.
    pub fn info(label: impl Into<String>, actual: i64) -> Self {
        Reading { label: label.into(), expected: actual, actual, expect: Expect::Info }
    }

    pub fn ok(&self) -> bool {
        match self.expect {
            Expect::Exactly => self.actual == self.expected,
            Expect::AtMost => self.actual <= self.expected,
            Expect::Info => true,
        }
    }
}

/// "Expected vs actual": what the design promises, and what this run did.
pub struct Meter {
    pub title: &'static str,
    pub explain: &'static str,
    pub read: fn(&Simulation) -> Vec<Reading>,
    /// For each promised reading (by label), the state of the run in which it ends as
    /// expected; outside that state it ends marked as not expected. This is what the
    /// lesson claims the damage is, and the native tests hold every run to it.
    pub as_expected: &'static [(&'static str, When)],
}

impl Lesson {
    /// Whether a narration line shows now, its cue aside: its "try this" was pressed in
    /// this visit (`tried`) and is in the run at this step, and its state holds.
    pub fn shows(&self, n: &Narration, sim: &Simulation, tried: &[usize]) -> bool {
        let run = RunState::new(sim);
        n.after_try.is_none_or(|i| tried.contains(&i) && self.holds(&When::Tried(i), &run)) && self.holds(&n.when, &run)
    }

    /// The narration to show at the run's current step: each line whose cue has
    /// happened and whose state holds, with the step of its cue, in the order they
    /// happened.
    pub fn narration_at(&self, sim: &Simulation, tried: &[usize]) -> Vec<(u64, &'static Narration)> {
        let mut told: Vec<(u64, &'static Narration)> = self
            .narration
            .iter()
            .filter(|n| self.shows(n, sim, tried))
            .filter_map(|n| n.cue.first_step(sim).map(|step| (step, n)))
            .collect();
        crate::sim::sorting::sort_by_key(&mut told, |(step, _)| *step);
        told
    }

    /// Whether pressing "try this" number `index` now can change the run, and if not,
    /// why (the button is disabled with that reason). A fault that already took effect
    /// is done, except the operator's actions (redrive, rebuild, discard), which can be
    /// repeated; a toggle can always be switched back.
    pub fn try_availability(&self, index: usize, sim: &Simulation) -> Result<(), Unavailable> {
        let Some(t) = self.try_this.get(index) else { return Err(Unavailable::Needs("There is no such action.")) };
        if let TryAction::Inject(fault) = &t.action {
            let repeatable = matches!(
                fault(),
                Fault::RedriveDeadLetters { .. } | Fault::RebuildProjection { .. } | Fault::DiscardDeadLetters { .. }
            );
            if let (false, Some(step)) = (repeatable, when::applied_at(self, index, sim)) {
                return Err(Unavailable::Done { step });
            }
        }
        let run = RunState::new(sim);
        match t.needs.iter().find(|need| !self.holds(&need.when, &run)) {
            Some(need) => Err(Unavailable::Needs(need.otherwise)),
            None => Ok(()),
        }
    }
}

/// The lesson with this slug.
pub fn lesson(slug: &str) -> Option<&'static Lesson> {
    lessons().iter().find(|l| l.slug == slug)
}
