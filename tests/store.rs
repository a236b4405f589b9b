//! Event sourcing and CQRS: streams, optimistic concurrency, snapshots, state "as
//! of" a version, upcasting, and projections with checkpoints, lag and rebuilds.

mod common;

use common::{builtin, run};
use eventscope::sim::store::{EventStore, ExpectedVersion, NewEvent};
use eventscope::sim::trace::{FailureCause, Happened};
use eventscope::sim::{AntiPattern, Fault, FaultScript, RunConfig, Simulation};

fn event(t: &str) -> NewEvent {
    NewEvent { event_type: t.into(), schema_version: 1, data: Default::default(), event_id: String::new() }
}

#[test]
fn append_checks_the_expected_version() {
    let mut store = EventStore::default();
    assert_eq!(store.append("a", ExpectedVersion::NoStream, vec![event("x")], 0), Ok(1));
    let conflict = store.append("a", ExpectedVersion::NoStream, vec![event("x")], 0).unwrap_err();
    assert_eq!(conflict.actual, 1);
    assert!(store.append("a", ExpectedVersion::Exactly(0), vec![event("x")], 0).is_err());
    assert_eq!(store.append("a", ExpectedVersion::Exactly(1), vec![event("y"), event("z")], 0), Ok(3));
    assert_eq!(store.append("b", ExpectedVersion::Any, vec![event("x")], 0), Ok(1));
    assert_eq!(store.head(), 4);
    assert_eq!(store.read_stream("a").map(|e| e.version).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(store.read_all(2).iter().map(|e| e.position).collect::<Vec<_>>(), vec![3, 4]);
    store.truncate(2);
    assert_eq!((store.version("a"), store.version("b"), store.head()), (2, 0, 2));
}

fn bank() -> Simulation {
    let mut sim = Simulation::new(RunConfig::new(builtin("bank-account"), 1)).unwrap();
    sim.run_to_end();
    sim
}

#[test]
fn concurrent_handlings_of_one_account_conflict_visibly_and_lose_no_update() {
    let sim = bank();
    let conflicts = sim
        .trace()
        .iter()
        .filter(|r| matches!(&r.happened, Happened::HandlingFailed { cause: FailureCause::Conflict { .. }, .. }))
        .count();
    assert!(conflicts > 0, "the teller and the ATM overlap on acct-1");
    let accounts = sim.compiled().service_by_name("accounts").unwrap();
    let state = sim.aggregate_state(accounts, "acct-1", None, true).unwrap();
    // Every command was applied exactly once despite the conflicts.
    assert_eq!(state.get("deposits"), Some(&12));
    let withdrawals = state.get("withdrawals").copied().unwrap_or(0);
    assert_eq!(state.get("balance"), Some(&(120 - 15 * withdrawals)));
    assert_eq!(sim.checkers().total_violations(), 0);
}

#[test]
fn snapshot_plus_tail_equals_a_fold_from_zero_at_every_version() {
    let sim = bank();
    let accounts = sim.compiled().service_by_name("accounts").unwrap();
    let store = sim.store(accounts);
    assert!(store.snapshots("acct-1").len() >= 3, "a snapshot every 5 events");
    for version in 0..=store.version("acct-1") {
        let with = sim.aggregate_state(accounts, "acct-1", Some(version), true).unwrap();
        let without = sim.aggregate_state(accounts, "acct-1", Some(version), false).unwrap();
        assert_eq!(with, without, "as of v{version}");
    }
}

#[test]
fn state_as_of_a_version_sees_only_the_events_up_to_it() {
    let sim = bank();
    let accounts = sim.compiled().service_by_name("accounts").unwrap();
    let opened = sim.aggregate_state(accounts, "acct-1", Some(1), true).unwrap();
    assert_eq!(opened.get("open"), Some(&1));
    assert_eq!(opened.get("balance"), None);
    let two = sim.aggregate_state(accounts, "acct-1", Some(2), true).unwrap();
    assert_eq!(two.get("balance"), Some(&10));
}

#[test]
fn a_projection_lags_then_catches_up_and_rebuilds_from_zero() {
    let mut sim = Simulation::new(RunConfig::new(builtin("order-read-model"), 1)).unwrap();
    let accounts = sim.compiled().service_by_name("orders").unwrap();
    let mut max_lag = 0;
    while sim.step().is_some() {
        let head = sim.store(accounts).head();
        let checkpoint = sim.projection_state(0).unwrap().checkpoint;
        max_lag = max_lag.max(head - checkpoint);
    }
    assert!(max_lag >= 5, "the slow projection falls behind: {max_lag}");
    let caught_up = sim.projection_state(0).unwrap().clone();
    assert_eq!(caught_up.checkpoint, sim.store(accounts).head());
    assert_eq!((caught_up.state.get("placed"), caught_up.state.get("open")), (Some(&20), Some(&0)));

    sim.inject(Fault::RebuildProjection { projection: "orders-by-status".into() }).unwrap();
    assert_eq!(sim.projection_state(0).unwrap().checkpoint, 0);
    assert!(sim.projection_state(0).unwrap().state.is_empty(), "a stale read during the rebuild sees nothing yet");
    sim.run_to_end();
    assert_eq!(sim.projection_state(0).unwrap().state, caught_up.state, "rebuilt to the same read model");
}

#[test]
fn upcasters_bring_old_events_to_the_current_schema_and_without_them_readers_fail() {
    let sim = run(builtin("schema-versioning"), 1, FaultScript::default(), &[]);
    let wallet = sim.compiled().service_by_name("wallet").unwrap();
    let state = sim.aggregate_state(wallet, "wallet-1", None, true).unwrap();
    assert_eq!(state.get("balance.EUR"), Some(&70), "v1 amt upcast to amount with currency EUR");
    assert_eq!(state.get("balance.USD"), Some(&90));
    let totals = &sim.projection_state(0).unwrap().state;
    assert_eq!(totals.get("total.EUR"), Some(&(70 + 75 + 30)));
    assert_eq!(sim.checkers().total_violations(), 0);

    let broken = run(builtin("schema-versioning"), 1, FaultScript::default(), &[AntiPattern::NoSchemaVersioning]);
    let projection = broken.projection_state(0).unwrap();
    assert_eq!(projection.stalled, Some((1, "currency".to_string())), "the projection stops at the first v1 event");
    let unreadable = broken
        .trace()
        .iter()
        .filter(|r| {
            matches!(&r.happened, Happened::HandlingFailed { cause: FailureCause::UnreadableHistory { .. }, .. })
        })
        .count();
    assert!(unreadable > 0, "the wallet cannot load aggregates with v1 history");
    let wallet_sub = broken.compiled().sub_by_name("wallet-commands").unwrap();
    assert!(!broken.sub_state(wallet_sub).dlq.is_empty(), "the commands end in the DLQ");
}

#[test]
fn event_sourced_scenarios_rewind_and_replay_exactly() {
    for name in ["bank-account", "order-read-model", "schema-versioning"] {
        let live = run(builtin(name), 3, FaultScript::random(100), &[]);
        let mut sim = Simulation::new(RunConfig {
            scenario: builtin(name),
            seed: 3,
            faults: FaultScript::random(100),
            anti_patterns: vec![],
        })
        .unwrap();
        sim.run_to_end();
        for target in [0, live.step_index() / 2, 7] {
            sim.rewind_to(target);
            sim.run_to_end();
            assert_eq!(sim.trace(), live.trace(), "{name} after rewinding to {target}");
        }
    }
}

#[test]
fn a_view_reads_a_stored_v1_event_as_v2_while_the_store_keeps_it_as_written() {
    let sim = run(builtin("schema-versioning"), 1, FaultScript::default(), &[]);
    let wallet = sim.compiled().service_by_name("wallet").unwrap();
    let first = sim.store(wallet).read_stream("wallet-1").next().unwrap();
    assert_eq!(first.schema_version, 1);
    assert_eq!(first.data.get("amt"), Some(&50.into()), "stored as written");
    let (read, version) = sim.read_as(wallet, first);
    assert_eq!(version, 2);
    assert_eq!(read.get("amount"), Some(&50.into()));
    assert_eq!(read.get("currency"), Some(&"EUR".into()));
    assert!(!read.contains_key("amt"), "the upcaster renames, it does not copy");

    // Without upcasting the readers get the stored form, which is why they fail.
    let broken = run(builtin("schema-versioning"), 1, FaultScript::default(), &[AntiPattern::NoSchemaVersioning]);
    let first = broken.store(wallet).read_stream("wallet-1").next().unwrap();
    assert_eq!(broken.read_as(wallet, first), (first.data.clone(), 1));
}
