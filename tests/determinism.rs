//! Determinism: a run is a pure function of (scenario, seed, fault script,
//! anti-patterns). Same inputs, same trace hash; other seeds, other traces; rewinding
//! and stepping on reproduces the live run; injected faults replay exactly.

mod common;

use common::{builtin, run};
use eventscope::sim::scenario::builtin_names;
use eventscope::sim::{Fault, FaultScript, RunConfig, Simulation};

#[test]
fn same_inputs_give_the_same_trace() {
    for name in builtin_names() {
        for seed in [0, 1, 42, u64::MAX] {
            let a = run(builtin(name), seed, FaultScript::random(150), &[]);
            let b = run(builtin(name), seed, FaultScript::random(150), &[]);
            assert_eq!(a.trace_hash(), b.trace_hash(), "{name} seed {seed}");
            assert_eq!(a.trace(), b.trace(), "{name} seed {seed}");
        }
    }
}

#[test]
fn different_seeds_give_different_traces() {
    for name in builtin_names() {
        let hashes: std::collections::BTreeSet<u64> =
            (0..20).map(|seed| run(builtin(name), seed, FaultScript::random(150), &[]).trace_hash()).collect();
        assert!(hashes.len() >= 19, "{name}: only {} distinct traces from 20 seeds", hashes.len());
    }
}

#[test]
fn rewinding_and_stepping_on_equals_the_live_run() {
    for name in builtin_names() {
        let mut scenario = builtin(name);
        // Long enough to cross several snapshot intervals.
        for w in &mut scenario.workload {
            if let Some(r) = &mut w.repeat {
                r.count = r.count.max(600);
            }
        }
        let live = run(scenario.clone(), 9, FaultScript::random(100), &[]);
        let end = live.step_index();
        let snapshot = eventscope::sim::simulation::SNAPSHOT_INTERVAL;
        assert!(end > snapshot || name == "poison-message", "{name} ran only {end} steps");
        let mut sim = Simulation::new(RunConfig {
            scenario,
            seed: 9,
            faults: FaultScript::random(100),
            anti_patterns: Vec::new(),
        })
        .unwrap();
        sim.run_to_end();
        for target in [end / 2, 0, end - 1, end / 3, 1, end] {
            assert_eq!(sim.rewind_to(target), target);
            assert_eq!(sim.trace().len() as u64, target);
            assert_eq!(sim.trace(), &live.trace()[..target as usize], "{name} at {target}");
            sim.run_to_end();
            assert_eq!(sim.trace_hash(), live.trace_hash(), "{name} after rewinding to {target}");
            assert_eq!(sim.now_ms(), live.now_ms());
        }
    }
}

#[test]
fn an_injected_fault_is_recorded_and_replays_exactly() {
    let config = RunConfig::new(builtin("checkout"), 3);
    let mut sim = Simulation::new(config.clone()).unwrap();
    sim.run(10);
    let injected =
        sim.inject(Fault::CrashService { service: "inventory".into(), restart_after_ms: Some(200) }).unwrap();
    assert_eq!(injected.step, 10);
    assert!(!injected.forked);
    sim.run(15);
    // Duplicate whatever message waits in a queue now.
    let queued = (0..sim.compiled().subs.len() as u32)
        .find_map(|i| sim.sub_state(eventscope::sim::trace::SubId(i)).queue.front().map(|d| d.message))
        .expect("something is queued mid-run");
    let id = sim.messages()[queued.0 as usize].envelope.id.clone();
    sim.inject(Fault::DuplicateMessage { message: id, subscription: None }).unwrap();
    assert!(matches!(sim.trace().last().unwrap().happened, eventscope::sim::Happened::Duplicated { .. }));
    sim.run_to_end();
    assert_eq!(sim.fault_script().scripted.len(), 2);

    let replay = run(builtin("checkout"), 3, sim.fault_script().clone(), &[]);
    assert_eq!(replay.trace_hash(), sim.trace_hash());
    assert_eq!(replay.trace(), sim.trace());
}

#[test]
fn injecting_while_rewound_forks_the_run() {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout"), 5)).unwrap();
    sim.run_to_end();
    let end = sim.step_index();
    sim.rewind_to(20);
    let outcome = sim.inject(Fault::CrashService { service: "payment".into(), restart_after_ms: Some(500) }).unwrap();
    assert!(outcome.forked);
    assert_eq!(outcome.discarded_steps, end - 20);
    assert_eq!(sim.horizon(), 21, "the old future is gone");
    sim.run_to_end();
    let replay = run(builtin("checkout"), 5, sim.fault_script().clone(), &[]);
    assert_eq!(replay.trace(), sim.trace());
}

#[test]
fn a_fork_keeps_time_triggered_faults_pointing_at_the_right_entry() {
    use eventscope::sim::{ScriptedFault, Trigger};
    let script = FaultScript {
        rules: vec![],
        scripted: vec![
            ScriptedFault { at: Trigger::Step(50), fault: Fault::RestartService { service: "order".into() } },
            ScriptedFault { at: Trigger::Step(55), fault: Fault::RestartService { service: "order".into() } },
            ScriptedFault {
                at: Trigger::TimeMs(300),
                fault: Fault::SlowService { service: "payment".into(), extra_ms: 5 },
            },
        ],
    };
    let mut sim =
        Simulation::new(RunConfig { scenario: builtin("checkout"), seed: 1, faults: script, anti_patterns: vec![] })
            .unwrap();
    sim.run(60);
    sim.rewind_to(10);
    sim.inject(Fault::RestartService { service: "shipping".into() }).unwrap();
    sim.run_to_end();
    let verbs: Vec<&str> = sim.trace().iter().map(|r| r.happened.verb()).collect();
    assert_eq!(verbs.iter().filter(|v| **v == "slow").count(), 1, "the timed slow-down still applies");
    assert_eq!(verbs.iter().filter(|v| **v == "restart").count(), 1, "only the injected restart remains");
    assert_eq!(sim.fault_script().scripted.len(), 2);
    let replay = run(builtin("checkout"), 1, sim.fault_script().clone(), &[]);
    assert_eq!(replay.trace(), sim.trace());
}

/// Ledgers are indexed by ordinals handed out as messages are created, and the table
/// behind them keeps the computed future after a rewind. A fork must forget the
/// discarded future's ordinals, or a re-created event would inherit a position that
/// now holds another event. So after forks at many points, every message's ordinals,
/// the flows and the invariant counts must equal a fresh run of the final fault script.
#[test]
fn a_fork_hands_out_the_ordinals_a_fresh_run_would() {
    let ordinals = |sim: &Simulation| -> Vec<(u32, u32, Option<u32>)> {
        sim.messages().iter().map(|m| (m.event, m.subject, m.flow)).collect()
    };
    let flows = |sim: &Simulation| -> Vec<(String, u64, u64, u32)> {
        sim.flows().map(|(id, f)| (id.to_string(), f.started_ms, f.last_ms, f.handled)).collect()
    };
    for name in builtin_names() {
        for seed in 1..=4u64 {
            let mut sim = run(builtin(name), seed, FaultScript::random(100), &[]);
            let end = sim.step_index();
            for at in [end / 2, end / 4] {
                sim.rewind_to(at);
                let services = &sim.scenario().services;
                let service = services[(seed as usize + at as usize) % services.len()].name.clone();
                sim.inject(Fault::CrashService { service, restart_after_ms: Some(150) }).unwrap();
                sim.run_to_end();
            }
            let fresh = run(builtin(name), seed, sim.fault_script().clone(), &[]);
            assert_eq!(sim.trace(), fresh.trace(), "{name} seed {seed}");
            assert_eq!(ordinals(&sim), ordinals(&fresh), "{name} seed {seed}: ordinals");
            assert_eq!(flows(&sim), flows(&fresh), "{name} seed {seed}: flows");
            assert_eq!(sim.checkers().counts, fresh.checkers().counts, "{name} seed {seed}: violations");
        }
    }
}

/// The trace hash is folded incrementally (the app asks for it at every visit to the
/// end of a run); wherever it is asked, it must equal hashing the trace from scratch.
#[test]
fn the_remembered_trace_hash_equals_a_fresh_one() {
    let fresh = |sim: &Simulation| eventscope::sim::trace::trace_hash(sim.trace().iter(), sim);
    let mut sim = run(builtin("checkout"), 2, FaultScript::random(100), &[]);
    let end = sim.step_index();
    for target in [end / 3, end / 2, end / 4, end, 1, end - 1, 0] {
        sim.rewind_to(target);
        assert_eq!(sim.trace_hash(), fresh(&sim), "at {target}");
    }
    // Remember the hash of the whole run, then fork halfway: the remembered state
    // belongs to the old future and must not be continued.
    sim.rewind_to(end);
    sim.trace_hash();
    sim.rewind_to(end / 2);
    sim.inject(Fault::CrashService { service: "payment".into(), restart_after_ms: Some(80) }).unwrap();
    sim.run_to_end();
    assert!(sim.step_index() >= end, "the fork runs at least as long as the old future");
    assert_eq!(sim.trace_hash(), fresh(&sim), "after a fork");
    sim.rewind_to(end / 2);
    sim.run(3);
    assert_eq!(sim.trace_hash(), fresh(&sim), "a shorter trace after a longer one");
}
