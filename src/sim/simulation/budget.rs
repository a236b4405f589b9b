//! The run's budget: what a step is about to add is weighed before it commits, and a
//! step that would cross a limit (see `limits`) does not happen; the run halts.
//!
//! Two kinds of growth are told apart. What a handler or the workload *builds*
//! (messages, stored events, new state entries) is weighed in full before anything
//! changes, so the limit is never crossed and the error names the template or emit
//! at fault. What a step *accumulates* as bookkeeping (its trace record, metric
//! samples, a copy of the world every 2,048 steps, an aggregate snapshot) is small per
//! step and charged after it; the next step refuses to start once the budget is spent.
//!
//! The counter lives in the world, so it is copied with every snapshot and a replay
//! after a rewind charges exactly what the first run did: the halt comes back at the
//! same step.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::{Simulation, World};
use crate::sim::envelope::Envelope;
use crate::sim::handler::{Decision, PlannedEmit};
use crate::sim::limits::{
    indexed, joined, map_bytes, Halt, Limit, Overflow, Place, ENTRY_FIXED_BYTES, MESSAGES_MAX, MESSAGE_BYTES_MAX,
    MESSAGE_FIXED_BYTES, RUN_BYTES_MAX,
};
use crate::sim::trace::{FailureCause, Happened, ServiceId, TopicId, TraceRecord};

/// Bytes held so far by estimate, and the halt once one happened.
#[derive(Clone, Debug, Default)]
pub(super) struct Budget {
    pub(super) held_bytes: u64,
    pub(super) halt: Option<Rc<Halt>>,
}

/// The bytes of an event id (`evt_` and 12 hex digits).
const EVENT_ID_BYTES: u64 = 16;

/// What a set of planned messages and entries would add to the run.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Weight {
    pub(super) bytes: u64,
    pub(super) messages: u64,
}

/// The estimated bytes of a state map (keys and counters).
pub(super) fn state_bytes(state: &BTreeMap<String, i64>) -> u64 {
    state.keys().map(|k| ENTRY_FIXED_BYTES + k.len() as u64).sum()
}

/// The estimated bytes of a message with this envelope.
pub(super) fn envelope_bytes(e: &Envelope) -> u64 {
    let text = [&e.id, &e.source, &e.event_type, &e.subject].iter().map(|s| s.len() as u64).sum::<u64>();
    let links =
        e.correlation_id.as_ref().map_or(0, |c| c.len() as u64) + e.causation_id.as_ref().map_or(0, |c| c.len() as u64);
    MESSAGE_FIXED_BYTES + text + links + map_bytes(&e.data)
}

/// The estimated bytes a trace record holds (its strings included).
pub(super) fn record_bytes(record: &TraceRecord) -> u64 {
    let text = match &record.happened {
        Happened::HandlingFailed { cause, .. } => match cause {
            FailureCause::Malformed { field } | FailureCause::UnreadableHistory { field, .. } => field.len(),
            FailureCause::Conflict { stream, .. } => stream.len(),
            _ => 0,
        },
        Happened::StateSet { key, .. } => key.len(),
        Happened::ProjectionStalled { field, .. } => field.len(),
        Happened::FaultMissed { target, .. } => target.len(),
        _ => 0,
    };
    std::mem::size_of::<TraceRecord>() as u64 + text as u64
}

impl Simulation {
    /// The halt that stopped the run, if it stopped at a limit. The run stands at the
    /// halt's step: every step before it happened and is in the trace; stepping,
    /// running and injecting do nothing more. Rewinding to an earlier step clears it
    /// (the world is restored), and stepping forward again reaches the same halt.
    pub fn halted(&self) -> Option<&Halt> {
        self.world.budget.halt.as_deref()
    }

    /// Bytes the run holds by estimate (see `limits`): what its budget has spent.
    pub fn held_bytes(&self) -> u64 {
        self.world.budget.held_bytes
    }

    pub(super) fn halt(&mut self, limit: Limit, place: Place, reached: u64) {
        let halt = Halt::LimitReached { limit, place, step: self.world.step, reached };
        self.world.budget.halt = Some(Rc::new(halt));
    }

    /// Charges bookkeeping already done (see the module documentation).
    pub(super) fn charge(&mut self, bytes: u64) {
        self.world.budget.held_bytes = self.world.budget.held_bytes.saturating_add(bytes);
    }

    /// Halts before a step if the budget was spent by the steps before it (what they
    /// appended, plus what the world's queues hold now).
    pub(super) fn budget_spent(&mut self) -> bool {
        if self.world.budget.halt.is_some() {
            return true;
        }
        let held = self.world.budget.held_bytes.saturating_add(self.world.live_bytes());
        if held > RUN_BYTES_MAX {
            self.halt(Limit::RunBytes, Place::Run, held);
            return true;
        }
        false
    }

    /// The JSON path of a service's handler for an event type, as the scenario
    /// spells it (`services[1].handlers[0]`), or of the saga it coordinates.
    pub(super) fn handler_path(&self, service: ServiceId, event_type: &str) -> String {
        let scenario = &self.compiled.scenario;
        let i = service.0 as usize;
        if let Some(g) = self.compiled.services.get(i).and_then(|s| s.saga) {
            return indexed("sagas", u64::from(g));
        }
        match scenario.services.get(i).and_then(|s| s.handlers.iter().position(|h| h.on == event_type)) {
            Some(j) => joined(&indexed("services", i as u64), &indexed("handlers", j as u64)),
            None => indexed("services", i as u64),
        }
    }

    /// Stops the run at a handler: `path` is relative to the handler's own path.
    pub(super) fn halt_in_handler(&mut self, service: ServiceId, event_type: &str, overflow: Overflow) {
        let base = self.handler_path(service, event_type);
        let path = joined(&base, &overflow.path);
        let place = Place::Handler {
            service: self.compiled.services[service.0 as usize].name.clone(),
            event_type: event_type.to_string(),
            path,
        };
        self.halt(overflow.limit, place, overflow.reached);
    }

    /// How many messages one publication to `topic` becomes (one per consumer under
    /// events-as-commands).
    fn copies(&self, topic: TopicId) -> u64 {
        let subs = self.compiled.topics[topic.0 as usize].subs.len() as u64;
        if self.compiled.events_as_commands && subs >= 2 {
            subs
        } else {
            1
        }
    }

    /// The bytes of one message emitted by `service` from `emit`, caused by `cause`.
    fn emitted_bytes(&self, service: ServiceId, cause: &Envelope, emit: &PlannedEmit, entity: u64) -> u64 {
        let source = self.compiled.services[service.0 as usize].name.len() as u64;
        let correlation = cause.correlation_id.as_ref().map_or(0, |c| c.len() as u64);
        MESSAGE_FIXED_BYTES
            + 2 * EVENT_ID_BYTES
            + source
            + correlation
            + (emit.event_type.len() + emit.subject.len()) as u64
            + map_bytes(&emit.data)
            + entity
    }

    /// Weighs what committing `decision` would add: its messages, stored events and
    /// new state entries. `emit_path(i)` names the `i`th planned emit, relative to the
    /// handler, for the error. Nothing changes; an overflow stops the step before it
    /// commits.
    pub(super) fn weigh(
        &self,
        service: ServiceId,
        cause: &Envelope,
        decision: &Decision,
        emit_path: &dyn Fn(usize) -> String,
    ) -> Result<Weight, Overflow> {
        let state = &self.world.services[service.0 as usize].state;
        let mut weight = Weight::default();
        for (key, _) in &decision.effects {
            if !state.contains_key(key) {
                weight.bytes += ENTRY_FIXED_BYTES + key.len() as u64;
            }
        }
        // Fat events carry the service's whole state in every emitted event.
        let entity = if self.compiled.fat_events { state_bytes(state) + weight.bytes } else { 0 };
        for (i, emit) in decision.emits.iter().enumerate() {
            let bytes = self.emitted_bytes(service, cause, emit, entity);
            if bytes > MESSAGE_BYTES_MAX {
                return Err(Overflow { limit: Limit::MessageBytes, path: emit_path(i), reached: bytes });
            }
            let copies = self.copies(emit.topic);
            weight.bytes += bytes * copies;
            weight.messages += copies;
        }
        for (i, r) in decision.records.iter().enumerate() {
            let stored = ENTRY_FIXED_BYTES + EVENT_ID_BYTES + cause.subject.len() as u64 + r.event_type.len() as u64;
            let data = map_bytes(&r.data);
            weight.bytes += stored + data;
            if let Some(topic) = r.topic {
                let bytes = MESSAGE_FIXED_BYTES + stored + data + entity;
                if bytes > MESSAGE_BYTES_MAX {
                    return Err(Overflow {
                        limit: Limit::MessageBytes,
                        path: indexed("record", i as u64),
                        reached: bytes,
                    });
                }
                let copies = self.copies(topic);
                weight.bytes += bytes * copies;
                weight.messages += copies;
            }
        }
        self.affordable(weight).map_err(|(limit, reached)| Overflow { limit, path: String::new(), reached })?;
        Ok(weight)
    }

    /// Whether the run can take on `weight`: the limit and the figure it would reach
    /// if not.
    pub(super) fn affordable(&self, weight: Weight) -> Result<(), (Limit, u64)> {
        let messages = u64::from(self.world.messages_len) + weight.messages;
        if messages > MESSAGES_MAX {
            return Err((Limit::Messages, messages));
        }
        let held = self.world.budget.held_bytes.saturating_add(self.world.live_bytes()).saturating_add(weight.bytes);
        if held > RUN_BYTES_MAX {
            return Err((Limit::RunBytes, held));
        }
        Ok(())
    }
}

impl World {
    /// What the world's queues, agenda and dead-letter queues hold now, by estimate.
    /// Unlike what the run appends (messages, records, state entries), these shrink
    /// as well as grow, so they are counted from their lengths before each step
    /// instead of charged once; a fan-out that floods queues meets the budget here.
    pub(super) fn live_bytes(&self) -> u64 {
        const DELIVERY: usize = std::mem::size_of::<super::Delivery>();
        const DEAD_LETTER: usize = std::mem::size_of::<super::DeadLetter>();
        let subs: usize =
            self.subs.iter().map(|s| (s.queue.len() + s.unacked.len()) * DELIVERY + s.dlq.len() * DEAD_LETTER).sum();
        (subs + self.agenda.len() * std::mem::size_of::<super::Entry>()) as u64
    }

    /// What a copy of the world holds by estimate: its growing parts (queues, agenda,
    /// dead letters, state, read models). Charged for each snapshot kept for rewind.
    pub(super) fn copy_bytes(&self) -> u64 {
        let size = |n: usize, each: usize| (n * each) as u64;
        let subs: u64 = self
            .subs
            .iter()
            .map(|s| {
                size(s.queue.len() + s.unacked.len(), std::mem::size_of::<super::Delivery>())
                    + size(s.dlq.len() + s.blocked.len(), 2 * std::mem::size_of::<u64>())
            })
            .sum();
        let state: u64 = self.services.iter().map(|s| state_bytes(&s.state)).sum();
        let read_models: u64 = self.projections.iter().map(|p| state_bytes(&p.state)).sum();
        std::mem::size_of::<World>() as u64
            + size(self.agenda.len(), std::mem::size_of::<super::Entry>())
            + subs
            + state
            + read_models
    }
}
