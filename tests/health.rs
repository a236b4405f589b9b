//! Run health: every invariant held, pending (work parked where it can still settle,
//! with the reason named) or broken, and every saga instance completed, compensated,
//! running, or stuck with the reason and what it still holds.

mod common;

use common::{builtin, run, trip_booking};
use eventscope::sim::health::{
    HeldResource, InvariantState, PendingReason, RunHealth, SagaHealth, SagaState, StuckReason,
};
use eventscope::sim::scenario::RepeatSpec;
use eventscope::sim::{AntiPattern, Fault, FaultScript, Invariant, RunConfig, ScriptedFault, Simulation, Trigger};

fn at_step(step: u64, fault: Fault) -> ScriptedFault {
    ScriptedFault { at: Trigger::Step(step), fault }
}

fn script(scripted: Vec<ScriptedFault>) -> FaultScript {
    FaultScript { rules: vec![], scripted }
}

fn saga<'a>(health: &'a RunHealth, instance: &str) -> &'a SagaHealth {
    health.sagas.iter().find(|s| s.instance == instance).unwrap_or_else(|| panic!("no saga for {instance}"))
}

fn payment_fails() -> ScriptedFault {
    at_step(0, Fault::FailHandlers { service: "payment".into(), per_mille: 1000 })
}

#[test]
fn a_clean_run_holds_every_invariant_and_completes_or_compensates_every_saga() {
    let sim = run(builtin("checkout-orchestration"), 1, FaultScript::default(), &[]);
    let health = sim.health();
    assert!(health.all_held(), "{:?}", health.invariants);
    let states: Vec<&str> = health.sagas.iter().map(|s| s.state.name()).collect();
    assert_eq!(states, ["completed", "completed", "completed", "completed", "compensated"]);
    assert!(health.sagas.iter().all(|s| s.holding.is_empty()), "c-5 never paid: nothing held");
}

#[test]
fn every_order_in_the_dlq_is_pending_not_held_and_each_saga_is_stuck_at_payment() {
    let mut sim = run(builtin("checkout-orchestration"), 1, script(vec![payment_fails()]), &[]);
    assert_eq!(sim.checkers().total_violations(), 0, "nothing is broken: the orders are parked");
    let health = sim.health();
    assert_eq!(
        *health.invariant(Invariant::NoEventLost),
        InvariantState::Pending(vec![PendingReason::DeadLettered {
            subscription: "payment-commands".into(),
            messages: 5
        }])
    );
    let InvariantState::Pending(stuck) = health.invariant(Invariant::SagaAllOrNothing) else {
        panic!("sagas waiting on a DLQ are pending: {:?}", health.invariant(Invariant::SagaAllOrNothing))
    };
    assert_eq!(stuck.len(), 5);
    assert_eq!(
        saga(&health, "order-3").state,
        SagaState::StuckForward {
            step: "pay".into(),
            why: StuckReason::DeadLettered {
                subscription: "payment-commands".into(),
                event_type: "io.eventscope.payment.process".into()
            }
        },
        "a saga whose next command is dead-lettered is stuck, not running"
    );
    assert_eq!(*health.invariant(Invariant::Conservation), InvariantState::Held, "no money moved");

    // The operator repairs payment and redrives: everything settles and is held.
    sim.inject(Fault::FailHandlers { service: "payment".into(), per_mille: 0 }).unwrap();
    sim.inject(Fault::RedriveDeadLetters { subscription: "payment-commands".into(), message: None }).unwrap();
    sim.run_to_end();
    let health = sim.health();
    assert!(health.all_held(), "{:?}", health.invariants);
}

#[test]
fn a_stuck_compensation_names_its_step_its_dead_letter_and_the_money_it_still_holds() {
    let mut scenario = builtin("checkout-orchestration");
    scenario.workload[0].repeat = Some(RepeatSpec { count: 1, every_ms: 80 });
    let faults = script(vec![
        at_step(0, Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 }),
        // Payment breaks after it charged the customer, before the refund arrives.
        ScriptedFault {
            at: Trigger::TimeMs(50),
            fault: Fault::FailHandlers { service: "payment".into(), per_mille: 1000 },
        },
    ]);
    let sim = run(scenario, 1, faults, &[]);
    let health = sim.health();
    let order = saga(&health, "order-1");
    assert_eq!(
        order.state,
        SagaState::StuckCompensating {
            step: "pay".into(),
            why: StuckReason::DeadLettered {
                subscription: "payment-commands".into(),
                event_type: "io.eventscope.payment.refund".into()
            }
        }
    );
    let held =
        |key: &str, delta: i64| HeldResource { step: "pay".into(), service: "payment".into(), key: key.into(), delta };
    assert_eq!(
        order.holding,
        [held("balance.c-1", -30), held("captured", 30)],
        "the stock was released, the money not"
    );
    assert!(matches!(health.invariant(Invariant::SagaAllOrNothing), InvariantState::Pending(_)));
    assert!(!health.any_broken());
}

#[test]
fn a_crashed_service_with_work_waiting_is_pending_until_it_restarts() {
    let faults = script(vec![at_step(2, Fault::CrashService { service: "payment".into(), restart_after_ms: None })]);
    let mut sim = run(builtin("checkout-orchestration"), 1, faults, &[]);
    assert_eq!(sim.checkers().total_violations(), 0, "{:?}", sim.checkers().violations);
    let health = sim.health();
    assert_eq!(
        *health.invariant(Invariant::NoEventLost),
        InvariantState::Pending(vec![PendingReason::ServiceDown { service: "payment".into(), messages: 5 }])
    );
    assert_eq!(
        saga(&health, "order-1").state,
        SagaState::StuckForward {
            step: "pay".into(),
            why: StuckReason::ServiceDown {
                service: "payment".into(),
                event_type: "io.eventscope.payment.process".into()
            }
        }
    );
    sim.inject(Fault::RestartService { service: "payment".into() }).unwrap();
    sim.run_to_end();
    assert!(sim.health().all_held(), "{:?}", sim.health().invariants);
}

#[test]
fn a_command_in_a_crashed_coordinators_outbox_is_pending_with_the_service_named() {
    // Step 20: order-2's payment command is committed, not yet published.
    let faults =
        script(vec![at_step(20, Fault::CrashService { service: "orchestrator".into(), restart_after_ms: None })]);
    let sim = run(builtin("checkout-orchestration"), 1, faults, &[]);
    let health = sim.health();
    let InvariantState::Pending(reasons) = health.invariant(Invariant::NoEventLost) else {
        panic!("{:?}", health.invariant(Invariant::NoEventLost))
    };
    assert!(
        reasons.contains(&PendingReason::OutboxWaiting { service: "orchestrator".into(), events: 1 }),
        "{reasons:?}"
    );
    assert_eq!(
        saga(&health, "order-2").state,
        SagaState::StuckForward {
            step: "pay".into(),
            why: StuckReason::Unpublished {
                service: "orchestrator".into(),
                event_type: "io.eventscope.payment.process".into()
            }
        }
    );
}

#[test]
fn sagas_on_their_way_are_running_and_completed_ones_arm_no_compensation() {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout-orchestration"), 1)).unwrap();
    sim.run(12);
    let health = sim.health();
    assert_eq!(saga(&health, "order-1").state, SagaState::Running { step: "reserve".into() });
    assert!(health.all_held(), "work on its way is not pending: {:?}", health.invariants);

    // Past the pivot a failure retries instead of undoing: nothing is armed any more.
    while !sim.saga_views().iter().any(|v| v.instance == "order-1" && v.remaining == ["notify"]) {
        assert!(sim.step().is_some());
    }
    let view = sim.saga_views().into_iter().find(|v| v.instance == "order-1").unwrap();
    assert!(view.compensations_armed.is_empty(), "{:?}", view.compensations_armed);
    sim.run_to_end();
    for view in sim.saga_views() {
        assert!(
            view.compensations_armed.is_empty(),
            "{} {}: {:?}",
            view.instance,
            view.status,
            view.compensations_armed
        );
        assert!(view.steps.iter().all(|s| !s.compensation_armed), "{}", view.instance);
    }
}

#[test]
fn a_lost_event_is_broken_at_the_step_that_lost_it() {
    let faults =
        script(vec![at_step(20, Fault::CrashService { service: "orchestrator".into(), restart_after_ms: Some(30) })]);
    let sim = run(builtin("checkout-orchestration"), 1, faults, &[AntiPattern::NoOutbox]);
    let health = sim.health();
    assert_eq!(*health.invariant(Invariant::NoEventLost), InvariantState::Broken { violations: 1, first_step: 20 });
    assert_eq!(health.invariant(Invariant::NoEventLost).name(), "broken");
}

#[test]
fn the_trip_booking_gives_back_the_seat_of_the_trip_without_a_room() {
    let sim = run(trip_booking(), 1, FaultScript::default(), &[]);
    let health = sim.health();
    assert!(health.all_held(), "{:?}", health.invariants);
    let states: Vec<(&str, &str)> = health.sagas.iter().map(|s| (s.instance.as_str(), s.state.name())).collect();
    assert_eq!(
        states,
        [("trip-1", "completed"), ("trip-2", "completed"), ("trip-3", "completed"), ("trip-4", "compensated")]
    );
    assert!(saga(&health, "trip-4").holding.is_empty());
}

#[test]
fn money_in_a_dead_letter_at_the_end_keeps_conservation_pending() {
    let faults = script(vec![at_step(0, Fault::FailHandlers { service: "accounting".into(), per_mille: 1000 })]);
    let mut sim = run(builtin("checkout"), 1, faults, &[]);
    assert_eq!(sim.checkers().count(Invariant::Conservation), 0, "the money is in transit, not destroyed");
    let health = sim.health();
    let InvariantState::Pending(reasons) = health.invariant(Invariant::Conservation) else {
        panic!("{:?}", health.invariant(Invariant::Conservation))
    };
    assert!(
        matches!(reasons.as_slice(), [PendingReason::InTransit { quantity, amount }] if quantity == "money" && *amount > 0),
        "{reasons:?}"
    );
    sim.inject(Fault::FailHandlers { service: "accounting".into(), per_mille: 0 }).unwrap();
    sim.inject(Fault::RedriveDeadLetters { subscription: "accounting-payments".into(), message: None }).unwrap();
    sim.run_to_end();
    assert!(sim.health().all_held(), "{:?}", sim.health().invariants);
}
