//! Limits on everything a run can grow, and the typed error of a run that reached one.
//!
//! A scenario, a share link or a trace file is input from a stranger, and in the
//! browser an exhausted allocator is not a panic the app can report: the tab dies. A
//! handler that re-emits its own event with `"p": "{data.p}{data.p}"` doubles its
//! payload every hop and needs gigabytes within fifty steps. So every quantity a run
//! grows has a maximum here, checked where the growth happens, *before* the memory is
//! taken: a rendered string is measured while it is written, a handler's decision is
//! weighed before it commits, and a step that would cross a limit does not happen.
//! The run stops with a [`Halt`] that names the limit and the place (the handler and
//! the template's JSON path, or the workload item) and the step.
//!
//! Sizes are *estimates* of what the run holds in memory (strings at their length,
//! fixed costs per value, message and record), not exact allocator figures: they must
//! be the same on every platform and on every replay, so they are computed from the
//! data, never measured. They are calibrated against peak resident memory (the engine
//! bench's run holds 187 MB for 185 MB estimated), but allocator slack and `Vec`
//! doubling can make the real figure larger; [`RUN_BYTES_MAX`] leaves room for that.

use std::fmt;

use serde_json::{Map, Value};

/// Bytes held by a whole run: messages, trace, event stores, state, metrics and the
/// world copies kept for rewinding. A wasm32 tab can address 4 GiB but browsers stop
/// granting memory well before (and a phone earlier still); 256 MiB by estimate stays
/// under about half a gigabyte of real memory even with allocator slack, beside the
/// page's own few tens of megabytes.
pub const RUN_BYTES_MAX: u64 = 256 << 20;

/// What one step holds on average, by estimate: its trace record (about a hundred
/// bytes), a share of the messages it publishes (a hop of a message takes three steps
/// and a message costs at least [`MESSAGE_FIXED_BYTES`]), metric samples, and a share
/// of the world copy taken every 2,048 steps. Light runs hold about this much; the
/// engine bench's checkout run, whose queues hold thousands of copies, holds 475
/// bytes per step (390,000 steps: 185 MB by estimate, 187 MB peak resident; see
/// BENCHMARKS.md), so a run that heavy meets the byte budget before the steps cap.
pub const STEP_BYTES: u64 = 256;

/// The most steps a scenario may ask for (`steps_max`): as many as the run budget
/// holds at [`STEP_BYTES`] each. A share link can name any step up to its scenario's
/// `steps_max`, so this also bounds what opening a link replays.
pub const STEPS_MAX_LIMIT: u64 = RUN_BYTES_MAX / STEP_BYTES;

/// The trace has one record per step, so its length is bounded by the steps cap; the
/// name says so where a reader looks for the trace's bound.
pub const TRACE_RECORDS_MAX: u64 = STEPS_MAX_LIMIT;

/// Bytes of one rendered string: a state key, a subject, a stream name or a payload
/// field written from a template. Templates are at most 1,000 bytes, so a legitimate
/// rendering is a few ids long; 64 KiB is far above any of those and small enough
/// that a self-amplifying template meets it within a few hops, long before memory
/// runs short. The string is measured as it is written and never grows past this.
pub const STRING_BYTES_MAX: u64 = 64 << 10;

/// Bytes of one message by estimate (its payload, attributes and fixed cost). As
/// large as a whole scenario document, so whatever a scenario spells out literally
/// fits in one message; a payload built by copying fields of its cause (a handler may
/// copy up to 64 fields of its input) is stopped here.
pub const MESSAGE_BYTES_MAX: u64 = 1 << 20;

/// What a message costs beyond its strings and payload: the message and envelope
/// structs (about 300 bytes), its reference count, the pointer in the arena and its
/// entries in three ordinal tables.
pub const MESSAGE_FIXED_BYTES: u64 = 512;

/// Messages alive in a run. Every message stays alive to the end (rewind replays
/// them, exports list them), so this counts every message created; a fan-out that
/// multiplies messages at each hop meets it. At their fixed cost messages may fill a
/// quarter of the run budget (about half with typical payloads), so the trace and the
/// world copies keep the rest and a flood of small messages stops here, with the
/// handler named, rather than at the anonymous total.
pub const MESSAGES_MAX: u64 = RUN_BYTES_MAX / (4 * MESSAGE_FIXED_BYTES);

/// What a stored event, a state entry or a trace record costs beyond its strings.
pub const ENTRY_FIXED_BYTES: u64 = 64;

/// What a JSON object costs per started group of eleven entries: a payload is an
/// ordered map, and each node of it is allocated for eleven keys and values however
/// few it holds, so a one-field payload costs more than its field.
pub const MAP_NODE_BYTES: u64 = 11 * (std::mem::size_of::<String>() + std::mem::size_of::<Value>()) as u64 + 16;

// The caps fit together, checked when the crate compiles: a valid workload leaves
// room for what handlers emit, and each limit is below the one that contains it.
const _: () = assert!(2 * super::scenario::WORKLOAD_MESSAGES_MAX <= MESSAGES_MAX);
const _: () = assert!(STRING_BYTES_MAX < MESSAGE_BYTES_MAX && MESSAGE_BYTES_MAX < RUN_BYTES_MAX);
const _: () = assert!(TRACE_RECORDS_MAX * STEP_BYTES <= RUN_BYTES_MAX);

/// A quantity that a run grows, each with its maximum above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limit {
    /// One rendered string ([`STRING_BYTES_MAX`]).
    StringBytes,
    /// One message ([`MESSAGE_BYTES_MAX`]).
    MessageBytes,
    /// Messages alive in the run ([`MESSAGES_MAX`]).
    Messages,
    /// Everything the run holds ([`RUN_BYTES_MAX`]).
    RunBytes,
}

impl Limit {
    pub const ALL: [Limit; 4] = [Self::StringBytes, Self::MessageBytes, Self::Messages, Self::RunBytes];

    /// The limit's name in errors and files.
    pub fn name(self) -> &'static str {
        match self {
            Self::StringBytes => "string_bytes",
            Self::MessageBytes => "message_bytes",
            Self::Messages => "messages",
            Self::RunBytes => "run_bytes",
        }
    }

    pub fn maximum(self) -> u64 {
        match self {
            Self::StringBytes => STRING_BYTES_MAX,
            Self::MessageBytes => MESSAGE_BYTES_MAX,
            Self::Messages => MESSAGES_MAX,
            Self::RunBytes => RUN_BYTES_MAX,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::StringBytes => "a rendered string",
            Self::MessageBytes => "a message",
            Self::Messages => "the messages of the run",
            Self::RunBytes => "the run",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            _ => "bytes",
        }
    }
}

/// Where in the scenario a run reached a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A handler (or a saga coordinator) handling an event type; `path` is the JSON
    /// path of the template or emit being built, such as
    /// `services[1].handlers[0].emit[0].data.p`.
    Handler { service: String, event_type: String, path: String },
    /// A workload item publishing its next event (`workload[0]`).
    Workload { path: String },
    /// The run as a whole: what it had accumulated (trace, world copies, snapshots of
    /// aggregates) used up the budget, with no one template to blame.
    Run,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handler { service, event_type, path } => {
                write!(f, "in the handler of {service} for {event_type}, at {path}")
            }
            Self::Workload { path } => write!(f, "in the workload, at {path}"),
            Self::Run => write!(f, "in what the run holds"),
        }
    }
}

/// Why a run stopped before its end. Kept by the simulation once it happens
/// ([`crate::sim::Simulation::halted`]); stepping a halted run does nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Halt {
    /// Step `step` would have grown `limit` to `reached` (past its maximum), at
    /// `place`. The step did not happen: the trace ends before it.
    LimitReached { limit: Limit, place: Place, step: u64, reached: u64 },
}

impl Halt {
    /// The step that did not happen (the trace holds the steps before it).
    pub fn step(&self) -> u64 {
        match self {
            Self::LimitReached { step, .. } => *step,
        }
    }
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LimitReached { limit, place, step, reached } => write!(
                f,
                "step {step}: limit {} reached: {} would hold {reached} {unit}, the limit is {} {unit}; {place}",
                limit.name(),
                limit.what(),
                limit.maximum(),
                unit = limit.unit(),
            ),
        }
    }
}

impl std::error::Error for Halt {}

/// A limit met while building one value, with the path of the part being built
/// relative to the template's owner (`emit[0].data.p`); the engine prefixes the
/// handler's path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow {
    pub limit: Limit,
    pub path: String,
    pub reached: u64,
}

/// `list[i]`, a step of a JSON path. Paths are built through this and [`joined`]
/// only, so their formatting code is compiled once (it is in the browser bundle).
pub fn indexed(list: &str, i: u64) -> String {
    format!("{list}[{i}]")
}

/// `a.b`, or `a` alone when `b` is empty: the next step of a JSON path.
pub fn joined(a: &str, b: &str) -> String {
    if b.is_empty() {
        return a.to_string();
    }
    let mut path = String::with_capacity(a.len() + 1 + b.len());
    path.push_str(a);
    path.push('.');
    path.push_str(b);
    path
}

/// The estimated bytes a JSON value holds: its strings, and a fixed cost per value
/// and per object entry. A walk, not a serialisation, so it costs little per message.
pub fn value_bytes(value: &Value) -> u64 {
    const VALUE_BYTES: u64 = std::mem::size_of::<Value>() as u64;
    VALUE_BYTES
        + match value {
            Value::String(s) => s.len() as u64,
            Value::Array(items) => items.iter().map(value_bytes).sum(),
            Value::Object(map) => map_bytes(map),
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
}

/// The estimated bytes of a payload map (see [`value_bytes`]).
pub fn map_bytes(map: &Map<String, Value>) -> u64 {
    let nodes = (map.len() as u64).div_ceil(11);
    nodes * MAP_NODE_BYTES + map.iter().map(|(k, v)| ENTRY_FIXED_BYTES + k.len() as u64 + value_bytes(v)).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_bytes_counts_strings_and_values() {
        let v: Value = serde_json::json!({ "p": "abcd", "n": 1 });
        let fixed = std::mem::size_of::<Value>() as u64;
        assert_eq!(value_bytes(&v), fixed + MAP_NODE_BYTES + 2 * ENTRY_FIXED_BYTES + 2 + (fixed + 4) + fixed);
    }

    #[test]
    fn a_halt_names_limit_place_and_step() {
        let h = Halt::LimitReached {
            limit: Limit::StringBytes,
            place: Place::Handler {
                service: "echo".into(),
                event_type: "io.eventscope.echo".into(),
                path: "services[0].handlers[0].emit[0].data.p".into(),
            },
            step: 40,
            reached: 163_840,
        };
        let text = h.to_string();
        for part in ["step 40", "string_bytes", "163840", "65536", "echo", "services[0].handlers[0].emit[0].data.p"] {
            assert!(text.contains(part), "{text} lacks {part}");
        }
    }
}
