//! Ledgers: the collections that grow with the length of a run, kept outside the
//! snapshotted world and journaled instead.
//!
//! A snapshot of the world is taken every few thousand steps so that rewinding only
//! replays a short stretch. Copying sets that hold every processed event id would make
//! each snapshot cost as much as the whole history, so these sets live here, and
//! every change is written to a journal. A snapshot records only the journal's length;
//! going back undoes the journal down to that length. Like the envelope arena and the
//! trace, this costs memory in proportion to the run and nothing per snapshot.

use std::collections::{BTreeMap, BTreeSet};

use super::time::Millis;
use super::trace::SubId;

/// End-to-end latency of one business flow (a correlation id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub started_ms: Millis,
    pub last_ms: Millis,
    pub handled: u32,
}

#[derive(Clone, Debug)]
enum Change {
    Handled((SubId, u64)),
    Processed((SubId, u64)),
    LastSeq((SubId, u64), Option<u64>),
    Flow(u64, Option<FlowStats>),
}

#[derive(Clone, Debug, Default)]
pub struct Ledgers {
    /// The exactly-once checker's record of (subscription, event) pairs whose effect
    /// was applied. Deliberately separate from `processed`: a bug in the idempotent
    /// consumer must not hide from the checker.
    handled: BTreeSet<(SubId, u64)>,
    /// The idempotent consumers' processed-ids tables (engine state).
    processed: BTreeSet<(SubId, u64)>,
    /// The per-key-order checker's last handled publication per (subscription, key).
    last_seq: BTreeMap<(SubId, u64), u64>,
    /// Flows by correlation-id fingerprint.
    flows: BTreeMap<u64, FlowStats>,
    journal: Vec<Change>,
}

impl Ledgers {
    /// The journal position to come back to.
    pub fn mark(&self) -> usize {
        self.journal.len()
    }

    /// Undoes every change made after `mark`.
    pub fn undo_to(&mut self, mark: usize) {
        while self.journal.len() > mark {
            match self.journal.pop() {
                Some(Change::Handled(k)) => {
                    self.handled.remove(&k);
                }
                Some(Change::Processed(k)) => {
                    self.processed.remove(&k);
                }
                Some(Change::LastSeq(k, old)) => match old {
                    Some(v) => {
                        self.last_seq.insert(k, v);
                    }
                    None => {
                        self.last_seq.remove(&k);
                    }
                },
                Some(Change::Flow(k, old)) => match old {
                    Some(v) => {
                        self.flows.insert(k, v);
                    }
                    None => {
                        self.flows.remove(&k);
                    }
                },
                None => break,
            }
        }
    }

    pub fn was_handled(&self, sub: SubId, event: u64) -> bool {
        self.handled.contains(&(sub, event))
    }

    /// Records a handling; false if the pair was already there.
    pub fn record_handled(&mut self, sub: SubId, event: u64) -> bool {
        let new = self.handled.insert((sub, event));
        if new {
            self.journal.push(Change::Handled((sub, event)));
        }
        new
    }

    pub fn is_processed(&self, sub: SubId, event: u64) -> bool {
        self.processed.contains(&(sub, event))
    }

    pub fn record_processed(&mut self, sub: SubId, event: u64) {
        if self.processed.insert((sub, event)) {
            self.journal.push(Change::Processed((sub, event)));
        }
    }

    pub fn last_seq(&self, sub: SubId, key: u64) -> Option<u64> {
        self.last_seq.get(&(sub, key)).copied()
    }

    pub fn set_last_seq(&mut self, sub: SubId, key: u64, seq: u64) {
        let old = self.last_seq.insert((sub, key), seq);
        if old != Some(seq) {
            self.journal.push(Change::LastSeq((sub, key), old));
        }
    }

    pub fn flow(&self, correlation: u64) -> Option<&FlowStats> {
        self.flows.get(&correlation)
    }

    pub fn flows(&self) -> &BTreeMap<u64, FlowStats> {
        &self.flows
    }

    pub fn set_flow(&mut self, correlation: u64, stats: FlowStats) {
        let old = self.flows.insert(correlation, stats);
        self.journal.push(Change::Flow(correlation, old));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_restores_every_collection_to_the_mark() {
        let mut l = Ledgers::default();
        l.record_handled(SubId(0), 1);
        l.set_last_seq(SubId(0), 9, 3);
        l.set_flow(5, FlowStats { started_ms: 1, last_ms: 1, handled: 0 });
        let mark = l.mark();
        l.record_handled(SubId(0), 2);
        l.record_processed(SubId(1), 2);
        l.set_last_seq(SubId(0), 9, 4);
        l.set_last_seq(SubId(0), 8, 1);
        l.set_flow(5, FlowStats { started_ms: 1, last_ms: 7, handled: 1 });
        l.undo_to(mark);
        assert!(l.was_handled(SubId(0), 1) && !l.was_handled(SubId(0), 2));
        assert!(!l.is_processed(SubId(1), 2));
        assert_eq!(l.last_seq(SubId(0), 9), Some(3));
        assert_eq!(l.last_seq(SubId(0), 8), None);
        assert_eq!(l.flow(5).unwrap().last_ms, 1);
    }
}
