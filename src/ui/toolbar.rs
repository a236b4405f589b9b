//! The toolbar: playback controls, speed, seed, reset and the step counter.
//!
//! Every control only dispatches a [`ShellAction`]; whether it is enabled comes from
//! the [`Shell`] state, so the buttons can never offer something the reducer would
//! ignore. The toolbar takes only the few values it shows ([`ToolbarProps::of`]), so
//! a render that changes none of them (a selection, a tab) skips it. Buttons show a visible word next to the icon (readable when projected),
//! carry the keyboard shortcut in their tooltip and in `aria-keyshortcuts`.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::details::emit_on_click;
use super::icons::{icon_view, Icon};
use super::state::{Shell, ShellAction, SPEEDS_STEPS_PER_SECOND};

#[derive(Properties, PartialEq)]
pub struct ToolbarProps {
    pub step: u64,
    pub horizon: u64,
    pub can_go_back: bool,
    pub can_advance: bool,
    pub playing: bool,
    pub speed_steps_per_second: u32,
    pub seed: u64,
    pub dispatch: Callback<ShellAction>,
}

impl ToolbarProps {
    /// The toolbar's slice of the shell.
    pub fn of(shell: &Shell, dispatch: Callback<ShellAction>) -> ToolbarProps {
        ToolbarProps {
            step: shell.step,
            horizon: shell.horizon,
            can_go_back: shell.can_go_back(),
            can_advance: shell.can_advance(),
            playing: shell.playing,
            speed_steps_per_second: shell.speed_steps_per_second,
            seed: shell.seed,
            dispatch,
        }
    }
}

#[derive(Properties, PartialEq)]
struct ControlProps {
    icon: Icon,
    text: &'static str,
    tooltip: &'static str,
    shortcut: &'static str,
    enabled: bool,
    action: ShellAction,
    dispatch: Callback<ShellAction>,
    #[prop_or_default]
    primary: bool,
}

/// One toolbar button.
fn control(props: &ControlProps) -> Html {
    let onclick = emit_on_click(&props.dispatch, props.action.clone());
    html! {
        <button
            type="button"
            class={classes!("control", props.primary.then_some("primary"))}
            aria-label={props.text}
            title={format!("{} ({})", props.tooltip, props.shortcut)}
            aria-keyshortcuts={props.shortcut}
            disabled={!props.enabled}
            {onclick}
        >
            { icon_view(props.icon) }
            <span class="control-text">{ props.text }</span>
        </button>
    }
}

/// The toolbar under the header.
#[function_component(Toolbar)]
pub fn toolbar(props: &ToolbarProps) -> Html {
    let run = props;
    let dispatch = &props.dispatch;
    let on_speed = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Ok(steps_per_second) = select.value().parse::<u32>() {
                dispatch.emit(ShellAction::SetSpeed(steps_per_second));
            }
        })
    };

    html! {
        <div class="toolbar" role="toolbar" aria-label="Run controls">
            <div class="control-group" role="group" aria-label="Playback">
                { control(&ControlProps { icon: Icon::JumpToStart, text: "Start", tooltip: "Jump to step 0", shortcut: "Home", enabled: run.can_go_back, action: ShellAction::JumpToStart, dispatch: dispatch.clone(), primary: false }) }
                { control(&ControlProps { icon: Icon::StepBack, text: "Step back", tooltip: "Go back one step", shortcut: "ArrowLeft", enabled: run.can_go_back, action: ShellAction::StepBack, dispatch: dispatch.clone(), primary: false }) }
                { control(&ControlProps { icon: Icon::Play, text: "Play", tooltip: "Play the run step by step", shortcut: "Space", enabled: !run.playing && run.can_advance, action: ShellAction::Play, dispatch: dispatch.clone(), primary: true }) }
                { control(&ControlProps { icon: Icon::Pause, text: "Pause", tooltip: "Pause on the current step", shortcut: "Space", enabled: run.playing, action: ShellAction::Pause, dispatch: dispatch.clone(), primary: false }) }
                { control(&ControlProps { icon: Icon::Step, text: "Step", tooltip: "Advance one step", shortcut: "ArrowRight", enabled: run.can_advance, action: ShellAction::Step, dispatch: dispatch.clone(), primary: false }) }
                { control(&ControlProps { icon: Icon::JumpToEnd, text: "End", tooltip: "Run to the end: until nothing is left to do, or the step limit", shortcut: "End", enabled: run.can_advance, action: ShellAction::JumpToEnd, dispatch: dispatch.clone(), primary: false }) }
            </div>

            <div class="control-group" role="group" aria-label="Run settings">
                <label class="field" title="How many steps Play advances per second">
                    <span class="field-label">{ "Speed" }</span>
                    <select onchange={on_speed} aria-label="Speed in steps per second">
                        { for SPEEDS_STEPS_PER_SECOND.iter().map(|&sps| html! {
                            <option value={sps.to_string()}
                                selected={sps == run.speed_steps_per_second}>
                                { format!("{sps} step{}/s", if sps == 1 { "" } else { "s" }) }
                            </option>
                        }) }
                    </select>
                </label>
                <SeedField seed={run.seed} dispatch={dispatch.clone()} />
                { control(&ControlProps { icon: Icon::Reset, text: "Reset", tooltip: "Restart the run at step 0 with the same scenario and seed", shortcut: "R", enabled: true, action: ShellAction::Reset, dispatch: dispatch.clone(), primary: false }) }
            </div>

            <p class="step-counter" aria-live="polite" title="Steps done so far, of the furthest step computed (n grows as you play)">
                { format!("step {} of {}", run.step, run.horizon) }
                if run.step < run.horizon {
                    <span class="rewound" title="You are looking at the past: stepping forward replays it; injecting a fault here forks the run">{ " \u{b7} rewound" }</span>
                }
            </p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SeedFieldProps {
    seed: u64,
    dispatch: Callback<ShellAction>,
}

/// The seed field. It keeps its own text so a half-typed or invalid seed stays on
/// screen to be corrected, next to an explanation; only a valid number reaches the
/// reducer, on Enter or when the field loses focus.
#[function_component(SeedField)]
fn seed_field(props: &SeedFieldProps) -> Html {
    let text = use_state(|| props.seed.to_string());
    let error = use_state(|| None::<String>);
    {
        // A seed set from elsewhere (a shared link, later) replaces the text.
        let text = text.clone();
        let error = error.clone();
        use_effect_with(props.seed, move |seed| {
            text.set(seed.to_string());
            error.set(None);
        });
    }
    let oninput = {
        let text = text.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            text.set(input.value());
        })
    };
    let onchange = {
        let dispatch = props.dispatch.clone();
        let error = error.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            match input.value().trim().parse::<u64>() {
                Ok(seed) => {
                    error.set(None);
                    dispatch.emit(ShellAction::SetSeed(seed));
                }
                Err(_) => error.set(Some(format!("A seed is a whole number from 0 to {}.", u64::MAX))),
            }
        })
    };
    html! {
        <label class={classes!("field", error.is_some().then_some("invalid"))}
            title="The seed drives every random choice: the same seed replays the same run">
            <span class="field-label">{ "Seed" }</span>
            <input
                class="seed-input"
                type="text"
                inputmode="numeric"
                autocomplete="off"
                spellcheck="false"
                aria-label="Seed"
                aria-invalid={error.is_some().to_string()}
                value={(*text).clone()}
                {oninput}
                {onchange}
            />
            if let Some(message) = &*error {
                <span class="field-error" role="alert">{ message.clone() }</span>
            }
        </label>
    }
}
