//! Restarts: a crashed service comes back through one path, whether its restart was
//! timed (`restart_after_ms`) or requested by an operator (`restart_service`), and
//! either way its outbox relay resumes and publishes what it committed before dying.

mod common;

use common::{builtin, trip_booking};
use eventscope::sim::saga::SagaStatus;
use eventscope::sim::scenario::Scenario;
use eventscope::sim::view::ScheduledMessage;
use eventscope::sim::{Fault, FaultScript, Invariant, RunConfig, ScriptedFault, Simulation, Trigger};

/// The first step at or after `from` before which the coordinator has committed a
/// command that is not published yet: the moment between recording a saga step and
/// publishing its next command. Read from the fault-free run.
fn outbox_moment(scenario: &Scenario, coordinator: &str, from: u64) -> u64 {
    let mut sim = Simulation::new(RunConfig::new(scenario.clone(), 1)).unwrap();
    let service = sim.compiled().service_by_name(coordinator).unwrap();
    sim.run(from);
    loop {
        let pending = sim.scheduled_messages().into_iter().any(|(_, s)| {
            matches!(s, ScheduledMessage::Publishing { message } if sim.messages()[message.0 as usize].emitted_by == Some(service))
        });
        if pending {
            return sim.step_index();
        }
        assert!(sim.step().is_some(), "{}: the coordinator never has a command on its way", scenario.name);
    }
}

fn crash_then(
    scenario: &Scenario,
    coordinator: &str,
    crash_at: u64,
    restart: Option<u64>,
    after_ms: Option<u64>,
) -> Simulation {
    let mut scripted = vec![ScriptedFault {
        at: Trigger::Step(crash_at),
        fault: Fault::CrashService { service: coordinator.into(), restart_after_ms: after_ms },
    }];
    if let Some(step) = restart {
        scripted.push(ScriptedFault {
            at: Trigger::Step(step),
            fault: Fault::RestartService { service: coordinator.into() },
        });
    }
    let faults = FaultScript { rules: vec![], scripted };
    let mut sim =
        Simulation::new(RunConfig { scenario: scenario.clone(), seed: 1, faults, anti_patterns: vec![] }).unwrap();
    sim.run_to_end();
    sim
}

fn settled(sim: &Simulation) -> Vec<(String, SagaStatus)> {
    sim.saga_instances().into_iter().map(|(_, id, i)| (id, i.status)).collect()
}

fn both_restarts_relay_the_outbox(scenario: Scenario, coordinator: &str) {
    let name = scenario.name.clone();
    let crash_at = outbox_moment(&scenario, coordinator, 20);
    let undisturbed = {
        let mut sim = Simulation::new(RunConfig::new(scenario.clone(), 1)).unwrap();
        sim.run_to_end();
        settled(&sim)
    };
    assert!(undisturbed.iter().all(|(_, s)| s.is_final()), "{name}: every saga ends without faults");

    let timed = crash_then(&scenario, coordinator, crash_at, None, Some(30));
    let manual = crash_then(&scenario, coordinator, crash_at, Some(crash_at + 4), None);
    for (sim, how) in [(&timed, "timed restart"), (&manual, "manual restart")] {
        let lines: Vec<String> = sim.trace().iter().map(|r| sim.line(r)).collect();
        assert!(lines.iter().any(|l| l.contains(" restart ")), "{name}, {how}: the coordinator restarted");
        assert_eq!(
            sim.checkers().total_violations(),
            0,
            "{name}, {how} after a crash at step {crash_at}: {:?}",
            sim.checkers().violations
        );
        assert_eq!(settled(sim), undisturbed, "{name}, {how}: every saga ends as it would without the crash");
    }
}

#[test]
fn a_manual_restart_relays_the_outbox_like_a_timed_one_on_the_checkout() {
    both_restarts_relay_the_outbox(builtin("checkout-orchestration"), "orchestrator");
}

#[test]
fn a_manual_restart_relays_the_outbox_like_a_timed_one_on_a_trip_booking() {
    both_restarts_relay_the_outbox(trip_booking(), "desk");
}

#[test]
fn the_crash_lands_between_recording_a_step_and_publishing_its_command() {
    // The checkout's coordinator records order-2's start at step 19 and its payment
    // command reaches the bus at step 20: a crash at step 20 catches it in the outbox.
    assert_eq!(outbox_moment(&builtin("checkout-orchestration"), "orchestrator", 20), 20);
    let manual = crash_then(&builtin("checkout-orchestration"), "orchestrator", 20, Some(24), None);
    let published_after_restart = manual.trace().iter().skip(24).any(|r| {
        let line = manual.line(r);
        line.contains(" publish ") && line.contains("payment.process")
    });
    assert!(published_after_restart, "the relay publishes the command committed before the crash");
    assert_eq!(manual.checkers().count(Invariant::SagaAllOrNothing), 0);
}
