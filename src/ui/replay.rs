//! The replay dialog: a restored run replayed to its step a slice at a time, with its
//! progress and a Cancel button.
//!
//! A run is reached only by replaying it from step 0, and a share link or trace file
//! may name a step millions of steps in. The reducer builds the new run beside the one
//! on screen ([`PendingReplay`]); this dialog advances it between two frames, one slice
//! per zero-delay timer, so the browser paints the progress and answers Cancel, Escape
//! and the rest of the page in between. Slices are sized by time, not by steps: a
//! heavy scenario and a light one both hand the page back about every
//! [`SLICE_BUDGET_MS`]. Only the dialog re-renders per slice; the shell changes twice,
//! when the replay starts and when it is adopted or cancelled.

use std::rc::Rc;

use gloo::timers::callback::Timeout;
use yew::prelude::*;

use super::state::{PendingReplay, ShellAction};

/// Wall-clock time one slice may take before the page gets the thread back: short
/// enough that a click on Cancel answers at once, long enough that the replay spends
/// its time replaying rather than rendering the dialog.
pub const SLICE_BUDGET_MS: f64 = 40.0;

/// Steps in the first slice, before anything is known of this run's speed.
const FIRST_SLICE_STEPS: u64 = 1_000;

/// Bounds on a slice: at least a few steps, however slow; at most what a fast run does
/// in its budget, so one unusually cheap stretch cannot make the next slice freeze.
const SLICE_STEPS_MIN: u64 = 16;
const SLICE_STEPS_MAX: u64 = 200_000;

/// The next slice's size from how long the last one took: aim at the budget, grow by
/// at most four times at once so one lucky measurement does not overshoot.
pub fn next_slice_steps(steps: u64, elapsed_ms: f64) -> u64 {
    let fitted = if elapsed_ms > 0.5 { (steps as f64 * SLICE_BUDGET_MS / elapsed_ms) as u64 } else { steps * 4 };
    fitted.min(steps.saturating_mul(4)).clamp(SLICE_STEPS_MIN, SLICE_STEPS_MAX)
}

/// A count with its thousands grouped ("10,000,000"): a long replay's figures are read
/// at a glance while they change.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct ReplayProps {
    pub pending: Rc<PendingReplay>,
    pub dispatch: Callback<ShellAction>,
}

/// The modal dialog shown while a restored run replays.
#[function_component(ReplayDialog)]
pub fn replay_dialog(props: &ReplayProps) -> Html {
    let pending = props.pending.clone();
    // The step the replay has reached: every slice sets it, and each change schedules
    // the next slice.
    let reached = use_state_eq(|| pending.sim.borrow().step_index());
    let slice_steps = use_mut_ref(|| FIRST_SLICE_STEPS);
    {
        let pending = pending.clone();
        let dispatch = props.dispatch.clone();
        let set_reached = reached.setter();
        use_effect_with((pending.id, *reached), move |_| {
            let timer = Timeout::new(0, move || {
                let started_ms = js_sys::Date::now();
                let steps = *slice_steps.borrow();
                let mut sim = pending.sim.borrow_mut();
                let goal = (sim.step_index() + steps).min(pending.target);
                let now = sim.rewind_to(goal);
                drop(sim);
                *slice_steps.borrow_mut() = next_slice_steps(steps, js_sys::Date::now() - started_ms);
                // Short of the goal means the run ended on its way there.
                if now >= pending.target || now < goal {
                    dispatch.emit(ShellAction::FinishReplay(pending.id));
                } else {
                    set_reached.set(now);
                }
            });
            move || drop(timer)
        });
    }
    // The dialog takes the focus, so Enter cancels at once (Escape does anywhere).
    let cancel_ref = use_node_ref();
    {
        let cancel_ref = cancel_ref.clone();
        use_effect_with(pending.id, move |_| {
            if let Some(button) = cancel_ref.cast::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let on_cancel = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(ShellAction::CancelReplay))
    };
    let target = pending.target.max(1);
    let percent = (*reached).min(target) * 100 / target;
    html! {
        <div class="overlay replay-overlay">
            <div class="dialog replay-dialog" role="dialog" aria-modal="true" aria-labelledby="replay-title"
                aria-describedby="replay-what">
                <h2 id="replay-title">{ format!("Opening the run at step {}", grouped(pending.target)) }</h2>
                <p id="replay-what" class="dialog-intro">
                    { "A run is reached by replaying it from its start, step by step, exactly as it first ran. \
                       The run you had stays until this one is ready." }
                </p>
                <progress class="replay-progress" max={target.to_string()} value={reached.to_string()}
                    aria-label="Replay progress" />
                <p class="replay-count" aria-live="polite">
                    { format!("step {} of {} ({percent} %)", grouped(*reached), grouped(pending.target)) }
                </p>
                <div class="replay-actions">
                    <button type="button" class="control" ref={cancel_ref} onclick={on_cancel}
                        title="Stop replaying and keep the run you had (Esc)">
                        { "Cancel" }
                    </button>
                </div>
            </div>
        </div>
    }
}
