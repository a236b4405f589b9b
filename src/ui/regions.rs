//! The frame of the screen: header, the topology canvas with its notices, and the
//! timeline with the run's status.
//!
//! Until a run has produced something to show, each region displays an empty state
//! that says what will appear there and explains the concept in one sentence, so a
//! newcomer learns the vocabulary before pressing anything. The texts live next to the
//! region they describe.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::details::emit_on_click;
use super::icons::{icon_view, Icon};
use super::state::{CanvasView, Notice, Shell, ShellAction};
use super::topology::{open_fault_menu, Topology};
use crate::sim::health::InvariantState;
use crate::sim::scenario::{catalog, ScenarioSummary};
use crate::sim::simulation::Finish;

/// The text a region shows while it has nothing to display: `what` will appear there,
/// and `concept` is one sentence explaining the concept behind the region. (A plain
/// function: a component type costs Yew's machinery in the binary for no state.)
pub fn empty_state(what: &'static str, concept: &'static str) -> Html {
    html! {
        <div class="empty-state">
            <p class="empty-what">{ what }</p>
            <p class="empty-concept">{ concept }</p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub scenario: String,
    pub dispatch: Callback<ShellAction>,
}

/// The top bar: product name, scenario picker with its summary, and the help button.
/// The page puts it in its `<header>` landmark, with whatever else belongs up there.
pub fn header(props: &HeaderProps) -> Html {
    let scenarios = catalog();
    let current = scenarios.iter().find(|s| s.name == props.scenario.as_str());
    let on_pick = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            dispatch.emit(ShellAction::PickScenario(select.value()));
        })
    };
    let on_help = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::ToggleHelp)
    };
    html! {
        <div class="app-header">
            <div class="brand">
                <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
                    <circle cx="7" cy="16" r="4" />
                    <circle cx="25" cy="8" r="4" />
                    <circle cx="25" cy="24" r="4" />
                    <path d="M11 15l10-5M11 17l10 5" />
                </svg>
                <div>
                    <h1>{ "Eventscope" }</h1>
                    <p class="tagline">{ "Event-driven architecture, one step at a time" }</p>
                </div>
            </div>
            <div class="scenario-picker">
                <label for="scenario-select" class="field-label">{ "Scenario" }</label>
                <select id="scenario-select" onchange={on_pick}
                    title="The system to simulate: its services, topics and workload">
                    { for scenarios.iter().map(|s| scenario_option(s, &props.scenario)) }
                    // A scenario from the editor, a trace file or a link has no entry of its own.
                    if current.is_none() {
                        <option value="" selected=true disabled=true>{ format!("{} (your own)", props.scenario) }</option>
                    }
                </select>
                <p class="scenario-summary">
                    { current.map(|s| s.summary).unwrap_or("Your own scenario: change it with Edit scenario, or pick a built-in.") }
                </p>
            </div>
            // The visible word is part of the accessible name, so a person using
            // speech input can say what they see.
            <button type="button" class="control help-button" onclick={on_help}
                aria-label="Keyboard shortcuts" title="Show the keyboard shortcuts (?)"
                aria-keyshortcuts="?">
                { icon_view(Icon::Keyboard) }
                <span class="control-text">{ "Shortcuts" }</span>
            </button>
        </div>
    }
}

fn scenario_option(scenario: &ScenarioSummary, current: &str) -> Html {
    html! {
        <option value={scenario.name} selected={scenario.name == current}>
            { scenario.title }
        </option>
    }
}

#[derive(Properties, PartialEq)]
pub struct RegionProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

/// The main canvas: the scenario's topology, with the notice about the last change.
pub fn canvas(props: &RegionProps) -> Html {
    let shell = &props.shell;
    let title = shell.scenario.title.clone();
    let dismiss = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::DismissNotice)
    };
    let notice = shell.notice.as_ref().map(|notice| {
        let (class, text) = match notice {
            Notice::Forked { step, discarded_steps, discarded_faults } => (
                "notice fork",
                format!(
                    "Forked at step {step}: the fault changed history, so the future is recomputed from here ({discarded_steps} step{} of the old future discarded{}).",
                    if *discarded_steps == 1 { "" } else { "s" },
                    if *discarded_faults > 0 { format!(", with {discarded_faults} later fault(s)") } else { String::new() }
                ),
            ),
            Notice::Refused(text) => ("notice refused", text.clone()),
            Notice::Rebuilt(text) => ("notice rebuilt", text.clone()),
        };
        html! {
            <div class={class} role="status">
                <span>{ text }</span>
                <button type="button" class="menu-close" aria-label="Dismiss the notice" onclick={dismiss.clone()}>{ "\u{2715}" }</button>
            </div>
        }
    });
    html! {
        <section class="region canvas" aria-labelledby="topology-title">
            <div class="region-head">
                <h2 id="topology-title">{ match shell.canvas { CanvasView::Topology => "Topology", CanvasView::Sequence => "Sequence", CanvasView::Compare => "Side by side" } }</h2>
                if shell.canvas != CanvasView::Compare {
                    <span class="region-note">{ title }</span>
                }
                { canvas_switch(shell.canvas, &props.dispatch) }
            </div>
            { for notice }
            // A run stopped by a limit says so until the run changes: the steps before it
            // are all there to inspect, and the error names the handler, field and step.
            if let Some(halt) = (shell.finished == Some(Finish::Halted) && shell.step == shell.horizon)
                .then(|| shell.sim.borrow().halted().map(ToString::to_string))
                .flatten()
            {
                <div class="notice halted" role="alert">
                    <span>
                        <strong>{ "The run stopped at a limit. " }</strong>
                        { halt }
                        { ". Every step before it is recorded; change the scenario so it cannot grow without bound, then apply it again." }
                    </span>
                </div>
            }
            { match shell.canvas {
                CanvasView::Topology => html! { <Topology shell={shell.clone()} dispatch={props.dispatch.clone()} /> },
                CanvasView::Sequence => super::sequence::sequence_view(&super::sequence::SequenceViewProps { shell: shell.clone(), dispatch: props.dispatch.clone() }),
                CanvasView::Compare => html! { <super::compare::CompareView shell={shell.clone()} dispatch={props.dispatch.clone()} /> },
            } }
            // Over any view: a log row opens the menu while the sequence is shown, too.
            { open_fault_menu(shell, &props.dispatch) }
        </section>
    }
}

/// The buttons that switch the canvas between its three views.
fn canvas_switch(current: CanvasView, dispatch: &Callback<ShellAction>) -> Html {
    let views = [
        (CanvasView::Topology, "Topology", "Services, topics and queues, with every message where it is now"),
        (CanvasView::Sequence, "Sequence", "Time flows down: who sent what to whom, failures and compensations"),
        (CanvasView::Compare, "Side by side", "The checkout as choreography and as orchestration, stepped together"),
    ];
    html! {
        <div class="canvas-switch" role="tablist" aria-label="Canvas view">
            { for views.iter().map(|(view, label, explain)| {
                let view = *view;
                let dispatch = dispatch.clone();
                let onclick = emit_on_click(&dispatch, ShellAction::ShowCanvas(view));
                html! {
                    <button type="button" role="tab" class={classes!("canvas-tab", (view == current).then_some("active"))}
                        aria-selected={(view == current).to_string()} title={*explain} {onclick}>{ *label }</button>
                }
            }) }
        </div>
    }
}

/// The timeline along the bottom: a scrubber over every computed step, the run's
/// status, and the trace hash once the run is complete.
#[function_component(Timeline)]
pub fn timeline(props: &RegionProps) -> Html {
    let shell = &props.shell;
    // The hash covers the whole trace: computed once per finished position, not per render.
    let hash = {
        let sim = shell.sim.clone();
        let complete = shell.finished.is_some() && shell.step == shell.horizon;
        use_memo((shell.run_id, shell.revision, complete), move |(_, _, complete)| {
            complete.then(|| format!("{:016x}", sim.borrow().trace_hash()))
        })
    };
    let on_scrub = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(step) = input.value().parse::<u64>() {
                dispatch.emit(ShellAction::RewindTo(step));
            }
        })
    };
    let status = run_status(shell);
    html! {
        <section class="region timeline" aria-labelledby="timeline-title">
            <h2 id="timeline-title" class="timeline-title">{ "Timeline" }</h2>
            <input type="range" class="scrubber" min="0" max={shell.horizon.to_string()} value={shell.step.to_string()}
                aria-label="Jump to step" title="Drag to jump to any computed step" disabled={shell.horizon == 0}
                oninput={on_scrub} />
            <span class={classes!("run-status", status.1)}>{ status.0 }</span>
            <span class="trace-hash" title="A fingerprint of the whole trace: the same scenario, seed and faults give the same hash here and in eventscope-cli">
                { "trace hash " }
                <code class="hash-value">{ (*hash).clone().unwrap_or_else(|| "at the end of the run".into()) }</code>
            </span>
        </section>
    }
}

/// What the run is doing, in words, with a class for its colour.
pub fn run_status(shell: &Shell) -> (String, &'static str) {
    let time_ms = shell.sim.borrow().now_ms();
    if shell.running_to_end {
        return (format!("computing\u{2026} step {}", shell.step), "busy");
    }
    if shell.step == 0 && shell.horizon == 0 {
        return ("ready at 0 ms: press Play".into(), "idle");
    }
    match shell.finished {
        Some(Finish::Quiescent) if shell.step == shell.horizon => {
            // Settled is not the same as done: a stopped service may hold a backlog, and
            // work parked in a DLQ or a stuck saga leaves the verdicts pending.
            let sim = shell.sim.borrow();
            if let Some((service, waiting)) = sim.stranded().first() {
                return (
                    format!("settled at {time_ms} ms: {waiting} message(s) wait for {service}, which is down"),
                    "limit",
                );
            }
            let health = sim.health();
            let parked = health.invariants.iter().find_map(|i| match &i.state {
                InvariantState::Pending(reasons) => reasons.first().cloned(),
                _ => None,
            });
            match parked {
                Some(reason) => (format!("settled at {time_ms} ms with work parked: {reason}"), "limit"),
                None => (format!("finished at {time_ms} ms: nothing left to do"), "done"),
            }
        }
        Some(Finish::Halted) if shell.step == shell.horizon => {
            (format!("stopped at step {} by a limit: the run cannot grow further", shell.step), "halted")
        }
        Some(Finish::StepLimit) if shell.step == shell.horizon => {
            (format!("stopped at the step limit ({} steps) with work left", shell.steps_max), "limit")
        }
        _ if shell.playing => (format!("playing \u{b7} {time_ms} ms simulated"), "busy"),
        _ => (format!("paused at {time_ms} ms simulated"), "idle"),
    }
}
