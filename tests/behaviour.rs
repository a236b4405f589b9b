//! Given/when/then tests of the engine's behaviour at its boundary: delivery modes,
//! retries and the DLQ, redrive and discard, queue limits, and the invariant checkers
//! firing on exactly the step that broke them.

mod common;

use common::{builtin, run};
use eventscope::sim::scenario::Delivery;
use eventscope::sim::trace::{AfterFailure, DeadLetterReason, Happened};
use eventscope::sim::{
    AntiPattern, Fault, FaultScript, Finish, Invariant, RunConfig, ScriptedFault, Simulation, Trigger,
};

fn verbs(sim: &Simulation) -> Vec<&'static str> {
    sim.trace().iter().map(|r| r.happened.verb()).collect()
}

fn sub(sim: &Simulation, name: &str) -> eventscope::sim::trace::SubId {
    sim.compiled().sub_by_name(name).unwrap()
}

fn at_step(step: u64, fault: Fault) -> ScriptedFault {
    ScriptedFault { at: Trigger::Step(step), fault }
}

#[test]
fn at_most_once_loses_the_event_in_flight_at_a_crash_and_the_checker_names_the_step() {
    let sim = run(builtin("delivery-guarantees"), 1, FaultScript::default(), &[]);
    let crash_step = sim
        .trace()
        .iter()
        .find(|r| matches!(r.happened, Happened::Crashed { lost: 1, .. }))
        .expect("the at-most-once ledger loses its in-flight payment")
        .step;
    let lost = sim.checkers().violations.iter().find(|v| v.invariant == Invariant::NoEventLost).unwrap();
    assert_eq!(lost.step, crash_step);
    // The at-least-once and exactly-once ledgers got it back.
    let alo = sim.sub_state(sub(&sim, "alo-payments"));
    let eoe = sim.sub_state(sub(&sim, "eoe-payments"));
    assert_eq!(alo.stats.lost + eoe.stats.lost, 0);
}

#[test]
fn at_least_once_applies_a_redelivery_twice_and_exactly_once_effect_skips_it() {
    let sim = run(builtin("delivery-guarantees"), 1, FaultScript::default(), &[]);
    let ledger = |name: &str| {
        let id = sim.compiled().service_by_name(name).unwrap();
        sim.service_state(id).state.get("count").copied().unwrap_or(0)
    };
    assert_eq!(ledger("ledger-eoe"), 20, "exactly-once effect books each payment once");
    assert!(ledger("ledger-alo") > 20, "at-least-once booked a redelivered payment twice");
    assert!(ledger("ledger-amo") < 20, "at-most-once lost a payment");
    assert!(sim.sub_state(sub(&sim, "eoe-payments")).stats.duplicates_skipped > 0);
    assert!(verbs(&sim).contains(&"skip-dup"));
    assert_eq!(sim.checkers().count(Invariant::ExactlyOnceEffect), 1);
}

#[test]
fn a_poison_message_is_retried_with_backoff_then_dead_lettered_with_its_history() {
    let sim = run(builtin("poison-message"), 1, FaultScript::default(), &[]);
    let failures: Vec<(u32, AfterFailure)> = sim
        .trace()
        .iter()
        .filter_map(|r| match &r.happened {
            Happened::HandlingFailed { attempt, then, .. } => Some((*attempt, *then)),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 4, "attempts_max = 4 counts the first attempt");
    let backoffs: Vec<u64> = failures
        .iter()
        .filter_map(|(_, t)| match t {
            AfterFailure::RetryInMs(ms) => Some(*ms),
            _ => None,
        })
        .collect();
    assert_eq!(backoffs.len(), 3);
    assert!(backoffs[0] < backoffs[1] && backoffs[1] < backoffs[2], "exponential backoff: {backoffs:?}");
    assert_eq!(failures[3].1, AfterFailure::DeadLettered(DeadLetterReason::DeliveryLimit));
    let billing = sim.sub_state(sub(&sim, "billing-orders"));
    assert_eq!(billing.dlq.len(), 1);
    let history = &billing.dlq[0].delivery.history;
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].queue.as_str(), history[0].reason, history[0].count),
        ("billing-orders", DeadLetterReason::DeliveryLimit, 1)
    );
    assert_eq!(sim.checkers().total_violations(), 0, "a dead letter is not a lost event");
}

#[test]
fn per_key_order_holds_later_messages_of_the_poisoned_key_until_it_is_dead_lettered() {
    let sim = run(builtin("poison-message"), 1, FaultScript::default(), &[]);
    let poison = sim.messages().iter().position(|m| !m.envelope.data.contains_key("amount")).unwrap() as u32;
    let dead_at = sim
        .trace()
        .iter()
        .find(|r| matches!(r.happened, Happened::HandlingFailed { then: AfterFailure::DeadLettered(_), .. }))
        .unwrap()
        .step;
    for r in sim.trace() {
        if let Happened::Handled { message, .. } = r.happened {
            let m = &sim.messages()[message.0 as usize];
            if m.envelope.subject == "account-a" && m.seq > sim.messages()[poison as usize].seq {
                assert!(r.step > dead_at, "account-a's later order was handled before the poison left the queue");
            }
        }
    }
}

#[test]
fn redrive_sends_a_dead_letter_back_with_its_history_and_discard_deletes_it() {
    let scenario = builtin("poison-message");
    let mut sim = Simulation::new(RunConfig::new(scenario, 1)).unwrap();
    sim.run_to_end();
    let billing = sub(&sim, "billing-orders");
    assert_eq!(sim.sub_state(billing).dlq.len(), 1);
    sim.inject(Fault::RedriveDeadLetters { subscription: "billing-orders".into(), message: None }).unwrap();
    assert!(matches!(sim.trace().last().unwrap().happened, Happened::Redriven { .. }));
    assert_eq!(sim.sub_state(billing).queue.len(), 1);
    assert_eq!(sim.sub_state(billing).queue[0].history.len(), 1, "history kept");
    sim.run_to_end();
    // Still poison: it fails four more times and returns with a history count of 2.
    let dlq = &sim.sub_state(billing).dlq;
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].delivery.history[0].count, 2);
    sim.inject(Fault::DiscardDeadLetters { subscription: "billing-orders".into(), message: None }).unwrap();
    assert!(sim.sub_state(billing).dlq.is_empty());
    assert_eq!(sim.checkers().total_violations(), 0, "discarding is a decision, recorded in the trace");
}

#[test]
fn without_a_dlq_the_poison_message_loops_until_the_step_limit() {
    let mut scenario = builtin("poison-message");
    scenario.steps_max = 300;
    let mut sim = Simulation::new(RunConfig {
        scenario,
        seed: 1,
        faults: FaultScript::default(),
        anti_patterns: vec![AntiPattern::NoDlq],
    })
    .unwrap();
    assert_eq!(sim.run_to_end(), Some(Finish::StepLimit));
    let loops = sim
        .trace()
        .iter()
        .filter(|r| matches!(r.happened, Happened::HandlingFailed { then: AfterFailure::LoopsWithoutDlq(_), .. }))
        .count();
    assert!(loops > 10, "{loops}");
    assert!(sim.checkers().count(Invariant::BoundedRedelivery) > 0);
    assert_eq!(sim.checkers().violations[0].invariant, Invariant::BoundedRedelivery);
}

#[test]
fn a_duplicated_payment_breaks_conservation_and_exactly_once_only_without_idempotency() {
    // Find the first PaymentCompleted, then duplicate its copy for accounting.
    let probe = run(builtin("checkout"), 2, FaultScript::default(), &[]);
    let (publish_step, id) = probe
        .trace()
        .iter()
        .find_map(|r| match r.happened {
            Happened::Published { message, .. } => {
                let m = &probe.messages()[message.0 as usize];
                (m.envelope.event_type == "io.eventscope.payment.completed").then(|| (r.step, m.envelope.id.clone()))
            }
            _ => None,
        })
        .unwrap();
    let script = FaultScript {
        rules: vec![],
        scripted: vec![at_step(
            publish_step + 1,
            Fault::DuplicateMessage { message: id, subscription: Some("accounting-payments".into()) },
        )],
    };
    let careless = run(builtin("checkout"), 2, script.clone(), &[AntiPattern::NoIdempotency]);
    assert_eq!(careless.checkers().count(Invariant::ExactlyOnceEffect), 1);
    assert_eq!(careless.checkers().count(Invariant::Conservation), 1, "revenue booked twice creates money");
    let careful = run(builtin("checkout"), 2, script, &[]);
    assert_eq!(careful.checkers().total_violations(), 0);
    assert!(careful.trace().iter().any(|r| matches!(r.happened, Happened::DuplicateSkipped { .. })));
}

#[test]
fn missing_correlation_ids_are_caught_at_the_first_emission() {
    let sim = run(builtin("checkout"), 1, FaultScript::default(), &[AntiPattern::NoCorrelationId]);
    let first = sim.checkers().violations.first().unwrap();
    assert_eq!(first.invariant, Invariant::CorrelationFlows);
    let m = &sim.messages()[first.message.unwrap().0 as usize];
    assert!(m.envelope.correlation_id.is_none() && m.envelope.causation_id.is_some());
}

#[test]
fn a_full_queue_dead_letters_with_max_length_and_an_old_message_expires() {
    let mut scenario = builtin("pubsub");
    scenario.workload[0].repeat = Some(eventscope::sim::scenario::RepeatSpec { count: 10, every_ms: 1 });
    scenario.subscriptions[0].capacity = 2;
    scenario.subscriptions[2].ttl_ms = Some(40);
    let sim = run(scenario, 1, FaultScript::default(), &[]);
    let email = sim.sub_state(sub(&sim, "email-orders"));
    assert!(email.dlq.iter().any(|l| l.reason == DeadLetterReason::MaxLength));
    let warehouse = sim.sub_state(sub(&sim, "warehouse-orders"));
    assert!(warehouse.dlq.iter().any(|l| l.reason == DeadLetterReason::Expired));
    assert_eq!(sim.checkers().total_violations(), 0);
}

#[test]
fn a_partition_withholds_acknowledgements_and_publications_until_it_heals() {
    let mut scenario = builtin("checkout");
    for s in &mut scenario.subscriptions {
        s.delivery = Delivery::AtLeastOnce;
    }
    let script = FaultScript {
        rules: vec![],
        scripted: vec![at_step(2, Fault::PartitionService { service: "payment".into(), duration_ms: 500 })],
    };
    let sim = run(scenario, 1, script, &[]);
    let v = verbs(&sim);
    assert!(v.contains(&"partition") && v.contains(&"heal"));
    let healed = sim.trace().iter().find_map(|r| match r.happened {
        Happened::Healed { released, .. } => Some(released),
        _ => None,
    });
    assert!(healed.unwrap() >= 1);
    // The held acknowledgement makes the broker redeliver: a duplicate charge.
    assert!(sim.checkers().count(Invariant::ExactlyOnceEffect) >= 1);
}

#[test]
fn the_outbox_survives_a_crash_between_commit_and_publish_and_a_dual_write_does_not() {
    // Crash payment right after its first handling commits, before the relay publishes.
    let probe = run(builtin("checkout"), 4, FaultScript::default(), &[]);
    let committed = probe
        .trace()
        .iter()
        .find(|r| matches!(r.happened, Happened::Handled { emitted: 1, .. }))
        .expect("payment emits PaymentCompleted")
        .step;
    let script = FaultScript {
        rules: vec![],
        scripted: vec![at_step(
            committed + 1,
            Fault::CrashService { service: "payment".into(), restart_after_ms: Some(100) },
        )],
    };
    let outbox = run(builtin("checkout"), 4, script.clone(), &[]);
    assert_eq!(outbox.checkers().total_violations(), 0, "the outbox relay publishes after the restart");
    let crash = outbox.trace().iter().find_map(|r| match r.happened {
        Happened::Crashed { unpublished, .. } => Some(unpublished),
        _ => None,
    });
    assert_eq!(crash, Some(0));

    let dual = run(builtin("checkout"), 4, script, &[AntiPattern::NoOutbox]);
    let lost = dual.checkers().violations.iter().find(|v| v.invariant == Invariant::NoEventLost).unwrap();
    assert!(lost.detail.contains("never published"), "{}", lost.detail);
    assert_eq!(lost.step, committed + 1);
    assert!(dual.checkers().count(Invariant::Conservation) > 0, "the charged money never reaches accounting");
}

#[test]
fn a_failed_shipment_runs_the_compensations_backwards() {
    let script = FaultScript {
        rules: vec![],
        scripted: vec![at_step(0, Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 })],
    };
    let sim = run(builtin("checkout"), 1, script, &[]);
    let first_publish = |t: &str| {
        sim.trace()
            .iter()
            .find(|r| matches!(r.happened, Happened::Published { message, .. } if sim.messages()[message.0 as usize].envelope.event_type.ends_with(t)))
            .map(|r| r.step)
            .unwrap_or_else(|| panic!("no {t}"))
    };
    let chain = ["shipment.failed", "inventory.released", "payment.refunded", "order.cancelled"].map(first_publish);
    assert!(chain.windows(2).all(|w| w[0] < w[1]), "compensations in reverse order: {chain:?}");
    let payment = sim.compiled().service_by_name("payment").unwrap();
    let balances: i64 =
        sim.service_state(payment).state.iter().filter(|(k, _)| k.starts_with("balance.")).map(|(_, v)| v).sum();
    assert_eq!(balances, 420, "every charged customer was refunded");
    assert_eq!(sim.checkers().total_violations(), 0);
}

/// The last `HandlingFailed` cause the trace holds for a message, described as the log
/// describes it: what a dead letter's last error must repeat.
fn last_failure_in_trace(sim: &Simulation, message: eventscope::sim::envelope::MessageId) -> Option<String> {
    sim.trace().iter().rev().find_map(|r| match &r.happened {
        Happened::HandlingFailed { message: m, cause, .. } if *m == message => Some(cause.describe()),
        _ => None,
    })
}

#[test]
fn a_dead_letter_keeps_the_handlers_last_error() {
    let sim = run(builtin("poison-message"), 1, FaultScript::default(), &[]);
    let billing = sub(&sim, "billing-orders");
    let letters = sim.dead_letter_views(billing);
    assert_eq!(letters.len(), 1);
    // The built-in poison is a payload without `amount`: the handler cannot read it.
    assert_eq!(letters[0].last_error.as_deref(), Some("malformed (data.amount)"));
    assert_eq!(letters[0].last_error, last_failure_in_trace(&sim, letters[0].message));
}

#[test]
fn a_dead_letter_of_a_failing_service_names_the_failure_rate() {
    let mut scenario = common::safe(builtin("checkout"));
    for s in &mut scenario.subscriptions {
        s.retry.attempts_max = 2;
    }
    let faults = FaultScript {
        scripted: vec![at_step(0, Fault::FailHandlers { service: "payment".into(), per_mille: 1000 })],
        ..FaultScript::default()
    };
    let sim = run(scenario, 1, faults, &[]);
    let letters: Vec<_> = sim.subscription_views().iter().flat_map(|s| sim.dead_letter_views(s.id)).collect();
    assert!(!letters.is_empty(), "a service failing every handling fills its DLQ");
    for l in &letters {
        assert_eq!(l.last_error.as_deref(), Some("failure rate"), "{}", l.event_id);
        assert_eq!(l.last_error, last_failure_in_trace(&sim, l.message));
    }
}

#[test]
fn a_message_marked_as_poison_is_dead_lettered_with_poison_as_its_last_error() {
    let mut sim = Simulation::new(RunConfig::new(common::safe(builtin("checkout")), 1)).unwrap();
    while sim.messages().is_empty() {
        assert!(sim.step().is_some(), "the checkout publishes its first order");
    }
    let first = sim.messages()[0].envelope.id.clone();
    sim.inject(Fault::PoisonMessage { message: first.clone() }).unwrap();
    sim.run_to_end();
    let letters: Vec<_> = sim
        .subscription_views()
        .iter()
        .flat_map(|s| sim.dead_letter_views(s.id))
        .filter(|l| l.event_id == first)
        .collect();
    assert!(!letters.is_empty(), "the poisoned order ends in a DLQ");
    for l in &letters {
        assert_eq!(l.last_error.as_deref(), Some("poison"));
    }
}
