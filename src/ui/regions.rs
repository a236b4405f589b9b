//! The regions of the screen: header, topology canvas, side panels and timeline.
//!
//! Until a run has produced something to show, each region displays an empty state
//! that says what will appear there and explains the concept in one sentence, so a
//! newcomer learns the vocabulary before pressing anything. The texts live next to the
//! region they describe.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::icons::{Icon, IconView};
use super::state::{Shell, ShellAction};
use crate::sim::scenario::{catalog, ScenarioSummary};

#[derive(Properties, PartialEq)]
pub struct EmptyStateProps {
    /// What will appear in the region.
    pub what: AttrValue,
    /// One sentence explaining the concept behind the region.
    pub concept: AttrValue,
}

/// The text a region shows while it has nothing to display.
#[function_component(EmptyState)]
pub fn empty_state(props: &EmptyStateProps) -> Html {
    html! {
        <div class="empty-state">
            <p class="empty-what">{ props.what.clone() }</p>
            <p class="empty-concept">{ props.concept.clone() }</p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub scenario: AttrValue,
    pub dispatch: Callback<ShellAction>,
}

/// The top bar: product name, scenario picker with its summary, and the help button.
#[function_component(Header)]
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
        Callback::from(move |_: MouseEvent| dispatch.emit(ShellAction::ToggleHelp))
    };
    html! {
        <header class="app-header">
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
                </select>
                <p class="scenario-summary">
                    { current.map(|s| s.summary).unwrap_or("Pick a scenario to simulate.") }
                </p>
            </div>
            <button type="button" class="control help-button" onclick={on_help}
                aria-label="Keyboard shortcuts" title="Show the keyboard shortcuts (?)"
                aria-keyshortcuts="?">
                <IconView icon={Icon::Keyboard} />
                <span class="control-text">{ "Keys" }</span>
            </button>
        </header>
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
}

/// The main canvas: the scenario's topology drawn as SVG.
#[function_component(Canvas)]
pub fn canvas(props: &RegionProps) -> Html {
    let scenarios = catalog();
    let title = scenarios.iter().find(|s| s.name == props.shell.scenario).map(|s| s.title).unwrap_or("No scenario");
    html! {
        <section class="region canvas" aria-labelledby="topology-title">
            <div class="region-head">
                <h2 id="topology-title">{ "Topology" }</h2>
                <span class="region-note">{ title }</span>
            </div>
            <div class="canvas-body">
                <svg class="topology" viewBox="0 0 800 480" preserveAspectRatio="xMidYMid slice"
                    role="img" aria-label="Topology of the scenario: services, topics and queues">
                    <defs>
                        <pattern id="topology-grid" width="24" height="24" patternUnits="userSpaceOnUse">
                            <circle cx="2" cy="2" r="1.2" class="grid-dot" />
                        </pattern>
                    </defs>
                    <rect width="800" height="480" fill="url(#topology-grid)" />
                </svg>
                <EmptyState
                    what="The scenario's services, topics and queues will be drawn here, with a token moving along an edge each time a message travels."
                    concept="A topic is a named channel: publishers send to it, and every subscription gets its own queue with its own copy of each event." />
            </div>
        </section>
    }
}

/// The side panels: event log, envelope inspector and invariants.
#[function_component(SidePanels)]
pub fn side_panels(_props: &RegionProps) -> Html {
    html! {
        <aside class="side-panels" aria-label="Details of the run">
            <section class="region panel" aria-labelledby="log-title">
                <div class="region-head"><h2 id="log-title">{ "Event log" }</h2></div>
                <EmptyState
                    what="No events yet. Each step adds a line: what was published, delivered, retried or dead-lettered."
                    concept="An event is a fact that already happened, named in the past tense: OrderPlaced." />
            </section>
            <section class="region panel" aria-labelledby="inspector-title">
                <div class="region-head"><h2 id="inspector-title">{ "Envelope inspector" }</h2></div>
                <EmptyState
                    what="Select an event in the log to see its envelope and what caused it."
                    concept="The envelope is the metadata every message carries (id, type, source, time, correlation id)." />
            </section>
            <section class="region panel" aria-labelledby="invariants-title">
                <div class="region-head"><h2 id="invariants-title">{ "Invariants" }</h2></div>
                <EmptyState
                    what="Rules such as \u{201c}no event is lost\u{201d} will be listed here, marked pass or fail at this step."
                    concept="An invariant must hold after every step; the step that breaks one is highlighted." />
            </section>
        </aside>
    }
}

/// The timeline along the bottom: one mark per step, the current one highlighted.
#[function_component(Timeline)]
pub fn timeline(props: &RegionProps) -> Html {
    let shell = &props.shell;
    // Position of the cursor as a fraction of the width, in SVG user units, so no inline
    // style is needed (the Content-Security-Policy forbids inline styles). An empty run
    // (horizon 0) has no position and shows the empty state instead.
    let body = match (1000 * shell.step).checked_div(shell.horizon) {
        None => html! {
            <EmptyState
                what="Each step of the run will become a mark on this line; jump between steps with ←, →, Home and End."
                concept="Runs are deterministic: the same scenario and seed replay exactly the same steps, which is what lets you rewind." />
        },
        Some(x) => html! {
            <svg class="timeline-track" viewBox="0 0 1000 20" preserveAspectRatio="none"
                role="img" aria-label={format!("Step {} of {}", shell.step, shell.horizon)}>
                <rect class="track" x="0" y="8" width="1000" height="4" />
                <rect class="progress" x="0" y="8" width={x.to_string()} height="4" />
                <rect class="cursor" x={x.saturating_sub(3).to_string()} y="2" width="6" height="16" />
            </svg>
        },
    };
    html! {
        <section class="region timeline" aria-labelledby="timeline-title">
            <div class="region-head"><h2 id="timeline-title">{ "Timeline" }</h2></div>
            { body }
        </section>
    }
}
