//! The app's state and its reducer.
//!
//! Everything on screen is derived from one [`Shell`] value, changed only by
//! [`ShellAction`]s (UI messages named as verbs). The reducer is plain computation with
//! no I/O: timers, keyboard listeners and the DOM live in the components, which only
//! dispatch actions.
//!
//! # The run and the cursor
//!
//! The shell owns one [`Simulation`]. Its current step *is* the cursor: stepping forward
//! calls `step()` (which replays recorded steps or computes new ones), stepping back
//! calls `rewind_to()`, which restores a snapshot and replays. The counter reads
//! "step i of n" where n is the *horizon*, the furthest step computed so far; playing
//! or pressing End computes further, up to the scenario's `steps_max`.
//!
//! The simulation is large and changes at every step, so it sits behind
//! `Rc<RefCell<_>>`: cloning the shell (which Yew does for every render) stays cheap,
//! and a `revision` counter, bumped whenever the run changes, makes `PartialEq` exact
//! without comparing traces. Only the reducer borrows it mutably.
//!
//! Everything a run is a function of (scenario as edited, seed, the user's fault script,
//! anti-patterns) is kept in the shell too, so a run can always be rebuilt: removing a
//! fault or editing a subscription builds a fresh run from that configuration.

use std::cell::RefCell;
use std::rc::Rc;

use yew::Reducible;

use super::guide::{Guide, GuideAction};
use crate::sim::anti_pattern::AntiPattern;
use crate::sim::envelope::MessageId;
use crate::sim::fault::{Fault, FaultScript};
use crate::sim::scenario::{builtin, catalog, Delivery, RetryPolicy, Scenario};
use crate::sim::simulation::{Finish, RunConfig, Simulation};
use crate::sim::trace::{ServiceId, SubId};

/// Playback speeds offered in the toolbar, in simulated steps per wall-clock second.
pub const SPEEDS_STEPS_PER_SECOND: [u32; 6] = [1, 2, 4, 8, 16, 60];

/// The seed a fresh page starts with, so two people opening the app see the same run.
pub const SEED_DEFAULT: u64 = 42;

/// Steps computed per slice when running to the end, between two renders: small enough
/// that the progress counter moves several times a second, large enough to be quick.
pub const STEPS_PER_SLICE: u64 = 5_000;

/// How far a message fault delays a message, and how long partitions last.
pub const DELAY_MS: u64 = 300;
pub const PARTITION_MS: u64 = 500;
pub const SLOW_EXTRA_MS: u64 = 200;
pub const FAIL_PER_MILLE: u32 = 500;

/// How tokens move between two renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Motion {
    /// One step forward or back: tokens glide to their new place.
    Glide,
    /// A jump (scrubbing, Home, End, a rebuilt run): tokens appear at their place.
    Jump,
}

/// Which tab of the details column is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Inspector,
    Invariants,
    Faults,
    Delivery,
    /// Saga instances: steps, pivot, remaining path, armed compensations (`sagas.rs`).
    Sagas,
    /// Event store browser: streams, events, state as of a version (`store.rs`).
    Store,
    /// Read models: checkpoint, lag, query, rebuild (`projections.rs`).
    ReadModels,
    /// Dead-letter queues: inspect, redrive, discard (`dlq.rs`).
    Dlq,
    /// Lag, DLQ depth and latency over simulated time (`metrics.rs`).
    Metrics,
    /// Anti-pattern switches with their expected-vs-actual meters (`antipatterns.rs`).
    AntiPatterns,
}

impl Tab {
    /// Tabs whose own buttons inject operator actions (redrive, rebuild, set state):
    /// the result shows in the same tab, so injecting from them does not switch to
    /// the fault script.
    pub fn keeps_focus_on_inject(self) -> bool {
        matches!(self, Tab::Sagas | Tab::Store | Tab::ReadModels | Tab::Dlq | Tab::Metrics | Tab::AntiPatterns)
    }
}

/// What the main canvas shows: the topology, the sequence diagram of the run, or the
/// side-by-side comparison of choreography and orchestration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CanvasView {
    Topology,
    Sequence,
    Compare,
}

/// What a click on the topology opened a menu for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuTarget {
    Service(ServiceId),
    /// One copy of a message: the one queued in (or handled by) this subscription.
    Message {
        message: MessageId,
        sub: Option<SubId>,
    },
}

/// A notice shown above the canvas until dismissed or the run changes again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Injecting while rewound discarded the old future.
    Forked { step: u64, discarded_steps: u64, discarded_faults: u32 },
    /// Something the user asked for could not be done, and why.
    Refused(String),
    /// The run was rebuilt from its configuration (fault removed, settings edited).
    Rebuilt(String),
}

/// A whole run to switch to, from a trace file or a share link, and what to say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Restored {
    pub config: RunConfig,
    /// Where the viewer stood: the run is replayed to this step.
    pub step: u64,
    /// The notice shown once the run is restored ("Imported … at step 12").
    pub message: String,
}

/// Restores whose step is at most this far are replayed at once, inside the action:
/// at the app's speed that is a few milliseconds. Farther ones go through
/// [`PendingReplay`], a slice at a time, so the page stays responsive.
pub const REPLAY_AT_ONCE_STEPS_MAX: u64 = STEPS_PER_SLICE;

/// A restored run still being replayed to its step, beside the run on screen.
///
/// A share link or trace file may stand millions of steps from the start, and a run is
/// reached only by replaying it. Doing that inside one action would freeze the page for
/// as long as it takes, so the new run is built here and advanced in slices by
/// `ui::replay`, which shows the progress and a Cancel button. Only when it stands at
/// its step does it replace the run on screen; Cancel drops it and nothing else
/// changed. The run lives behind `Rc<RefCell<_>>` like [`Shell::sim`]; only the replay
/// dialog advances it, and it is not shown anywhere until it is adopted.
#[derive(Clone, Debug)]
pub struct PendingReplay {
    /// Tells one replay from the next, so a late slice of a cancelled one is ignored.
    pub id: u64,
    pub config: RunConfig,
    /// The step to stand at.
    pub target: u64,
    /// The notice shown once it is adopted (see [`Restored::message`]).
    pub message: String,
    pub sim: Rc<RefCell<Simulation>>,
}

impl PartialEq for PendingReplay {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

/// The log filters; empty strings mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilters {
    pub correlation: String,
    pub event_type: String,
    pub service: String,
}

impl LogFilters {
    pub fn is_empty(&self) -> bool {
        self.correlation.is_empty() && self.event_type.is_empty() && self.service.is_empty()
    }
}

/// A change to one subscription's delivery settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubscriptionEdit {
    Delivery(Delivery),
    AttemptsMax(u32),
    BackoffInitialMs(u64),
    BackoffMultiplierPercent(u32),
    BackoffMaxMs(u64),
    JitterPerMille(u32),
    Dlq(bool),
}

/// The whole state of the app.
#[derive(Clone, Debug)]
pub struct Shell {
    /// Name of the chosen built-in scenario.
    pub scenario_name: String,
    /// The scenario as edited in the Delivery tab.
    pub scenario: Rc<Scenario>,
    /// The seed that drives every random choice of the run.
    pub seed: u64,
    /// The user's fault script: interactive injections, in order.
    pub faults: FaultScript,
    pub anti_patterns: Vec<AntiPattern>,
    /// The run itself; its current step is the cursor.
    pub sim: Rc<RefCell<Simulation>>,
    /// Bumped whenever `sim` changes, so equality never has to compare runs.
    pub revision: u64,
    /// Bumped whenever `sim` is replaced by a new run.
    pub run_id: u64,
    /// Mirrors of the run, read after every change.
    pub step: u64,
    pub horizon: u64,
    pub finished: Option<Finish>,
    pub steps_max: u64,
    pub speed_steps_per_second: u32,
    pub playing: bool,
    /// End was pressed: the run is being computed slice by slice.
    pub running_to_end: bool,
    pub motion: Motion,
    pub help_open: bool,
    pub selected: Option<MessageId>,
    pub menu: Option<MenuTarget>,
    pub notice: Option<Notice>,
    pub filters: LogFilters,
    pub tab: Tab,
    /// The page, the open lesson and the learner's progress (see `ui::guide`).
    pub guide: Guide,
    pub canvas: CanvasView,
    /// A restored run being replayed to its step; while it is, the rest of the app
    /// waits behind the replay dialog (see [`PendingReplay`]).
    pub replay: Option<Rc<PendingReplay>>,
    /// How many replays were started, for [`PendingReplay::id`].
    pub replays: u64,
}

impl PartialEq for Shell {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.sim, &other.sim)
            && self.revision == other.revision
            && self.scenario_name == other.scenario_name
            && self.seed == other.seed
            && self.speed_steps_per_second == other.speed_steps_per_second
            && self.playing == other.playing
            && self.running_to_end == other.running_to_end
            && self.motion == other.motion
            && self.help_open == other.help_open
            && self.selected == other.selected
            && self.menu == other.menu
            && self.notice == other.notice
            && self.filters == other.filters
            && self.tab == other.tab
            && self.canvas == other.canvas
            && self.anti_patterns == other.anti_patterns
            && self.guide == other.guide
            && self.replay == other.replay
    }
}

/// The run as a view's prop: the simulation and its revision, equal while the run is
/// the same object at the same revision. A view that reads the run takes this and the
/// few fields of the shell it shows, never the whole shell, so a change elsewhere (a
/// menu, a filter, the help overlay) does not re-render it.
#[derive(Clone, Debug)]
pub struct RunRef {
    pub sim: Rc<RefCell<Simulation>>,
    pub revision: u64,
}

impl PartialEq for RunRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.sim, &other.sim) && self.revision == other.revision
    }
}

/// A run of a configuration; a configuration that does not validate yields the errors
/// as text instead (user edits can produce one; nothing panics).
fn build(
    scenario: &Scenario,
    seed: u64,
    faults: &FaultScript,
    anti_patterns: &[AntiPattern],
) -> Result<Simulation, String> {
    Simulation::new(RunConfig {
        scenario: scenario.clone(),
        seed,
        faults: faults.clone(),
        anti_patterns: anti_patterns.to_vec(),
    })
    .map_err(|errors| errors.to_string())
}

/// The scenario a fresh page starts with: the first of the catalog.
fn first_scenario() -> (String, Scenario) {
    let name = catalog().first().map_or("pubsub", |s| s.name);
    // The catalog lists built-ins compiled into the program; the native tests load each.
    (name.to_string(), builtin(name).expect("the catalog names built-in scenarios"))
}

impl Default for Shell {
    fn default() -> Self {
        let (name, scenario) = first_scenario();
        Shell::for_scenario(name, scenario, SEED_DEFAULT)
    }
}

impl Shell {
    /// The run, for views that read it (see [`RunRef`]).
    pub fn run(&self) -> RunRef {
        RunRef { sim: self.sim.clone(), revision: self.revision }
    }

    /// A shell paused at step 0 of `scenario` with `seed` and no faults. Used for the
    /// built-ins and for runs built in tests (a long workload for measurements).
    pub fn for_scenario(name: String, scenario: Scenario, seed: u64) -> Shell {
        let faults = FaultScript::default();
        let sim = match build(&scenario, seed, &faults, &[]) {
            Ok(sim) => sim,
            // A built-in that fails validation is a bug the native tests catch; fall
            // back to the first catalog entry rather than leave the app without a run.
            Err(_) => {
                let (_, fallback) = first_scenario();
                // `expect` would print the error's Debug form, and compile it in.
                build(&fallback, seed, &faults, &[]).unwrap_or_else(|_| panic!("built-in scenarios are valid"))
            }
        };
        let mut shell = Shell {
            scenario_name: name,
            steps_max: scenario.steps_max,
            scenario: Rc::new(scenario),
            seed,
            faults,
            anti_patterns: Vec::new(),
            sim: Rc::new(RefCell::new(sim)),
            revision: 0,
            run_id: 0,
            step: 0,
            horizon: 0,
            finished: None,
            speed_steps_per_second: SPEEDS_STEPS_PER_SECOND[1],
            playing: false,
            running_to_end: false,
            motion: Motion::Jump,
            help_open: false,
            selected: None,
            menu: None,
            notice: None,
            filters: LogFilters::default(),
            tab: Tab::Inspector,
            guide: Guide::default(),
            canvas: CanvasView::Topology,
            replay: None,
            replays: 0,
        };
        shell.sync();
        shell
    }

    /// Whether the run can advance from the current step (recorded or computable).
    pub fn can_advance(&self) -> bool {
        self.step < self.horizon || self.finished.is_none()
    }

    /// Whether there is a step before the current one.
    pub fn can_go_back(&self) -> bool {
        self.step > 0
    }

    /// Reads the mirrors back from the run after it changed.
    pub(super) fn sync(&mut self) {
        let sim = self.sim.borrow();
        self.step = sim.step_index();
        self.horizon = sim.horizon();
        self.finished = sim.finished();
        self.steps_max = sim.scenario().steps_max;
        drop(sim);
        self.revision += 1;
    }

    /// Replaces the run with a fresh one of the current configuration and moves it to
    /// `step` (or as far as it gets). Returns false, with a notice, if the configuration
    /// does not validate; the old run then stays.
    fn rebuild(&mut self, step: u64) -> bool {
        match build(&self.scenario, self.seed, &self.faults, &self.anti_patterns) {
            Ok(mut sim) => {
                sim.rewind_to(step);
                self.sim = Rc::new(RefCell::new(sim));
                self.run_id += 1;
                self.motion = Motion::Jump;
                self.playing = false;
                self.running_to_end = false;
                self.menu = None;
                self.sync();
                true
            }
            Err(errors) => {
                self.notice = Some(Notice::Refused(format!("That configuration is not valid: {errors}")));
                false
            }
        }
    }

    /// A new run of the current configuration, paused at step 0, nothing selected.
    fn restart(&mut self) {
        self.selected = None;
        self.notice = None;
        self.rebuild(0);
    }

    fn move_to(&mut self, target: u64, motion: Motion) {
        self.playing = false;
        self.running_to_end = false;
        self.sim.borrow_mut().rewind_to(target);
        self.motion = motion;
        self.sync();
    }

    /// One step forward: replays a recorded step or computes a new one.
    fn advance(&mut self) -> bool {
        let stepped = self.sim.borrow_mut().step().is_some();
        self.motion = Motion::Glide;
        self.sync();
        stepped
    }

    fn inject(&mut self, fault: Fault) {
        let result = self.sim.borrow_mut().inject(fault);
        match result {
            Ok(injected) => {
                self.faults = self.sim.borrow().fault_script().clone();
                self.notice = injected.forked.then_some(Notice::Forked {
                    step: injected.step,
                    discarded_steps: injected.discarded_steps,
                    discarded_faults: injected.discarded_faults,
                });
                if !self.tab.keeps_focus_on_inject() {
                    self.tab = Tab::Faults;
                }
            }
            Err(errors) => self.notice = Some(Notice::Refused(format!("The fault was not injected: {errors}"))),
        }
        self.playing = false;
        self.running_to_end = false;
        self.menu = None;
        self.motion = Motion::Glide;
        self.sync();
    }

    /// The state after `action`. Total: every action is valid in every state, and an
    /// action that makes no sense here (stepping past the end) leaves the state as is.
    pub fn apply(&self, action: ShellAction) -> Shell {
        let mut next = self.clone();
        if self.replay.is_some() {
            next.apply_while_replaying(action);
            return next;
        }
        match action {
            ShellAction::Play => next.playing = self.can_advance(),
            ShellAction::Pause => {
                next.playing = false;
                next.running_to_end = false;
            }
            ShellAction::TogglePlay => {
                next.playing = !self.playing && self.can_advance();
                next.running_to_end = false;
            }
            ShellAction::Step => {
                next.playing = false;
                next.running_to_end = false;
                next.advance();
            }
            ShellAction::StepBack => {
                if self.step > 0 {
                    next.move_to(self.step - 1, Motion::Glide);
                } else {
                    next.playing = false;
                }
            }
            ShellAction::JumpToStart => next.move_to(0, Motion::Jump),
            ShellAction::JumpToEnd => {
                next.playing = false;
                next.running_to_end = self.can_advance();
                next.continue_to_end();
            }
            ShellAction::ContinueToEnd => {
                if self.running_to_end {
                    next.continue_to_end();
                }
            }
            ShellAction::RewindTo(step) => next.move_to(step.min(self.horizon), Motion::Jump),
            ShellAction::Tick => {
                if self.playing {
                    let stepped = next.advance();
                    // Stop at the end instead of ticking in place forever.
                    next.playing = stepped && next.can_advance();
                }
            }
            ShellAction::SetSpeed(steps_per_second) => {
                if SPEEDS_STEPS_PER_SECOND.contains(&steps_per_second) {
                    next.speed_steps_per_second = steps_per_second;
                }
            }
            ShellAction::SetSeed(seed) => {
                if seed != self.seed {
                    next.seed = seed;
                    next.faults = FaultScript::default();
                    next.restart();
                }
            }
            ShellAction::PickScenario(name) => {
                if name != self.scenario_name {
                    if let Some(scenario) = builtin(&name) {
                        next.scenario_name = name;
                        next.scenario = Rc::new(scenario);
                        next.faults = FaultScript::default();
                        next.filters = LogFilters::default();
                        next.restart();
                    }
                }
            }
            ShellAction::Reset => next.restart(),
            ShellAction::ToggleHelp => next.help_open = !self.help_open,
            ShellAction::HideHelp => {
                next.help_open = false;
                next.menu = None;
            }
            ShellAction::Select(message) => {
                next.selected = message;
                next.tab = Tab::Inspector;
            }
            ShellAction::OpenMenu(target) => {
                if let MenuTarget::Message { message, .. } = &target {
                    next.selected = Some(*message);
                    next.tab = Tab::Inspector;
                }
                next.menu = Some(target);
            }
            ShellAction::CloseMenu => next.menu = None,
            ShellAction::Inject(fault) => next.inject(fault),
            ShellAction::RemoveFault(index) => {
                if index < self.faults.scripted.len() {
                    // The run without the fault is replayed to the same step, in slices
                    // when that is far (see `restore`); until then the old run stays.
                    let mut faults = self.faults.clone();
                    let removed = faults.scripted.remove(index);
                    let config = RunConfig {
                        scenario: (*self.scenario).clone(),
                        seed: self.seed,
                        faults,
                        anti_patterns: self.anti_patterns.clone(),
                    };
                    let message = format!(
                        "Removed \u{201c}{} {}\u{201d}: the run was rebuilt without it and is back at step {}.",
                        removed.fault.label(),
                        removed.fault.target(),
                        self.step
                    );
                    let (name, selected, filters) = (self.scenario_name.clone(), self.selected, self.filters.clone());
                    next.restore(Restored { config, step: self.step, message });
                    // The same scenario, so its name, selection and filters still hold.
                    next.scenario_name = name;
                    if next.replay.is_none() {
                        next.selected = selected;
                        next.filters = filters;
                    }
                }
            }
            ShellAction::DismissNotice => next.notice = None,
            ShellAction::SetFilters(filters) => next.filters = filters,
            ShellAction::ShowTab(tab) => next.tab = tab,
            ShellAction::ShowCanvas(view) => next.canvas = view,
            ShellAction::EditSubscription(index, edit) => next.edit_subscription(index, edit),
            ShellAction::SetWorkloadCount(index, count) => {
                let mut scenario = (*self.scenario).clone();
                if let Some(repeat) = scenario.workload.get_mut(index).and_then(|w| w.repeat.as_mut()) {
                    if repeat.count != count {
                        repeat.count = count;
                        next.apply_scenario(scenario);
                    }
                }
            }
            ShellAction::Restore(restored) => next.restore(*restored),
            // Nothing is being replayed (see `apply_while_replaying`).
            ShellAction::FinishReplay(_) | ShellAction::CancelReplay => {}
            ShellAction::ApplyScenario(scenario) => next.apply_edited_scenario(*scenario),
            ShellAction::Notify(notice) => next.notice = Some(notice),
            ShellAction::ToggleAntiPattern(anti_pattern) => {
                if let Some(i) = next.anti_patterns.iter().position(|a| *a == anti_pattern) {
                    next.anti_patterns.remove(i);
                } else {
                    next.anti_patterns.push(anti_pattern);
                    crate::sim::sorting::sort(&mut next.anti_patterns);
                }
                next.selected = None;
                if next.rebuild(0) {
                    next.notice = Some(Notice::Rebuilt(
                        "Anti-patterns changed: the run restarted from step 0 with the same seed and faults.".into(),
                    ));
                } else {
                    next.anti_patterns = self.anti_patterns.clone();
                }
            }
            ShellAction::Guide(action) => next = self.apply_guide(action),
        }
        next.follow_guide(self);
        next
    }

    /// One slice of "run to the end".
    fn continue_to_end(&mut self) {
        let target = self.horizon.max(self.step);
        // First catch up to the recorded horizon, then compute new steps a slice at a time.
        let slice_end = if self.step < target { target } else { self.step + STEPS_PER_SLICE };
        {
            let mut sim = self.sim.borrow_mut();
            sim.rewind_to(slice_end);
        }
        self.motion = Motion::Jump;
        self.sync();
        if self.finished.is_some() && self.step == self.horizon {
            self.running_to_end = false;
        }
    }

    fn edit_subscription(&mut self, index: usize, edit: SubscriptionEdit) {
        let mut scenario = (*self.scenario).clone();
        let Some(sub) = scenario.subscriptions.get_mut(index) else {
            return;
        };
        let retry: &mut RetryPolicy = &mut sub.retry;
        match edit {
            SubscriptionEdit::Delivery(delivery) => sub.delivery = delivery,
            SubscriptionEdit::AttemptsMax(n) => retry.attempts_max = n,
            SubscriptionEdit::BackoffInitialMs(ms) => retry.backoff_initial_ms = ms,
            SubscriptionEdit::BackoffMultiplierPercent(p) => retry.backoff_multiplier_percent = p,
            SubscriptionEdit::BackoffMaxMs(ms) => retry.backoff_max_ms = ms,
            SubscriptionEdit::JitterPerMille(j) => retry.jitter_per_mille = j,
            SubscriptionEdit::Dlq(on) => sub.dlq = on,
        }
        if scenario != *self.scenario {
            self.apply_scenario(scenario);
        }
    }

    /// Replaces the whole configuration and replays it to the restored step: at once
    /// when the step is near, else through a [`PendingReplay`]. The importers validated
    /// the configuration already; should it still not build, the current run stays and
    /// the notice says why.
    fn restore(&mut self, restored: Restored) {
        let Restored { config, step, message } = restored;
        let mut sim = match Simulation::new(config.clone()) {
            Ok(sim) => sim,
            Err(errors) => {
                self.notice = Some(Notice::Refused(format!("That configuration is not valid: {errors}")));
                return;
            }
        };
        self.playing = false;
        self.running_to_end = false;
        self.menu = None;
        if step <= REPLAY_AT_ONCE_STEPS_MAX {
            sim.rewind_to(step);
            self.adopt(config, Rc::new(RefCell::new(sim)), message);
            return;
        }
        self.replays += 1;
        self.replay = Some(Rc::new(PendingReplay {
            id: self.replays,
            config,
            target: step,
            message,
            sim: Rc::new(RefCell::new(sim)),
        }));
    }

    /// Puts a restored run on screen with its configuration.
    fn adopt(&mut self, config: RunConfig, sim: Rc<RefCell<Simulation>>, message: String) {
        let RunConfig { scenario, seed, faults, anti_patterns } = config;
        self.scenario_name = scenario.name.clone();
        self.scenario = Rc::new(scenario);
        self.seed = seed;
        self.faults = faults;
        self.anti_patterns = anti_patterns;
        self.selected = None;
        self.filters = LogFilters::default();
        self.sim = sim;
        self.run_id += 1;
        self.motion = Motion::Jump;
        self.sync();
        self.notice = Some(Notice::Rebuilt(message));
    }

    /// While a restored run replays, the app waits for it: the replay's own actions
    /// go through, a new restore replaces it, Escape cancels it, notices still show, and
    /// everything else is ignored, as the dialog covers what it would act on.
    fn apply_while_replaying(&mut self, action: ShellAction) {
        match action {
            ShellAction::FinishReplay(id) => {
                let Some(pending) = self.replay.take_if(|p| p.id == id) else {
                    return;
                };
                let reached = pending.sim.borrow().step_index();
                let message = if reached < pending.target {
                    format!(
                        "{} The run ends at step {reached}, before step {}, so it stands at its end.",
                        pending.message, pending.target
                    )
                } else {
                    pending.message.clone()
                };
                self.adopt(pending.config.clone(), pending.sim.clone(), message);
            }
            ShellAction::CancelReplay | ShellAction::HideHelp => {
                if let Some(pending) = self.replay.take() {
                    self.notice = Some(Notice::Rebuilt(format!(
                        "Stopped opening the run at step {} of {}: the run you had is unchanged.",
                        super::replay::grouped(pending.sim.borrow().step_index()),
                        super::replay::grouped(pending.target)
                    )));
                }
            }
            ShellAction::Restore(restored) => {
                self.replay = None;
                self.restore(*restored);
            }
            ShellAction::Notify(notice) => self.notice = Some(notice),
            _ => {}
        }
    }

    /// Switches to a scenario from the editor: a new run from step 0 with the same seed.
    /// The user's faults stay unless they name something the edited scenario lacks.
    fn apply_edited_scenario(&mut self, scenario: Scenario) {
        let previous = self.clone();
        let dropped_faults = !self.faults.scripted.is_empty() && self.faults.validate_against(&scenario).is_err();
        if dropped_faults {
            self.faults = FaultScript::default();
        }
        self.scenario_name = scenario.name.clone();
        self.scenario = Rc::new(scenario);
        self.selected = None;
        self.filters = LogFilters::default();
        if self.rebuild(0) {
            self.notice = Some(Notice::Rebuilt(format!(
                "Scenario \u{201c}{}\u{201d} applied: the run restarted from step 0 with seed {}{}.",
                self.scenario_name,
                self.seed,
                if dropped_faults {
                    " and without your faults, which named something the edited scenario no longer has"
                } else {
                    ""
                }
            )));
        } else {
            let notice = self.notice.take();
            *self = previous;
            self.notice = notice;
        }
    }

    /// Switches to an edited scenario: a new run from step 0, same seed and faults.
    fn apply_scenario(&mut self, scenario: Scenario) {
        let previous = std::mem::replace(&mut self.scenario, Rc::new(scenario));
        self.selected = None;
        if self.rebuild(0) {
            self.notice = Some(Notice::Rebuilt(
                "Settings changed: the run restarted from step 0 with the same seed and fault script.".into(),
            ));
        } else {
            self.scenario = previous;
        }
    }
}

/// What the user (or a timer) asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ShellAction {
    /// Start advancing one step per tick.
    Play,
    /// Stop advancing; the current step stays on screen.
    Pause,
    /// Play when paused, pause when playing (the space bar).
    TogglePlay,
    /// Advance exactly one step (pauses playback).
    Step,
    /// Go back exactly one step (pauses playback).
    StepBack,
    /// Go to step 0, the state before the first message.
    JumpToStart,
    /// Compute the run to its end (quiescent or `steps_max`), a slice at a time.
    JumpToEnd,
    /// The next slice of [`ShellAction::JumpToEnd`]; dispatched by a zero-delay timer.
    ContinueToEnd,
    /// Go to any step up to the horizon (the scrubber, an invariant's broken step).
    RewindTo(u64),
    /// One beat of the playback ticker; ignored unless playing.
    Tick,
    /// Change the playback speed; values not offered in the toolbar are ignored.
    SetSpeed(u32),
    /// Choose another seed: a new run, so the cursor returns to step 0.
    SetSeed(u64),
    /// Choose another scenario by name: a new run. Unknown names are ignored.
    PickScenario(String),
    /// Back to step 0 of the same scenario, seed and faults.
    Reset,
    /// Show or hide the keyboard help overlay (the `?` key).
    ToggleHelp,
    /// Close the help overlay and any open menu (Escape).
    HideHelp,
    /// Select a message everywhere (log, topology, inspector), or clear the selection.
    Select(Option<MessageId>),
    OpenMenu(MenuTarget),
    CloseMenu,
    /// Inject a fault now (forking the run if rewound).
    Inject(Fault),
    /// Remove the user's scripted fault at this index and rebuild to the same step.
    RemoveFault(usize),
    DismissNotice,
    SetFilters(LogFilters),
    ShowTab(Tab),
    /// Switch the main canvas between topology, sequence diagram and side by side.
    ShowCanvas(CanvasView),
    /// Change a subscription's delivery settings: the run restarts from step 0.
    EditSubscription(usize, SubscriptionEdit),
    /// Change how many times a workload item repeats: the run restarts from step 0.
    SetWorkloadCount(usize, u32),
    ToggleAntiPattern(AntiPattern),
    /// Switch to a whole run from a trace file or a share link, at its step.
    Restore(Box<Restored>),
    /// The pending replay with this id stands at its step (or its run ended first):
    /// it replaces the run on screen. Dispatched by `ui::replay`.
    FinishReplay(u64),
    /// Drop the pending replay; the run on screen stays as it was.
    CancelReplay,
    /// Run a scenario from the editor (already validated): the run restarts at step 0.
    ApplyScenario(Box<Scenario>),
    /// Show a notice (a share link that could not be opened, say).
    Notify(Notice),
    /// Pages, lessons and progress (see `ui::guide`).
    Guide(GuideAction),
}

impl Reducible for Shell {
    type Action = ShellAction;

    fn reduce(self: Rc<Self>, action: ShellAction) -> Rc<Self> {
        let next = self.apply(action);
        if next == *self {
            // Returning the same Rc tells Yew nothing changed, so nothing re-renders.
            self
        } else {
            Rc::new(next)
        }
    }
}

/// What a key does. Most keys act on the whole page; a few act on the element that has
/// the focus (a service, a token or a log row) or inside an open menu, where the
/// component under the focus handles them and the page's handler leaves them alone.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyAction {
    /// Anywhere on the page (outside text fields): dispatch this action.
    Page(ShellAction),
    /// On a focused service, token or log row: open its menu of faults.
    OpenMenu,
    /// Inside an open menu: move the focus between its items.
    Menu(MenuMove),
}

/// A move of the focus inside a menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuMove {
    Next,
    Previous,
    First,
    Last,
}

/// One keyboard shortcut: the keys (as `KeyboardEvent.key` reports them), how the help
/// overlay names them, and what they do. The help overlay and the key handlers all read
/// [`KEY_BINDINGS`], so the help can never drift from the behaviour.
#[derive(Debug)]
pub struct KeyBinding {
    pub keys: &'static [&'static str],
    pub label: &'static str,
    pub description: &'static str,
    pub action: KeyAction,
}

/// Every keyboard shortcut of the app. A key may appear twice, once per place it acts
/// in (Home is "step 0" on the page and "first item" in a menu).
pub const KEY_BINDINGS: &[KeyBinding] = &[
    KeyBinding {
        keys: &[" "],
        label: "Space",
        description: "Play or pause the run",
        action: KeyAction::Page(ShellAction::TogglePlay),
    },
    KeyBinding {
        keys: &["ArrowRight"],
        label: "\u{2192}",
        description: "Step forward one step",
        action: KeyAction::Page(ShellAction::Step),
    },
    KeyBinding {
        keys: &["ArrowLeft"],
        label: "\u{2190}",
        description: "Step back one step",
        action: KeyAction::Page(ShellAction::StepBack),
    },
    KeyBinding {
        keys: &["Home"],
        label: "Home",
        description: "Jump to step 0",
        action: KeyAction::Page(ShellAction::JumpToStart),
    },
    KeyBinding {
        keys: &["End"],
        label: "End",
        description: "Run to the end (until nothing is left to do, or the step limit)",
        action: KeyAction::Page(ShellAction::JumpToEnd),
    },
    KeyBinding {
        keys: &["r", "R"],
        label: "R",
        description: "Reset the run to step 0 (same scenario, seed and faults)",
        action: KeyAction::Page(ShellAction::Reset),
    },
    KeyBinding {
        keys: &["?"],
        label: "?",
        description: "Show or hide this list of keys",
        action: KeyAction::Page(ShellAction::ToggleHelp),
    },
    KeyBinding {
        keys: &["Escape"],
        label: "Esc",
        description: "Close this list or an open menu, back to what opened it",
        action: KeyAction::Page(ShellAction::HideHelp),
    },
    KeyBinding {
        keys: &["Enter", " "],
        label: "Enter",
        description: "On a focused service, message token or log row (Tab to it): open its menu of faults",
        action: KeyAction::OpenMenu,
    },
    KeyBinding {
        keys: &["ArrowDown"],
        label: "\u{2193}",
        description: "In a menu: the next item (in the log: the next row)",
        action: KeyAction::Menu(MenuMove::Next),
    },
    KeyBinding {
        keys: &["ArrowUp"],
        label: "\u{2191}",
        description: "In a menu: the previous item (in the log: the previous row)",
        action: KeyAction::Menu(MenuMove::Previous),
    },
    KeyBinding {
        keys: &["Home"],
        label: "Home",
        description: "In a menu: the first item",
        action: KeyAction::Menu(MenuMove::First),
    },
    KeyBinding {
        keys: &["End"],
        label: "End",
        description: "In a menu: the last item",
        action: KeyAction::Menu(MenuMove::Last),
    },
];

/// The page-wide action bound to a key, if any (`key` as in `KeyboardEvent.key`).
pub fn action_for_key(key: &str) -> Option<ShellAction> {
    KEY_BINDINGS.iter().find_map(|binding| match &binding.action {
        KeyAction::Page(action) if binding.keys.contains(&key) => Some(action.clone()),
        _ => None,
    })
}

/// Whether a key opens the menu of a focused service, token or log row.
pub fn opens_menu(key: &str) -> bool {
    KEY_BINDINGS.iter().any(|binding| binding.action == KeyAction::OpenMenu && binding.keys.contains(&key))
}

/// The move a key makes inside an open menu, if any.
pub fn menu_move(key: &str) -> Option<MenuMove> {
    KEY_BINDINGS.iter().find_map(|binding| match binding.action {
        KeyAction::Menu(step) if binding.keys.contains(&key) => Some(step),
        _ => None,
    })
}
