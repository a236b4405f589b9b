//! Ledgers: the collections that grow with the length of a run.
//!
//! A snapshot of the world is taken every few thousand steps so that rewinding only
//! replays a short stretch. Copying sets that hold every processed event id would make
//! each snapshot cost as much as the whole history, so these collections are
//! persistent (structurally shared, from the `imbl` crate): cloning one is O(1), and a
//! later insert copies only the few tree nodes on its path. A snapshot of the world
//! therefore costs what the *live* state costs, and restoring one is as cheap.

use imbl::{OrdMap, OrdSet};

use super::time::Millis;
use super::trace::SubId;

/// End-to-end latency of one business flow (a correlation id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub started_ms: Millis,
    pub last_ms: Millis,
    pub handled: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Ledgers {
    /// The exactly-once checker's record of (subscription, event) pairs whose effect
    /// was applied. Deliberately separate from `processed`: a bug in the idempotent
    /// consumer must not hide from the checker.
    handled: OrdSet<(SubId, u64)>,
    /// The idempotent consumers' processed-ids tables (engine state).
    processed: OrdSet<(SubId, u64)>,
    /// The per-key-order checker's last handled publication per (subscription, key).
    last_seq: OrdMap<(SubId, u64), u64>,
    /// Flows by correlation-id fingerprint.
    flows: OrdMap<u64, FlowStats>,
}

impl Ledgers {
    pub fn was_handled(&self, sub: SubId, event: u64) -> bool {
        self.handled.contains(&(sub, event))
    }

    /// Records a handling; false if the pair was already there.
    pub fn record_handled(&mut self, sub: SubId, event: u64) -> bool {
        self.handled.insert((sub, event)).is_none()
    }

    pub fn is_processed(&self, sub: SubId, event: u64) -> bool {
        self.processed.contains(&(sub, event))
    }

    pub fn record_processed(&mut self, sub: SubId, event: u64) {
        self.processed.insert((sub, event));
    }

    pub fn last_seq(&self, sub: SubId, key: u64) -> Option<u64> {
        self.last_seq.get(&(sub, key)).copied()
    }

    pub fn set_last_seq(&mut self, sub: SubId, key: u64, seq: u64) {
        self.last_seq.insert((sub, key), seq);
    }

    pub fn flow(&self, correlation: u64) -> Option<&FlowStats> {
        self.flows.get(&correlation)
    }

    /// Flows in correlation-fingerprint order.
    pub fn flows(&self) -> impl Iterator<Item = (&u64, &FlowStats)> {
        self.flows.iter()
    }

    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    pub fn set_flow(&mut self, correlation: u64, stats: FlowStats) {
        self.flows.insert(correlation, stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_is_a_snapshot_unaffected_by_later_changes() {
        let mut l = Ledgers::default();
        l.record_handled(SubId(0), 1);
        l.set_last_seq(SubId(0), 9, 3);
        l.set_flow(5, FlowStats { started_ms: 1, last_ms: 1, handled: 0 });
        let snapshot = l.clone();
        assert!(!l.record_handled(SubId(0), 1), "already there");
        l.record_handled(SubId(0), 2);
        l.record_processed(SubId(1), 2);
        l.set_last_seq(SubId(0), 9, 4);
        l.set_flow(5, FlowStats { started_ms: 1, last_ms: 7, handled: 1 });
        assert!(snapshot.was_handled(SubId(0), 1) && !snapshot.was_handled(SubId(0), 2));
        assert!(!snapshot.is_processed(SubId(1), 2));
        assert_eq!(snapshot.last_seq(SubId(0), 9), Some(3));
        assert_eq!(snapshot.flow(5).unwrap().last_ms, 1);
        assert_eq!(l.flow(5).unwrap().last_ms, 7);
    }
}
