//! Run health: what each verdict means at this moment, not only whether a rule broke.
//!
//! A violation count alone is green over a run whose orders all sit in a dead-letter
//! queue, or whose saga waits forever for a crashed service. So each invariant is
//! read together with *where the work is*:
//!
//! - **held**: no violation, and nothing is parked;
//! - **pending**: no violation yet, but some work cannot move by itself and can still
//!   settle when someone acts: messages in a DLQ (an operator redrives them), work
//!   queued for a service that is down or cut off (it restarts or heals), events in
//!   the outbox of such a service, a saga stuck on one of those. Each reason is named;
//! - **broken**: the checker recorded a violation.
//!
//! Saga instances get the same treatment: running (or compensating) while a message
//! of their current step is on its way, stuck (forward or compensating, with the
//! reason) when none is, and for every instance that did not complete, what its
//! completed steps still hold, read from the participants' handlers.
//!
//! Health is a plain view computed from the world on demand, meant to be read once
//! per render, not per step: it walks every queue, dead letter and scheduled message.

use std::collections::BTreeMap;

use super::envelope::MessageId;
use super::handler::{eval, plan_emit, render_key, Input};
use super::invariant::Invariant;
use super::saga::{SagaInstance, SagaStatus};
use super::simulation::Simulation;
use super::trace::ServiceId;
use super::view::ScheduledMessage;

/// The health of the whole run: every invariant, then every saga instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunHealth {
    /// One entry per invariant, in [`Invariant::ALL`] order.
    pub invariants: Vec<InvariantHealth>,
    /// One entry per saga instance, in scenario order then instance id.
    pub sagas: Vec<SagaHealth>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantHealth {
    pub invariant: Invariant,
    pub state: InvariantState,
}

/// An invariant's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvariantState {
    Held,
    /// Not broken, but work it depends on is parked; the reasons say where.
    Pending(Vec<PendingReason>),
    Broken {
        violations: u64,
        /// The step of the first violation.
        first_step: u64,
    },
}

impl InvariantState {
    /// `held`, `pending` or `broken`: the word the CLI prints and the UI colours.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Pending(_) => "pending",
            Self::Broken { .. } => "broken",
        }
    }
}

/// Work that cannot move by itself but can still settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendingReason {
    /// Messages parked in a subscription's dead-letter queue, waiting for an operator.
    DeadLettered { subscription: String, messages: u32 },
    /// Messages queued (or handled but unacknowledged) for a service that is down or
    /// cut off by a partition.
    ServiceDown { service: String, messages: u32 },
    /// Events committed to the outbox of a service that is down or cut off: its relay
    /// sends them when it is back.
    OutboxWaiting { service: String, events: u32 },
    /// A saga instance that cannot take its next step by itself.
    SagaStuck { saga: String, instance: String, step: String, compensating: bool },
    /// Part of a conserved quantity travels in parked messages: the run has ended and
    /// it is in no account.
    InTransit { quantity: String, amount: i64 },
}

impl std::fmt::Display for PendingReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DeadLettered { subscription, messages } => write!(f, "{messages} in the DLQ of {subscription}"),
            Self::ServiceDown { service, messages } => write!(f, "{messages} waiting for {service}, which is down"),
            Self::OutboxWaiting { service, events } => write!(f, "{events} in the outbox of {service}, which is down"),
            Self::SagaStuck { saga, instance, step, compensating } => {
                let doing = if *compensating { "compensating" } else { "at" };
                write!(f, "saga {saga} for {instance} stuck {doing} step {step}")
            }
            Self::InTransit { quantity, amount } => write!(f, "{amount} {quantity} in parked messages"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SagaHealth {
    pub saga: String,
    pub instance: String,
    pub state: SagaState,
    /// What the instance's completed steps changed and nothing has given back, for an
    /// instance that did not complete (a completed saga keeps its effects by design).
    pub holding: Vec<HeldResource>,
}

/// Where a saga instance stands, and whether it can get further by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SagaState {
    Completed,
    /// Aborted with every completed step undone.
    Compensated,
    /// A message of this step (its command or the reply) is on its way.
    Running {
        step: String,
    },
    /// A message of this step's compensation is on its way.
    Compensating {
        step: String,
    },
    /// Going forward, but no message of this step can move by itself.
    StuckForward {
        step: String,
        why: StuckReason,
    },
    /// Undoing, but no message of this compensation can move by itself.
    StuckCompensating {
        step: String,
        why: StuckReason,
    },
}

impl SagaState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Compensated => "compensated",
            Self::Running { .. } => "running",
            Self::Compensating { .. } => "compensating",
            Self::StuckForward { .. } => "stuck",
            Self::StuckCompensating { .. } => "stuck compensating",
        }
    }

    pub fn is_stuck(&self) -> bool {
        matches!(self, Self::StuckForward { .. } | Self::StuckCompensating { .. })
    }
}

/// Why a saga's current step cannot move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StuckReason {
    /// Its command or reply is parked in this subscription's DLQ.
    DeadLettered { subscription: String, event_type: String },
    /// Its command or reply waits for this service, which is down or cut off.
    ServiceDown { service: String, event_type: String },
    /// Its command or reply is in the outbox of this service, which is down or cut off.
    Unpublished { service: String, event_type: String },
    /// No message of the step exists anywhere any more: it was lost.
    NothingOnItsWay,
}

impl std::fmt::Display for StuckReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DeadLettered { subscription, event_type } => {
                write!(f, "{event_type} is in the DLQ of {subscription}")
            }
            Self::ServiceDown { service, event_type } => write!(f, "{event_type} waits for {service}, which is down"),
            Self::Unpublished { service, event_type } => {
                write!(f, "{event_type} is in the outbox of {service}, which is down")
            }
            Self::NothingOnItsWay => write!(f, "no message of this step is on its way"),
        }
    }
}

/// A change a saga step made in a participant's state, not given back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldResource {
    pub step: String,
    pub service: String,
    /// The state counter (e.g. `balance.c-2`) and how the step changed it.
    pub key: String,
    pub delta: i64,
}

/// Where one message is, as far as health is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Queued at a live consumer, handled right now, or scheduled: it will move.
    Moving,
    DeadLettered {
        sub: u32,
    },
    /// Queued or unacknowledged at a service that is down or cut off.
    AtServiceDown {
        service: ServiceId,
    },
    /// In the outbox of a service that is down or cut off.
    InOutbox {
        service: ServiceId,
    },
}

impl Place {
    /// Which place explains a step best: one that moves, then the ones an operator can
    /// act on, in that order.
    fn rank(self) -> u8 {
        match self {
            Self::Moving => 0,
            Self::DeadLettered { .. } => 1,
            Self::AtServiceDown { .. } => 2,
            Self::InOutbox { .. } => 3,
        }
    }
}

/// Every message that is somewhere (not handled, not lost), with its place.
fn places(sim: &Simulation) -> Vec<(MessageId, Place)> {
    let compiled = sim.compiled();
    let service_reachable = |s: ServiceId| {
        let state = sim.service_state(s);
        state.up && state.partitioned_until.is_none()
    };
    let mut out = Vec::new();
    for (i, cs) in compiled.subs.iter().enumerate() {
        let s = sim.sub_state(super::trace::SubId(i as u32));
        let queued =
            if service_reachable(cs.service) { Place::Moving } else { Place::AtServiceDown { service: cs.service } };
        out.extend(s.in_flight.iter().map(|f| (f.delivery.message, Place::Moving)));
        out.extend(s.queue.iter().map(|d| (d.message, queued)));
        out.extend(s.unacknowledged().iter().map(|d| (d.message, Place::AtServiceDown { service: cs.service })));
        out.extend(s.dlq.iter().map(|l| (l.delivery.message, Place::DeadLettered { sub: i as u32 })));
    }
    for (_, scheduled) in sim.scheduled_messages() {
        let message = match scheduled {
            ScheduledMessage::Publishing { message } | ScheduledMessage::Waiting { message, .. } => message,
        };
        out.push((message, Place::Moving));
    }
    for i in 0..compiled.services.len() {
        let service = ServiceId(i as u32);
        out.extend(sim.service_state(service).outbox().iter().map(|m| (*m, Place::InOutbox { service })));
    }
    out
}

/// Messages that cannot move by themselves (dead-lettered, waiting for a service that
/// is down, in such a service's outbox).
pub(crate) fn parked(sim: &Simulation) -> impl Iterator<Item = MessageId> {
    places(sim).into_iter().filter(|(_, p)| *p != Place::Moving).map(|(m, _)| m)
}

impl Simulation {
    /// The run's health now: each invariant held, pending (with its reasons) or broken,
    /// and each saga instance's state. Walks the whole world: call it once per render.
    pub fn health(&self) -> RunHealth {
        let places = places(self);
        let sagas = self.saga_health(&places);
        let compiled = self.compiled();
        let checkers = self.checkers();

        let mut lost_pending = Vec::new();
        let mut per_sub: BTreeMap<u32, u32> = BTreeMap::new();
        let mut per_service: BTreeMap<u32, u32> = BTreeMap::new();
        let mut per_outbox: BTreeMap<u32, u32> = BTreeMap::new();
        for (_, place) in &places {
            match place {
                Place::Moving => {}
                Place::DeadLettered { sub } => *per_sub.entry(*sub).or_default() += 1,
                Place::AtServiceDown { service } => *per_service.entry(service.0).or_default() += 1,
                Place::InOutbox { service } => *per_outbox.entry(service.0).or_default() += 1,
            }
        }
        for (sub, messages) in per_sub {
            let subscription = compiled.subs[sub as usize].name.clone();
            lost_pending.push(PendingReason::DeadLettered { subscription, messages });
        }
        for (service, messages) in per_service {
            let service = compiled.services[service as usize].name.clone();
            lost_pending.push(PendingReason::ServiceDown { service, messages });
        }
        for (service, events) in per_outbox {
            let service = compiled.services[service as usize].name.clone();
            lost_pending.push(PendingReason::OutboxWaiting { service, events });
        }

        let saga_pending: Vec<PendingReason> = sagas
            .iter()
            .filter_map(|s| {
                let (step, compensating) = match &s.state {
                    SagaState::StuckForward { step, .. } => (step, false),
                    SagaState::StuckCompensating { step, .. } => (step, true),
                    _ => return None,
                };
                Some(PendingReason::SagaStuck {
                    saga: s.saga.clone(),
                    instance: s.instance.clone(),
                    step: step.clone(),
                    compensating,
                })
            })
            .collect();

        // Amounts in transit are normal while messages move; once nothing can move,
        // whatever is still in transit sits in parked messages.
        let conservation_pending: Vec<PendingReason> = if self.finished().is_some() {
            checkers
                .quantities
                .iter()
                .filter(|q| q.in_transit != 0)
                .map(|q| PendingReason::InTransit { quantity: q.name.clone(), amount: q.in_transit })
                .collect()
        } else {
            Vec::new()
        };

        let invariants = Invariant::ALL
            .iter()
            .map(|&invariant| {
                let violations = checkers.count(invariant);
                let pending = match invariant {
                    Invariant::NoEventLost => lost_pending.clone(),
                    Invariant::SagaAllOrNothing => saga_pending.clone(),
                    Invariant::Conservation => conservation_pending.clone(),
                    _ => Vec::new(),
                };
                let state = if violations > 0 {
                    let first_step = checkers.first_step[invariant as usize].unwrap_or(0);
                    InvariantState::Broken { violations, first_step }
                } else if pending.is_empty() {
                    InvariantState::Held
                } else {
                    InvariantState::Pending(pending)
                };
                InvariantHealth { invariant, state }
            })
            .collect();
        RunHealth { invariants, sagas }
    }

    fn saga_health(&self, places: &[(MessageId, Place)]) -> Vec<SagaHealth> {
        let instances = self.saga_instances();
        if instances.is_empty() {
            return Vec::new();
        }
        // Saga messages are addressed by subject: the instance id.
        let mut by_subject: BTreeMap<&str, Vec<(MessageId, Place)>> = BTreeMap::new();
        for (message, place) in places {
            let subject = self.messages()[message.0 as usize].envelope.subject.as_str();
            by_subject.entry(subject).or_default().push((*message, *place));
        }
        instances
            .into_iter()
            .map(|(g, instance_id, instance)| {
                let saga = &self.compiled().sagas[g as usize];
                let state = match instance.status {
                    SagaStatus::Completed => SagaState::Completed,
                    SagaStatus::Aborted => SagaState::Compensated,
                    SagaStatus::Running { step } | SagaStatus::Compensating { step } => {
                        let compensating = matches!(instance.status, SagaStatus::Compensating { .. });
                        let spec = saga.steps.get(step as usize);
                        let name = spec.map_or_else(|| format!("#{step}"), |s| s.name.clone());
                        // The message types that move this step: its command and replies.
                        let types: Vec<&str> = match spec {
                            Some(s) if compensating => s
                                .compensation
                                .iter()
                                .map(|c| c.event_type.as_str())
                                .chain(s.compensated.as_deref())
                                .collect(),
                            Some(s) => vec![s.action.event_type.as_str(), s.success.as_str(), s.failure.as_str()],
                            None => Vec::new(),
                        };
                        let best = by_subject
                            .get(instance_id.as_str())
                            .into_iter()
                            .flatten()
                            .filter(|(m, _)| {
                                types.contains(&self.messages()[m.0 as usize].envelope.event_type.as_str())
                            })
                            .min_by_key(|(m, p)| (p.rank(), m.0));
                        match best {
                            Some((_, Place::Moving)) if compensating => SagaState::Compensating { step: name },
                            Some((_, Place::Moving)) => SagaState::Running { step: name },
                            _ => {
                                let why = self.stuck_reason(best.copied());
                                if compensating {
                                    SagaState::StuckCompensating { step: name, why }
                                } else {
                                    SagaState::StuckForward { step: name, why }
                                }
                            }
                        }
                    }
                };
                let holding = if instance.status == SagaStatus::Completed {
                    Vec::new()
                } else {
                    self.held_by(g, &instance_id, &instance)
                };
                SagaHealth { saga: saga.name.clone(), instance: instance_id, state, holding }
            })
            .collect()
    }

    fn stuck_reason(&self, best: Option<(MessageId, Place)>) -> StuckReason {
        let compiled = self.compiled();
        let Some((message, place)) = best else { return StuckReason::NothingOnItsWay };
        let event_type = self.messages()[message.0 as usize].envelope.event_type.clone();
        let service_name = |s: ServiceId| compiled.services[s.0 as usize].name.clone();
        match place {
            Place::DeadLettered { sub } => {
                StuckReason::DeadLettered { subscription: compiled.subs[sub as usize].name.clone(), event_type }
            }
            Place::AtServiceDown { service } => StuckReason::ServiceDown { service: service_name(service), event_type },
            Place::InOutbox { service } => StuckReason::Unpublished { service: service_name(service), event_type },
            Place::Moving => StuckReason::NothingOnItsWay,
        }
    }

    /// The state changes of an instance's completed, not compensated steps: each
    /// step's command rendered from the saga's start data, run through the effects of
    /// the participant that handles it.
    fn held_by(&self, saga: u32, instance_id: &str, instance: &SagaInstance) -> Vec<HeldResource> {
        let compiled = self.compiled();
        let spec = &compiled.sagas[saga as usize];
        let input = Input { subject: instance_id, data: &instance.data };
        let mut out = Vec::new();
        for (i, step) in spec.steps.iter().enumerate() {
            if !instance.succeeded[i] || instance.compensated[i] {
                continue;
            }
            let Ok(command) = plan_emit(&step.action, input) else { continue };
            let command_input = Input { subject: &command.subject, data: &command.data };
            let handlers = compiled.topics[step.action.topic.0 as usize].subs.iter().filter_map(|sub| {
                let service = compiled.subs[sub.0 as usize].service;
                let handler = compiled.services[service.0 as usize].handlers.get(&step.action.event_type)?;
                Some((service, handler))
            });
            for (service, handler) in handlers {
                for (key, amount) in &handler.effects {
                    let (Ok(key), Ok(delta)) = (render_key(key, command_input), eval(amount, command_input)) else {
                        continue;
                    };
                    if delta != 0 {
                        let service = compiled.services[service.0 as usize].name.clone();
                        out.push(HeldResource { step: step.name.clone(), service, key, delta });
                    }
                }
            }
        }
        out
    }
}

impl RunHealth {
    pub fn invariant(&self, invariant: Invariant) -> &InvariantState {
        &self.invariants[invariant as usize].state
    }

    /// Every invariant held: nothing broken, nothing parked.
    pub fn all_held(&self) -> bool {
        self.invariants.iter().all(|i| i.state == InvariantState::Held)
    }

    pub fn any_broken(&self) -> bool {
        self.invariants.iter().any(|i| matches!(i.state, InvariantState::Broken { .. }))
    }
}
