//! View models: what the UI reads must agree with what the engine did.

mod common;

use common::builtin;
use eventscope::sim::trace::SubId;
use eventscope::sim::view::{ServiceStatus, TokenPlace};
use eventscope::sim::{Fault, RunConfig, Simulation};

#[test]
fn a_crashed_consumer_shows_down_and_its_queue_and_lag_grow() {
    let mut scenario = builtin("pubsub");
    scenario.workload[0].repeat = Some(eventscope::sim::scenario::RepeatSpec { count: 10, every_ms: 50 });
    let mut sim = Simulation::new(RunConfig::new(scenario, 1)).unwrap();
    sim.inject(Fault::CrashService { service: "email".into(), restart_after_ms: None }).unwrap();
    sim.run_to_end();
    let services = sim.service_views();
    let email = services.iter().find(|s| s.name == "email").unwrap();
    assert_eq!(email.status, ServiceStatus::Crashed);
    let subs = sim.subscription_views();
    let queue = subs.iter().find(|s| s.name == "email-orders").unwrap();
    assert_eq!(queue.queue_depth, 10, "every order piles up");
    assert_eq!(sim.stranded(), vec![("email".to_string(), 10)], "the settled run says what is stranded");
    assert_eq!(queue.handled, 0);
    assert_eq!(queue.lag_messages, queue.queue_depth);
    assert!(queue.lag_ms >= 200, "the oldest waits since the crash: {}", queue.lag_ms);
    let tokens = sim.token_views();
    let queued = tokens.iter().filter(|t| matches!(t.place, TokenPlace::Queued { sub, .. } if sub == queue.id)).count();
    assert_eq!(queued as u32, queue.queue_depth);
}

#[test]
fn dead_letters_and_invariants_are_listed() {
    let mut sim = Simulation::new(RunConfig::new(builtin("poison-message"), 1)).unwrap();
    sim.run_to_end();
    let letters = sim.dead_letter_views(SubId(0));
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].history[0].2, 1);
    assert!(sim.invariant_views().iter().all(|v| v.violations == 0 && v.first_step.is_none()));
    let billing = &sim.subscription_views()[0];
    assert_eq!((billing.dlq_depth, billing.failures), (1, 4));
    assert!(billing.latency_ms_mean > 0);
}

#[test]
fn the_causal_tree_links_causes_and_effects() {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout"), 1)).unwrap();
    sim.run_to_end();
    let order = sim.messages().iter().position(|m| m.envelope.event_type.ends_with("order.placed")).unwrap();
    let order = eventscope::sim::MessageId(order as u32);
    let (cause, caused) = sim.causal_links(order);
    assert!(cause.is_none());
    assert_eq!(caused.len(), 1);
    let payment = &sim.messages()[caused[0].0 as usize];
    assert_eq!(payment.envelope.causation_id.as_deref(), Some(sim.messages()[order.0 as usize].envelope.id.as_str()));
    assert_eq!(sim.causal_links(caused[0]).0, Some(order));
    assert!(!sim.attempts_of(order).is_empty());
}

#[test]
fn publications_in_flight_are_tokens_before_they_reach_the_topic() {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout"), 1)).unwrap();
    // Step until a handler has emitted and its event is on the way.
    while sim
        .scheduled_messages()
        .iter()
        .all(|(_, s)| !matches!(s, eventscope::sim::view::ScheduledMessage::Publishing { .. }))
    {
        assert!(sim.step().is_some());
    }
    assert!(sim.token_views().iter().any(|t| matches!(t.place, TokenPlace::Publishing { .. })));
}

#[test]
fn metric_samples_follow_the_queues_and_survive_a_rewind() {
    let mut sim = Simulation::new(RunConfig::new(builtin("poison-message"), 1)).unwrap();
    sim.run_to_end();
    let samples = sim.metric_samples().to_vec();
    assert!(samples.windows(2).all(|w| w[0].step <= w[1].step));
    let last = samples.iter().rev().find(|s| s.sub == SubId(0)).unwrap();
    assert_eq!((last.lag, last.dlq), (0, 1), "the run ends with an empty queue and one dead letter");
    assert!(samples.iter().any(|s| s.lag >= 2), "a backlog formed behind the poison message");
    sim.rewind_to(10);
    assert!(sim.metric_samples().iter().all(|s| s.step < 10));
    sim.run_to_end();
    assert_eq!(sim.metric_samples(), &samples[..]);
}

/// Flows count what the trace shows: each workload event starts one, in publication
/// order, and every handling of a message carrying its correlation id adds to it.
#[test]
fn flows_agree_with_the_handlings_in_the_trace() {
    let mut scenario = builtin("checkout");
    scenario.workload[0].repeat = Some(eventscope::sim::scenario::RepeatSpec { count: 30, every_ms: 40 });
    let mut sim = Simulation::new(RunConfig::new(scenario, 4)).unwrap();
    sim.run_to_end();
    let mut handled: std::collections::BTreeMap<String, (u32, u64)> = Default::default();
    for r in sim.trace() {
        if let eventscope::sim::Happened::Handled { message, .. } = r.happened {
            let m = sim.message(message).unwrap();
            let entry = handled.entry(m.envelope.correlation_id.clone().unwrap()).or_default();
            entry.0 += 1;
            entry.1 = r.time_ms;
        }
    }
    let flows: Vec<_> = sim.flows().map(|(id, f)| (id.to_string(), f)).collect();
    assert_eq!(flows.len(), 30);
    let starts: Vec<u64> = flows.iter().map(|f| f.1.started_ms).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "in the order they started: {starts:?}");
    for (id, f) in &flows {
        assert_eq!((f.handled, f.last_ms), handled[id], "{id}");
        assert_eq!(sim.flow(id), Some(*f));
    }
}
