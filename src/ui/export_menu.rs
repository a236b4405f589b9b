//! The Export menu: the run as files, in every format the core writes.
//!
//! Each item hands the run's configuration and step to the background worker
//! ([`super::worker`]), which replays it and writes the file; then the page offers the
//! download. Nothing is cached, so a file is always the run as it stands on screen, up
//! to the current step. The menu stays open after a download and says what
//! was saved, so several formats can be taken in a row. Like every menu it takes the
//! focus when it opens, moves it with the arrow keys and gives it back to the Export
//! button when it closes; Escape closes it wherever the focus is (see `menu`).

use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::download::download;
use super::menu::{on_menu_keydown, use_menu_focus};
use super::perfetto_open::{hand_over, open_in_perfetto, Handover};
use super::state::Shell;
use super::worker::ask;
use crate::export::jobs::{Answer, Format, Job};
use crate::export::share::payload_json;
use crate::sim::simulation::Simulation;

/// The item's `data-format` attribute, which the end-to-end tests click by.
fn id(format: Format) -> &'static str {
    match format {
        Format::Trace => "Trace",
        Format::CloudEventsBatch => "CloudEventsBatch",
        Format::CloudEventsLines => "CloudEventsLines",
        Format::MermaidRun => "MermaidRun",
        Format::MermaidCorrelation => "MermaidCorrelation",
        Format::Perfetto => "Perfetto",
        Format::AsyncApi => "AsyncApi",
    }
}

fn label(format: Format) -> &'static str {
    match format {
        Format::Trace => "Trace file",
        Format::CloudEventsBatch => "CloudEvents batch",
        Format::CloudEventsLines => "CloudEvents JSON Lines",
        Format::MermaidRun => "Mermaid diagram",
        Format::MermaidCorrelation => "Mermaid diagram of the selected flow",
        Format::Perfetto => "Perfetto trace",
        Format::AsyncApi => "AsyncAPI document",
    }
}

fn explain(format: Format) -> &'static str {
    match format {
        Format::Trace => {
            "The run itself: import it here or run `eventscope-cli replay` on it to get this exact run back."
        }
        Format::CloudEventsBatch => "Every published event as CloudEvents 1.0, one JSON array.",
        Format::CloudEventsLines => "The same events, one per line.",
        Format::MermaidRun => "A sequence diagram of every delivery; GitHub renders it.",
        Format::MermaidCorrelation => "Only the messages sharing the selected message's correlation id.",
        Format::Perfetto => "A timeline of every handling with flow arrows and queue depths, for ui.perfetto.dev.",
        Format::AsyncApi => "The scenario's topics, senders and receivers as AsyncAPI 3.0.",
    }
}

/// The job that exports the run on screen: its configuration and step, which the
/// worker replays.
pub fn export_job(sim: &Simulation, format: Format, correlation: Option<String>) -> Job {
    Job::Export { run: payload_json(sim.config(), sim.step_index()), format, correlation }
}

/// Exports in the background worker, then offers the file for download; `report` gets
/// a sentence for the user and whether it went well.
pub fn export_and_download(job: Job, report: impl Fn(bool, String) + 'static) {
    ask(&job, move |answer| match answer {
        Answer::File { name, mime, text } => report_download(&name, &mime, &text, &report),
        Answer::Refused { problems, .. } => {
            report(false, format!("The file could not be written: {}.", sentences(&problems)))
        }
        _ => report(false, "The file could not be written.".to_string()),
    });
}

fn report_download(name: &str, mime: &str, text: &str, report: &dyn Fn(bool, String)) {
    match download(name, mime, text) {
        Ok(()) => report(true, format!("Saved {name} ({} bytes).", text.len())),
        Err(e) => report(false, format!("{name} could not be saved: {e}")),
    }
}

/// Problems as one sentence each, joined.
pub fn sentences(problems: &[(String, String)]) -> String {
    let parts: Vec<String> = problems
        .iter()
        .map(|(path, message)| if path.is_empty() { message.clone() } else { format!("{path}: {message}") })
        .collect();
    parts.join("; ")
}

#[derive(Properties, PartialEq)]
pub struct ExportMenuProps {
    pub shell: Shell,
    pub on_close: Callback<()>,
}

/// The dropdown under the Export button.
#[function_component(ExportMenu)]
pub fn export_menu(props: &ExportMenuProps) -> Html {
    let status = use_state(|| None::<(bool, String)>);
    let list = use_node_ref();
    use_menu_focus(list.clone());
    {
        // Escape closes the menu from anywhere on the page, as it closes every menu.
        let on_close = props.on_close.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&gloo::utils::window(), "keydown", move |event| {
                if event.dyn_ref::<KeyboardEvent>().is_some_and(|e| e.key() == "Escape") {
                    on_close.emit(());
                }
            });
            move || drop(listener)
        });
    }
    let shell = &props.shell;
    let correlation: Option<String> =
        shell.selected.and_then(|id| shell.sim.borrow().message(id).and_then(|m| m.envelope.correlation_id.clone()));
    let item = |format: Format| {
        let onclick = {
            let sim = shell.sim.clone();
            let status = status.clone();
            let correlation = correlation.clone();
            Callback::from(move |_: MouseEvent| {
                let job = export_job(&sim.borrow(), format, correlation.clone());
                status.set(Some((true, format!("Writing the file: {}\u{2026}", label(format)))));
                let status = status.clone();
                export_and_download(job, move |ok, text| status.set(Some((ok, text))));
            })
        };
        let unavailable = format == Format::MermaidCorrelation && correlation.is_none();
        let (suffix, _) = format.suffix_and_mime();
        let explanation = match (format, &correlation) {
            (Format::MermaidCorrelation, Some(c)) => format!("Only the messages of correlation id {c}."),
            (Format::MermaidCorrelation, None) => "Select a message first (in the log or the topology).".to_string(),
            _ => explain(format).to_string(),
        };
        html! {
            <li role="none">
                <button type="button" class="menu-item" role="menuitem" disabled={unavailable}
                    data-format={id(format)} {onclick}>
                    <span class="menu-label">{ label(format) }<span class="menu-suffix">{ suffix }</span></span>
                    <span class="menu-explain">{ explanation }</span>
                </button>
            </li>
        }
    };
    let on_perfetto = {
        let sim = shell.sim.clone();
        let status = status.clone();
        Callback::from(move |_: MouseEvent| {
            let sim = sim.borrow();
            let title =
                format!("Eventscope {} seed {} (step {})", sim.config().scenario.name, sim.seed(), sim.step_index());
            let report = {
                let status = status.clone();
                Callback::from(move |handover: Handover| {
                    status.set(Some(match handover {
                        Handover::Waiting => (true, "Opening Perfetto in a new window\u{2026}".to_string()),
                        Handover::Sent => {
                            (true, "Sent the trace to Perfetto: it opens in the other window.".to_string())
                        }
                        Handover::Failed(why) => (false, why),
                    }))
                })
            };
            let generation = open_in_perfetto(title, report);
            ask(&export_job(&sim, Format::Perfetto, None), move |answer| {
                hand_over(
                    generation,
                    match answer {
                        Answer::File { text, .. } => Ok(text),
                        Answer::Refused { problems, .. } => {
                            Err(format!("The trace could not be written: {}", sentences(&problems)))
                        }
                        _ => Err("The trace could not be written.".to_string()),
                    },
                )
            });
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    html! {
        <div class="popover export-menu">
            <div class="menu-head">
                <strong id="export-menu-title">{ format!("Export the run up to step {}", shell.step) }</strong>
                <button type="button" class="menu-close" aria-label="Close the export menu" onclick={close}>{ "\u{2715}" }</button>
            </div>
            <ul role="menu" aria-labelledby="export-menu-title" ref={list} onkeydown={on_menu_keydown()}>
                { for Format::ALL.iter().map(|&format| item(format)) }
                <li role="none">
                    <button type="button" class="menu-item perfetto-open" role="menuitem" onclick={on_perfetto}>
                        <span class="menu-label">{ "Open in Perfetto \u{2197}" }</span>
                        <span class="menu-explain">{ "Opens ui.perfetto.dev in a new window and hands it the trace; nothing is uploaded." }</span>
                    </button>
                </li>
            </ul>
            if let Some((ok, text)) = &*status {
                <p class={classes!("menu-status", (!ok).then_some("failed"))} role="status">{ text.clone() }</p>
            }
        </div>
    }
}
