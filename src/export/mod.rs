//! Exports of a run, and the two ways back in: trace files and share links.
//!
//! Every export is a pure function of a [`Simulation`](crate::sim::Simulation) (and, for the topology
//! document, of its scenario): no clock, no I/O, ordered collections only, so the same
//! run always exports byte-identical files. The UI turns these strings into downloads
//! and URLs; the CLI prints them.
//!
//! | module | what it writes |
//! |---|---|
//! | [`trace_file`] | the canonical `*.eventscope.json`: configuration plus the one-line columns of every step, and its importer, which replays the run and checks it reproduces |
//! | [`cloudevents`] | every published event as a CloudEvents 1.0 structured event: a JSON batch or JSON Lines |
//! | [`mermaid`] | a Mermaid 11 `sequenceDiagram` of the deliveries, for the whole run or one correlation id |
//! | [`perfetto`] | Chrome trace-event JSON for Perfetto: slices per handling, flows, queue counters, saga spans |
//! | [`asyncapi`] | an AsyncAPI 3.0 document of the scenario's topology |
//! | [`share`] | the share-link codec: configuration and step, deflated and base64url-encoded |
//! | [`jobs`] | the jobs the app's background worker does with these: exports, share-link coding, import |
//!
//! Importers treat their input as hostile: every read is bounded in size and depth,
//! errors name the JSON path they concern, and nothing panics.

pub mod asyncapi;
pub mod cloudevents;
pub mod jobs;
pub mod mermaid;
pub mod perfetto;
pub mod share;
pub mod trace_file;

use crate::sim::scenario::{ScenarioError, ScenarioErrors};

pub use share::{decode_share, encode_share, SharedRun};
pub use trace_file::{export_trace, import_trace, ImportError, ImportedTrace};

/// The event type without the simulator's namespace, as the one-line trace shows it.
pub(crate) fn short_type(event_type: &str) -> &str {
    event_type.strip_prefix("io.eventscope.").unwrap_or(event_type)
}

/// Errors of a nested document (a scenario, a fault script) moved under `prefix`, so
/// that they name their place in the enclosing file (`scenario.topics[1].name`).
pub(crate) fn under(prefix: &str, errors: ScenarioErrors) -> ScenarioErrors {
    ScenarioErrors(
        errors
            .0
            .into_iter()
            .map(|e| {
                let path = match e.path.as_str() {
                    "" | "." => prefix.to_string(),
                    p if p.starts_with('[') => format!("{prefix}{p}"),
                    p => format!("{prefix}.{p}"),
                };
                ScenarioError { path, message: e.message }
            })
            .collect(),
    )
}

/// One error at one path.
pub(crate) fn error_at(path: impl Into<String>, message: impl Into<String>) -> ScenarioErrors {
    ScenarioErrors(vec![ScenarioError { path: path.into(), message: message.into() }])
}
