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

/// Evaluates a handler against the state and the event. All rules live here.
pub fn decide(
    handler: &CompiledHandler,
    state: &BTreeMap<String, i64>,
    event: &Envelope,
) -> Result<Decision, FailureCause> {
    let input = Input::from(event);
    let mut satisfied = true;
    for (key, at_least) in &handler.require {
        let key = render_key(key, input)?;
        let needed = eval(at_least, input)?;
        if state.get(&key).copied().unwrap_or(0) < needed {
            satisfied = false;
        }
    }
    let mut effects = Vec::new();
    let mut records = Vec::new();
    let emits = if satisfied {
        for (key, add) in &handler.effects {
            effects.push((render_key(key, input)?, eval(add, input)?));
        }
        for r in &handler.record {
            records.push(plan_record(r, input)?);
        }
        &handler.emit
    } else {
        &handler.otherwise
    };
    let mut planned = Vec::with_capacity(emits.len());
    for e in emits {
        planned.push(plan_emit(e, input)?);
    }
    Ok(Decision { declined: !satisfied, effects, records, emits: planned })
}

fn render_data(fields: &Option<Vec<(String, DataTemplate)>>, input: Input) -> Result<Map<String, Value>, FailureCause> {
    match fields {
        None => Ok(input.data.clone()),
        Some(fields) => {
            let mut data = Map::new();
            for (k, t) in fields {
                let v = match t {
                    DataTemplate::Literal(v) => v.clone(),
                    DataTemplate::Template(t) => render_value(t, input)?,
                };
                data.insert(k.clone(), v);
            }
            Ok(data)
        }
    }
}

pub(crate) fn plan_emit(e: &CompiledEmit, input: Input) -> Result<PlannedEmit, FailureCause> {
    let subject = match &e.subject {
        Some(t) => render_key(t, input)?,
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

fn plan_record(r: &CompiledRecord, input: Input) -> Result<PlannedRecord, FailureCause> {
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

/// Applies one stored event to a state.
pub fn apply_one(
    rules: &FoldRules,
    upcasters: Option<&[Upcaster]>,
    e: &StoredEvent,
    state: &mut BTreeMap<String, i64>,
) -> Result<(), FoldError> {
    let Some(effects) = rules.get(&e.event_type) else { return Ok(()) };
    let upcast_data;
    let data = match upcasters {
        Some(u) => {
            upcast_data = upcast(u, &e.event_type, e.schema_version, &e.data).0;
            &upcast_data
        }
        None => &e.data,
    };
    let input = Input { subject: &e.stream, data };
    let to_error = |f: FailureCause| match f {
        FailureCause::Malformed { field } => FoldError { position: e.position, field },
        _ => FoldError { position: e.position, field: String::new() },
    };
    for (key, add) in effects {
        let key = render_key(key, input).map_err(to_error)?;
        let delta = eval(add, input).map_err(to_error)?;
        let v = state.entry(key).or_insert(0);
        *v = v.saturating_add(delta);
    }
    Ok(())
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

fn field_text(data: &Map<String, Value>, field: &str) -> Result<String, FailureCause> {
    match data.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
        _ => Err(FailureCause::Malformed { field: field.to_string() }),
    }
}

pub(crate) fn render_key(t: &Template, input: Input) -> Result<String, FailureCause> {
    let mut out = String::new();
    for p in &t.parts {
        match p {
            Part::Text(s) => out.push_str(s),
            Part::Subject => out.push_str(input.subject),
            Part::Field(f) => out.push_str(&field_text(input.data, f)?),
            Part::Repetition => {}
        }
    }
    Ok(out)
}

fn render_value(t: &Template, input: Input) -> Result<Value, FailureCause> {
    match t.sole_placeholder() {
        Some(Part::Field(f)) => input.data.get(f).cloned().ok_or_else(|| FailureCause::Malformed { field: f.clone() }),
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
