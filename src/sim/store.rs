//! The event store: streams of events per aggregate, and the log of all of them.
//!
//! An event-sourced service keeps no mutable state of its own. Each aggregate (an
//! account, an order) is a *stream* of events; its state is rebuilt by folding them.
//! Writers append with an *expected version*, the optimistic-concurrency check that
//! turns a lost update into a visible conflict. Every event also gets a global
//! *position* in the store's log, which is what projections read and checkpoint.
//!
//! Folding from the first event gets slow for long streams, so every `snapshot_every`
//! events the state is stored beside the stream; reading state "as of" a version
//! starts from the nearest snapshot at or below it. A test checks that snapshot plus
//! tail equals a fold from zero.
//!
//! Stored events are facts and never change. Old events keep their schema version;
//! [`Upcaster`]s turn them into the current shape *on read*, so readers only ever see
//! the current version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::time::Millis;

/// The version a writer expects a stream to be at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedVersion {
    /// Append whatever the stream holds (no concurrency check).
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version (1 = one event).
    Exactly(u64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    /// Position in the store's log, from 1.
    pub position: u64,
    pub stream: String,
    /// Version of the stream after this event, from 1.
    pub version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub data: Map<String, Value>,
    pub time_ms: Millis,
    /// The event id it carries on the bus, when published.
    pub event_id: String,
}

/// An event to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub data: Map<String, Value>,
    pub event_id: String,
}

/// The optimistic-concurrency check failed: someone else appended first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub actual: u64,
}

/// Turns events of `event_type` at `from_version` into `from_version + 1`: fields are
/// renamed and missing fields get defaults.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Upcaster {
    #[serde(rename = "type")]
    pub event_type: String,
    pub from_version: u32,
    pub rename: BTreeMap<String, String>,
    pub defaults: BTreeMap<String, Value>,
}

impl Upcaster {
    fn upcast(&self, data: &mut Map<String, Value>) {
        for (from, to) in &self.rename {
            if let Some(v) = data.remove(from) {
                data.insert(to.clone(), v);
            }
        }
        for (field, value) in &self.defaults {
            data.entry(field.clone()).or_insert_with(|| value.clone());
        }
    }
}

/// Brings an event to the newest schema version the upcasters know. Returns the
/// upcast data and the version reached.
pub fn upcast(
    upcasters: &[Upcaster],
    event_type: &str,
    version: u32,
    data: &Map<String, Value>,
) -> (Map<String, Value>, u32) {
    let mut data = data.clone();
    let mut version = version;
    // Each upcaster moves one version up; the chain is bounded by the upcaster count.
    for _ in 0..=upcasters.len() {
        match upcasters.iter().find(|u| u.event_type == event_type && u.from_version == version) {
            Some(u) => {
                u.upcast(&mut data);
                version += 1;
            }
            None => break,
        }
    }
    (data, version)
}

/// A stored copy of an aggregate's state at a stream version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub version: u64,
    pub state: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, Default)]
pub struct EventStore {
    log: Vec<StoredEvent>,
    /// Positions of each stream's events, in version order.
    streams: BTreeMap<String, Vec<u64>>,
    snapshots: BTreeMap<String, Vec<Snapshot>>,
}

impl EventStore {
    /// The position of the last event (0 when empty).
    pub fn head(&self) -> u64 {
        self.log.len() as u64
    }

    pub fn version(&self, stream: &str) -> u64 {
        self.streams.get(stream).map_or(0, |s| s.len() as u64)
    }

    pub fn streams(&self) -> impl Iterator<Item = (&str, u64)> {
        self.streams.iter().map(|(k, v)| (k.as_str(), v.len() as u64))
    }

    pub fn event_at(&self, position: u64) -> Option<&StoredEvent> {
        position.checked_sub(1).and_then(|i| self.log.get(i as usize))
    }

    /// Events after `position`, in log order.
    pub fn read_all(&self, after_position: u64) -> &[StoredEvent] {
        let from = (after_position as usize).min(self.log.len());
        &self.log[from..]
    }

    pub fn read_stream<'a>(&'a self, stream: &str) -> impl Iterator<Item = &'a StoredEvent> + 'a {
        self.streams.get(stream).into_iter().flatten().filter_map(|p| self.event_at(*p))
    }

    pub fn snapshots(&self, stream: &str) -> &[Snapshot] {
        self.snapshots.get(stream).map_or(&[], |s| s.as_slice())
    }

    /// Appends events if the stream is at the expected version.
    pub fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        time_ms: Millis,
    ) -> Result<u64, Conflict> {
        let actual = self.version(stream);
        let ok = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exactly(v) => actual == v,
        };
        if !ok {
            return Err(Conflict { stream: stream.to_string(), expected, actual });
        }
        let positions = self.streams.entry(stream.to_string()).or_default();
        for e in events {
            let position = self.log.len() as u64 + 1;
            positions.push(position);
            self.log.push(StoredEvent {
                position,
                stream: stream.to_string(),
                version: positions.len() as u64,
                event_type: e.event_type,
                schema_version: e.schema_version,
                data: e.data,
                time_ms,
                event_id: e.event_id,
            });
        }
        Ok(positions.len() as u64)
    }

    pub fn add_snapshot(&mut self, stream: &str, snapshot: Snapshot) {
        self.snapshots.entry(stream.to_string()).or_default().push(snapshot);
    }

    /// Forgets everything after the first `head` events (rewinding a run).
    pub fn truncate(&mut self, head: u64) {
        while self.log.len() as u64 > head {
            let Some(e) = self.log.pop() else { break };
            if let Some(positions) = self.streams.get_mut(&e.stream) {
                positions.pop();
                if positions.is_empty() {
                    self.streams.remove(&e.stream);
                }
            }
            if let Some(snaps) = self.snapshots.get_mut(&e.stream) {
                snaps.retain(|s| s.version < e.version);
                if snaps.is_empty() {
                    self.snapshots.remove(&e.stream);
                }
            }
        }
    }
}
