//! The root component: owns the [`Shell`] reducer and the two wall-clock effects.
//!
//! The only sources of input besides clicks are here: a keyboard listener on the
//! window and, while playing, an interval that dispatches [`ShellAction::Tick`]. Both
//! merely dispatch actions; the reducer decides what they mean. Time in the simulation
//! is never read from this clock: a tick only asks for "the next step".

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::{Interval, Timeout};
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent};
use yew::prelude::*;

use super::details::{details, DetailsProps};
use super::guide::GuideAction;
use super::help::HelpOverlay;
use super::lesson_player::{lesson_bar, lesson_panel, play_bar, BarProps, PanelProps};
use super::lessons_index::{lessons_index, IndexProps};
use super::log::EventLog;
use super::regions::{canvas, header, HeaderProps, RegionProps, Timeline};
use super::replay::ReplayDialog;
use super::route::{use_route_sync, Route};
use super::state::{action_for_key, Shell, ShellAction};
use super::toolbar::{Toolbar, ToolbarProps};
use super::transfer::FileActions;

/// Whether a key event comes from a control that needs the keys for itself (typing a
/// seed or a filter, choosing from a list), in which case the shortcuts stay out of the
/// way. Sliders and checkboxes do not: the arrows still step the run there.
fn is_typing_target(event: &KeyboardEvent) -> bool {
    let Some(element) = event.target().and_then(|target| target.dyn_into::<Element>().ok()) else {
        return false;
    };
    match element.tag_name().as_str() {
        "SELECT" | "TEXTAREA" => true,
        "INPUT" => {
            let kind = element.get_attribute("type").unwrap_or_default();
            !matches!(kind.as_str(), "range" | "checkbox" | "radio" | "button")
        }
        _ => false,
    }
}

/// Whether a key event targets a button, which the browser would "click" on Space.
fn is_button_target(event: &KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok())
        .map(|element| element.tag_name() == "BUTTON")
        .unwrap_or(false)
}

/// Whether a key event comes from inside an element marked `data-own-space` (the
/// prediction's choices), where Space presses the focused button as usual instead of
/// playing: the run cannot move until the question is answered anyway.
fn owns_space(event: &KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok())
        .and_then(|element| element.closest("[data-own-space]").ok().flatten())
        .is_some()
}

/// The first state: the page the address names and the progress stored in this
/// browser, both read here at the edge and handed to the reducer as actions. A share
/// link in the address is opened by the worker once the app runs.
fn initial_shell() -> Shell {
    Shell::default()
        .apply(ShellAction::Guide(GuideAction::LoadProgress(super::progress::load())))
        .apply(ShellAction::Guide(GuideAction::Navigate(super::route::current().route)))
}

/// The whole app.
#[function_component(App)]
pub fn app() -> Html {
    let shell = use_reducer(initial_shell);
    use_route_sync(&shell);
    // Progress is written whenever the reducer changed it; never from the reducer.
    use_effect_with(shell.guide.progress.clone(), super::progress::save);
    // One callback for the app's lifetime: children whose other props did not change
    // then skip rendering, which matters at every step of playback.
    let dispatch = {
        let dispatcher = shell.dispatcher();
        (*use_memo((), move |_| Callback::from(move |action: ShellAction| dispatcher.dispatch(action)))).clone()
    };

    // A share link in the address when the page opens.
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            super::share::open_link(&super::download::location_hash(), dispatch);
        });
    }

    // Keyboard shortcuts, registered once for the lifetime of the app.
    {
        let dispatcher = shell.dispatcher();
        use_effect_with((), move |_| {
            let window = gloo::utils::window();
            let options = EventListenerOptions::enable_prevent_default();
            let keydown = EventListener::new_with_options(&window, "keydown", options, {
                move |event| {
                    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    // A focused component handled the key already (Enter on a service,
                    // the arrows in a menu); the page's meaning of it must not follow.
                    // Ctrl+R must still reload the page, Alt+← still go back in history.
                    if event.default_prevented() || event.ctrl_key() || event.meta_key() || event.alt_key() {
                        return;
                    }
                    if is_typing_target(event) && event.key() != "Escape" {
                        return;
                    }
                    if event.key() == " " && owns_space(event) {
                        return;
                    }
                    if let Some(action) = action_for_key(&event.key()) {
                        event.prevent_default();
                        dispatcher.dispatch(action);
                    }
                }
            });
            // A focused button is activated by Space on key-up; Space is already
            // play/pause, so cancel that second meaning.
            let keyup = EventListener::new_with_options(&window, "keyup", options, |event| {
                if let Some(event) = event.dyn_ref::<KeyboardEvent>() {
                    if event.key() == " " && is_button_target(event) && !owns_space(event) {
                        event.prevent_default();
                    }
                }
            });
            move || drop((keydown, keyup))
        });
    }

    // The playback ticker exists only while playing, at the chosen speed.
    {
        let dispatcher = shell.dispatcher();
        use_effect_with((shell.playing, shell.speed_steps_per_second), move |&(playing, steps_per_second)| {
            let ticker = playing.then(|| {
                let period_ms = 1000 / steps_per_second.max(1);
                Interval::new(period_ms, move || dispatcher.dispatch(ShellAction::Tick))
            });
            move || drop(ticker)
        });
    }

    // Running to the end goes a slice at a time, yielding to the browser in between so
    // the progress counter is painted: a zero-delay timer asks for the next slice.
    {
        let dispatcher = shell.dispatcher();
        use_effect_with((shell.running_to_end, shell.revision), move |&(running, _)| {
            let timer = running.then(|| Timeout::new(0, move || dispatcher.dispatch(ShellAction::ContinueToEnd)));
            move || drop(timer)
        });
    }

    let state: Shell = (*shell).clone();
    // The index replaces the simulator; a lesson takes the details column; free play is
    // the simulator with the checklist bar.
    let route = state.guide.route.clone();
    if matches!(route, Route::Index | Route::NotFound(_)) {
        return html! {
            <div class="shell index-page">
                <header class="top-bar">
                    { header(&HeaderProps { scenario: state.scenario_name.clone(), dispatch: dispatch.clone() }) }
                </header>
                { lessons_index(&IndexProps { shell: state.clone(), dispatch: dispatch.clone() }) }
                if let Some(pending) = state.replay.clone() {
                    <ReplayDialog {pending} dispatch={dispatch.clone()} />
                }
                if state.help_open {
                    <HelpOverlay {dispatch} />
                }
            </div>
        };
    }
    let in_lesson = state.guide.lesson.is_some();
    html! {
        <div class={classes!("shell", "with-bar", in_lesson.then_some("lesson-mode"))}>
            // Everything above the workspace is the page's banner landmark: the title
            // and scenario, the file actions and the run controls.
            <header class="top-bar">
                { header(&HeaderProps { scenario: state.scenario_name.clone(), dispatch: dispatch.clone() }) }
                <FileActions shell={state.clone()} dispatch={dispatch.clone()} />
                <Toolbar ..ToolbarProps::of(&state, dispatch.clone()) />
            </header>
            if in_lesson {
                { lesson_bar(&BarProps { shell: state.clone() }) }
            } else {
                { play_bar(&BarProps { shell: state.clone() }) }
            }
            <main class="workspace">
                { canvas(&RegionProps { shell: state.clone(), dispatch: dispatch.clone() }) }
                if in_lesson {
                    { lesson_panel(&PanelProps { shell: state.clone(), dispatch: dispatch.clone() }) }
                } else {
                    { details(&DetailsProps { shell: state.clone(), dispatch: dispatch.clone() }) }
                }
                <EventLog shell={state.clone()} dispatch={dispatch.clone()} />
            </main>
            <Timeline shell={state.clone()} dispatch={dispatch.clone()} />
            if let Some(pending) = state.replay.clone() {
                <ReplayDialog {pending} dispatch={dispatch.clone()} />
            }
            if state.help_open {
                <HelpOverlay {dispatch} />
            }
        </div>
    }
}
