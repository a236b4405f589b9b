//! Ledgers: the collections that grow with the length of a run.
//!
//! A snapshot of the world is taken every few thousand steps so that rewinding only
//! replays a short stretch. Copying tables that hold every processed event would make
//! each snapshot cost as much as the whole history, so they are built to be shared.
//!
//! The trick is to index them densely. Every message gets an *ordinal* when it is
//! created: the id of the first message that carried the same event id (see
//! [`FirstSeen`]). Ordinals grow with the run, so a table indexed by them is an array
//! whose recent entries sit at the end. [`Slots`] keeps such an array in fixed-size
//! chunks behind reference-counted pointers: a snapshot clones only the pointers, and
//! a later write copies just the one chunk it touches, which is almost always one of
//! the last few. A balanced tree keyed by hashed ids, the obvious alternative, spreads
//! consecutive inserts over the whole tree, so after each snapshot nearly every insert
//! copies a fresh path of nodes; measured, that was a quarter of the engine's time.

use std::rc::Rc;

use hashbrown::HashTable;

use super::time::Millis;
use super::trace::SubId;

/// End-to-end latency of one business flow (a correlation id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub started_ms: Millis,
    pub last_ms: Millis,
    pub handled: u32,
}

/// Entries per chunk: large enough that a snapshot has few pointers to clone, small
/// enough that copying a chunk on the first write after a snapshot is cheap.
const CHUNK: usize = 256;

/// A growable array of `T`, indexed by `u32`, that shares its chunks between clones.
/// Entries never written read as `T::default()`.
#[derive(Clone, Debug)]
pub struct Slots<T: Copy + Default> {
    chunks: Vec<Option<Rc<[T; CHUNK]>>>,
}

impl<T: Copy + Default> Default for Slots<T> {
    fn default() -> Self {
        Self { chunks: Vec::new() }
    }
}

impl<T: Copy + Default> Slots<T> {
    pub fn get(&self, index: u32) -> T {
        let (chunk, at) = split(index);
        match self.chunks.get(chunk) {
            Some(Some(c)) => c[at],
            _ => T::default(),
        }
    }

    /// The entry to change in place; its chunk is copied first if a snapshot shares it.
    pub fn get_mut(&mut self, index: u32) -> &mut T {
        let (chunk, at) = split(index);
        if self.chunks.len() <= chunk {
            self.chunks.resize(chunk + 1, None);
        }
        let c = self.chunks[chunk].get_or_insert_with(|| Rc::new([T::default(); CHUNK]));
        &mut Rc::make_mut(c)[at]
    }

    pub fn set(&mut self, index: u32, value: T) {
        *self.get_mut(index) = value;
    }

    /// Every written chunk's entries, in index order (unwritten chunks are skipped).
    pub fn iter(&self) -> impl Iterator<Item = (u32, T)> + '_ {
        self.chunks.iter().enumerate().flat_map(|(c, chunk)| {
            chunk
                .iter()
                .flat_map(move |values| values.iter().enumerate().map(move |(i, v)| ((c * CHUNK + i) as u32, *v)))
        })
    }
}

fn split(index: u32) -> (usize, usize) {
    let i = index as usize;
    (i / CHUNK, i % CHUNK)
}

/// A set of ordinals: one bit each, 64 to a word of a [`Slots`].
#[derive(Clone, Debug, Default)]
pub struct Bits(Slots<u64>);

impl Bits {
    pub fn contains(&self, index: u32) -> bool {
        self.0.get(index / 64) >> (index % 64) & 1 == 1
    }

    /// Adds `index`; false if it was already there.
    pub fn insert(&mut self, index: u32) -> bool {
        let word = self.0.get_mut(index / 64);
        let bit = 1u64 << (index % 64);
        let added = *word & bit == 0;
        *word |= bit;
        added
    }
}

/// The first position at which each id (an event id, a subject, a correlation id) was
/// seen, for handing out ordinals.
///
/// It lives beside the append-only message list, outside the world: after a rewind the
/// list still holds the computed future, and so does this map. An entry is therefore
/// only believed when its position is inside the live prefix; entries of a discarded
/// future are removed with [`FirstSeen::forget`] when the run forks.
///
/// A hash table, because the keys are fingerprints scattered over the whole range: in
/// an ordered tree every lookup of a long run walked cold nodes, and this lookup runs
/// for every message created. Determinism is safe: the table is only ever searched by
/// key, never iterated, so its internal order cannot leak into a run.
///
/// Identity is exact. The fingerprint only finds candidates: an entry is the same id
/// only if the caller's `same(position)` says the message at that position carries it
/// (the table stores no strings; the message list has them). Two ids whose
/// fingerprints collide get two entries and two ordinals, so an idempotent consumer
/// never mistakes one event for another, and neither does the exactly-once checker.
#[derive(Clone, Debug, Default)]
pub struct FirstSeen {
    first: HashTable<(u64, u32)>,
    /// Tests only: every fingerprint is 0, so every id collides with every other and
    /// only the full comparison tells them apart.
    #[cfg(test)]
    colliding: bool,
}

/// Spreads a fingerprint over the bits the table uses for buckets and tags.
fn spread(key: u64) -> u64 {
    let h = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 32)
}

impl FirstSeen {
    /// A table in which every fingerprint collides (see `colliding`).
    #[cfg(test)]
    pub fn colliding() -> Self {
        Self { colliding: true, ..Self::default() }
    }

    fn fingerprint(&self, key: u64) -> u64 {
        #[cfg(test)]
        if self.colliding {
            return 0;
        }
        key
    }

    /// The ordinal for the id with fingerprint `key` met at `position`, the next
    /// position of the live prefix: the earlier position of the same id if the live
    /// prefix has one, else `position` itself. `same(p)` tells whether the message at
    /// `p` carries this id.
    pub fn ordinal(&mut self, key: u64, position: u32, same: &dyn Fn(u32) -> bool) -> u32 {
        let key = self.fingerprint(key);
        let entry = self.first.entry(spread(key), |e| e.0 == key && same(e.1), |e| spread(e.0));
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut e) => {
                let first = &mut e.get_mut().1;
                if *first > position {
                    *first = position;
                }
                *first
            }
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert((key, position));
                position
            }
        }
    }

    /// The first position of the id with fingerprint `key` among the first `live`
    /// positions (`same` as for [`FirstSeen::ordinal`]). The test is a `dyn` closure so
    /// the table's probing code is compiled once, not once per caller (bundle size).
    pub fn find(&self, key: u64, live: u32, same: &dyn Fn(u32) -> bool) -> Option<u32> {
        let key = self.fingerprint(key);
        self.first.find(spread(key), |e| e.0 == key && e.1 < live && same(e.1)).map(|e| e.1)
    }

    /// The entry at `position` is being discarded (the run forked before it).
    pub fn forget(&mut self, key: u64, position: u32) {
        let key = self.fingerprint(key);
        if let Ok(e) = self.first.find_entry(spread(key), |e| e.0 == key && e.1 == position) {
            e.remove();
        }
    }
}

/// The growing tables of a run, indexed by ordinals (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct Ledgers {
    /// The exactly-once checker's record of the events each subscription applied.
    /// Deliberately separate from `processed`: a bug in the idempotent consumer must
    /// not hide from the checker.
    handled: Vec<Bits>,
    /// The idempotent consumers' processed-ids tables (engine state).
    processed: Vec<Bits>,
    /// The per-key-order checker's last handled publication per subscription and
    /// subject ordinal (0: none yet; publication numbers start at 1).
    last_seq: Vec<Slots<u64>>,
    /// Flows by the ordinal of the event that started them.
    flows: Slots<Option<FlowStats>>,
}

impl Ledgers {
    pub fn new(subscriptions: usize) -> Self {
        Self {
            handled: vec![Bits::default(); subscriptions],
            processed: vec![Bits::default(); subscriptions],
            last_seq: vec![Slots::default(); subscriptions],
            flows: Slots::default(),
        }
    }

    pub fn was_handled(&self, sub: SubId, event: u32) -> bool {
        self.handled.get(sub.0 as usize).is_some_and(|b| b.contains(event))
    }

    /// Records a handling; false if it was already recorded.
    pub fn record_handled(&mut self, sub: SubId, event: u32) -> bool {
        self.handled[sub.0 as usize].insert(event)
    }

    pub fn is_processed(&self, sub: SubId, event: u32) -> bool {
        self.processed.get(sub.0 as usize).is_some_and(|b| b.contains(event))
    }

    pub fn record_processed(&mut self, sub: SubId, event: u32) {
        self.processed[sub.0 as usize].insert(event);
    }

    pub fn last_seq(&self, sub: SubId, subject: u32) -> Option<u64> {
        Some(self.last_seq.get(sub.0 as usize)?.get(subject)).filter(|s| *s > 0)
    }

    pub fn set_last_seq(&mut self, sub: SubId, subject: u32, seq: u64) {
        self.last_seq[sub.0 as usize].set(subject, seq);
    }

    pub fn flow(&self, flow: u32) -> Option<FlowStats> {
        self.flows.get(flow)
    }

    /// Flows in the order they started, by the ordinal of their first event.
    pub fn flows(&self) -> impl Iterator<Item = (u32, FlowStats)> + '_ {
        self.flows.iter().filter_map(|(i, f)| f.map(|f| (i, f)))
    }

    pub fn set_flow(&mut self, flow: u32, stats: FlowStats) {
        self.flows.set(flow, Some(stats));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_is_a_snapshot_unaffected_by_later_changes() {
        let mut l = Ledgers::new(2);
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
        assert!(!snapshot.is_processed(SubId(1), 2) && l.is_processed(SubId(1), 2));
        assert_eq!(snapshot.last_seq(SubId(0), 9), Some(3));
        assert_eq!(l.last_seq(SubId(0), 9), Some(4));
        assert_eq!(l.last_seq(SubId(1), 9), None);
        assert_eq!(snapshot.flow(5).unwrap().last_ms, 1);
        assert_eq!(l.flow(5).unwrap().last_ms, 7);
    }

    #[test]
    fn slots_grow_on_write_and_read_defaults_elsewhere() {
        let mut s: Slots<u64> = Slots::default();
        assert_eq!(s.get(1_000_000), 0);
        s.set(1_000_000, 7);
        s.set(3, 2);
        assert_eq!((s.get(1_000_000), s.get(3), s.get(4)), (7, 2, 0));
        let written: Vec<(u32, u64)> = s.iter().filter(|(_, v)| *v != 0).collect();
        assert_eq!(written, vec![(3, 2), (1_000_000, 7)], "in index order");
    }

    #[test]
    fn a_snapshot_shares_chunks_until_one_is_written() {
        let mut s: Slots<u64> = Slots::default();
        for i in 0..(4 * CHUNK as u32) {
            s.set(i, u64::from(i));
        }
        let snapshot = s.clone();
        s.set(4 * CHUNK as u32 - 1, 0);
        let shared = s.chunks.iter().zip(&snapshot.chunks).filter(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            _ => false,
        });
        assert_eq!(shared.count(), 3, "only the written chunk was copied");
        assert_eq!(snapshot.get(4 * CHUNK as u32 - 1), u64::from(4 * CHUNK as u32 - 1));
    }

    #[test]
    fn bits_insert_once() {
        let mut b = Bits::default();
        assert!(b.insert(130) && !b.insert(130));
        assert!(b.contains(130) && !b.contains(129) && !b.contains(131));
    }

    #[test]
    fn first_seen_believes_only_the_live_prefix() {
        let mut f = FirstSeen::default();
        let any = &|_: u32| true;
        assert_eq!(f.ordinal(42, 0, any), 0);
        assert_eq!(f.ordinal(42, 5, any), 0, "the same key later gets the first position");
        assert_eq!(f.find(42, 1, any), Some(0));
        assert_eq!(f.ordinal(7, 3, any), 3);
        assert_eq!(f.find(7, 3, any), None, "position 3 is not live when 3 positions are");
        // The run forks at position 2: the entry at 3 belongs to a discarded future.
        f.forget(7, 3);
        assert_eq!(f.ordinal(7, 2, any), 2);
    }

    #[test]
    fn colliding_fingerprints_are_told_apart_by_the_ids() {
        for mut f in [FirstSeen::default(), FirstSeen::colliding()] {
            let ids = ["evt_a", "evt_b", "evt_a", "evt_b"];
            let a = |p: u32| ids[p as usize] == "evt_a";
            let b = |p: u32| ids[p as usize] == "evt_b";
            let c = |p: u32| ids[p as usize] == "evt_c";
            // Both ids have the same fingerprint, 9: two ordinals all the same.
            assert_eq!(f.ordinal(9, 0, &a), 0);
            assert_eq!(f.ordinal(9, 1, &b), 1, "a collision is a different id");
            assert_eq!(f.ordinal(9, 2, &a), 0);
            assert_eq!(f.ordinal(9, 3, &b), 1);
            assert_eq!(f.find(9, 4, &b), Some(1));
            assert_eq!(f.find(9, 4, &c), None);
        }
    }
}
