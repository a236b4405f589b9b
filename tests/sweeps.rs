//! Seed sweeps: many seeds with random faults, invariants checked after every step.
//!
//! With the safe configuration (exactly-once effect, DLQ everywhere) no invariant may
//! ever break, whatever the faults, and once a run is quiescent only dead letters may
//! keep an invariant pending: when an operator has redriven them (or discarded what
//! can never succeed) every invariant is held. With an anti-pattern switched on, the matching
//! invariant must break in at least one run: the checker can see the damage. Failures
//! print the scenario and seed, which replay with `eventscope-cli run`.

mod common;

use common::{builtin, run, safe, trip_booking};
use eventscope::sim::health::{InvariantState, PendingReason, RunHealth, SagaState, StuckReason};
use eventscope::sim::scenario::builtin_names;
use eventscope::sim::view::ServiceStatus;
use eventscope::sim::{AntiPattern, Fault, FaultScript, Finish, Invariant};

const SEEDS: u64 = 1_000;
const FAULT_RATE_PER_MILLE: u32 = 100;

#[test]
fn the_safe_configuration_never_violates_an_invariant() {
    for name in builtin_names() {
        let mut steps = 0;
        for seed in 0..SEEDS {
            let sim = run(safe(builtin(name)), seed, FaultScript::random(FAULT_RATE_PER_MILLE), &[]);
            steps += sim.step_index();
            if let Some(v) = sim.checkers().violations.first() {
                panic!(
                    "{name} seed {seed}: {} at step {}: {} (eventscope-cli run --scenario {name} --seed {seed} --fault-rate {FAULT_RATE_PER_MILLE})",
                    v.invariant.name(),
                    v.step,
                    v.detail
                );
            }
        }
        assert!(steps > SEEDS * 20, "{name}: the sweep ran only {steps} steps");
    }
}

/// Only dead letters may keep a safe run from settling: every pending reason is a DLQ
/// or a saga waiting on one. Returns the problem, if any.
fn only_dead_letters_pending(health: &RunHealth) -> Result<(), String> {
    for i in &health.invariants {
        match &i.state {
            InvariantState::Held => {}
            InvariantState::Broken { .. } => return Err(format!("{} broken", i.invariant.name())),
            InvariantState::Pending(reasons) => {
                for reason in reasons {
                    if !matches!(reason, PendingReason::DeadLettered { .. } | PendingReason::SagaStuck { .. }) {
                        return Err(format!("{} pending: {reason}", i.invariant.name()));
                    }
                }
            }
        }
    }
    for saga in &health.sagas {
        match &saga.state {
            SagaState::StuckForward { why, .. } | SagaState::StuckCompensating { why, .. } => {
                if !matches!(why, StuckReason::DeadLettered { .. }) {
                    return Err(format!("saga {} {}: {why}", saga.saga, saga.instance));
                }
            }
            SagaState::Completed | SagaState::Compensated => {}
            other => return Err(format!("saga {} {} still {} at the end", saga.saga, saga.instance, other.name())),
        }
    }
    Ok(())
}

/// Redrive rounds an operator tries before discarding what keeps failing.
const REDRIVES_MAX: u32 = 5;

#[test]
fn the_safe_configuration_ends_every_run_held_once_the_dead_letters_are_dealt_with() {
    let mut drained: u64 = 0;
    let mut discarded: u64 = 0;
    // The built-ins, and a saga of another domain (run it by its file path).
    let scenarios =
        builtin_names().map(|n| (n, builtin(n))).chain([("tests/common/trip-booking.json", trip_booking())]);
    for (name, scenario) in scenarios {
        for seed in 0..SEEDS {
            let replay = format!("{name} seed {seed} (eventscope-cli run --scenario {name} --seed {seed} --fault-rate {FAULT_RATE_PER_MILLE})");
            let mut sim = run(safe(scenario.clone()), seed, FaultScript::random(FAULT_RATE_PER_MILLE), &[]);
            assert_eq!(sim.finished(), Some(Finish::Quiescent), "{replay}");
            // Random crashes restart what they crash: nothing is left down.
            let down: Vec<String> =
                sim.service_views().into_iter().filter(|s| s.status != ServiceStatus::Up).map(|s| s.name).collect();
            assert!(down.is_empty(), "{replay}: {down:?} left down");
            if let Err(problem) = only_dead_letters_pending(&sim.health()) {
                panic!("{replay}: {problem}");
            }
            // The operator redrives every DLQ until it stays empty, and discards what
            // still fails after a few rounds (the poison message).
            let mut round = 0;
            loop {
                let parked: Vec<String> =
                    sim.subscription_views().into_iter().filter(|s| s.dlq_depth > 0).map(|s| s.name).collect();
                if parked.is_empty() {
                    break;
                }
                round += 1;
                for subscription in parked {
                    let fault = if round <= REDRIVES_MAX {
                        Fault::RedriveDeadLetters { subscription, message: None }
                    } else {
                        discarded += 1;
                        Fault::DiscardDeadLetters { subscription, message: None }
                    };
                    sim.inject(fault).unwrap();
                }
                sim.run_to_end();
                if let Err(problem) = only_dead_letters_pending(&sim.health()) {
                    panic!("{replay}, after redrive round {round}: {problem}");
                }
            }
            drained += u64::from(round > 0);
            let health = sim.health();
            assert!(
                health.all_held(),
                "{replay}: quiescent, nothing down, no dead letter, yet {:?}",
                health.invariants.iter().filter(|i| i.state != InvariantState::Held).collect::<Vec<_>>()
            );
        }
    }
    assert!(drained > SEEDS, "the sweep exercised the operator's path only {drained} times");
    assert!(discarded >= SEEDS, "every poison-message run discards its poison: {discarded}");
}

/// The invariant each anti-pattern is expected to break, and a scenario that shows it.
fn expectation(anti: AntiPattern) -> Option<(Invariant, &'static str)> {
    match anti {
        AntiPattern::NoDlq => Some((Invariant::BoundedRedelivery, "poison-message")),
        AntiPattern::NoIdempotency => Some((Invariant::ExactlyOnceEffect, "checkout")),
        AntiPattern::FireAndForget => Some((Invariant::NoEventLost, "checkout")),
        AntiPattern::NoCorrelationId => Some((Invariant::CorrelationFlows, "checkout")),
        AntiPattern::UnorderedRetries => Some((Invariant::PerKeyOrder, "poison-message")),
        AntiPattern::NoOutbox => Some((Invariant::NoEventLost, "checkout")),
        AntiPattern::NoSchemaVersioning => Some((Invariant::ReadableHistory, "schema-versioning")),
        // These break no rule; their damage is measured instead (see the tests below).
        AntiPattern::FatEvents | AntiPattern::EventsAsCommands | AntiPattern::SynchronousProcessing => None,
    }
}

#[test]
fn each_anti_pattern_breaks_its_invariant_in_some_run() {
    for anti in AntiPattern::ALL {
        let Some((invariant, name)) = expectation(anti) else { continue };
        let mut broken = 0;
        for seed in 0..SEEDS {
            let sim = run(safe(builtin(name)), seed, FaultScript::random(FAULT_RATE_PER_MILLE), &[anti]);
            if sim.checkers().count(invariant) > 0 {
                broken += 1;
                break; // one run proves the checker can see it
            }
        }
        assert!(broken > 0, "{} never broke {} in {SEEDS} runs of {name}", anti.name(), invariant.name());
    }
}

#[test]
fn fat_events_multiply_the_bytes_on_the_wire() {
    let lean = run(builtin("checkout"), 1, FaultScript::default(), &[]);
    let fat = run(builtin("checkout"), 1, FaultScript::default(), &[AntiPattern::FatEvents]);
    assert!(
        fat.bytes_published() * 2 > lean.bytes_published() * 3,
        "fat {} vs lean {}",
        fat.bytes_published(),
        lean.bytes_published()
    );
}

#[test]
fn events_as_commands_multiply_messages_and_synchronous_processing_slows_every_flow() {
    let lean = run(builtin("pubsub"), 1, FaultScript::default(), &[]);
    let commands = run(builtin("pubsub"), 1, FaultScript::default(), &[AntiPattern::EventsAsCommands]);
    assert_eq!(commands.messages().len(), 3 * lean.messages().len(), "one command per consumer");
    assert!(commands.messages().iter().all(|m| m.envelope.kind == eventscope::sim::EventKind::Command));

    let slowest = |sim: &eventscope::sim::Simulation| sim.flows().map(|(_, f)| f.last_ms - f.started_ms).max().unwrap();
    let async_run = run(builtin("checkout"), 1, FaultScript::default(), &[]);
    let sync_run = run(builtin("checkout"), 1, FaultScript::default(), &[AntiPattern::SynchronousProcessing]);
    assert!(slowest(&sync_run) > slowest(&async_run) + 50, "{} vs {}", slowest(&sync_run), slowest(&async_run));
    assert_eq!(sync_run.checkers().total_violations(), 0, "slower, not wrong");
}
