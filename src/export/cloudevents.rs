//! Every event a run published, as CloudEvents 1.0 in structured mode.
//!
//! Two containers: a JSON batch (`application/cloudevents-batch+json`, a JSON array of
//! structured events) and JSON Lines (one event per line, for `jq` and log shippers).
//! The events are exactly [`Envelope::to_cloudevent`]: the core's envelope already
//! carries the spec's attribute names, `correlationid` and `causationid` where a cause
//! exists, and times on the simulated clock in RFC 3339.
//!
//! An event is listed once, at its first `publish` step, in publication order: a
//! duplicated or redelivered copy is the same event (same `id`), and an event that was
//! committed but never reached the bus (a crashed dual write) was never published.
//!
//! [`Envelope::to_cloudevent`]: crate::sim::envelope::Envelope::to_cloudevent

use std::collections::BTreeSet;

use serde_json::Value;

use crate::sim::envelope::is_valid_extension_name;
use crate::sim::simulation::Simulation;
use crate::sim::trace::Happened;

/// The media type of a JSON batch.
pub const BATCH_CONTENT_TYPE: &str = "application/cloudevents-batch+json";
/// The media type of one structured event.
pub const EVENT_CONTENT_TYPE: &str = "application/cloudevents+json";

/// The published events up to the current step, in publication order.
pub fn published_events(sim: &Simulation) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    sim.trace()
        .iter()
        .filter_map(|r| match r.happened {
            Happened::Published { message, .. } => Some(message),
            _ => None,
        })
        .filter(|m| seen.insert(m.0))
        .filter_map(|m| sim.message(m))
        .map(|m| m.envelope.to_cloudevent())
        .collect()
}

/// A JSON batch: one array of structured events, pretty-printed.
pub fn to_batch(sim: &Simulation) -> String {
    let batch = Value::Array(published_events(sim));
    let mut text = serde_json::to_string_pretty(&batch).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

/// JSON Lines: one compact structured event per line.
pub fn to_json_lines(sim: &Simulation) -> String {
    let mut text = String::new();
    for event in published_events(sim) {
        text.push_str(&serde_json::to_string(&event).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// Checks the spec's naming rule on every attribute of a structured event: lowercase
/// ASCII letters and digits, at most 20 characters. Returns the offending names.
pub fn invalid_attribute_names(event: &Value) -> Vec<String> {
    event
        .as_object()
        .map(|o| o.keys().filter(|k| !is_valid_extension_name(k)).cloned().collect())
        .unwrap_or_else(|| vec!["(not an object)".to_string()])
}
