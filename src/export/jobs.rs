//! The work the app hands to its background worker: exports, share-link coding and
//! trace import.
//!
//! These are the parts of the app a person uses now and then, and they carry a good
//! share of the code (five file formats, deflate, base64, the trace importer). The page
//! would download all of it before the first frame; instead a second, smaller program
//! of the same crate runs them in a Web Worker that starts on first use. The two sides
//! share no memory, so a job names the run by its configuration (the share-link
//! payload, [`share::payload_json`]) and the worker replays it: a run is a pure function
//! of that configuration, so the replayed run is the one on screen. Replaying off the
//! page's thread also keeps the page responsive while a long run is exported.
//!
//! [`answer`] is a pure function, tested natively; the worker only moves a job's JSON
//! text and the answer's strings ([`Answer::to_strings`]) across `postMessage`. Every failure is an [`Answer::Refused`]
//! with paths and sentences, never a panic.

use serde::{Deserialize, Serialize};

use super::share::{self, decode_payload, ShareTooLong, SharedRun};
use super::{asyncapi, cloudevents, export_trace, import_trace, mermaid, perfetto, ImportError};
use crate::export::trace_file::FILE_SUFFIX;
use crate::sim::scenario::ScenarioErrors;
use crate::sim::simulation::Simulation;

/// One export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

    /// The file name's ending and the media type.
    pub fn suffix_and_mime(self) -> (&'static str, &'static str) {
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

/// A job for the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    /// One export of the run that `run` (a share payload) describes.
    Export { run: String, format: Format, correlation: Option<String> },
    /// The share-link parameter (`s=…`) for `run`.
    Share { run: String },
    /// The run inside a share link (a URL or fragment).
    OpenLink { link: String },
    /// The run of a trace file, replayed and checked against the file.
    Import { text: String },
}

/// The worker's answer to a [`Job`].
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A file to save.
    File { name: String, mime: String, text: String },
    /// A share-link parameter.
    Param { param: String },
    /// A run to restore, as a share payload; `trace_hash` when it was checked against a file.
    Run { run: String, trace_hash: Option<u64> },
    /// The job could not be done: each problem with its JSON path (empty for the whole
    /// input). `mismatch` when a valid trace file did not reproduce.
    Refused { problems: Vec<(String, String)>, mismatch: bool },
}

impl Answer {
    fn refused(errors: ScenarioErrors) -> Answer {
        Answer::Refused { problems: errors.0.into_iter().map(|e| (e.path, e.message)).collect(), mismatch: false }
    }

    fn whole(message: String) -> Answer {
        Answer::Refused { problems: vec![(String::new(), message)], mismatch: false }
    }
}

/// Does one job.
pub fn answer(job: Job) -> Answer {
    match job {
        Job::Export { run, format, correlation } => match replay(&run) {
            Ok(sim) => {
                let (name, text) = export(&sim, format, correlation.as_deref());
                Answer::File { name, mime: format.suffix_and_mime().1.to_string(), text }
            }
            Err(errors) => Answer::refused(errors),
        },
        Job::Share { run } => match share::encode_param(&run) {
            Ok(param) => Answer::Param { param },
            Err(ShareTooLong { chars }) => Answer::whole(ShareTooLong { chars }.to_string()),
        },
        // The page reads the payload itself (it must, to restore the run), so its
        // problems are reported there; here only the link's coding is undone.
        Job::OpenLink { link } => match share::decode_param(&link) {
            Ok(run) => Answer::Run { run, trace_hash: None },
            Err(errors) => Answer::refused(errors),
        },
        Job::Import { text } => match import_trace(&text) {
            Ok(imported) => Answer::Run {
                run: share::payload_json(&imported.config, imported.step),
                trace_hash: Some(imported.trace_hash),
            },
            Err(ImportError::Invalid(errors)) => Answer::refused(errors),
            Err(mismatch) => Answer::Refused { problems: vec![(String::new(), mismatch.to_string())], mismatch: true },
        },
    }
}

/// [`answer`] to a job given as JSON text, as the worker receives it.
pub fn answer_text(job: &str) -> Answer {
    match serde_json::from_str::<Job>(job) {
        Ok(job) => answer(job),
        // Only a page and worker of different builds could disagree on the format.
        Err(e) => Answer::whole(format!("the worker did not understand the page ({e}); reload the page")),
    }
}

impl Answer {
    /// The answer as a flat list of strings, the form it crosses `postMessage` in: a
    /// kind, then its fields. The page reads it back with [`Answer::from_strings`],
    /// which is a few lines instead of a JSON reader for every answer type.
    pub fn to_strings(self) -> Vec<String> {
        match self {
            Answer::File { name, mime, text } => vec!["file".into(), name, mime, text],
            Answer::Param { param } => vec!["param".into(), param],
            Answer::Run { run, trace_hash } => {
                vec!["run".into(), run, trace_hash.map(|h| h.to_string()).unwrap_or_default()]
            }
            Answer::Refused { problems, mismatch } => {
                let mut out = vec!["refused".into(), if mismatch { "mismatch" } else { "" }.into()];
                for (path, message) in problems {
                    out.push(path);
                    out.push(message);
                }
                out
            }
        }
    }

    /// Reads [`Answer::to_strings`]' form; `None` for anything else.
    pub fn from_strings(mut parts: Vec<String>) -> Option<Answer> {
        if parts.is_empty() {
            return None;
        }
        let kind = parts.remove(0);
        let mut parts = parts.into_iter();
        let mut next = || parts.next();
        let answer = match kind.as_str() {
            "file" => Answer::File { name: next()?, mime: next()?, text: next()? },
            "param" => Answer::Param { param: next()? },
            "run" => {
                let run = next()?;
                let hash = next()?;
                Answer::Run { run, trace_hash: if hash.is_empty() { None } else { Some(hash.parse().ok()?) } }
            }
            "refused" => {
                let mismatch = next()? == "mismatch";
                let mut problems = Vec::new();
                while let Some(path) = next() {
                    problems.push((path, next()?));
                }
                Answer::Refused { problems, mismatch }
            }
            _ => return None,
        };
        Some(answer)
    }
}

/// The run a share payload describes, replayed to its step.
pub fn replay(run: &str) -> Result<Simulation, ScenarioErrors> {
    let SharedRun { config, step } = decode_payload(run)?;
    let mut sim = Simulation::new(config)?;
    sim.rewind_to(step);
    Ok(sim)
}

/// The file name and text of one export of `sim` (`correlation` for the flow diagram).
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

/// A file name from a scenario name and a seed: `checkout-seed7` plus `suffix`.
pub fn file_name(scenario: &str, seed: u64, suffix: &str) -> String {
    format!("{}-seed{seed}{suffix}", safe_stem(scenario))
}

/// A scenario name as the start of a file name. Names typed in the editor keep only
/// characters every file system accepts.
pub fn safe_stem(scenario: &str) -> String {
    let safe: String = scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .take(64)
        .collect();
    if safe.trim_matches('.').is_empty() {
        "run".to_string()
    } else {
        safe
    }
}
