//! The guided path in the reducer: which page is open, the state of an open lesson
//! (the "try this" actions pressed, the prediction asked and answered) and the
//! learner's progress.
//!
//! A lesson is a view over the ordinary run: opening one loads its scenario and seed
//! into the shell, its "try this" buttons are ordinary injections and anti-pattern
//! toggles, and leaving it for free play keeps the run as it is. What a lesson adds is
//! decided here, after every action, by [`Shell::follow_guide`]:
//!
//! * **The prediction.** While the question is open (not answered, and its "try this"
//!   pressed if it needs one), every record the action produced is checked against the
//!   reveal cue. The first one that matches rewinds the run to just before it, pauses
//!   and asks; until the learner answers, moving forward comes back to that step.
//!   Checking only the records an action produced keeps playback cheap and means the
//!   question is asked where the run actually reveals it, whatever faults changed.
//! * **Completion.** A lesson run followed to its end marks the lesson completed.
//! * **Leaving.** Picking another scenario or seed from a lesson or the index is free
//!   play, so the page follows (the route effect then updates the address).
//! * **"Try this" that cannot act.** A button whose action would change nothing now
//!   (the run has ended, the fault is already in, the DLQ is empty) is refused with the
//!   lesson's reason ([`Lesson::try_availability`]), never answered with "done".
//! * **The learner's own scenario.** A lesson replaces the run with its own; a
//!   scenario from the editor, a file or a link has no entry in the picker to come back
//!   to, so it is set aside, with a notice, and the lesson index gives it back.
//!
//! Like the rest of the reducer this does no I/O: the address and `localStorage` are
//! written by effects that watch [`Guide::route`] and [`Guide::progress`].

use super::progress::Progress;
use super::route::Route;
use super::state::{Motion, Notice, Restored, Shell, ShellAction};
use crate::lessons::{lesson, Lesson, TryAction, Unavailable};
use crate::sim::scenario::builtin;
use crate::sim::Simulation;

/// Which side of a lesson's right-hand column is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// Narration, prediction, "try this", meter, checklist item.
    Lesson,
    /// The ordinary details column: inspector, invariants, faults, delivery.
    Details,
}

/// The state of the open lesson.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonRun {
    pub slug: &'static str,
    /// Indices of the "try this" actions pressed in this visit, in order of pressing.
    pub tried: Vec<usize>,
    /// The prediction is on screen (the run stopped just before its reveal).
    pub asking: bool,
    /// The choice made in this visit.
    pub answer: Option<usize>,
    /// Whether the run was playing when the question stopped it.
    pub resume_playing: bool,
    pub pane: Pane,
}

impl LessonRun {
    fn new(slug: &'static str) -> Self {
        LessonRun { slug, tried: Vec::new(), asking: false, answer: None, resume_playing: false, pane: Pane::Lesson }
    }

    pub fn lesson(&self) -> Option<&'static Lesson> {
        lesson(self.slug)
    }

    /// Whether the prediction still waits for its reveal in this run.
    pub fn prediction_pending(&self) -> bool {
        let Some(l) = self.lesson() else { return false };
        self.answer.is_none() && l.prediction.after_try.is_none_or(|i| self.tried.contains(&i))
    }

    /// Whether a "try this" narration or question of this try may show.
    pub fn has_tried(&self, index: usize) -> bool {
        self.tried.contains(&index)
    }

    /// Whether the "try this" button `index` is enabled on this run, and if not, the
    /// reason to show on it: the open question comes first, then the lesson's needs.
    pub fn try_availability(&self, index: usize, sim: &Simulation) -> Result<(), Unavailable> {
        if self.asking && self.answer.is_none() {
            return Err(Unavailable::Asking);
        }
        let Some(l) = self.lesson() else { return Err(Unavailable::Needs("This lesson no longer exists.")) };
        l.try_availability(index, sim)
    }
}

/// The guided path's part of the app state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Guide {
    pub route: Route,
    pub lesson: Option<LessonRun>,
    pub progress: Progress,
    /// The learner's own run (a scenario that is not an unchanged built-in), put aside
    /// when a lesson replaced it; the lesson index restores it.
    pub set_aside: Option<Restored>,
}

/// What the guided path is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuideAction {
    /// Open a page (from the address). A lesson loads its scenario and seed afresh;
    /// free play keeps whatever run is loaded, so leaving a lesson keeps its run.
    Navigate(Route),
    /// Replace the progress with what was stored (at start-up).
    LoadProgress(Progress),
    /// Answer the open prediction with this choice.
    Answer(usize),
    /// Close the answered question and go on as before it stopped the run.
    Continue,
    /// Press the lesson's "try this" action with this index.
    Try(usize),
    ShowPane(Pane),
    /// In a lesson that compares two designs: run the other one with the same seed and
    /// fault script, from step 0.
    SwitchDesign,
    /// Forget all progress (the index's "Start over").
    ResetProgress,
}

impl Shell {
    /// The state after a guided-path action.
    pub(super) fn apply_guide(&self, action: GuideAction) -> Shell {
        let mut next = self.clone();
        match action {
            GuideAction::Navigate(route) => {
                let same_lesson =
                    matches!((&route, &self.guide.lesson), (Route::Lesson(s), Some(run)) if run.slug == *s);
                if route == self.guide.route && (same_lesson || !matches!(route, Route::Lesson(_))) {
                    return next;
                }
                next.guide.lesson = None;
                next.help_open = false;
                if let Route::Lesson(slug) = route {
                    if let Some(l) = lesson(slug) {
                        next = next.load_lesson(l);
                    }
                }
                if matches!(route, Route::Index) {
                    if let Some(own) = next.guide.set_aside.take() {
                        next = next.apply(ShellAction::Restore(Box::new(own)));
                        next.guide.lesson = None;
                    }
                }
                next.guide.route = route;
            }
            GuideAction::LoadProgress(progress) => next.guide.progress = progress,
            GuideAction::ResetProgress => next.guide.progress = Progress::default(),
            GuideAction::Answer(choice) => {
                if let Some(run) = next.guide.lesson.as_mut() {
                    let valid = run.lesson().is_some_and(|l| choice < l.prediction.choices.len());
                    if run.asking && run.answer.is_none() && valid {
                        run.answer = Some(choice);
                        next.guide.progress.answers.insert(run.slug, choice);
                    }
                }
            }
            GuideAction::Continue => {
                if let Some(run) = next.guide.lesson.as_mut() {
                    if run.answer.is_some() && run.asking {
                        run.asking = false;
                        next.playing = run.resume_playing && next.can_advance();
                    }
                }
            }
            GuideAction::SwitchDesign => {
                let Some(l) = self.guide.lesson.as_ref().and_then(LessonRun::lesson) else { return next };
                let Some(other) = l.compare_with else { return next };
                let target = if self.scenario_name == l.scenario { other } else { l.scenario };
                next = self.apply(ShellAction::PickScenario(target.to_string()));
                // Picking a scenario starts without faults; this comparison keeps them.
                next.faults = self.faults.clone();
                next = next.apply(ShellAction::Reset);
            }
            GuideAction::ShowPane(pane) => {
                if let Some(run) = next.guide.lesson.as_mut() {
                    run.pane = pane;
                }
            }
            GuideAction::Try(index) => {
                let Some(run) = &self.guide.lesson else { return next };
                let Some(try_this) = run.lesson().and_then(|l| l.try_this.get(index)) else { return next };
                let availability = run.try_availability(index, &self.sim.borrow());
                match availability {
                    Ok(()) => {}
                    // The question comes first; the buttons are disabled meanwhile.
                    Err(Unavailable::Asking) => return next,
                    Err(why) => {
                        next.notice =
                            Some(Notice::Refused(format!("\u{201c}{}\u{201d} was not done. {why}", try_this.label)));
                        return next;
                    }
                }
                next = match &try_this.action {
                    TryAction::Inject(fault) => self.apply(ShellAction::Inject(fault())),
                    TryAction::Toggle(anti_pattern) => self.apply(ShellAction::ToggleAntiPattern(*anti_pattern)),
                };
                let switched_off = match &try_this.action {
                    TryAction::Toggle(anti_pattern) => !next.anti_patterns.contains(anti_pattern),
                    TryAction::Inject(_) => false,
                };
                if let Some(run) = next.guide.lesson.as_mut() {
                    run.asking = false;
                    // A toggle pressed twice is switched off again: its story is over.
                    run.tried.retain(|i| *i != index);
                    if !switched_off {
                        run.tried.push(index);
                    }
                }
            }
        }
        next
    }

    /// A fresh run of the lesson's scenario and seed, paused at step 0; the playback
    /// speed chosen by the learner stays.
    fn load_lesson(&self, l: &'static Lesson) -> Shell {
        let Some(scenario) = builtin(l.scenario) else { return self.clone() };
        let mut next = Shell::for_scenario(l.scenario.to_string(), scenario, l.seed);
        next.speed_steps_per_second = self.speed_steps_per_second;
        // A new Rc would compare unequal anyway; keep the counters moving forward so
        // effects keyed on them always see a change.
        next.run_id = self.run_id + 1;
        next.revision = self.revision + 1;
        next.guide = self.guide.clone();
        next.guide.lesson = Some(LessonRun::new(l.slug));
        let own = builtin(&self.scenario_name).is_none_or(|b| b != *self.scenario);
        if own && next.guide.set_aside.is_none() {
            let step = self.step;
            let name = &self.scenario_name;
            next.notice = Some(Notice::Rebuilt(format!(
                "Your scenario \u{201c}{name}\u{201d} is set aside while you follow the lessons; \u{201c}All lessons\u{201d} \
                 brings it back, at step {step}."
            )));
            next.guide.set_aside = Some(Restored {
                config: self.sim.borrow().config().clone(),
                step,
                message: format!("Your scenario \u{201c}{name}\u{201d} is back, at step {step}, as you left it."),
            });
        }
        next
    }

    /// The guided path's reaction to any action, given the state before it.
    pub(super) fn follow_guide(&mut self, before: &Shell) {
        // Choosing another system or seed is free play.
        let run_changed = self.scenario_name != before.scenario_name || self.seed != before.seed;
        let lesson_scenarios =
            self.guide.lesson.as_ref().and_then(|run| run.lesson()).map(|l| (l.scenario, l.compare_with));
        let in_lesson_scenario = lesson_scenarios
            .is_some_and(|(main, other)| self.scenario_name == main || Some(self.scenario_name.as_str()) == other);
        let left = match self.guide.route {
            // Within a lesson, its own scenarios (a comparing lesson has two) stay in it.
            Route::Lesson(_) => {
                !in_lesson_scenario || (self.seed != before.seed && self.guide.lesson == before.guide.lesson)
            }
            Route::Index | Route::NotFound(_) => run_changed && self.guide.route == before.guide.route,
            Route::Play => false,
        };
        if left {
            self.guide.route = Route::Play;
            self.guide.lesson = None;
            return;
        }
        let Some(mut run) = self.guide.lesson.take() else { return };
        let Some(l) = run.lesson() else { return };

        if run.prediction_pending() {
            // The records this action produced: all of a new run's, or those after the
            // step it started from.
            let from = if self.run_id != before.run_id { 0 } else { before.step };
            let reveal = {
                let sim = self.sim.borrow();
                let trace = sim.trace();
                let from = (from as usize).min(trace.len());
                trace[from..].iter().find(|r| l.prediction.reveal.matches(&sim, r)).map(|r| r.step)
            };
            if let Some(step) = reveal {
                if !run.asking {
                    run.resume_playing = before.playing || self.playing;
                }
                run.asking = true;
                run.pane = Pane::Lesson;
                self.sim.borrow_mut().rewind_to(step);
                self.motion = Motion::Jump;
                self.sync();
            }
            if run.asking {
                self.playing = false;
                self.running_to_end = false;
            }
        }

        if self.finished.is_some() && self.step == self.horizon && self.step > 0 && !run.asking {
            self.guide.progress.completed.insert(l.slug);
        }
        self.guide.lesson = Some(run);
    }
}
