//! Message identity is exact: with ordinal tables in which every fingerprint collides
//! with every other, a run is step for step the run with real fingerprints. So no
//! two distinct events are ever taken for one (by the idempotent consumer, the
//! exactly-once checker, per-key order or the flows), however their hashes fall.

use super::Simulation;
use crate::sim::fault::Matcher;
use crate::sim::ledger::FirstSeen;
use crate::sim::scenario::builtin;
use crate::sim::{AntiPattern, FaultRule, FaultScript, Invariant, RunConfig, Verdict};

fn run(name: &str, seed: u64, faults: FaultScript, anti_patterns: Vec<AntiPattern>, colliding: bool) -> Simulation {
    let scenario = builtin(name).expect("built-in");
    let mut sim = Simulation::new(RunConfig { scenario, seed, faults, anti_patterns }).expect("valid");
    if colliding {
        sim.first_events = FirstSeen::colliding();
        sim.first_subjects = FirstSeen::colliding();
        sim.first_flows = FirstSeen::colliding();
    }
    sim.run_to_end();
    sim
}

#[test]
fn every_fingerprint_colliding_changes_nothing() {
    for name in crate::sim::scenario::builtin_names() {
        let cases = [
            (1, FaultScript::default(), vec![]),
            (7, FaultScript::random(80), vec![]),
            (2, FaultScript::random(50), vec![AntiPattern::EventsAsCommands, AntiPattern::UnorderedRetries]),
        ];
        for (seed, faults, anti_patterns) in cases {
            let real = run(name, seed, faults.clone(), anti_patterns.clone(), false);
            let colliding = run(name, seed, faults, anti_patterns, true);
            assert_eq!(real.trace_hash(), colliding.trace_hash(), "{name} seed {seed}");
            for inv in Invariant::ALL {
                let counts = (real.checkers().count(inv), colliding.checkers().count(inv));
                assert_eq!(counts.0, counts.1, "{name} seed {seed}: {}", inv.name());
            }
            // Every distinct event id has its own ordinal: the first message carrying it.
            for (i, m) in colliding.messages().iter().enumerate() {
                let first = colliding.messages().iter().position(|o| o.envelope.id == m.envelope.id);
                assert_eq!(Some(m.event as usize), first, "{name}: message {i}");
            }
        }
    }
}

#[test]
fn two_events_whose_fingerprints_collide_are_both_handled_exactly_once() {
    // Delivery guarantees under exactly-once effect with duplicates injected: the
    // idempotent consumer must skip the duplicates and nothing else.
    let duplicate = FaultRule { matcher: Matcher::default(), verdict: Verdict::Duplicate, per_mille: 300 };
    let faults = FaultScript { rules: vec![duplicate], ..FaultScript::default() };
    let real = run("delivery-guarantees", 3, faults.clone(), Vec::new(), false);
    let colliding = run("delivery-guarantees", 3, faults, Vec::new(), true);
    let distinct: std::collections::BTreeSet<&str> =
        colliding.messages().iter().map(|m| m.envelope.id.as_str()).collect();
    assert!(distinct.len() > 2, "the run has several distinct events, all colliding in the table");
    let mut skipped = 0;
    for (i, sub) in colliding.compiled().subs.iter().enumerate() {
        let id = crate::sim::trace::SubId(i as u32);
        let (a, b) = (&real.sub_state(id).stats, &colliding.sub_state(id).stats);
        assert_eq!((a.handled, a.duplicates_skipped), (b.handled, b.duplicates_skipped), "{}", sub.name);
        skipped += b.duplicates_skipped;
    }
    assert!(skipped > 0, "the idempotent consumer skipped real duplicates, and only those");
}
