//! The Export menu: the run as files, in every format the core writes.
//!
//! Each item is one pure export function of the run (`crate::export`) followed by one
//! download effect; nothing is cached, so a file is always the run as it stands on
//! screen, up to the current step. The menu stays open after a download and says what
//! was saved, so several formats can be taken in a row.

use yew::prelude::*;

use super::download::{download, file_name, safe_stem};
use super::perfetto_open::{open_in_perfetto, Handover};
use super::state::Shell;
use crate::export::trace_file::FILE_SUFFIX;
use crate::export::{asyncapi, cloudevents, export_trace, mermaid, perfetto};
use crate::sim::simulation::Simulation;

/// One format of the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Trace,
    CloudEventsBatch,
    CloudEventsLines,
    MermaidRun,
    MermaidCorrelation,
    Perfetto,
    AsyncApi,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Trace,
        Format::CloudEventsBatch,
        Format::CloudEventsLines,
        Format::MermaidRun,
        Format::MermaidCorrelation,
        Format::Perfetto,
        Format::AsyncApi,
    ];

    /// The item's `data-format` attribute, which the end-to-end tests click by.
    fn id(self) -> &'static str {
        match self {
            Format::Trace => "Trace",
            Format::CloudEventsBatch => "CloudEventsBatch",
            Format::CloudEventsLines => "CloudEventsLines",
            Format::MermaidRun => "MermaidRun",
            Format::MermaidCorrelation => "MermaidCorrelation",
            Format::Perfetto => "Perfetto",
            Format::AsyncApi => "AsyncApi",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Format::Trace => "Trace file",
            Format::CloudEventsBatch => "CloudEvents batch",
            Format::CloudEventsLines => "CloudEvents JSON Lines",
            Format::MermaidRun => "Mermaid diagram",
            Format::MermaidCorrelation => "Mermaid diagram of the selected flow",
            Format::Perfetto => "Perfetto trace",
            Format::AsyncApi => "AsyncAPI document",
        }
    }

    fn explain(self) -> &'static str {
        match self {
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

    /// The file name ending and its media type.
    fn suffix_and_mime(self) -> (&'static str, &'static str) {
        match self {
            Format::Trace => (FILE_SUFFIX, "application/json"),
            Format::CloudEventsBatch => (".cloudevents.json", cloudevents::BATCH_CONTENT_TYPE),
            Format::CloudEventsLines => (".cloudevents.jsonl", "application/jsonl"),
            Format::MermaidRun | Format::MermaidCorrelation => (".mmd", "text/vnd.mermaid"),
            Format::Perfetto => (".perfetto.json", "application/json"),
            Format::AsyncApi => (".asyncapi.json", "application/json"),
        }
    }
}

/// The text and file name of one export of `sim` (`correlation` for the flow diagram).
pub fn export(sim: &Simulation, format: Format, correlation: Option<&str>) -> (String, String) {
    let config = sim.config();
    let (suffix, _) = format.suffix_and_mime();
    let name = |suffix: &str| file_name(&config.scenario.name, config.seed, suffix);
    match format {
        Format::Trace => (name(suffix), export_trace(sim)),
        Format::CloudEventsBatch => (name(suffix), cloudevents::to_batch(sim)),
        Format::CloudEventsLines => (name(suffix), cloudevents::to_json_lines(sim)),
        Format::MermaidRun => (name(suffix), mermaid::sequence_diagram(sim, None)),
        Format::MermaidCorrelation => {
            let tail = correlation.map(|c| format!("-{c}{suffix}")).unwrap_or_else(|| suffix.to_string());
            (name(&tail), mermaid::sequence_diagram(sim, correlation))
        }
        Format::Perfetto => (name(suffix), perfetto::to_json(sim)),
        // The topology does not depend on the seed.
        Format::AsyncApi => {
            (format!("{}{suffix}", safe_stem(&config.scenario.name)), asyncapi::to_json(&config.scenario))
        }
    }
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
    let shell = &props.shell;
    let correlation: Option<String> =
        shell.selected.and_then(|id| shell.sim.borrow().message(id).and_then(|m| m.envelope.correlation_id.clone()));
    let item = |format: Format| {
        let onclick = {
            let sim = shell.sim.clone();
            let status = status.clone();
            let correlation = correlation.clone();
            Callback::from(move |_: MouseEvent| {
                let (name, text) = export(&sim.borrow(), format, correlation.as_deref());
                let (_, mime) = format.suffix_and_mime();
                status.set(Some(match download(&name, mime, &text) {
                    Ok(()) => (true, format!("Saved {name} ({} bytes).", text.len())),
                    Err(e) => (false, format!("{name} could not be saved: {e}")),
                }));
            })
        };
        let unavailable = format == Format::MermaidCorrelation && correlation.is_none();
        let (suffix, _) = format.suffix_and_mime();
        let explain = match (format, &correlation) {
            (Format::MermaidCorrelation, Some(c)) => format!("Only the messages of correlation id {c}."),
            (Format::MermaidCorrelation, None) => "Select a message first (in the log or the topology).".to_string(),
            _ => format.explain().to_string(),
        };
        html! {
            <li>
                <button type="button" class="menu-item" role="menuitem" disabled={unavailable}
                    data-format={format.id()} {onclick}>
                    <span class="menu-label">{ format.label() }<span class="menu-suffix">{ suffix }</span></span>
                    <span class="menu-explain">{ explain }</span>
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
            open_in_perfetto(perfetto::to_json(&sim), title, report);
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let on_key = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    html! {
        <div class="popover export-menu" role="menu" aria-label="Export" onkeydown={on_key}>
            <div class="menu-head">
                <strong>{ format!("Export the run up to step {}", shell.step) }</strong>
                <button type="button" class="menu-close" aria-label="Close the export menu" onclick={close}>{ "\u{2715}" }</button>
            </div>
            <ul>
                { for Format::ALL.iter().map(|&format| item(format)) }
                <li>
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
