//! The canonical trace file, `*.eventscope.json`: a run you can hand to someone else.
//!
//! ```text
//! { "format": "eventscope-trace", "format_version": 1,
//!   "scenario": {…}, "seed": 1, "faults": {…}, "anti_patterns": [],
//!   "step": 64,
//!   "steps": [ {"step":0,"time_ms":0,"verb":"publish","event":"evt_…","type":"order.placed","where":"orders","detail":"to 1 subscription(s)"}, … ],
//!   "trace_hash": "8c3f0e2a91b4d756" }
//! ```
//!
//! A run is a pure function of (scenario, seed, fault script, anti-patterns), so those
//! four fields *are* the run; `step` says where the viewer stood. The `steps` are the
//! columns of the one-line trace, recorded so that the file is readable on its own and
//! so that importing can prove the run reproduces: the importer replays the
//! configuration to `step` and compares every line, reporting the first step that
//! differs. `trace_hash` is the FNV-1a hash of the one-line forms (the same hash the
//! CLI prints), checked against the recorded steps before anything is replayed.
//!
//! The layout puts one step per line, so two trace files diff line by line.

use std::fmt;

use serde::Deserialize;
use serde_json::error::Category;
use serde_json::Value;

use super::{error_at, under};
use crate::sim::anti_pattern::AntiPattern;
use crate::sim::fault::FaultScript;
use crate::sim::scenario::{Scenario, ScenarioErrors};
use crate::sim::simulation::{RunConfig, Simulation};
use crate::sim::trace::{columns_hash, TraceColumns, TraceLine};

/// The value of the `format` field.
pub const FORMAT: &str = "eventscope-trace";
/// The newest format version this build reads and the one it writes.
pub const FORMAT_VERSION: u64 = 1;
/// Largest trace file accepted, in bytes (20 MiB: about 200,000 steps).
pub const TRACE_BYTES_MAX: usize = 20 << 20;
/// The file name suffix trace files use.
pub const FILE_SUFFIX: &str = ".eventscope.json";

/// Writes the run up to its current step as a canonical trace file.
pub fn export_trace(sim: &Simulation) -> String {
    let config = sim.config();
    let mut out = String::with_capacity(4096 + sim.trace().len() * 120);
    out.push_str("{\n");
    push_field(&mut out, "format", &Value::from(FORMAT));
    push_field(&mut out, "format_version", &Value::from(FORMAT_VERSION));
    push_field(&mut out, "scenario", &config.scenario.to_value());
    push_field(&mut out, "seed", &Value::from(config.seed));
    push_field(&mut out, "faults", &to_value(&config.faults));
    push_field(&mut out, "anti_patterns", &to_value(&config.anti_patterns));
    push_field(&mut out, "step", &Value::from(sim.step_index()));
    out.push_str("  \"steps\": [");
    for (i, record) in sim.trace().iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        let columns = TraceLine { record, names: sim }.columns();
        out.push_str(&serde_json::to_string(&columns).unwrap_or_default());
    }
    out.push_str(if sim.trace().is_empty() { "],\n" } else { "\n  ],\n" });
    out.push_str(&format!("  \"trace_hash\": \"{:016x}\"\n}}\n", sim.trace_hash()));
    out
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    // Scenarios, fault scripts and anti-patterns are plain data with string keys:
    // serialising them cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Appends `"name": value,` with nested documents pretty-printed at the field's depth.
fn push_field(out: &mut String, name: &str, value: &Value) {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    // JSON strings never hold a raw newline, so every newline here is layout.
    out.push_str(&format!("  \"{name}\": {},\n", pretty.replace('\n', "\n  ")));
}

/// The trace file as written: its fields, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceDocument {
    // Both checked before the typed parse (see `check_header`); named here so that
    // `deny_unknown_fields` accepts them.
    #[serde(rename = "format")]
    _format: String,
    #[serde(rename = "format_version")]
    _format_version: u64,
    scenario: Value,
    seed: u64,
    #[serde(default)]
    faults: Option<Value>,
    #[serde(default)]
    anti_patterns: Vec<AntiPattern>,
    step: u64,
    steps: Vec<TraceColumns>,
    trace_hash: String,
}

/// A trace file that replayed identically.
#[derive(Clone, Debug)]
pub struct ImportedTrace {
    pub config: RunConfig,
    /// The step the file was saved at; `simulation` stands there.
    pub step: u64,
    pub trace_hash: u64,
    /// The replayed run, at `step`: the UI can show it without replaying again.
    pub simulation: Simulation,
}

/// Why a trace file could not be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The file is unreadable: too large, not JSON, not a trace, from a newer
    /// Eventscope, or invalid (each problem with its JSON path).
    Invalid(ScenarioErrors),
    /// The file is valid but replaying it gives a different trace from this step on.
    Diverged { step: u64, recorded: String, replayed: String },
    /// The replayed run finished before reaching the recorded number of steps.
    EndedEarly { recorded_steps: u64, replayed_steps: u64 },
}

impl ImportError {
    /// True when the file was read but the run did not reproduce (as opposed to a file
    /// that could not be read at all).
    pub fn is_mismatch(&self) -> bool {
        !matches!(self, Self::Invalid(_))
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(errors) => write!(f, "{errors}"),
            Self::Diverged { step, recorded, replayed } => write!(
                f,
                "the replay differs from the file at step {step}: the file has '{}' but the replay gives '{}'",
                recorded.trim(),
                replayed.trim()
            ),
            Self::EndedEarly { recorded_steps, replayed_steps } => write!(
                f,
                "the replay ends after {replayed_steps} steps but the file records {recorded_steps}: \
                 it first differs at step {replayed_steps}"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<ScenarioErrors> for ImportError {
    fn from(e: ScenarioErrors) -> Self {
        Self::Invalid(e)
    }
}

/// Reads a trace file, replays it and checks that it reproduces step for step.
pub fn import_trace(text: &str) -> Result<ImportedTrace, ImportError> {
    let (config, step, recorded, hash) = read(text)?;
    let mut sim = Simulation::new(config.clone())?;
    for (i, expected) in recorded.iter().enumerate() {
        let Some(record) = sim.step().cloned() else {
            return Err(ImportError::EndedEarly { recorded_steps: step, replayed_steps: i as u64 });
        };
        let replayed = TraceLine { record: &record, names: &sim }.columns();
        if &replayed != expected {
            return Err(ImportError::Diverged {
                step: i as u64,
                recorded: expected.to_string(),
                replayed: replayed.to_string(),
            });
        }
    }
    Ok(ImportedTrace { config, step, trace_hash: hash, simulation: sim })
}

/// Parses and validates a trace file without replaying it.
fn read(text: &str) -> Result<(RunConfig, u64, Vec<TraceColumns>, u64), ScenarioErrors> {
    if text.len() > TRACE_BYTES_MAX {
        return Err(error_at(
            "",
            format!("the trace file is {} bytes; the limit is {TRACE_BYTES_MAX} (20 MiB)", text.len()),
        ));
    }
    // Two passes over the text, neither building a DOM: the header alone first, so
    // that a file from a newer Eventscope gets that message rather than a complaint
    // about a field it added, then the typed document with the path of any problem.
    // serde_json refuses nesting deeper than 128 levels, so a hostile file cannot
    // exhaust the stack.
    let header: Header = serde_json::from_str(text).map_err(|e| {
        let message = match e.classify() {
            Category::Data if e.to_string().starts_with("invalid type") => {
                "not an Eventscope trace file: expected a JSON object".to_string()
            }
            Category::Data => format!("not an Eventscope trace file: {e}"),
            _ => format!("not a JSON document: {e}"),
        };
        error_at("", message)
    })?;
    check_header(&header)?;
    let doc: TraceDocument = crate::sim::scenario::typed_from_str(text)?;
    let scenario = Scenario::read(doc.scenario, "scenario").map_err(|e| ScenarioErrors::one(e.path, e.message))?;
    scenario.validate().map_err(|e| under("scenario", e))?;
    let faults = match doc.faults {
        Some(value) => FaultScript::read(value, "faults").map_err(|e| ScenarioErrors::one(e.path, e.message))?,
        None => FaultScript::default(),
    };
    faults.validate_against(&scenario).map_err(|e| under("faults", e))?;
    if doc.steps.len() as u64 != doc.step {
        return Err(error_at(
            "steps",
            format!(
                "has {} entries but step is {}: a file records every step up to its step",
                doc.steps.len(),
                doc.step
            ),
        ));
    }
    if doc.step > scenario.steps_max {
        return Err(error_at(
            "step",
            format!("is {}, beyond the scenario's steps_max of {}", doc.step, scenario.steps_max),
        ));
    }
    if let Some((i, s)) = doc.steps.iter().enumerate().find(|(i, s)| s.step != *i as u64) {
        return Err(error_at(format!("steps[{i}].step"), format!("is {} but should be {i}", s.step)));
    }
    let hash = parse_hash(&doc.trace_hash)?;
    let computed = columns_hash(doc.steps.iter());
    if computed != hash {
        return Err(error_at(
            "trace_hash",
            format!(
                "the file says {} but its steps hash to {computed:016x}: the file was edited or damaged",
                doc.trace_hash
            ),
        ));
    }
    let config = RunConfig { scenario, seed: doc.seed, faults, anti_patterns: doc.anti_patterns };
    Ok((config, doc.step, doc.steps, hash))
}

/// The two fields read before anything else; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: Option<Value>,
    #[serde(default)]
    format_version: Option<Value>,
}

/// Checks `format` and `format_version`: is this a trace file, and one this build reads?
fn check_header(header: &Header) -> Result<(), ScenarioErrors> {
    match &header.format {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(Value::String(f)) => {
            return Err(error_at("format", format!("is '{}', not '{FORMAT}': not an Eventscope trace file", clip(f))))
        }
        Some(_) => return Err(error_at("format", format!("must be the string '{FORMAT}'"))),
        None => return Err(error_at("format", format!("missing: not an Eventscope trace file (expected '{FORMAT}')"))),
    }
    match header.format_version.as_ref().map(Value::as_u64) {
        Some(Some(FORMAT_VERSION)) => Ok(()),
        Some(Some(v)) if v > FORMAT_VERSION => Err(error_at(
            "",
            format!("made by a newer Eventscope: format version {v}, this one reads up to {FORMAT_VERSION}"),
        )),
        Some(Some(v)) => Err(error_at("format_version", format!("{v} is not a format version (expected 1)"))),
        Some(None) => Err(error_at("format_version", "must be a whole number")),
        None => Err(error_at("format_version", "missing")),
    }
}

fn parse_hash(text: &str) -> Result<u64, ScenarioErrors> {
    let hex = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match u64::from_str_radix(text, 16) {
        Ok(h) if hex => Ok(h),
        _ => Err(error_at("trace_hash", format!("'{}' is not 16 lowercase hex digits", clip(text)))),
    }
}

/// A user-supplied string shortened for an error message.
fn clip(text: &str) -> String {
    const CHARS_MAX: usize = 40;
    if text.chars().count() <= CHARS_MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(CHARS_MAX).collect::<String>())
    }
}
