//! Handlers: the business rules of a service (decide) and the fold of an
//! event-sourced aggregate (apply), as pure functions.
//!
//! `decide` holds every rule: given the state and an incoming event, it returns what
//! to change, what to record and what to publish, or a failure. It changes nothing.
//! `fold` is the opposite: it applies stored events to a state with no rules at all,
//! so rebuilding an aggregate from its stream always works. The engine applies a
//! decision as one local transaction (see `Simulation::commit`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::compiled::{CompiledEmit, CompiledHandler, CompiledRecord, DataTemplate, FoldRules};
use super::envelope::{Envelope, EventKind};
use super::limits::{
    indexed, joined, value_bytes, Limit, Overflow, ENTRY_FIXED_BYTES, MESSAGE_BYTES_MAX, STRING_BYTES_MAX,
};
use super::scenario::{Expr, Part, Template};
use super::store::{upcast, StoredEvent, Upcaster};
use super::trace::{FailureCause, TopicId};

/// The parts of an event that templates and expressions can read.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub subject: &'a str,
    pub data: &'a Map<String, Value>,
}

impl<'a> From<&'a Envelope> for Input<'a> {
    fn from(e: &'a Envelope) -> Self {
        Input { subject: &e.subject, data: &e.data }
    }
}

/// What a handler decided to do with one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub declined: bool,
    pub effects: Vec<(String, i64)>,
    pub records: Vec<PlannedRecord>,
    pub emits: Vec<PlannedEmit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedEmit {
    pub topic: TopicId,
    pub event_type: String,
    pub kind: EventKind,
    pub subject: String,
    pub schema_version: u32,
    pub data: Map<String, Value>,
    pub compensation: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRecord {
    pub event_type: String,
    pub kind: EventKind,
    pub topic: Option<TopicId>,
    pub data: Map<String, Value>,
}

/// Why a handler could not decide: the event made it fail (an ordinary failure, which
/// retries), or what it would build crosses a limit (which stops the run).
#[derive(Debug)]
pub enum Refusal {
    Failed(FailureCause),
    Overflowed(Overflow),
}

impl From<FailureCause> for Refusal {
    fn from(cause: FailureCause) -> Self {
        Self::Failed(cause)
    }
}

impl Refusal {
    /// The same refusal with `prefix.` before an overflow's path.
    pub(crate) fn within(self, prefix: &str) -> Self {
        match self {
            Self::Overflowed(o) => Self::Overflowed(Overflow { path: joined(prefix, &o.path), ..o }),
            failed => failed,
        }
    }
}

/// Evaluates a handler against the state and the event. All rules live here.
pub fn decide(handler: &CompiledHandler, state: &BTreeMap<String, i64>, event: &Envelope) -> Result<Decision, Refusal> {
    let input = Input::from(event);
    let mut satisfied = true;
    for (i, (key, at_least)) in handler.require.iter().enumerate() {
        let key = render_key(key, input).map_err(|r| r.within("key").within(&indexed("require", i as u64)))?;
        let needed = eval(at_least, input)?;
        if state.get(&key).copied().unwrap_or(0) < needed {
            satisfied = false;
        }
    }
    let mut effects = Vec::new();
    let mut records = Vec::new();
    let (list, emits) = if satisfied {
        for (i, (key, add)) in handler.effects.iter().enumerate() {
            let key = render_key(key, input).map_err(|r| r.within("key").within(&indexed("effects", i as u64)))?;
            effects.push((key, eval(add, input)?));
        }
        for (i, r) in handler.record.iter().enumerate() {
            records.push(plan_record(r, input).map_err(|r| r.within(&indexed("record", i as u64)))?);
        }
        ("emit", &handler.emit)
    } else {
        ("otherwise", &handler.otherwise)
    };
    let mut planned = Vec::with_capacity(emits.len());
    for (i, e) in emits.iter().enumerate() {
        planned.push(plan_emit(e, input).map_err(|r| r.within(&indexed(list, i as u64)))?);
    }
    Ok(Decision { declined: !satisfied, effects, records, emits: planned })
}

/// A payload from its field templates (or the input's, copied), weighed as it is
/// built: it never grows much past [`MESSAGE_BYTES_MAX`], the limit of the message it
/// will travel in. Overflow paths are `data` or `data.FIELD`.
fn render_data(fields: &Option<Vec<(String, DataTemplate)>>, input: Input) -> Result<Map<String, Value>, Refusal> {
    let too_large =
        |path: String, reached: u64| Refusal::Overflowed(Overflow { limit: Limit::MessageBytes, path, reached });
    match fields {
        None => {
            let bytes = super::limits::map_bytes(input.data);
            if bytes > MESSAGE_BYTES_MAX {
                return Err(too_large("data".into(), bytes));
            }
            Ok(input.data.clone())
        }
        Some(fields) => {
            let mut data = Map::new();
            let mut bytes = 0u64;
            for (k, t) in fields {
                let v = match t {
                    DataTemplate::Literal(v) => v.clone(),
                    DataTemplate::Template(t) => render_value(t, input).map_err(|r| r.within(&joined("data", k)))?,
                };
                bytes += ENTRY_FIXED_BYTES + k.len() as u64 + value_bytes(&v);
                if bytes > MESSAGE_BYTES_MAX {
                    return Err(too_large(joined("data", k), bytes));
                }
                data.insert(k.clone(), v);
            }
            Ok(data)
        }
    }
}

pub(crate) fn plan_emit(e: &CompiledEmit, input: Input) -> Result<PlannedEmit, Refusal> {
    let subject = match &e.subject {
        Some(t) => render_key(t, input).map_err(|r| r.within("subject"))?,
        None => input.subject.to_string(),
    };
    let data = render_data(&e.data, input)?;
    Ok(PlannedEmit {
        topic: e.topic,
        event_type: e.event_type.clone(),
        kind: e.kind,
        subject,
        schema_version: 1,
        data,
        compensation: e.compensation,
    })
}

fn plan_record(r: &CompiledRecord, input: Input) -> Result<PlannedRecord, Refusal> {
    let data = render_data(&r.data, input)?;
    Ok(PlannedRecord { event_type: r.event_type.clone(), kind: r.kind, topic: r.topic, data })
}

/// Why a fold stopped: the event at this store position lacks a field the fold reads
/// (typically an old schema version that no upcaster brought up to date).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldError {
    pub position: u64,
    pub field: String,
}

/// Applies stored events to a state: the rule-free half of event sourcing. Old events
/// are upcast on read when `upcasters` is given.
pub fn fold<'a>(
    rules: &FoldRules,
    upcasters: Option<&[Upcaster]>,
    events: impl Iterator<Item = &'a StoredEvent>,
    mut state: BTreeMap<String, i64>,
) -> Result<BTreeMap<String, i64>, FoldError> {
    for e in events {
        apply_one(rules, upcasters, e, &mut state)?;
    }
    Ok(state)
}

/// Applies one stored event to a state. Returns the estimated bytes of the entries it
/// added (a read model grows with them; see `limits`).
pub fn apply_one(
    rules: &FoldRules,
    upcasters: Option<&[Upcaster]>,
    e: &StoredEvent,
    state: &mut BTreeMap<String, i64>,
) -> Result<u64, FoldError> {
    let Some(effects) = rules.get(&e.event_type) else { return Ok(0) };
    let upcast_data;
    let data = match upcasters {
        Some(u) => {
            upcast_data = upcast(u, &e.event_type, e.schema_version, &e.data).0;
            &upcast_data
        }
        None => &e.data,
    };
    let input = Input { subject: &e.stream, data };
    let to_error = |f: Refusal| match f {
        Refusal::Failed(FailureCause::Malformed { field }) => FoldError { position: e.position, field },
        // A key too long to write: the fold cannot go on, and says why in place of a field.
        Refusal::Overflowed(o) => {
            let _ = o;
            FoldError { position: e.position, field: "(a key longer than the string limit)".into() }
        }
        Refusal::Failed(_) => FoldError { position: e.position, field: String::new() },
    };
    let mut added = 0;
    for (key, add) in effects {
        let key = render_key(key, input).map_err(to_error)?;
        let delta = eval(add, input).map_err(|f| to_error(f.into()))?;
        let key_bytes = key.len() as u64;
        let v = state.entry(key).or_insert_with(|| {
            added += ENTRY_FIXED_BYTES + key_bytes;
            0
        });
        *v = v.saturating_add(delta);
    }
    Ok(added)
}

pub(crate) fn eval(expr: &Expr, input: Input) -> Result<i64, FailureCause> {
    match expr {
        Expr::Literal(n) => Ok(*n),
        Expr::Field { name, negate } => {
            let v = input
                .data
                .get(name)
                .and_then(Value::as_i64)
                .ok_or_else(|| FailureCause::Malformed { field: name.clone() })?;
            Ok(if *negate { v.saturating_neg() } else { v })
        }
    }
}

/// Renders a template into a string of at most [`STRING_BYTES_MAX`] bytes. Each piece
/// is measured before it is appended, so a template that repeats a long field fails
/// here without ever allocating more than the limit; the error says how long the
/// whole string would have been.
pub(crate) fn render_key(t: &Template, input: Input) -> Result<String, Refusal> {
    let mut out = String::new();
    let mut reached: u64 = 0;
    let mut number = String::new();
    for p in &t.parts {
        let piece = match p {
            Part::Text(s) => s.as_str(),
            Part::Subject => input.subject,
            Part::Field(f) => match input.data.get(f) {
                Some(Value::String(s)) => s.as_str(),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    number.clear();
                    number.push_str(&v.to_string());
                    number.as_str()
                }
                _ => return Err(FailureCause::Malformed { field: f.to_string() }.into()),
            },
            Part::Repetition => "",
        };
        reached += piece.len() as u64;
        if reached <= STRING_BYTES_MAX {
            out.push_str(piece);
        }
    }
    if reached > STRING_BYTES_MAX {
        return Err(Refusal::Overflowed(Overflow { limit: Limit::StringBytes, path: String::new(), reached }));
    }
    Ok(out)
}

fn render_value(t: &Template, input: Input) -> Result<Value, Refusal> {
    match t.sole_placeholder() {
        Some(Part::Field(f)) => {
            input.data.get(f).cloned().ok_or_else(|| FailureCause::Malformed { field: f.clone() }.into())
        }
        _ => render_key(t, input).map(Value::String),
    }
}

/// Renders a workload template for repetition `n` (workload templates use only `{n}`).
pub fn render_workload(t: &Template, n: u32) -> String {
    let mut out = String::new();
    for p in &t.parts {
        match p {
            Part::Text(s) => out.push_str(s),
            Part::Repetition => out.push_str(&n.to_string()),
            Part::Subject | Part::Field(_) => {}
        }
    }
    out
}

/// A workload payload value for repetition `n`: `"{n}"` alone becomes the number.
pub fn render_workload_value(t: &DataTemplate, n: u32) -> Value {
    match t {
        DataTemplate::Literal(v) => v.clone(),
        DataTemplate::Template(t) => match t.sole_placeholder() {
            Some(Part::Repetition) => Value::from(n),
            _ => Value::String(render_workload(t, n)),
        },
    }
}
