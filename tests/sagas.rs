//! Sagas: orchestration with a coordinator whose state is stored as events, and
//! choreography, both compensating in reverse order; compensations that fail leave
//! the saga visibly stuck with the command in a DLQ until an operator redrives it.

mod common;

use common::{builtin, run};
use eventscope::sim::saga::SagaStatus;
use eventscope::sim::scenario::RepeatSpec;
use eventscope::sim::trace::Happened;
use eventscope::sim::{AntiPattern, Fault, FaultScript, Invariant, RunConfig, ScriptedFault, Simulation, Trigger};

fn no_trucks() -> FaultScript {
    FaultScript {
        rules: vec![],
        scripted: vec![ScriptedFault {
            at: Trigger::Step(0),
            fault: Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 },
        }],
    }
}

fn statuses(sim: &Simulation) -> Vec<(String, SagaStatus)> {
    sim.saga_instances().into_iter().map(|(_, id, i)| (id, i.status)).collect()
}

fn first_publish(sim: &Simulation, suffix: &str) -> u64 {
    sim.trace()
        .iter()
        .find(|r| matches!(r.happened, Happened::Published { message, .. } if sim.messages()[message.0 as usize].envelope.event_type.ends_with(suffix)))
        .map(|r| r.step)
        .unwrap_or_else(|| panic!("nothing published of type {suffix}"))
}

#[test]
fn orchestration_completes_or_aborts_every_order() {
    let sim = run(builtin("checkout-orchestration"), 1, FaultScript::default(), &[]);
    let s = statuses(&sim);
    assert_eq!(s.len(), 5);
    let completed = s.iter().filter(|(_, st)| *st == SagaStatus::Completed).count();
    let aborted: Vec<&str> = s.iter().filter(|(_, st)| *st == SagaStatus::Aborted).map(|(id, _)| id.as_str()).collect();
    assert_eq!((completed, aborted), (4, vec!["order-5"]), "c-5 cannot pay");
    assert_eq!(sim.checkers().total_violations(), 0);
}

#[test]
fn the_coordinator_stores_each_instance_as_events() {
    let sim = run(builtin("checkout-orchestration"), 1, FaultScript::default(), &[]);
    let orchestrator = sim.compiled().service_by_name("orchestrator").unwrap();
    let types: Vec<&str> = sim.store(orchestrator).read_stream("saga.order-1").map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "io.eventscope.saga.started",
            "io.eventscope.saga.step_succeeded",
            "io.eventscope.saga.step_succeeded",
            "io.eventscope.saga.step_succeeded",
            "io.eventscope.saga.step_succeeded",
            "io.eventscope.saga.completed"
        ]
    );
}

#[test]
fn a_failed_shipment_is_compensated_in_reverse_order_by_both_styles() {
    let orchestrated = run(builtin("checkout-orchestration"), 1, no_trucks(), &[]);
    assert!(first_publish(&orchestrated, "shipment.failed") < first_publish(&orchestrated, "inventory.release"));
    assert!(first_publish(&orchestrated, "inventory.released") < first_publish(&orchestrated, "payment.refund"));
    assert!(statuses(&orchestrated).iter().all(|(_, s)| *s == SagaStatus::Aborted));
    assert_eq!(orchestrated.checkers().total_violations(), 0);

    let choreographed = run(builtin("checkout"), 1, no_trucks(), &[]);
    assert!(first_publish(&choreographed, "shipment.failed") < first_publish(&choreographed, "inventory.released"));
    assert!(first_publish(&choreographed, "inventory.released") < first_publish(&choreographed, "payment.refunded"));
    assert!(first_publish(&choreographed, "payment.refunded") < first_publish(&choreographed, "order.cancelled"));

    // Same outcome either way: every customer has their money back.
    for (sim, name) in [(&orchestrated, "orchestration"), (&choreographed, "choreography")] {
        let payment = sim.compiled().service_by_name("payment").unwrap();
        let balances: i64 =
            sim.service_state(payment).state.iter().filter(|(k, _)| k.starts_with("balance.")).map(|(_, v)| v).sum();
        assert_eq!(balances, 420, "{name}");
    }
}

#[test]
fn a_failing_compensation_leaves_the_saga_stuck_with_its_command_in_the_dlq_until_redriven() {
    let mut scenario = builtin("checkout-orchestration");
    scenario.workload[0].repeat = Some(RepeatSpec { count: 1, every_ms: 80 });
    let mut faults = no_trucks();
    // Payment breaks after it charged the customer, before the refund arrives.
    faults.scripted.push(ScriptedFault {
        at: Trigger::TimeMs(50),
        fault: Fault::FailHandlers { service: "payment".into(), per_mille: 1000 },
    });
    let mut sim = Simulation::new(RunConfig { scenario, seed: 1, faults, anti_patterns: vec![] }).unwrap();
    sim.run_to_end();
    assert_eq!(statuses(&sim), vec![("order-1".to_string(), SagaStatus::Compensating { step: 0 })]);
    let payment_commands = sim.compiled().sub_by_name("payment-commands").unwrap();
    let dlq = &sim.sub_state(payment_commands).dlq;
    assert_eq!(dlq.len(), 1, "the refund is parked in the DLQ, not dropped");
    assert!(sim.messages()[dlq[0].delivery.message.0 as usize].envelope.event_type.ends_with("payment.refund"));
    assert_eq!(sim.checkers().count(Invariant::SagaAllOrNothing), 0, "parked for an operator, not lost");

    // The operator fixes payment and redrives: the refund goes through, the saga ends.
    sim.inject(Fault::FailHandlers { service: "payment".into(), per_mille: 0 }).unwrap();
    sim.inject(Fault::RedriveDeadLetters { subscription: "payment-commands".into(), message: None }).unwrap();
    sim.run_to_end();
    assert_eq!(statuses(&sim), vec![("order-1".to_string(), SagaStatus::Aborted)]);
    assert_eq!(sim.checkers().total_violations(), 0);
}

#[test]
fn a_stuck_saga_without_a_dead_letter_breaks_all_or_nothing() {
    // Fire-and-forget loses a reply when the orchestrator crashes mid-handling.
    let mut found = false;
    for seed in 0..300 {
        let sim = run(builtin("checkout-orchestration"), seed, FaultScript::random(150), &[AntiPattern::FireAndForget]);
        if sim.checkers().count(Invariant::SagaAllOrNothing) > 0 {
            found = true;
            break;
        }
    }
    assert!(found, "some run loses a saga message and leaves an instance half done");
}

#[test]
fn the_saga_view_shows_the_pivot_the_remaining_path_and_the_armed_compensations() {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout-orchestration"), 1)).unwrap();
    // Run until order-1 has paid and reserved, and waits for shipping.
    while !sim.saga_views().iter().any(|v| v.instance == "order-1" && v.compensations_armed.len() == 2) {
        assert!(sim.step().is_some());
    }
    let view = sim.saga_views().into_iter().find(|v| v.instance == "order-1").unwrap();
    assert_eq!(view.status, "running");
    assert_eq!(view.remaining, ["ship", "notify"]);
    assert_eq!(view.compensations_armed, ["reserve", "pay"], "in the order they would run");
    assert!(view.steps[2].is_pivot);
    sim.run_to_end();
    let done = sim.saga_views().into_iter().find(|v| v.instance == "order-1").unwrap();
    assert_eq!(done.status, "completed");
    assert!(done.remaining.is_empty());
}
