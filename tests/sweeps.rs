//! Seed sweeps: many seeds with random faults, invariants checked after every step.
//!
//! With the safe configuration (exactly-once effect, DLQ everywhere) no invariant may
//! ever break, whatever the faults. With an anti-pattern switched on, the matching
//! invariant must break in at least one run: the checker can see the damage. Failures
//! print the scenario and seed, which replay with `eventscope-cli run`.

mod common;

use common::{builtin, run, safe};
use eventscope::sim::scenario::builtin_names;
use eventscope::sim::{AntiPattern, FaultScript, Invariant};

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
