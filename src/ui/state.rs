//! The app shell's state and its reducer.
//!
//! Everything the shell shows is derived from one [`Shell`] value, changed only by
//! [`ShellAction`]s (UI messages named as verbs). The reducer is a plain function with
//! no I/O: timers, keyboard listeners and the DOM live in the components, which only
//! dispatch actions. That keeps the rules testable and makes the run replayable.
//!
//! The simulation-facing part is deliberately tiny: a cursor `step` inside
//! `0..=horizon`. Wiring in the core means replacing `horizon` with the length of the
//! simulated run and letting `step` select which recorded step the views show.

use std::rc::Rc;

use yew::Reducible;

use crate::sim::scenario::catalog;

/// Playback speeds offered in the toolbar, in simulated steps per wall-clock second.
pub const SPEEDS_STEPS_PER_SECOND: [u32; 4] = [1, 2, 4, 8];

/// The seed a fresh page starts with, so two people opening the app see the same run.
pub const SEED_DEFAULT: u64 = 42;

/// The whole state of the app shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shell {
    /// Name of the chosen scenario (a `ScenarioSummary::name` from the catalog).
    pub scenario: String,
    /// The seed that drives every random choice of the run.
    pub seed: u64,
    /// How fast Play advances, one of [`SPEEDS_STEPS_PER_SECOND`].
    pub speed_steps_per_second: u32,
    /// Whether the wall-clock ticker is advancing the run.
    pub playing: bool,
    /// The step the views show: 0 is the state before anything happened.
    pub step: u64,
    /// The last step the run can reach. Stays 0 until the simulation core is wired in.
    pub horizon: u64,
    /// Whether the keyboard help overlay is open.
    pub help_open: bool,
}

impl Default for Shell {
    fn default() -> Self {
        let scenario = catalog().first().map(|s| s.name.to_string()).unwrap_or_default();
        Shell {
            scenario,
            seed: SEED_DEFAULT,
            speed_steps_per_second: SPEEDS_STEPS_PER_SECOND[1],
            playing: false,
            step: 0,
            horizon: 0,
            help_open: false,
        }
    }
}

/// What the user (or the playback ticker) asks the shell to do.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Go to the last step of the run.
    JumpToEnd,
    /// One beat of the playback ticker; ignored unless playing.
    Tick,
    /// Change the playback speed; values not offered in the toolbar are ignored.
    SetSpeed(u32),
    /// Choose another seed: a new run, so the cursor returns to step 0.
    SetSeed(u64),
    /// Choose another scenario by name: a new run. Unknown names are ignored.
    PickScenario(String),
    /// Back to step 0 of the same scenario and seed.
    Reset,
    /// Show or hide the keyboard help overlay (the `?` key).
    ToggleHelp,
    /// Hide the keyboard help overlay (Escape, the close button).
    HideHelp,
}

impl Shell {
    /// Whether the run can advance from the current step.
    pub fn can_advance(&self) -> bool {
        self.step < self.horizon
    }

    /// Whether there is a step before the current one.
    pub fn can_go_back(&self) -> bool {
        self.step > 0
    }

    /// The state after `action`. Total: every action is valid in every state, and an
    /// action that makes no sense here (stepping past the end) leaves the state as is.
    pub fn apply(&self, action: ShellAction) -> Shell {
        let mut next = self.clone();
        match action {
            ShellAction::Play => next.playing = self.can_advance(),
            ShellAction::Pause => next.playing = false,
            ShellAction::TogglePlay => next.playing = !self.playing && self.can_advance(),
            ShellAction::Step => {
                next.playing = false;
                next.step = (self.step + 1).min(self.horizon);
            }
            ShellAction::StepBack => {
                next.playing = false;
                next.step = self.step.saturating_sub(1);
            }
            ShellAction::JumpToStart => {
                next.playing = false;
                next.step = 0;
            }
            ShellAction::JumpToEnd => {
                next.playing = false;
                next.step = self.horizon;
            }
            ShellAction::Tick => {
                if self.playing {
                    next.step = (self.step + 1).min(self.horizon);
                    // Stop at the end instead of ticking in place forever.
                    next.playing = next.step < self.horizon;
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
                    next.restart();
                }
            }
            ShellAction::PickScenario(name) => {
                if name != self.scenario && catalog().iter().any(|s| s.name == name) {
                    next.scenario = name;
                    next.restart();
                }
            }
            ShellAction::Reset => next.restart(),
            ShellAction::ToggleHelp => next.help_open = !self.help_open,
            ShellAction::HideHelp => next.help_open = false,
        }
        next
    }

    /// A new run of the current scenario and seed starts paused at step 0.
    fn restart(&mut self) {
        self.playing = false;
        self.step = 0;
    }
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

/// One keyboard shortcut: the keys (as `KeyboardEvent.key` reports them), how the help
/// overlay names them, and what they do. The help overlay and the key handler both read
/// [`KEY_BINDINGS`], so the help can never drift from the behaviour.
#[derive(Debug)]
pub struct KeyBinding {
    pub keys: &'static [&'static str],
    pub label: &'static str,
    pub description: &'static str,
    pub action: ShellAction,
}

/// Every keyboard shortcut of the shell.
pub const KEY_BINDINGS: &[KeyBinding] = &[
    KeyBinding { keys: &[" "], label: "Space", description: "Play or pause the run", action: ShellAction::TogglePlay },
    KeyBinding { keys: &["ArrowRight"], label: "→", description: "Step forward one step", action: ShellAction::Step },
    KeyBinding { keys: &["ArrowLeft"], label: "←", description: "Step back one step", action: ShellAction::StepBack },
    KeyBinding { keys: &["Home"], label: "Home", description: "Jump to step 0", action: ShellAction::JumpToStart },
    KeyBinding { keys: &["End"], label: "End", description: "Jump to the last step", action: ShellAction::JumpToEnd },
    KeyBinding { keys: &["r", "R"], label: "R", description: "Reset the run to step 0", action: ShellAction::Reset },
    KeyBinding {
        keys: &["?"],
        label: "?",
        description: "Show or hide this list of keys",
        action: ShellAction::ToggleHelp,
    },
    KeyBinding { keys: &["Escape"], label: "Esc", description: "Close this list", action: ShellAction::HideHelp },
];

/// The action bound to a key, if any (`key` as in `KeyboardEvent.key`).
pub fn action_for_key(key: &str) -> Option<ShellAction> {
    KEY_BINDINGS.iter().find(|binding| binding.keys.contains(&key)).map(|binding| binding.action.clone())
}
