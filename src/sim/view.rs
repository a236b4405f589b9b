//! Plain view models of a running simulation, for the UI and the CLI.
//!
//! Views are computed on demand from the current world and hold only owned, plain
//! data (names, numbers, ids), so the UI can diff and render them without borrowing
//! the engine. Everything is listed in a stable order (scenario order, then time).

use super::envelope::{EventKind, MessageId};
use super::invariant::Invariant;
use super::scenario::Delivery;
use super::simulation::Simulation;
use super::store::StoredEvent;
use super::time::Millis;
use super::trace::{DeadLetterReason, FailureCause, Happened, ServiceId, SubId, TopicId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceStatus {
    Up,
    Crashed,
    Partitioned,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    pub id: ServiceId,
    pub name: String,
    pub description: String,
    pub status: ServiceStatus,
    pub extra_ms: Millis,
    pub fail_per_mille: u32,
    /// The service's local state counters, in key order.
    pub state: Vec<(String, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicView {
    pub id: TopicId,
    pub name: String,
    pub description: String,
}

/// One subscription's queue and its health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionView {
    pub id: SubId,
    pub name: String,
    pub topic: TopicId,
    pub service: ServiceId,
    pub delivery: Delivery,
    pub ordered: bool,
    pub dlq_enabled: bool,
    pub attempts_max: u32,
    pub queue_depth: u32,
    pub in_flight: Option<MessageId>,
    /// Copies waiting out a backoff, a delay or an acknowledgement timeout.
    pub waiting: u32,
    pub dlq_depth: u32,
    /// Consumer lag in messages: queued, in flight and waiting.
    pub lag_messages: u32,
    /// Consumer lag in time: age of the oldest message queued or in flight.
    pub lag_ms: Millis,
    pub handled: u64,
    pub failures: u64,
    pub duplicates_skipped: u64,
    pub dead_lettered: u64,
    pub lost: u64,
    /// Mean time from publication to handled, over everything handled so far.
    pub latency_ms_mean: Millis,
    pub latency_ms_max: Millis,
    /// The highest lag in messages seen so far.
    pub lag_max: u32,
}

/// Where a message currently is, for tokens on the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPlace {
    /// Committed by its producer, on its way to the topic.
    Publishing { topic: TopicId, due_ms: Millis },
    /// Waiting in a subscription's queue at this position (0 = next).
    Queued { sub: SubId, position: u32 },
    /// Being handled by the subscription's consumer.
    Handling { sub: SubId, started_ms: Millis, done_ms: Millis },
    /// Out of the queue until `due_ms`: backoff, delay or acknowledgement timeout.
    Waiting { sub: SubId, due_ms: Millis },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenView {
    pub message: MessageId,
    pub event_id: String,
    pub event_type: String,
    pub kind: EventKind,
    pub attempt: u32,
    pub place: TokenPlace,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetterView {
    pub message: MessageId,
    pub event_id: String,
    pub event_type: String,
    pub reason: DeadLetterReason,
    pub at_ms: Millis,
    /// (queue, reason, count, first_ms, last_ms) per entry, like `x-death`.
    pub history: Vec<(String, DeadLetterReason, u32, Millis, Millis)>,
    /// The handler's last error in the trace's words ("poison", "failure rate", ...).
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantView {
    pub invariant: Invariant,
    pub violations: u64,
    pub first_step: Option<u64>,
}

/// One delivery attempt of a message, read from the trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptView {
    pub step: u64,
    pub time_ms: Millis,
    pub sub: SubId,
    pub what: String,
}

impl Simulation {
    pub fn topic_views(&self) -> Vec<TopicView> {
        self.scenario()
            .topics
            .iter()
            .enumerate()
            .map(|(i, t)| TopicView { id: TopicId(i as u32), name: t.name.clone(), description: t.description.clone() })
            .collect()
    }

    pub fn service_views(&self) -> Vec<ServiceView> {
        self.scenario()
            .services
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let id = ServiceId(i as u32);
                let s = self.service_state(id);
                let status = if !s.up {
                    ServiceStatus::Crashed
                } else if s.partitioned_until.is_some() {
                    ServiceStatus::Partitioned
                } else {
                    ServiceStatus::Up
                };
                ServiceView {
                    id,
                    name: spec.name.clone(),
                    description: spec.description.clone(),
                    status,
                    extra_ms: s.extra_ms,
                    fail_per_mille: s.fail_per_mille,
                    state: s.state.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                }
            })
            .collect()
    }

    pub fn subscription_views(&self) -> Vec<SubscriptionView> {
        let now = self.now_ms();
        self.compiled()
            .subs
            .iter()
            .enumerate()
            .map(|(i, cs)| {
                let id = SubId(i as u32);
                let s = self.sub_state(id);
                let oldest = s
                    .in_flight
                    .iter()
                    .map(|f| f.delivery.enqueued_ms)
                    .chain(s.queue.iter().map(|d| d.enqueued_ms))
                    .min();
                let in_flight = u32::from(s.in_flight.is_some());
                SubscriptionView {
                    id,
                    name: cs.name.clone(),
                    topic: cs.topic,
                    service: cs.service,
                    delivery: cs.delivery,
                    ordered: cs.ordered,
                    dlq_enabled: cs.dlq,
                    attempts_max: cs.retry.attempts_max,
                    queue_depth: s.queue.len() as u32,
                    in_flight: s.in_flight.as_ref().map(|f| f.delivery.message),
                    waiting: s.waiting,
                    dlq_depth: s.dlq.len() as u32,
                    lag_messages: s.queue.len() as u32 + in_flight + s.waiting,
                    lag_ms: oldest.map_or(0, |t| now.saturating_sub(t)),
                    handled: s.stats.handled,
                    failures: s.stats.failures,
                    duplicates_skipped: s.stats.duplicates_skipped,
                    dead_lettered: s.stats.dead_lettered,
                    lost: s.stats.lost,
                    latency_ms_mean: s.stats.latency_ms_total.checked_div(s.stats.handled).unwrap_or(0),
                    latency_ms_max: s.stats.latency_ms_max,
                    lag_max: s.stats.lag_max,
                }
            })
            .collect()
    }

    /// Every message currently in the system, for tokens: queued and in flight per
    /// subscription, then the ones scheduled in the agenda in time order.
    pub fn token_views(&self) -> Vec<TokenView> {
        let mut tokens = Vec::new();
        let token = |message: MessageId, attempt: u32, place: TokenPlace| {
            let m = &self.messages()[message.0 as usize];
            TokenView {
                message,
                event_id: m.envelope.id.clone(),
                event_type: m.envelope.event_type.clone(),
                kind: m.envelope.kind,
                attempt,
                place,
            }
        };
        for i in 0..self.compiled().subs.len() {
            let sub = SubId(i as u32);
            let s = self.sub_state(sub);
            if let Some(f) = &s.in_flight {
                let place = TokenPlace::Handling { sub, started_ms: f.started_ms, done_ms: f.done_ms };
                tokens.push(token(f.delivery.message, f.delivery.attempt, place));
            }
            for (position, d) in s.queue.iter().enumerate() {
                tokens.push(token(d.message, d.attempt, TokenPlace::Queued { sub, position: position as u32 }));
            }
        }
        for (due_ms, scheduled) in self.scheduled_messages() {
            let place = match scheduled {
                ScheduledMessage::Publishing { message } => {
                    let topic = self.messages()[message.0 as usize].topic;
                    (message, 1, TokenPlace::Publishing { topic, due_ms })
                }
                ScheduledMessage::Waiting { message, sub, attempt } => {
                    (message, attempt, TokenPlace::Waiting { sub, due_ms })
                }
            };
            tokens.push(token(place.0, place.1, place.2));
        }
        tokens
    }

    pub fn dead_letter_views(&self, sub: SubId) -> Vec<DeadLetterView> {
        self.sub_state(sub)
            .dlq
            .iter()
            .map(|l| {
                let m = &self.messages()[l.delivery.message.0 as usize];
                DeadLetterView {
                    message: l.delivery.message,
                    event_id: m.envelope.id.clone(),
                    event_type: m.envelope.event_type.clone(),
                    reason: l.reason,
                    at_ms: l.at_ms,
                    history: l
                        .delivery
                        .history
                        .iter()
                        .map(|h| (h.queue.clone(), h.reason, h.count, h.first_ms, h.last_ms))
                        .collect(),
                    last_error: l.last_error.as_ref().map(FailureCause::describe),
                }
            })
            .collect()
    }

    pub fn invariant_views(&self) -> Vec<InvariantView> {
        let c = self.checkers();
        Invariant::ALL
            .iter()
            .map(|inv| InvariantView {
                invariant: *inv,
                violations: c.count(*inv),
                first_step: c.violations.iter().find(|v| v.invariant == *inv).map(|v| v.step),
            })
            .collect()
    }

    /// What happened to one message, step by step, across subscriptions.
    pub fn attempts_of(&self, message: MessageId) -> Vec<AttemptView> {
        self.trace()
            .iter()
            .filter(|r| r.happened.message() == Some(message))
            .filter_map(|r| {
                let sub = r.happened.sub()?;
                Some(AttemptView { step: r.step, time_ms: r.time_ms, sub, what: self.line(r) })
            })
            .collect()
    }

    /// The message's cause, and the messages it caused, for the causal tree.
    pub fn causal_links(&self, message: MessageId) -> (Option<MessageId>, Vec<MessageId>) {
        let cause = self.message(message).and_then(|m| m.cause);
        let caused = self
            .messages()
            .iter()
            .enumerate()
            .filter(|(_, m)| m.cause == Some(message))
            .map(|(i, _)| MessageId(i as u32))
            .collect();
        (cause, caused)
    }

    /// Steps at which the message was published (more than one if re-emitted).
    pub fn publications_of(&self, message: MessageId) -> Vec<u64> {
        self.trace()
            .iter()
            .filter(|r| matches!(r.happened, Happened::Published { message: m, .. } if m == message))
            .map(|r| r.step)
            .collect()
    }
}

/// One step of a saga instance, for the saga view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaStepState {
    Pending,
    Running,
    Done,
    /// The step whose failure started the compensation.
    Failed,
    /// Its compensation command is out, waiting for the reply.
    Compensating,
    Compensated,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaStepView {
    pub name: String,
    pub state: SagaStepState,
    pub is_pivot: bool,
    /// Done and undoable: its compensation would run if a later step failed (never on a
    /// completed saga, nor past the pivot).
    pub compensation_armed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaView {
    pub saga: String,
    pub instance: String,
    pub status: &'static str,
    pub steps: Vec<SagaStepView>,
    /// Steps still to run on the happy path.
    pub remaining: Vec<String>,
    /// Compensations that would run now, in the order they would run.
    pub compensations_armed: Vec<String>,
}

/// A read model's progress, for the projections panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionView {
    pub index: u32,
    pub name: String,
    pub store: ServiceId,
    pub checkpoint: u64,
    pub head: u64,
    pub lag_events: u64,
    /// Age of the oldest event the projection has not applied yet.
    pub lag_ms: Millis,
    pub state: Vec<(String, i64)>,
    pub stalled: Option<(u64, String)>,
    pub rebuilds: u32,
}

impl Simulation {
    pub fn saga_views(&self) -> Vec<SagaView> {
        use super::saga::SagaStatus;
        self.saga_instances()
            .into_iter()
            .map(|(g, instance_id, instance)| {
                let saga = &self.compiled().sagas[g as usize];
                let steps: Vec<SagaStepView> = saga
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| {
                        let i32_ = i as u32;
                        let state = if instance.compensated[i] {
                            SagaStepState::Compensated
                        } else if instance.status == (SagaStatus::Compensating { step: i32_ }) {
                            SagaStepState::Compensating
                        } else if instance.failed_step == Some(i32_) {
                            SagaStepState::Failed
                        } else if instance.succeeded[i] {
                            SagaStepState::Done
                        } else if instance.status == (SagaStatus::Running { step: i32_ }) {
                            SagaStepState::Running
                        } else {
                            SagaStepState::Pending
                        };
                        // Armed only while a failure could still fire it: not once the
                        // saga completed or went past its pivot, where failures retry.
                        let can_still_undo = match instance.status {
                            SagaStatus::Running { step } => saga.pivot.is_none_or(|p| step <= p),
                            SagaStatus::Compensating { .. } => true,
                            SagaStatus::Completed | SagaStatus::Aborted => false,
                        };
                        let compensation_armed = can_still_undo
                            && instance.succeeded[i]
                            && !instance.compensated[i]
                            && step.compensation.is_some();
                        SagaStepView {
                            name: step.name.clone(),
                            state,
                            is_pivot: saga.pivot == Some(i32_),
                            compensation_armed,
                        }
                    })
                    .collect();
                let remaining = match instance.status {
                    SagaStatus::Running { step } => {
                        saga.steps.iter().skip(step as usize).map(|s| s.name.clone()).collect()
                    }
                    _ => Vec::new(),
                };
                let compensations_armed =
                    steps.iter().rev().filter(|s| s.compensation_armed).map(|s| s.name.clone()).collect();
                SagaView {
                    saga: saga.name.clone(),
                    instance: instance_id,
                    status: instance.status.name(),
                    steps,
                    remaining,
                    compensations_armed,
                }
            })
            .collect()
    }

    pub fn projection_views(&self) -> Vec<ProjectionView> {
        let now = self.now_ms();
        self.compiled()
            .projections
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let ps = self.projection_state(i as u32)?;
                let store = self.store(p.store);
                let head = store.head();
                let oldest_unapplied = store.event_at(ps.checkpoint + 1).map(|e| e.time_ms);
                Some(ProjectionView {
                    index: i as u32,
                    name: p.name.clone(),
                    store: p.store,
                    checkpoint: ps.checkpoint,
                    head,
                    lag_events: head.saturating_sub(ps.checkpoint),
                    lag_ms: oldest_unapplied.map_or(0, |t| now.saturating_sub(t)),
                    state: ps.state.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    stalled: ps.stalled.clone(),
                    rebuilds: ps.rebuilds,
                })
            })
            .collect()
    }
}

/// A message that sits in the agenda rather than in a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduledMessage {
    Publishing { message: MessageId },
    Waiting { message: MessageId, sub: SubId, attempt: u32 },
}

impl Simulation {
    /// A stored event as its readers see it: the payload after the store's upcasters
    /// (when upcasting is on) and the schema version reached. The store keeps the
    /// stored form untouched, since events are facts, so this is what lets a view show
    /// both sides of an upcast.
    pub fn read_as(
        &self,
        service: ServiceId,
        event: &StoredEvent,
    ) -> (serde_json::Map<String, serde_json::Value>, u32) {
        let compiled = self.compiled();
        match compiled.services.get(service.0 as usize).and_then(|s| s.store.as_ref()).filter(|_| compiled.upcasting) {
            Some(spec) => super::store::upcast(&spec.upcasters, &event.event_type, event.schema_version, &event.data),
            None => (event.data.clone(), event.schema_version),
        }
    }

    /// What a projection's read model would hold if it had applied every event in its
    /// store up to the head: the write side's answer to the same query. Comparing it
    /// with `projection_views()[i].state` shows a stale read. `None` for an unknown
    /// projection; an event the fold cannot read gives its error, as the projection
    /// itself would stall on it.
    pub fn projection_caught_up(
        &self,
        projection: u32,
    ) -> Option<Result<std::collections::BTreeMap<String, i64>, super::handler::FoldError>> {
        let compiled = self.compiled();
        let p = compiled.projections.get(projection as usize)?;
        let upcasters = compiled
            .services
            .get(p.store.0 as usize)
            .and_then(|s| s.store.as_ref())
            .filter(|_| compiled.upcasting)
            .map(|s| s.upcasters.as_slice());
        let events = self.store(p.store).read_all(0);
        Some(super::handler::fold(&p.apply, upcasters, events.iter(), Default::default()))
    }
}

impl Simulation {
    /// Messages still queued for a consumer that cannot take them now (crashed or cut
    /// off from the bus): work a settled run left stranded, as (service, messages).
    pub fn stranded(&self) -> Vec<(String, u32)> {
        self.service_views()
            .into_iter()
            .filter(|s| s.status != ServiceStatus::Up)
            .filter_map(|s| {
                let waiting: u32 =
                    self.subscription_views().iter().filter(|q| q.service == s.id).map(|q| q.queue_depth).sum();
                (waiting > 0).then_some((s.name, waiting))
            })
            .collect()
    }
}

#[cfg(test)]
mod projection_caught_up_tests {
    use crate::sim::scenario::builtin;
    use crate::sim::simulation::{RunConfig, Simulation};

    #[test]
    fn the_caught_up_read_model_leads_the_projection_and_matches_it_when_settled() {
        let mut sim = Simulation::new(RunConfig::new(builtin("order-read-model").unwrap(), 1)).unwrap();
        let mut saw_stale = false;
        while sim.step().is_some() {
            let view = &sim.projection_views()[0];
            let caught_up = sim.projection_caught_up(0).unwrap().unwrap();
            let read: std::collections::BTreeMap<String, i64> = view.state.iter().cloned().collect();
            saw_stale |= view.lag_events > 0 && read != caught_up;
        }
        assert!(saw_stale, "a lagging projection answers with stale values");
        let read: std::collections::BTreeMap<String, i64> = sim.projection_views()[0].state.iter().cloned().collect();
        assert_eq!(read, sim.projection_caught_up(0).unwrap().unwrap(), "caught up at the end");
        assert!(sim.projection_caught_up(99).is_none());
    }
}
