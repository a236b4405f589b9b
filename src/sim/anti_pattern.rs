//! Anti-pattern switches: deliberately wrong configurations from the curriculum's
//! table, each of which an invariant or meter must expose.
//!
//! Some change the scenario's configuration before the run (no DLQ, no idempotency,
//! fire-and-forget), others change how services behave (events without correlation
//! ids, fat events, retries that ignore key order). Either way the switch is data in
//! the run's configuration, so a run with an anti-pattern replays like any other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::scenario::{Delivery, Scenario};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AntiPattern {
    /// Subscriptions have no dead-letter queue: a poison message loops or blocks.
    NoDlq,
    /// Consumers do not record processed ids: a redelivered duplicate is applied twice.
    NoIdempotency,
    /// Consumers acknowledge before handling: a crash or failure loses the event.
    FireAndForget,
    /// Services emit events without the correlation id of their cause: flows cannot
    /// be traced end to end.
    NoCorrelationId,
    /// Events carry the emitting service's entire state instead of the changed fields.
    FatEvents,
    /// Retries do not hold back later messages of the same key, so a subscription that
    /// promises per-key order breaks it whenever a message is retried.
    UnorderedRetries,
    /// Services write their state and then publish, in two steps (the dual write): a
    /// crash in between loses the event. The fix is the transactional outbox.
    NoOutbox,
    /// Readers assume every stored event has the current schema: old events are not
    /// upcast, and a reader that needs a newer field fails on them.
    NoSchemaVersioning,
    /// Publishers address a separate command to each consumer instead of stating one
    /// fact: the publisher must know every consumer, and messages multiply.
    EventsAsCommands,
    /// A handler waits for every downstream handler of the events it emits, as a
    /// synchronous call chain would: the caller is slowed by everything after it.
    SynchronousProcessing,
}

impl AntiPattern {
    pub const ALL: [AntiPattern; 10] = [
        Self::NoDlq,
        Self::NoIdempotency,
        Self::FireAndForget,
        Self::NoCorrelationId,
        Self::FatEvents,
        Self::UnorderedRetries,
        Self::NoOutbox,
        Self::NoSchemaVersioning,
        Self::EventsAsCommands,
        Self::SynchronousProcessing,
    ];

    /// Reads an anti-pattern by its name (see `super::reader`).
    pub fn read(value: serde_json::Value, path: &str) -> super::reader::Read<AntiPattern> {
        let names = Self::ALL.map(Self::name);
        Ok(Self::ALL[super::reader::variant(value, path, &names)?])
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::NoDlq => "no_dlq",
            Self::NoIdempotency => "no_idempotency",
            Self::FireAndForget => "fire_and_forget",
            Self::NoCorrelationId => "no_correlation_id",
            Self::FatEvents => "fat_events",
            Self::UnorderedRetries => "unordered_retries",
            Self::NoOutbox => "no_outbox",
            Self::NoSchemaVersioning => "no_schema_versioning",
            Self::EventsAsCommands => "events_as_commands",
            Self::SynchronousProcessing => "synchronous_processing",
        }
    }

    /// What goes wrong, in one line.
    pub fn risk(self) -> &'static str {
        match self {
            Self::NoDlq => "a poison message blocks its queue or is retried forever",
            Self::NoIdempotency => "a redelivered message is applied twice (double charge)",
            Self::FireAndForget => "a crash between ack and handling loses the event",
            Self::NoCorrelationId => "a business flow cannot be followed across services",
            Self::FatEvents => "every event carries the whole entity: bandwidth and coupling",
            Self::UnorderedRetries => "a retried message is overtaken by later ones of the same key",
            Self::NoOutbox => "a crash between the database write and the publish loses the event",
            Self::NoSchemaVersioning => "a schema change breaks every reader of old events",
            Self::EventsAsCommands => "the publisher must know and address every consumer (tight coupling)",
            Self::SynchronousProcessing => "each step waits for everything after it; latency adds up and queues grow",
        }
    }

    /// The fix, in one line.
    pub fn fix(self) -> &'static str {
        match self {
            Self::NoDlq => "always configure a DLQ",
            Self::NoIdempotency => "store processed ids in the same transaction as the effect",
            Self::FireAndForget => "acknowledge after handling (at-least-once)",
            Self::NoCorrelationId => "copy the correlation id into every event you emit",
            Self::FatEvents => "include only the changed fields and ids",
            Self::UnorderedRetries => "block the key while its message waits for a retry",
            Self::NoOutbox => "write the event to an outbox table in the same transaction; a relay publishes it",
            Self::NoSchemaVersioning => "version every event and upcast old versions on read",
            Self::EventsAsCommands => "publish facts about what happened; let consumers decide what to do",
            Self::SynchronousProcessing => "publish and move on; let consumers process asynchronously",
        }
    }

    /// Changes the scenario's configuration where the anti-pattern is a setting.
    pub fn apply_to(self, scenario: &mut Scenario) {
        for sub in &mut scenario.subscriptions {
            match self {
                Self::NoDlq => sub.dlq = false,
                Self::NoIdempotency if sub.delivery == Delivery::ExactlyOnceEffect => {
                    sub.delivery = Delivery::AtLeastOnce;
                }
                Self::FireAndForget => sub.delivery = Delivery::AtMostOnce,
                _ => {}
            }
        }
    }
}

impl fmt::Display for AntiPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AntiPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.name()).collect();
            format!("unknown anti-pattern '{s}'; known: {}", names.join(", "))
        })
    }
}
