//! The event envelope: CloudEvents 1.0 attributes around a payload.
//!
//! Every message on the bus is an [`Envelope`]. Its attribute names are those of the
//! CloudEvents spec (`id`, `source`, `specversion`, `type`, `time`, `subject`,
//! `datacontenttype`, `dataschema`, `data`) plus two extensions that make flows
//! traceable: `correlationid` (the whole business transaction) and `causationid` (the
//! event that directly caused this one). Extension names follow the spec's rule:
//! lowercase letters and digits only, at most 20 characters.
//!
//! Envelopes are immutable once published: events are facts. The simulation keeps
//! them in an append-only arena and refers to them by [`MessageId`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::time::{rfc3339, Millis};

/// The four kinds of event of the curriculum, kept visibly distinct everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Something happened in the business (`OrderPlaced`).
    Domain,
    /// A cross-service notification (`PaymentCompleted`).
    Integration,
    /// A request for action addressed to one service (`ProcessPayment`).
    Command,
    /// A row changed in a database (`users.row.updated`).
    ChangeDataCapture,
}

impl EventKind {
    pub const ALL: [EventKind; 4] = [Self::Domain, Self::Integration, Self::Command, Self::ChangeDataCapture];

    pub fn name(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Integration => "integration",
            Self::Command => "command",
            Self::ChangeDataCapture => "change_data_capture",
        }
    }
}

/// Index of a message in the run's append-only arena. A `u32`, never `usize`: it is
/// traced, and traces must be identical on 32- and 64-bit targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId(pub u32);

/// One published event with its CloudEvents attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    /// Unique per event, derived deterministically from the seed and the event's cause,
    /// so a duplicated handling re-emits the *same* id and downstream deduplication works.
    pub id: String,
    pub source: String,
    pub event_type: String,
    pub kind: EventKind,
    pub time_ms: Millis,
    pub subject: String,
    /// Schema version of `data`, carried in `dataschema`.
    pub schema_version: u32,
    pub data: Map<String, Value>,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
}

pub const SPEC_VERSION: &str = "1.0";
pub const DATA_CONTENT_TYPE: &str = "application/json";

impl Envelope {
    /// The `dataschema` URI: one schema per event type and version.
    pub fn dataschema(&self) -> String {
        format!("urn:eventscope:schema:{}:v{}", self.event_type, self.schema_version)
    }

    /// The envelope as a CloudEvents 1.0 JSON object (structured mode). `eventkind`
    /// is a simulator extension naming which of the four kinds the event is.
    pub fn to_cloudevent(&self) -> Value {
        let mut m = Map::new();
        m.insert("specversion".into(), SPEC_VERSION.into());
        m.insert("id".into(), self.id.clone().into());
        m.insert("source".into(), self.source.clone().into());
        m.insert("type".into(), self.event_type.clone().into());
        m.insert("time".into(), rfc3339(self.time_ms).into());
        m.insert("subject".into(), self.subject.clone().into());
        m.insert("datacontenttype".into(), DATA_CONTENT_TYPE.into());
        m.insert("dataschema".into(), self.dataschema().into());
        if let Some(c) = &self.correlation_id {
            m.insert("correlationid".into(), c.clone().into());
        }
        if let Some(c) = &self.causation_id {
            m.insert("causationid".into(), c.clone().into());
        }
        m.insert("eventkind".into(), self.kind.name().into());
        m.insert("data".into(), Value::Object(self.data.clone()));
        Value::Object(m)
    }

    /// Reads an integer field of the payload.
    pub fn int(&self, field: &str) -> Option<i64> {
        self.data.get(field).and_then(Value::as_i64)
    }

    /// Size of the payload in bytes as JSON: the cost of fat events.
    pub fn data_bytes(&self) -> u64 {
        serde_json::to_string(&self.data).map_or(0, |s| s.len() as u64)
    }
}

/// Checks the CloudEvents rule for extension attribute names.
pub fn is_valid_extension_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 20 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_names_follow_the_cloudevents_rule() {
        for name in ["correlationid", "causationid", "eventkind", "deliveryattempt", "deadletterreason"] {
            assert!(is_valid_extension_name(name), "{name}");
        }
        assert!(!is_valid_extension_name("correlation_id"));
        assert!(!is_valid_extension_name("CorrelationId"));
        assert!(!is_valid_extension_name("averyveryverylongextensionname"));
    }
}
