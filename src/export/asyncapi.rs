//! An AsyncAPI 3.0 document of a scenario's topology: which service sends which
//! event to which topic, and which subscription receives it.
//!
//! * `channels`: one per topic (`address` = the topic's name), listing the messages
//!   that travel on it, each a reference to `components.messages`.
//! * `operations`: `send` for every sender and topic (a service's handlers' `emit`,
//!   `otherwise` and published `record`s, a saga coordinator's commands and outcomes,
//!   and the workload's external sources); `receive` for every subscription.
//! * `components.messages`: one per event type, with its CloudEvents attributes as
//!   `headers`, `correlationid` as the correlation id, and a JSON Schema `payload`
//!   built from the data keys the scenario writes. A payload template that copies a
//!   field (`"{data.order}"`) keeps that field's type, which is unknown here, so such
//!   fields get an unconstrained schema; an emit without `data` carries the handled
//!   event's payload over, so its fields are those of the handled type.
//!
//! It describes the scenario as written (anti-pattern switches do not change who
//! talks to whom). Everything is in `BTreeMap`s, so the same scenario gives the same
//! document, byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::short_type;
use crate::sim::envelope::{EventKind, DATA_CONTENT_TYPE, SPEC_VERSION};
use crate::sim::scenario::{EmitSpec, Scenario};

/// What is known about one event type.
#[derive(Default)]
struct MessageInfo {
    kinds: BTreeSet<&'static str>,
    compensation: bool,
    fields: BTreeMap<String, Value>,
    /// Event types whose payload this one carries over (emits without `data`).
    carries: BTreeSet<String>,
}

#[derive(Default)]
struct Topology {
    messages: BTreeMap<String, MessageInfo>,
    /// (sender, topic) → event types, with whether the sender is a service.
    sends: BTreeMap<(String, String), (bool, BTreeSet<String>)>,
    channels: BTreeMap<String, BTreeSet<String>>,
}

impl Topology {
    fn send(&mut self, sender: &str, is_service: bool, topic: &str, event_type: &str) {
        let entry = self.sends.entry((sender.to_string(), topic.to_string())).or_insert((is_service, BTreeSet::new()));
        entry.1.insert(event_type.to_string());
        self.channels.entry(topic.to_string()).or_default().insert(event_type.to_string());
    }

    fn message(&mut self, event_type: &str, kind: EventKind) -> &mut MessageInfo {
        let info = self.messages.entry(event_type.to_string()).or_default();
        info.kinds.insert(kind.name());
        info
    }

    fn data(&mut self, event_type: &str, data: Option<&BTreeMap<String, Value>>, carried_from: &str) {
        let info = self.messages.entry(event_type.to_string()).or_default();
        match data {
            Some(d) => {
                for (key, template) in d {
                    merge_field(&mut info.fields, key, field_schema(template));
                }
            }
            None => {
                info.carries.insert(carried_from.to_string());
            }
        }
    }

    fn emit(&mut self, sender: &str, e: &EmitSpec, carried_from: &str) {
        self.send(sender, true, &e.topic, &e.event_type);
        let info = self.message(&e.event_type, e.kind);
        info.compensation |= e.compensation;
        self.data(&e.event_type, e.data.as_ref(), carried_from);
    }
}

/// The JSON Schema of one payload field, from its template.
fn field_schema(template: &Value) -> Value {
    match template {
        Value::String(s) if s == "{n}" => json!({"type": "integer"}),
        Value::String(s) if s.starts_with('{') && s.ends_with('}') && s.matches('{').count() == 1 => {
            // Exactly one placeholder keeps the copied field's JSON type.
            json!({"description": format!("copied from {}", &s[1..s.len() - 1])})
        }
        Value::String(_) => json!({"type": "string"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Null => json!({"type": "null"}),
        Value::Array(_) => json!({"type": "array"}),
        Value::Object(_) => json!({"type": "object"}),
    }
}

/// Two writers of one field that disagree leave it unconstrained.
fn merge_field(fields: &mut BTreeMap<String, Value>, key: &str, schema: Value) {
    match fields.get(key) {
        None => {
            fields.insert(key.to_string(), schema);
        }
        Some(existing) if *existing == schema => {}
        Some(_) => {
            fields.insert(key.to_string(), json!({}));
        }
    }
}

fn topology(s: &Scenario) -> Topology {
    let mut t = Topology::default();
    let mut services = BTreeSet::new();
    services.extend(s.services.iter().map(|x| x.name.as_str()));
    for w in &s.workload {
        t.send(&w.source, services.contains(w.source.as_str()), &w.topic, &w.event_type);
        t.message(&w.event_type, w.kind);
        t.data(&w.event_type, Some(&w.data), "");
    }
    for service in &s.services {
        for h in &service.handlers {
            for e in h.emit.iter().chain(&h.otherwise) {
                t.emit(&service.name, e, &h.on);
            }
            for r in &h.record {
                let Some(topic) = &r.topic else { continue };
                t.send(&service.name, true, topic, &r.event_type);
                t.message(&r.event_type, r.kind);
                t.data(&r.event_type, r.data.as_ref(), &h.on);
            }
        }
    }
    for saga in &s.sagas {
        let sends = saga.steps.iter().flat_map(|step| std::iter::once(&step.action).chain(&step.compensation));
        for e in sends.chain(&saga.on_completed).chain(&saga.on_aborted) {
            t.emit(&saga.coordinator, e, &saga.start_on);
        }
    }
    // Carried-over payloads: fold each type's fields into the types that carry it,
    // until nothing changes (at most once per type, since every pass adds a field or
    // stops).
    for _ in 0..=t.messages.len() {
        let mut changed = false;
        let mut snapshot = BTreeMap::new();
        snapshot.extend(t.messages.iter().map(|(k, v)| (k.clone(), v.fields.clone())));
        for info in t.messages.values_mut() {
            for from in info.carries.clone() {
                for (key, schema) in snapshot.get(&from).into_iter().flatten() {
                    if !info.fields.contains_key(key) {
                        info.fields.insert(key.clone(), schema.clone());
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    t
}

/// A key usable in `components`, `channels` and `operations`
/// (`^[a-zA-Z0-9.\-_]+$`), which also needs no escaping in a JSON pointer.
fn key(text: &str) -> String {
    let k: String =
        text.chars().take(120).map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if k.is_empty() {
        "_".to_string()
    } else {
        k
    }
}

fn message_key(event_type: &str) -> String {
    key(short_type(event_type))
}

fn headers(event_type: &str) -> Value {
    json!({
        "type": "object",
        "description": "CloudEvents 1.0 context attributes (structured mode)",
        "required": ["specversion", "id", "source", "type"],
        "properties": {
            "specversion": {"type": "string", "const": SPEC_VERSION},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "format": "uri-reference", "minLength": 1},
            "type": {"type": "string", "const": event_type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string"},
            "datacontenttype": {"type": "string", "const": DATA_CONTENT_TYPE},
            "dataschema": {"type": "string", "format": "uri"},
            "correlationid": {"type": "string", "description": "the business transaction this event belongs to"},
            "causationid": {"type": "string", "description": "the id of the event that caused this one"},
            "eventkind": {"type": "string", "enum": EventKind::ALL.map(EventKind::name)},
        }
    })
}

/// The AsyncAPI 3.0 document of the whole scenario.
pub fn document(scenario: &Scenario) -> Value {
    build(scenario, None)
}

/// The AsyncAPI 3.0 document of one service: its operations and what they touch.
/// `None` if the scenario has no service of that name.
pub fn service_document(scenario: &Scenario, service: &str) -> Option<Value> {
    scenario.services.iter().any(|s| s.name == service).then(|| build(scenario, Some(service)))
}

fn build(s: &Scenario, only: Option<&str>) -> Value {
    let t = topology(s);
    let mut operations = Map::new();
    let mut used_channels = BTreeSet::new();
    let channel_messages = |topic: &str, types: &BTreeSet<String>| -> Vec<Value> {
        types
            .iter()
            .map(|ty| json!({"$ref": format!("#/channels/{}/messages/{}", key(topic), message_key(ty))}))
            .collect()
    };
    for ((sender, topic), (is_service, types)) in &t.sends {
        if only.is_some_and(|o| o != sender) {
            continue;
        }
        let who = if *is_service { format!("service {sender}") } else { format!("external source {sender}") };
        operations.insert(
            format!("{}.send.{}", key(sender), key(topic)),
            json!({
                "action": "send",
                "title": format!("{sender} sends to {topic}"),
                "summary": format!("{who} publishes {} event type(s) to topic {topic}", types.len()),
                "channel": {"$ref": format!("#/channels/{}", key(topic))},
                "messages": channel_messages(topic, types),
            }),
        );
        used_channels.insert(topic.clone());
    }
    for sub in &s.subscriptions {
        if only.is_some_and(|o| o != sub.service) {
            continue;
        }
        let types = t.channels.get(&sub.topic).cloned().unwrap_or_default();
        let mut op = json!({
            "action": "receive",
            "title": format!("{} receives from {}", sub.service, sub.topic),
            "summary": format!(
                "subscription {}: {} ({} attempts, {})",
                sub.name,
                sub.delivery.name(),
                sub.retry.attempts_max,
                if sub.dlq { "dead-letter queue" } else { "no dead-letter queue" }
            ),
            "channel": {"$ref": format!("#/channels/{}", key(&sub.topic))},
        });
        if !types.is_empty() {
            op["messages"] = Value::Array(channel_messages(&sub.topic, &types));
        }
        operations.insert(format!("{}.receive", key(&sub.name)), op);
        used_channels.insert(sub.topic.clone());
    }

    let mut channels = Map::new();
    let mut used_messages = BTreeSet::new();
    for topic in &s.topics {
        if only.is_some() && !used_channels.contains(&topic.name) {
            continue;
        }
        let mut messages = Map::new();
        for ty in t.channels.get(&topic.name).into_iter().flatten() {
            messages.insert(message_key(ty), json!({"$ref": format!("#/components/messages/{}", message_key(ty))}));
            used_messages.insert(ty.clone());
        }
        let mut channel = json!({"address": topic.name, "title": topic.name, "messages": messages});
        if !topic.description.is_empty() {
            channel["description"] = topic.description.clone().into();
        }
        channels.insert(key(&topic.name), channel);
    }

    let mut messages = Map::new();
    for (ty, info) in &t.messages {
        if !used_messages.contains(ty) {
            continue;
        }
        let mut properties = Map::new();
        properties.extend(info.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut tags: Vec<Value> = info.kinds.iter().map(|k| json!({"name": k})).collect();
        if info.compensation {
            tags.push(json!({"name": "compensation"}));
        }
        messages.insert(
            message_key(ty),
            json!({
                "name": ty,
                "title": short_type(ty),
                "summary": format!("{} event {}", info.kinds.iter().copied().collect::<Vec<_>>().join("/"), short_type(ty)),
                "contentType": DATA_CONTENT_TYPE,
                "correlationId": {"location": "$message.header#/correlationid"},
                "headers": headers(ty),
                "payload": {"type": "object", "properties": properties},
                "tags": tags,
            }),
        );
    }

    let title = match only {
        Some(service) => format!("{}: {service}", s.title),
        None => s.title.clone(),
    };
    let mut info = json!({"title": title, "version": "1.0.0"});
    if !s.description.is_empty() {
        info["description"] = s.description.clone().into();
    }
    json!({
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": DATA_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    })
}

/// The document as pretty-printed JSON text.
pub fn to_json(scenario: &Scenario) -> String {
    let mut text = serde_json::to_string_pretty(&document(scenario)).unwrap_or_default();
    text.push('\n');
    text
}
