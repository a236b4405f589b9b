//! The engine: a discrete-event simulation of a message broker and its consumers.
//!
//! # How a step works
//!
//! The world holds an agenda of future events ordered by (simulated time, sequence
//! number) and a set of subscriptions that may be able to dispatch right now. One call
//! to [`Simulation::step`] does exactly one thing and records it:
//!
//! 1. a scripted fault that is due at this step number is applied, or else
//! 2. a ready subscription hands the next eligible message to its consumer, or else
//! 3. the earliest agenda event happens (a publication reaches the bus, a handler
//!    finishes, a backoff elapses, a crashed service restarts, a partition heals),
//!    and the clock jumps to its time.
//!
//! Delivery modes fall out of *when* the acknowledgement happens: at-most-once acks
//! when the handler starts, at-least-once when it finishes; exactly-once *effect* adds
//! a processed-ids table updated in the same local transaction as the effect.
//!
//! # Determinism and rewind
//!
//! All randomness comes from one seeded ChaCha8 stream, every collection that is
//! iterated is ordered, and nothing reads a clock. So a run is a pure function of
//! (scenario, seed, fault script, anti-patterns), and rewinding is replay: restore the
//! nearest earlier snapshot of the mutable world and step forward. Envelopes and trace
//! records are append-only and shared by all snapshots; only the mutable world is
//! copied, every [`SNAPSHOT_INTERVAL`] steps.

use std::cell::Cell;
use std::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::rc::Rc;

use serde_json::{Map, Value};

use super::anti_pattern::AntiPattern;
use super::compiled::{event_id, saga_stream, Compiled, CompiledSaga};
use super::envelope::EventKind;
use super::envelope::{Envelope, MessageId};
use super::fault::{Fault, FaultScript, ScriptedFault, Trigger, Verdict};
use super::handler::{
    apply_one, decide, fold, plan_emit, render_key, render_workload, render_workload_value, Decision, FoldError, Input,
    PlannedEmit, PlannedRecord, Refusal,
};
use super::hash::Fnv1a;
use super::invariant::{At, Checkers, Quantity};
use super::ledger::{FirstSeen, FlowStats, Ledgers};
use super::limits::{indexed, joined, Place, MESSAGE_BYTES_MAX};
use super::rng::ChaCha8;
use super::saga::{self, fold_instance, SagaInstance, SagaSend};
use super::scenario::{Scenario, ScenarioErrors};
use super::store::{EventStore, ExpectedVersion, NewEvent, Snapshot};
use super::time::Millis;
use super::trace::{
    hash_records, AfterFailure, DeadLetterReason, FailureCause, HandleOutcome, Happened, Lookup, RequeueCause,
    ServiceId, SubId, TopicId, TraceLine, TraceRecord,
};

mod budget;
#[cfg(test)]
mod identity_tests;
use budget::{envelope_bytes, record_bytes, state_bytes, Budget, Weight};

/// Steps between snapshots of the mutable world. Rewinding replays at most this many
/// steps, which takes a few milliseconds even in the browser.
pub const SNAPSHOT_INTERVAL: u64 = 2_048;

/// Everything a run is a function of.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    pub scenario: Scenario,
    pub seed: u64,
    pub faults: FaultScript,
    pub anti_patterns: Vec<AntiPattern>,
}

impl RunConfig {
    pub fn new(scenario: Scenario, seed: u64) -> Self {
        Self { scenario, seed, faults: FaultScript::default(), anti_patterns: Vec::new() }
    }
}

/// A published event and where it came from. Immutable once created.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub envelope: Envelope,
    /// Fingerprint of the event id (emitted events derive their ids from it).
    pub key: u64,
    /// Fingerprint of the subject: the key of per-key ordering.
    pub subject_key: u64,
    /// The event's ordinal: the id of the first message that carried this event id.
    /// Processed-ids tables and checkers' ledgers are indexed by it (see `ledger`).
    pub event: u32,
    /// The subject's ordinal, likewise: the first message with this subject (only
    /// when a subscription promises per-key order; otherwise its own position).
    pub subject: u32,
    /// The business flow this message belongs to, found by its correlation id.
    pub flow: Option<u32>,
    /// Publication order on the bus (copies of a duplicated delivery share it).
    pub seq: u64,
    pub topic: TopicId,
    pub emitted_by: Option<ServiceId>,
    pub cause: Option<MessageId>,
    /// Part of a compensation: undoing an earlier step of a saga.
    pub compensation: bool,
    /// Addressed to one subscription only (the events-as-commands anti-pattern).
    pub target: Option<SubId>,
}

/// One entry of a message's death history, like RabbitMQ's `x-death`: per queue and
/// reason, how often and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeathRecord {
    pub queue: String,
    pub reason: DeadLetterReason,
    pub count: u32,
    pub first_ms: Millis,
    pub last_ms: Millis,
}

/// One copy of a message on its way to one subscription's consumer.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub message: MessageId,
    /// The attempt this delivery will be, counting from 1.
    pub attempt: u32,
    pub enqueued_ms: Millis,
    /// A fault rule already judged this attempt (rules fire at most once per attempt).
    faulted: bool,
    pub history: Vec<DeathRecord>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    pub delivery: Delivery,
    pub reason: DeadLetterReason,
    pub at_ms: Millis,
    /// What the handler's last failed attempt returned, kept with the letter because
    /// the operator deciding to redrive needs the cause, not only the DLQ reason. None
    /// when it was parked without a failed attempt (expired, queue full, too many
    /// redeliveries after crashes).
    pub last_error: Option<FailureCause>,
}

#[derive(Clone, Debug)]
pub struct InFlight {
    pub delivery: Delivery,
    pub started_ms: Millis,
    pub done_ms: Millis,
    force_fail: bool,
    /// Event-sourced handlers: the stream and the version read when handling began,
    /// the expected version of the append.
    read: Option<(String, u64)>,
}

/// Counters per subscription, for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubStats {
    pub enqueued: u64,
    pub attempts: u64,
    pub handled: u64,
    pub duplicates_skipped: u64,
    pub failures: u64,
    pub dead_lettered: u64,
    pub lost: u64,
    pub redriven: u64,
    pub discarded: u64,
    pub latency_ms_total: u64,
    pub latency_ms_max: u64,
    /// The highest consumer lag (queued, in flight and waiting) seen so far.
    pub lag_max: u32,
}

#[derive(Clone, Debug)]
pub struct SubState {
    pub queue: VecDeque<Delivery>,
    pub in_flight: Option<InFlight>,
    /// Dead letters are immutable once parked and a DLQ can grow long, so snapshots
    /// share them instead of copying each one with its death history.
    pub dlq: Vec<Rc<DeadLetter>>,
    /// Per subject ordinal: copies outside the queue (handling, backing off, delayed).
    blocked: BTreeMap<u64, u32>,
    /// Handled while partitioned: the acknowledgement never reached the broker.
    unacked: Vec<Delivery>,
    /// Copies waiting in the agenda (backoff, delay, ack timeout).
    pub waiting: u32,
    pub stats: SubStats,
}

#[derive(Clone, Debug)]
pub struct ServiceState {
    pub up: bool,
    pub partitioned_until: Option<Millis>,
    pub extra_ms: Millis,
    pub fail_per_mille: u32,
    pub state: BTreeMap<String, i64>,
    /// Publications made while partitioned, sent when the partition heals.
    held: Vec<MessageId>,
}

impl ServiceState {
    /// Events committed to the outbox while the service was down or cut off, waiting
    /// for the relay.
    pub fn outbox(&self) -> &[MessageId] {
        &self.held
    }
}

impl SubState {
    /// Copies handled while partitioned whose acknowledgement never reached the broker.
    pub fn unacknowledged(&self) -> &[Delivery] {
        &self.unacked
    }
}

#[derive(Clone, Debug)]
enum Agenda {
    Workload {
        item: u32,
        n: u32,
    },
    Publish {
        message: MessageId,
    },
    Complete {
        sub: SubId,
    },
    /// Boxed: the agenda is a binary heap whose entries move on every push and pop,
    /// and a delivery by value would triple the size of every entry.
    Requeue {
        sub: SubId,
        delivery: Box<Delivery>,
        cause: RequeueCause,
    },
    Restart {
        service: ServiceId,
    },
    Heal {
        service: ServiceId,
    },
    Scripted {
        index: u32,
    },
    Project {
        projection: u32,
    },
}

#[derive(Clone, Debug)]
struct Entry {
    time: Millis,
    seq: u64,
    event: Agenda,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// The mutable part of a run: everything a snapshot must copy.
#[derive(Clone, Debug)]
struct World {
    step: u64,
    now_ms: Millis,
    seq: u64,
    publish_seq: u64,
    messages_len: u32,
    next_scripted: u32,
    rng: ChaCha8,
    agenda: BinaryHeap<Reverse<Entry>>,
    ready: BTreeSet<SubId>,
    services: Vec<ServiceState>,
    subs: Vec<SubState>,
    /// Poisoned events, by event ordinal (exact, unlike a fingerprint).
    poisoned: BTreeSet<u64>,
    checkers: Checkers,
    /// Collections that grow with the run, persistent so snapshots share them.
    ledgers: Ledgers,
    bytes_published: u64,
    store_heads: Vec<u64>,
    projections: Vec<ProjectionState>,
    /// The end-of-run checks ran (they run once, when nothing is left to happen).
    settled_checked: bool,
    /// Each subscription's last sampled (lag, DLQ depth), and the samples so far.
    last_sample: Vec<(u32, u32)>,
    metrics_len: u64,
    /// What the run holds by estimate, and the halt if a limit stopped it (`budget`).
    budget: Budget,
}

/// A projection's progress through its store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectionState {
    /// Store position of the last event applied (0: none yet).
    pub checkpoint: u64,
    /// The read model: counters built from the events seen so far.
    pub state: BTreeMap<String, i64>,
    busy: bool,
    /// Set when an event could not be applied: (position, missing field).
    pub stalled: Option<(u64, String)>,
    pub rebuilds: u32,
    /// The most events it has been behind its store so far.
    pub lag_max: u64,
}

/// A subscription's lag and DLQ depth after a step that changed them: the time series
/// behind the metrics charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricSample {
    pub step: u64,
    pub time_ms: Millis,
    pub sub: SubId,
    /// Messages queued, in flight and waiting.
    pub lag: u32,
    pub dlq: u32,
}

/// Why the run cannot step further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Nothing is scheduled and nothing can be dispatched.
    Quiescent,
    /// The scenario's `steps_max` was reached with work remaining.
    StepLimit,
    /// The next step would have crossed a limit (see [`Simulation::halted`]).
    Halted,
}

/// What injecting a fault did to the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injected {
    /// The step at which the fault was applied.
    pub step: u64,
    /// True if the run had been rewound: the old future was discarded.
    pub forked: bool,
    /// Steps of the old future that were discarded.
    pub discarded_steps: u64,
    /// Scripted faults of the old future that were discarded with it.
    pub discarded_faults: u32,
}

/// A running simulation.
#[derive(Clone, Debug)]
pub struct Simulation {
    compiled: Rc<Compiled>,
    config: RunConfig,
    /// The scripted faults of scenario and user, in application order for step triggers.
    script: Vec<ScriptedFault>,
    /// Entries of `script` discarded by a fork.
    script_discarded: BTreeSet<u32>,
    step_order: Vec<u32>,
    world: World,
    messages: Vec<Rc<Message>>,
    /// Ordinals handed out so far, by event id, subject and correlation id; append-only
    /// like `messages` (see [`FirstSeen`]).
    first_events: FirstSeen,
    first_subjects: FirstSeen,
    first_flows: FirstSeen,
    trace: Vec<TraceRecord>,
    /// Each service's event store (empty unless it is event-sourced); append-only,
    /// truncated to the world's `store_heads` when rewinding.
    stores: Vec<EventStore>,
    /// Lag and DLQ-depth samples; append-only like the trace.
    metrics: Vec<MetricSample>,
    /// The world every `SNAPSHOT_INTERVAL` steps.
    snapshots: Vec<World>,
    /// How often the run forked: with a length, it names one version of the trace.
    forks: u32,
    /// The trace hash folded so far: (records covered, `forks` then, state). The app
    /// shows the hash whenever the run is at its end, and hashing 100,000 records
    /// takes about 100 ms, so a later call continues from here instead of restarting.
    hashed: Cell<(u64, u32, Fnv1a)>,
}

impl Simulation {
    /// Creates a run; nothing has happened yet (step 0).
    pub fn new(config: RunConfig) -> Result<Simulation, ScenarioErrors> {
        config.scenario.validate()?;
        config.faults.validate_against(&config.scenario).map_err(|e| {
            ScenarioErrors(
                e.0.into_iter()
                    .map(|mut one| {
                        one.path = format!("faults.{}", one.path);
                        one
                    })
                    .collect(),
            )
        })?;
        let faults = config.scenario.faults.merged(&config.faults);
        let compiled = Rc::new(Compiled::new(&config.scenario, config.seed, &config.anti_patterns, &faults.rules)?);
        let services: Vec<ServiceState> = compiled
            .scenario
            .services
            .iter()
            .map(|s| ServiceState {
                up: true,
                partitioned_until: None,
                extra_ms: 0,
                fail_per_mille: 0,
                state: s.state.clone(),
                held: Vec::new(),
            })
            .collect();
        let quantities = compiled
            .quantities
            .iter()
            .map(|q| {
                let in_accounts: i64 = q
                    .accounts
                    .iter()
                    .map(|(svc, prefix)| {
                        services[svc.0 as usize]
                            .state
                            .iter()
                            .filter(|(k, _)| k.starts_with(prefix.as_str()))
                            .map(|(_, v)| *v)
                            .fold(0i64, i64::saturating_add)
                    })
                    .fold(0i64, i64::saturating_add);
                Quantity { name: q.name.clone(), initial: in_accounts, in_accounts, in_transit: 0 }
            })
            .collect();
        let subs = compiled
            .subs
            .iter()
            .map(|_| SubState {
                queue: VecDeque::new(),
                in_flight: None,
                dlq: Vec::new(),
                blocked: BTreeMap::new(),
                unacked: Vec::new(),
                waiting: 0,
                stats: SubStats::default(),
            })
            .collect();
        let services_len = compiled.services.len();
        let subs_len = compiled.subs.len();
        let projections = compiled.projections.iter().map(|_| ProjectionState::default()).collect();
        let world = World {
            step: 0,
            now_ms: 0,
            seq: 0,
            publish_seq: 0,
            messages_len: 0,
            next_scripted: 0,
            rng: ChaCha8::from_seed(config.seed),
            agenda: BinaryHeap::new(),
            ready: BTreeSet::new(),
            services,
            subs,
            poisoned: BTreeSet::new(),
            checkers: Checkers::new(quantities, subs_len as u32),
            ledgers: Ledgers::new(subs_len),
            bytes_published: 0,
            store_heads: vec![0; services_len],
            projections,
            settled_checked: false,
            last_sample: vec![(0, 0); subs_len],
            metrics_len: 0,
            budget: Budget::default(),
        };
        let mut sim = Simulation {
            compiled,
            config,
            script: faults.scripted,
            script_discarded: BTreeSet::new(),
            step_order: Vec::new(),
            world,
            messages: Vec::new(),
            first_events: FirstSeen::default(),
            first_subjects: FirstSeen::default(),
            first_flows: FirstSeen::default(),
            trace: Vec::new(),
            metrics: Vec::new(),
            stores: vec![EventStore::default(); services_len],
            snapshots: Vec::new(),
            forks: 0,
            hashed: Cell::new((0, 0, Fnv1a::default())),
        };
        sim.load_history();
        for (i, w) in sim.compiled.workload.iter().enumerate() {
            let at = w.at_ms;
            sim.world.schedule(at, Agenda::Workload { item: i as u32, n: 1 });
        }
        sim.index_script();
        for (i, e) in sim.script.iter().enumerate() {
            if let Trigger::TimeMs(t) = e.at {
                sim.world.schedule(t, Agenda::Scripted { index: i as u32 });
            }
        }
        sim.snapshots.push(sim.world.clone());
        Ok(sim)
    }

    fn index_script(&mut self) {
        let mut order: Vec<(u64, u32)> = self
            .script
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.script_discarded.contains(&(*i as u32)))
            .filter_map(|(i, e)| match e.at {
                Trigger::Step(s) => Some((s, i as u32)),
                Trigger::TimeMs(_) => None,
            })
            .collect();
        super::sorting::sort(&mut order);
        self.step_order = order.into_iter().map(|(_, i)| i).collect();
    }

    // -----------------------------------------------------------------------------
    // Public API
    // -----------------------------------------------------------------------------

    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The scenario as run, with anti-pattern switches applied.
    pub fn scenario(&self) -> &Scenario {
        &self.compiled.scenario
    }

    pub fn seed(&self) -> u64 {
        self.compiled.seed
    }

    /// The current step: how many steps have happened.
    pub fn step_index(&self) -> u64 {
        self.world.step
    }

    /// The furthest step computed so far (after a rewind, the future is kept).
    pub fn horizon(&self) -> u64 {
        self.trace.len() as u64
    }

    pub fn now_ms(&self) -> Millis {
        self.world.now_ms
    }

    /// The trace of the steps that have happened (up to the current step).
    pub fn trace(&self) -> &[TraceRecord] {
        &self.trace[..self.world.step as usize]
    }

    /// The trace up to the horizon, including steps ahead of a rewound position.
    pub fn trace_to_horizon(&self) -> &[TraceRecord] {
        &self.trace
    }

    /// The one-line form of a trace record.
    pub fn line(&self, record: &TraceRecord) -> String {
        TraceLine { record, names: self }.to_string()
    }

    /// The columns of a trace record's one-line form.
    pub fn fields(&self, record: &TraceRecord) -> super::trace::TraceColumns {
        TraceLine { record, names: self }.columns()
    }

    /// A fingerprint of the trace up to the current step.
    pub fn trace_hash(&self) -> u64 {
        let len = self.world.step;
        let (done, forks, state) = self.hashed.get();
        let (from, state) = if forks == self.forks && done <= len { (done, state) } else { (0, Fnv1a::default()) };
        let h = hash_records(state, self.trace[from as usize..len as usize].iter(), self);
        self.hashed.set((len, self.forks, h));
        h.finish()
    }

    /// The messages published so far, indexed by [`MessageId`].
    pub fn messages(&self) -> &[Rc<Message>] {
        &self.messages[..self.world.messages_len as usize]
    }

    pub fn message(&self, id: MessageId) -> Option<&Message> {
        self.messages().get(id.0 as usize).map(|m| m.as_ref())
    }

    pub fn message_by_event_id(&self, event_id: &str) -> Option<MessageId> {
        self.messages().iter().position(|m| m.envelope.id == event_id).map(|i| MessageId(i as u32))
    }

    /// All scripted faults (scenario's and user's), with their triggers.
    pub fn scripted_faults(&self) -> impl Iterator<Item = &ScriptedFault> {
        self.script.iter().enumerate().filter(|(i, _)| !self.script_discarded.contains(&(*i as u32))).map(|(_, e)| e)
    }

    /// The user's fault script as it now stands (interactive injections included).
    pub fn fault_script(&self) -> &FaultScript {
        &self.config.faults
    }

    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    pub fn checkers(&self) -> &Checkers {
        &self.world.checkers
    }

    pub fn service_state(&self, service: ServiceId) -> &ServiceState {
        &self.world.services[service.0 as usize]
    }

    pub fn sub_state(&self, sub: SubId) -> &SubState {
        &self.world.subs[sub.0 as usize]
    }

    /// End-to-end flow statistics in the order the flows started, each with its
    /// correlation id.
    pub fn flows(&self) -> impl Iterator<Item = (&str, FlowStats)> + '_ {
        self.world.ledgers.flows().map(|(start, f)| {
            // A flow's ordinal is the position of the first message it published.
            let id = self.messages.get(start as usize).and_then(|m| m.envelope.correlation_id.as_deref());
            (id.unwrap_or("?"), f)
        })
    }

    /// The flow statistics of one correlation id.
    pub fn flow(&self, correlation_id: &str) -> Option<FlowStats> {
        let messages = &self.messages;
        let carries = |p: u32| {
            messages.get(p as usize).and_then(|m| m.envelope.correlation_id.as_deref()) == Some(correlation_id)
        };
        let start = self.first_flows.find(correlation_key(correlation_id), self.world.messages_len, &carries)?;
        self.world.ledgers.flow(start)
    }

    pub fn bytes_published(&self) -> u64 {
        self.world.bytes_published
    }

    /// Messages waiting in the agenda (publications on their way, copies backing off),
    /// in the order they will happen.
    pub fn scheduled_messages(&self) -> Vec<(Millis, super::view::ScheduledMessage)> {
        use super::view::ScheduledMessage;
        let mut entries: Vec<&Entry> = self.world.agenda.iter().map(|Reverse(e)| e).collect();
        super::sorting::sort(&mut entries);
        entries
            .into_iter()
            .filter_map(|e| match &e.event {
                Agenda::Publish { message } => Some((e.time, ScheduledMessage::Publishing { message: *message })),
                Agenda::Requeue { sub, delivery, .. } => Some((
                    e.time,
                    ScheduledMessage::Waiting { message: delivery.message, sub: *sub, attempt: delivery.attempt },
                )),
                _ => None,
            })
            .collect()
    }

    /// Why the run cannot step further, or `None` if it can.
    pub fn finished(&self) -> Option<Finish> {
        if self.world.step >= self.compiled.scenario.steps_max {
            return Some(Finish::StepLimit);
        }
        if self.world.budget.halt.is_some() {
            return Some(Finish::Halted);
        }
        if self.due_scripted().is_some() || !self.world.agenda.is_empty() {
            return None;
        }
        let can_dispatch = self.world.ready.iter().any(|s| self.pick(*s).is_some());
        if can_dispatch {
            None
        } else {
            Some(Finish::Quiescent)
        }
    }

    /// Performs one step and returns its record, or `None` when the run is finished
    /// or halted (a halted run records nothing more; see [`Simulation::halted`]).
    pub fn step(&mut self) -> Option<&TraceRecord> {
        if self.world.step >= self.compiled.scenario.steps_max || self.budget_spent() {
            return None;
        }
        let happened = self.next_happening();
        if self.world.budget.halt.is_some() {
            return None;
        }
        let Some(happened) = happened else {
            self.check_settled();
            return None;
        };
        self.world.settled_checked = false;
        let record = TraceRecord { step: self.world.step, time_ms: self.world.now_ms, happened };
        self.world.checkers.end_of_step(self.at());
        self.sample_metrics();
        let index = self.world.step as usize;
        self.charge(record_bytes(&record));
        if index < self.trace.len() {
            // Replaying after a rewind: determinism says the record is the same.
            debug_assert_eq!(self.trace[index], record, "replay diverged at step {index}");
        } else {
            self.trace.push(record);
        }
        self.world.step += 1;
        if self.world.step % SNAPSHOT_INTERVAL == 0 {
            // Charged on replay too, so the budget is the same whichever way a step is reached.
            self.charge(self.world.copy_bytes());
            if self.snapshots.len() as u64 == self.world.step / SNAPSHOT_INTERVAL {
                self.snapshots.push(self.world.clone());
            }
        }
        self.trace.get(index)
    }

    /// Steps until the run finishes or `steps` more steps have happened; returns how
    /// many steps happened.
    pub fn run(&mut self, steps: u64) -> u64 {
        let mut done = 0;
        while done < steps && self.step().is_some() {
            done += 1;
        }
        done
    }

    /// Runs until the run finishes (quiescent or at `steps_max`).
    pub fn run_to_end(&mut self) -> Option<Finish> {
        while self.step().is_some() {}
        self.finished()
    }

    /// Moves to step `target`: backwards by restoring a snapshot and replaying,
    /// forwards by stepping. Returns the step reached (less than `target` if the run
    /// finishes first).
    pub fn rewind_to(&mut self, target: u64) -> u64 {
        // The nearest snapshot at or before the target. Snapshots of the computed
        // future are kept, so a jump forward also starts from one when it is closer
        // than the current step.
        let slot = ((target / SNAPSHOT_INTERVAL) as usize).min(self.snapshots.len().saturating_sub(1));
        let snapshot_step = self.snapshots.get(slot).map_or(0, |w| w.step);
        if target < self.world.step || snapshot_step > self.world.step {
            self.world = self.snapshots[slot].clone();
            for (store, head) in self.stores.iter_mut().zip(&self.world.store_heads) {
                store.truncate(*head);
            }
        }
        while self.world.step < target && self.step().is_some() {}
        self.world.step
    }

    /// Injects a fault now, as the next step, and records it in the fault script so the
    /// run replays exactly. If the run had been rewound, the old future is discarded:
    /// the run forks here.
    pub fn inject(&mut self, fault: Fault) -> Result<Injected, ScenarioErrors> {
        if self.halted().is_some() {
            return Err(ScenarioErrors::one("", "the run stopped at a limit (see its halt); rewind to inject a fault"));
        }
        let entry = ScriptedFault { at: Trigger::Step(self.world.step), fault };
        let mut probe = self.config.faults.clone();
        probe.scripted.push(entry.clone());
        probe.validate_against(&self.config.scenario)?;
        let step = self.world.step;
        let discarded_steps = self.horizon().saturating_sub(step);
        let forked = discarded_steps > 0;
        let mut discarded_faults = 0;
        if forked {
            self.forks += 1;
            self.trace.truncate(step as usize);
            for (position, m) in self.messages.iter().enumerate().skip(self.world.messages_len as usize) {
                let position = position as u32;
                self.first_events.forget(m.key, position);
                self.first_subjects.forget(m.subject_key, position);
                if let Some(c) = &m.envelope.correlation_id {
                    self.first_flows.forget(correlation_key(c), position);
                }
            }
            self.messages.truncate(self.world.messages_len as usize);
            self.metrics.truncate(self.world.metrics_len as usize);
            self.snapshots.truncate((step / SNAPSHOT_INTERVAL) as usize + 1);
            let before = self.config.faults.scripted.len();
            self.config.faults.scripted.retain(|e| !matches!(e.at, Trigger::Step(s) if s >= step));
            discarded_faults = (before - self.config.faults.scripted.len()) as u32;
            // The run's script stays append-only (the agenda and the snapshots refer to
            // its entries by position); discarded entries are only left out of the order.
            for (i, e) in self.script.iter().enumerate() {
                if matches!(e.at, Trigger::Step(s) if s >= step) {
                    self.script_discarded.insert(i as u32);
                }
            }
        }
        self.config.faults.scripted.push(entry.clone());
        self.script.push(entry);
        self.index_script();
        self.step();
        Ok(Injected { step, forked, discarded_steps, discarded_faults })
    }

    // -----------------------------------------------------------------------------
    // The step loop
    // -----------------------------------------------------------------------------

    /// Records the subscriptions whose lag or DLQ depth this step changed.
    fn sample_metrics(&mut self) {
        for (i, s) in self.world.subs.iter().enumerate() {
            let now = (s.queue.len() as u32 + u32::from(s.in_flight.is_some()) + s.waiting, s.dlq.len() as u32);
            if now == self.world.last_sample[i] {
                continue;
            }
            self.world.last_sample[i] = now;
            let sample = MetricSample {
                step: self.world.step,
                time_ms: self.world.now_ms,
                sub: SubId(i as u32),
                lag: now.0,
                dlq: now.1,
            };
            let index = self.world.metrics_len as usize;
            self.world.budget.held_bytes += std::mem::size_of::<MetricSample>() as u64;
            if index < self.metrics.len() {
                debug_assert_eq!(self.metrics[index], sample, "replay sampled differently");
            } else {
                self.metrics.push(sample);
            }
            self.world.metrics_len += 1;
        }
    }

    /// Lag and DLQ-depth samples up to the current step, in step order.
    pub fn metric_samples(&self) -> &[MetricSample] {
        &self.metrics[..self.world.metrics_len as usize]
    }

    /// Checks, once, what must hold when nothing is left to happen.
    fn check_settled(&mut self) {
        if self.world.settled_checked {
            return;
        }
        self.world.settled_checked = true;
        let at = At { step: self.world.step.saturating_sub(1), time_ms: self.world.now_ms };
        // A saga whose command or reply waits in a DLQ, or for a service that is down,
        // is parked, not broken: the dead letter or the waiting message is the visible
        // record of the work left to do (`health` reports it as pending).
        let mut parked = BTreeSet::new();
        parked.extend(super::health::parked(self).map(|m| self.messages[m.0 as usize].envelope.subject.as_str()));
        let unsettled: Vec<(u32, String, &'static str)> = self
            .saga_instances()
            .into_iter()
            .filter(|(_, id, instance)| !instance.status.is_final() && !parked.contains(id.as_str()))
            .map(|(g, id, instance)| (g, id, instance.status.name()))
            .collect();
        for (g, id, status) in unsettled {
            {
                let name = self.compiled.sagas[g as usize].name.clone();
                self.world.checkers.saga_unsettled(&name, &id, status, at);
            }
        }
        // An outbox whose service is up and connected has a running relay; an event
        // still in it now was forgotten. A crashed service's outbox waits for it.
        let forgotten: Vec<(MessageId, u32)> = self
            .world
            .checkers
            .unpublished()
            .filter(|(_, s)| {
                let svc = &self.world.services[*s as usize];
                svc.up && svc.partitioned_until.is_none()
            })
            .collect();
        for (message, service) in forgotten {
            let name = &self.compiled.services[service as usize].name;
            self.world.checkers.never_relayed(message, at, name);
        }
    }

    fn at(&self) -> At {
        At { step: self.world.step, time_ms: self.world.now_ms }
    }

    fn due_scripted(&self) -> Option<u32> {
        let i = *self.step_order.get(self.world.next_scripted as usize)?;
        match self.script[i as usize].at {
            Trigger::Step(s) if s <= self.world.step => Some(i),
            _ => None,
        }
    }

    fn next_happening(&mut self) -> Option<Happened> {
        if let Some(index) = self.due_scripted() {
            self.world.next_scripted += 1;
            return Some(self.apply_scripted(index));
        }
        // A subscription in `ready` that cannot dispatch is simply dropped from the
        // set: it is re-added by whatever would let it dispatch (an enqueue, a finished
        // handling, a restart), so dropping it changes nothing observable.
        while let Some(sub) = self.world.ready.pop_first() {
            if let Some(h) = self.dispatch(sub) {
                return Some(h);
            }
        }
        let Reverse(entry) = self.world.agenda.pop()?;
        let (time, seq, before_ms) = (entry.time, entry.seq, self.world.now_ms);
        // The two kinds of event that can halt the run go back on the agenda then, so
        // the halted step leaves the world as it found it.
        let retry = match entry.event {
            Agenda::Workload { item, n } => Some(Agenda::Workload { item, n }),
            Agenda::Complete { sub } => Some(Agenda::Complete { sub }),
            _ => None,
        };
        self.world.now_ms = self.world.now_ms.max(entry.time);
        let happened = self.process(entry.event);
        if happened.is_none() {
            self.world.now_ms = before_ms;
            if let Some(event) = retry {
                self.world.agenda.push(Reverse(Entry { time, seq, event }));
            }
        }
        happened
    }

    /// What an agenda event does; `None` if it would cross a limit (the run halts).
    fn process(&mut self, event: Agenda) -> Option<Happened> {
        Some(match event {
            Agenda::Workload { item, n } => return self.publish_workload(item, n),
            Agenda::Publish { message } => self.publish(message),
            Agenda::Complete { sub } => return self.complete(sub),
            Agenda::Requeue { sub, delivery, cause } => {
                let s = &mut self.world.subs[sub.0 as usize];
                s.waiting = s.waiting.saturating_sub(1);
                let (message, attempt) = (delivery.message, delivery.attempt);
                self.enter_queue_front(sub, *delivery);
                Happened::Requeued { message, sub, attempt, cause }
            }
            Agenda::Restart { service } => self.restart(service),
            Agenda::Heal { service } => self.heal(service),
            Agenda::Scripted { index } => self.apply_scripted(index),
            Agenda::Project { projection } => self.project(projection),
        })
    }

    // -----------------------------------------------------------------------------
    // Publishing
    // -----------------------------------------------------------------------------

    fn add_message(&mut self, message: Message) -> MessageId {
        let id = MessageId(self.world.messages_len);
        let index = id.0 as usize;
        if index < self.messages.len() {
            debug_assert_eq!(*self.messages[index], message, "replay produced a different message");
        } else {
            self.messages.push(Rc::new(message));
        }
        self.world.messages_len += 1;
        id
    }

    fn publish_workload(&mut self, item: u32, n: u32) -> Option<Happened> {
        let w = &self.compiled.workload[item as usize];
        let id = self.compiled.workload_event_id(item, n);
        let mut data = Map::new();
        for (k, t) in &w.data {
            data.insert(k.clone(), render_workload_value(t, n));
        }
        let subject = render_workload(&w.subject, n);
        let envelope = Envelope {
            correlation_id: Some(id.clone()),
            causation_id: None,
            id,
            source: w.source.clone(),
            event_type: w.event_type.clone(),
            kind: w.kind,
            time_ms: self.world.now_ms,
            subject,
            schema_version: 1,
            data,
        };
        let (topic, count, every_ms) = (w.topic, w.count, w.every_ms);
        // Workload events are literal, so only a very large scenario meets a limit here;
        // weighed like a handler's emits all the same, before anything changes.
        let bytes = envelope_bytes(&envelope);
        let copies =
            if self.compiled.events_as_commands { self.compiled.topics[topic.0 as usize].subs.len().max(1) } else { 1 }
                as u64;
        let overflow = if bytes > MESSAGE_BYTES_MAX {
            Some((super::limits::Limit::MessageBytes, bytes))
        } else {
            self.affordable(Weight { bytes: bytes * copies, messages: copies }).err()
        };
        if let Some((limit, reached)) = overflow {
            self.halt(limit, Place::Workload { path: indexed("workload", u64::from(item)) }, reached);
            return None;
        }
        self.charge(bytes * copies);
        if n < count {
            let at = self.world.now_ms + every_ms;
            self.world.schedule(at, Agenda::Workload { item, n: n + 1 });
        }
        let now = self.world.now_ms;
        let (position, messages) = (self.world.messages_len, &self.messages);
        // A flow's entry sits at the message that started it, which carries its id as
        // correlation id (or is this very message, met again on a replay).
        let started = |p: u32| {
            p == position
                || messages.get(p as usize).and_then(|m| m.envelope.correlation_id.as_deref())
                    == Some(envelope.id.as_str())
        };
        let flow = self.first_flows.ordinal(correlation_key(&envelope.id), position, &started);
        self.world.ledgers.set_flow(flow, FlowStats { started_ms: now, last_ms: now, handled: 0 });
        let copies = self.addressed_copies(envelope, topic);
        let first = self.new_message(copies[0].0.clone(), topic, None, None, false, copies[0].1);
        for (envelope, target) in copies.into_iter().skip(1) {
            // The other consumers' commands go out right after the first.
            let message = self.new_message(envelope, topic, None, None, false, target);
            let at = self.world.now_ms;
            self.world.schedule(at, Agenda::Publish { message });
        }
        Some(self.publish(first))
    }

    fn new_message(
        &mut self,
        envelope: Envelope,
        topic: TopicId,
        emitted_by: Option<ServiceId>,
        cause: Option<MessageId>,
        compensation: bool,
        target: Option<SubId>,
    ) -> MessageId {
        let key = Fnv1a::default().str(&envelope.id).finish();
        let subject_key = Fnv1a::default().str(&envelope.subject).finish();
        let position = self.world.messages_len;
        // Fingerprints find candidates; the ids decide (see `FirstSeen`). The entry at
        // `position` itself is this message's own, met again on a replay.
        let messages = &self.messages;
        let same_id = |p: u32| p == position || messages.get(p as usize).is_some_and(|m| m.envelope.id == envelope.id);
        let event = self.first_events.ordinal(key, position, &same_id);
        // Subject ordinals serve only per-key order (the blocking in `pick` and the checker).
        let subject = if self.compiled.subs.iter().any(|s| s.ordered) {
            let same_subject = |p: u32| {
                p == position || messages.get(p as usize).is_some_and(|m| m.envelope.subject == envelope.subject)
            };
            self.first_subjects.ordinal(subject_key, position, &same_subject)
        } else {
            position
        };
        // A message usually belongs to its cause's flow; only a changed correlation id
        // (or a new flow) needs a lookup.
        let cause_message = cause.and_then(|c| self.messages.get(c.0 as usize));
        let flow = match cause_message {
            Some(c) if c.envelope.correlation_id == envelope.correlation_id => c.flow,
            _ => envelope.correlation_id.as_deref().and_then(|c| {
                let started = |p: u32| {
                    p == position
                        || messages.get(p as usize).and_then(|m| m.envelope.correlation_id.as_deref()) == Some(c)
                };
                self.first_flows.find(correlation_key(c), position + 1, &started)
            }),
        };
        self.world.publish_seq += 1;
        // From the moment it is committed, a carrier event holds its amount "in transit"
        // for each subscription that will apply it, even before it reaches the bus.
        for (q, quantity) in self.compiled.quantities.iter().enumerate() {
            for carrier in &quantity.carriers {
                let subscribed = self.compiled.subs[carrier.sub.0 as usize].topic == topic
                    && target.is_none_or(|t| t == carrier.sub);
                if subscribed && carrier.event_type == envelope.event_type {
                    let amount = envelope.int(&carrier.field).unwrap_or(0);
                    let amount = if carrier.negate { amount.saturating_neg() } else { amount };
                    self.world.checkers.carrier_emitted(q as u32, carrier.sub, event, amount);
                }
            }
        }
        let message = Message {
            envelope,
            key,
            subject_key,
            event,
            subject,
            flow,
            seq: self.world.publish_seq,
            topic,
            emitted_by,
            cause,
            compensation,
            target,
        };
        self.add_message(message)
    }

    /// The message reaches the bus: one copy into each subscription's queue.
    fn publish(&mut self, message: MessageId) -> Happened {
        self.world.checkers.published(message);
        let topic = self.messages[message.0 as usize].topic;
        self.world.bytes_published += self.messages[message.0 as usize].envelope.data_bytes();
        let compiled = Rc::clone(&self.compiled);
        let target = self.messages[message.0 as usize].target.map(|t| vec![t]);
        let subs = target.as_ref().unwrap_or(&compiled.topics[topic.0 as usize].subs);
        for sub in subs {
            let delivery =
                Delivery { message, attempt: 1, enqueued_ms: self.world.now_ms, faulted: false, history: Vec::new() };
            self.enqueue_new(*sub, delivery);
        }
        Happened::Published { message, topic, fanout: subs.len() as u32 }
    }

    /// A brand-new copy enters a queue: checkers learn of it, capacity is enforced.
    fn enqueue_new(&mut self, sub: SubId, delivery: Delivery) {
        let m = &self.messages[delivery.message.0 as usize];
        let (event, message) = (m.event, delivery.message);
        self.world.checkers.copy_enqueued(sub, event);
        let s = &mut self.world.subs[sub.0 as usize];
        s.stats.enqueued += 1;
        if s.queue.len() as u32 >= self.compiled.subs[sub.0 as usize].capacity {
            // A full queue refuses the message: dead-lettered, or lost without a DLQ.
            self.dead_letter_or_lose(sub, delivery, DeadLetterReason::MaxLength, None);
            let _ = message;
            return;
        }
        s.queue.push_back(delivery);
        let lag = s.queue.len() as u32 + u32::from(s.in_flight.is_some()) + s.waiting;
        s.stats.lag_max = s.stats.lag_max.max(lag);
        self.world.ready.insert(sub);
    }

    fn enter_queue_front(&mut self, sub: SubId, delivery: Delivery) {
        let key = u64::from(self.messages[delivery.message.0 as usize].subject);
        let s = &mut self.world.subs[sub.0 as usize];
        unblock(&mut s.blocked, key);
        s.queue.push_front(delivery);
        self.world.ready.insert(sub);
    }

    fn leave_queue(&mut self, sub: SubId, index: usize) -> Delivery {
        let s = &mut self.world.subs[sub.0 as usize];
        let delivery = s.queue.remove(index).expect("index from pick");
        let key = u64::from(self.messages[delivery.message.0 as usize].subject);
        *s.blocked.entry(key).or_insert(0) += 1;
        delivery
    }

    /// A copy that was outside the queue is settled (acked, dead-lettered, lost).
    fn settle_outside(&mut self, sub: SubId, message: MessageId) {
        let key = u64::from(self.messages[message.0 as usize].subject);
        unblock(&mut self.world.subs[sub.0 as usize].blocked, key);
        self.world.ready.insert(sub);
    }

    fn dead_letter_or_lose(
        &mut self,
        sub: SubId,
        mut delivery: Delivery,
        reason: DeadLetterReason,
        last_error: Option<FailureCause>,
    ) -> bool {
        let now = self.world.now_ms;
        let cs = &self.compiled.subs[sub.0 as usize];
        if cs.dlq {
            match delivery.history.iter_mut().find(|d| d.queue == cs.name && d.reason == reason) {
                Some(d) => {
                    d.count += 1;
                    d.last_ms = now;
                }
                None => delivery.history.push(DeathRecord {
                    queue: cs.name.clone(),
                    reason,
                    count: 1,
                    first_ms: now,
                    last_ms: now,
                }),
            }
            let s = &mut self.world.subs[sub.0 as usize];
            s.stats.dead_lettered += 1;
            s.dlq.push(Rc::new(DeadLetter { delivery, reason, at_ms: now, last_error }));
            true
        } else {
            self.lose(sub, delivery.message);
            false
        }
    }

    fn lose(&mut self, sub: SubId, message: MessageId) {
        let at = self.at();
        let m = &self.messages[message.0 as usize];
        let name = &self.compiled.subs[sub.0 as usize].name;
        self.world.checkers.copy_lost(&self.world.ledgers, sub, m.event, message, at, name);
        self.settle_carriers(sub, message);
        self.world.subs[sub.0 as usize].stats.lost += 1;
    }

    fn settle_carriers(&mut self, sub: SubId, message: MessageId) {
        let m = &self.messages[message.0 as usize];
        for (q, quantity) in self.compiled.quantities.iter().enumerate() {
            for carrier in &quantity.carriers {
                if carrier.sub == sub && carrier.event_type == m.envelope.event_type {
                    self.world.checkers.carrier_settled(q as u32, sub, m.event);
                }
            }
        }
    }

    // -----------------------------------------------------------------------------
    // Dispatch: the broker hands a message to a consumer
    // -----------------------------------------------------------------------------

    /// The queue position of the next message the subscription may hand out.
    fn pick(&self, sub: SubId) -> Option<usize> {
        let cs = &self.compiled.subs[sub.0 as usize];
        let s = &self.world.subs[sub.0 as usize];
        let svc = &self.world.services[cs.service.0 as usize];
        if s.in_flight.is_some() || !svc.up || svc.partitioned_until.is_some() || s.queue.is_empty() {
            return None;
        }
        if !(cs.ordered && self.compiled.key_order_enforced) {
            return Some(0);
        }
        // Per-key order: skip keys with a copy outside the queue, and within a key take
        // the earliest publication (a reordered queue must not reorder a key).
        let mut first: Option<(usize, u64)> = None;
        for (i, d) in s.queue.iter().enumerate() {
            let m = &self.messages[d.message.0 as usize];
            let key = u64::from(m.subject);
            if s.blocked.get(&key).copied().unwrap_or(0) > 0 {
                continue;
            }
            match first {
                None => first = Some((i, key)),
                Some((j, k)) if k == key => {
                    let current = &self.messages[s.queue[j].message.0 as usize];
                    if m.seq < current.seq {
                        first = Some((i, key));
                    }
                }
                _ => {}
            }
        }
        first.map(|(i, _)| i)
    }

    fn dispatch(&mut self, sub: SubId) -> Option<Happened> {
        let index = self.pick(sub)?;
        let compiled = Rc::clone(&self.compiled);
        let cs = &compiled.subs[sub.0 as usize];
        let now = self.world.now_ms;
        let delivery = &self.world.subs[sub.0 as usize].queue[index];
        let message = delivery.message;

        if let Some(ttl) = cs.ttl_ms {
            if now.saturating_sub(delivery.enqueued_ms) > ttl {
                let d = self.leave_queue(sub, index);
                self.settle_outside(sub, message);
                self.dead_letter_or_lose(sub, d, DeadLetterReason::Expired, None);
                return Some(if cs.dlq {
                    Happened::DeadLettered { message, sub, reason: DeadLetterReason::Expired }
                } else {
                    Happened::Lost { message, sub }
                });
            }
        }

        // A copy that came back too often (crashes, lost acknowledgements) counts as
        // exhausted, as quorum queues' delivery limit does, even without a failure.
        if delivery.attempt > cs.retry.attempts_max && cs.dlq {
            let d = self.leave_queue(sub, index);
            self.settle_outside(sub, message);
            self.dead_letter_or_lose(sub, d, DeadLetterReason::DeliveryLimit, None);
            return Some(Happened::DeadLettered { message, sub, reason: DeadLetterReason::DeliveryLimit });
        }

        let mut force_fail = false;
        if !delivery.faulted {
            if let Some(verdict) = self.judge(sub, message) {
                self.world.subs[sub.0 as usize].queue[index].faulted = true;
                match verdict {
                    Verdict::Pass => {}
                    Verdict::Fail => force_fail = true,
                    other => {
                        if let Some(h) = self.apply_verdict(sub, index, other) {
                            return Some(h);
                        }
                    }
                }
            }
        }

        let mut d = self.leave_queue(sub, index);
        d.faulted = false;
        let attempt = d.attempt;
        let at = self.at();
        self.world.checkers.attempt_started(attempt, cs.retry.attempts_max, message, at, &cs.name);
        let svc = &self.world.services[cs.service.0 as usize];
        let compiled_service = &self.compiled.services[cs.service.0 as usize];
        let envelope = &self.messages[message.0 as usize].envelope;
        let handler = compiled_service.handlers.get(&envelope.event_type);
        let saga =
            compiled_service.saga.map(|g| &self.compiled.sagas[g as usize]).filter(|g| g.handles(&envelope.event_type));
        let handler_ms =
            match saga {
                Some(g) => g.processing_ms,
                None => handler.map_or(1, |h| h.processing_ms),
            } + self.compiled.sync_wait_ms.get(&(cs.service, envelope.event_type.clone())).copied().unwrap_or(0);
        // An event-sourced handler reads its aggregate now and appends later, expecting
        // the stream to still be at the version it read.
        let read = match (handler, &compiled_service.store) {
            _ if saga.is_some() => {
                let stream = saga_stream(&envelope.subject);
                let version = self.stores[cs.service.0 as usize].version(&stream);
                Some((stream, version))
            }
            (Some(h), Some(_)) => h
                .stream
                .as_ref()
                .map_or(Ok(envelope.subject.clone()), |t| render_key(t, Input::from(envelope)))
                .ok()
                .map(|stream| {
                    let version = self.stores[cs.service.0 as usize].version(&stream);
                    (stream, version)
                }),
            _ => None,
        };
        let done = now + handler_ms + svc.extra_ms;
        let s = &mut self.world.subs[sub.0 as usize];
        s.stats.attempts += 1;
        s.in_flight = Some(InFlight { delivery: d, started_ms: now, done_ms: done, force_fail, read });
        self.world.schedule(done, Agenda::Complete { sub });
        Some(Happened::Delivered { message, sub, attempt, acked_first: cs.delivery.acks_before_handling() })
    }

    /// Runs the fault rules on a delivery; the first that fires decides.
    fn judge(&mut self, sub: SubId, message: MessageId) -> Option<Verdict> {
        let cs = &self.compiled.subs[sub.0 as usize];
        let event_type = &self.messages[message.0 as usize].envelope.event_type;
        for rule in &self.compiled.rules {
            let matches = rule.sub.is_none_or(|s| s == sub)
                && rule.service.is_none_or(|s| s == cs.service)
                && rule.event_type.as_ref().is_none_or(|t| t == event_type);
            if matches && rule.verdict != Verdict::Pass && self.world.rng.chance(rule.per_mille) {
                let verdict = match rule.verdict {
                    Verdict::Random => match self.world.rng.below(6) {
                        0 => Verdict::Drop,
                        1 => Verdict::Duplicate,
                        2 => Verdict::Delay { delay_ms: 50 + self.world.rng.below(450) },
                        3 => Verdict::Reorder,
                        4 => Verdict::Fail,
                        _ => Verdict::Crash { restart_after_ms: 100 + self.world.rng.below(900) },
                    },
                    v => v,
                };
                return Some(verdict);
            }
        }
        None
    }

    /// Applies a rule's verdict to the queued delivery at `index`. Returns `None` when
    /// the verdict leaves the delivery to proceed (a reorder with nothing behind it).
    fn apply_verdict(&mut self, sub: SubId, index: usize, verdict: Verdict) -> Option<Happened> {
        let message = self.world.subs[sub.0 as usize].queue[index].message;
        match verdict {
            Verdict::Drop => Some(self.drop_delivery(sub, index)),
            Verdict::Duplicate => Some(self.duplicate_delivery(sub, index)),
            Verdict::Delay { delay_ms } => Some(self.delay_delivery(sub, index, delay_ms)),
            Verdict::Reorder => {
                let s = &mut self.world.subs[sub.0 as usize];
                if index + 1 < s.queue.len() {
                    s.queue.swap(index, index + 1);
                    self.world.ready.insert(sub);
                    Some(Happened::Reordered { message, sub })
                } else {
                    None
                }
            }
            Verdict::Crash { restart_after_ms } => {
                let service = self.compiled.subs[sub.0 as usize].service;
                self.world.ready.insert(sub);
                Some(self.crash(service, Some(restart_after_ms)))
            }
            Verdict::Pass | Verdict::Fail | Verdict::Random => None,
        }
    }

    fn drop_delivery(&mut self, sub: SubId, index: usize) -> Happened {
        let cs = &self.compiled.subs[sub.0 as usize];
        let (timeout, at_most_once) = (cs.ack_timeout_ms, cs.delivery.acks_before_handling());
        let mut d = self.leave_queue(sub, index);
        let message = d.message;
        self.world.ready.insert(sub);
        if at_most_once {
            // The broker counted it as delivered and forgot it.
            self.settle_outside(sub, message);
            self.lose(sub, message);
            Happened::Dropped { message, sub, lost: true }
        } else {
            // No acknowledgement arrives; the broker redelivers after its timeout.
            d.attempt += 1;
            d.faulted = false;
            self.world.subs[sub.0 as usize].waiting += 1;
            let at = self.world.now_ms + timeout;
            self.world.schedule(at, Agenda::Requeue { sub, delivery: Box::new(d), cause: RequeueCause::AckTimeout });
            Happened::Dropped { message, sub, lost: false }
        }
    }

    fn duplicate_delivery(&mut self, sub: SubId, index: usize) -> Happened {
        let s = &mut self.world.subs[sub.0 as usize];
        let mut copy = s.queue[index].clone();
        copy.faulted = true;
        let message = copy.message;
        let event = self.messages[message.0 as usize].event;
        s.queue.push_back(copy);
        s.stats.enqueued += 1;
        self.world.checkers.copy_enqueued(sub, event);
        self.world.ready.insert(sub);
        Happened::Duplicated { message, sub }
    }

    fn delay_delivery(&mut self, sub: SubId, index: usize, delay_ms: Millis) -> Happened {
        let mut d = self.leave_queue(sub, index);
        d.faulted = true;
        let message = d.message;
        self.world.subs[sub.0 as usize].waiting += 1;
        self.world.ready.insert(sub);
        let at = self.world.now_ms + delay_ms;
        self.world.schedule(at, Agenda::Requeue { sub, delivery: Box::new(d), cause: RequeueCause::DelayElapsed });
        Happened::Delayed { message, sub, delay_ms }
    }

    // -----------------------------------------------------------------------------
    // Completion: the handler finishes
    // -----------------------------------------------------------------------------

    /// A handling finishes; `None` if what it would commit crosses a limit, in which
    /// case nothing changes and the run halts.
    fn complete(&mut self, sub: SubId) -> Option<Happened> {
        let compiled = Rc::clone(&self.compiled);
        let cs = &compiled.subs[sub.0 as usize];
        let service = cs.service;
        let in_flight =
            self.world.subs[sub.0 as usize].in_flight.take().expect("a Complete is scheduled only for work in flight");
        let delivery = in_flight.delivery;
        let message = delivery.message;
        self.world.ready.insert(sub);
        let m = Rc::clone(&self.messages[message.0 as usize]);
        let event = m.event;
        let fail_rate = self.world.services[service.0 as usize].fail_per_mille;

        let failure = if in_flight.force_fail {
            Some(FailureCause::Injected)
        } else if self.world.poisoned.contains(&u64::from(event)) {
            Some(FailureCause::Poisoned)
        } else if fail_rate > 0 && self.world.rng.chance(fail_rate) {
            Some(FailureCause::FailureRate)
        } else {
            None
        };
        let handler = compiled.services[service.0 as usize].handlers.get(&m.envelope.event_type);
        let store = compiled.services[service.0 as usize].store.as_ref();
        let saga = compiled.services[service.0 as usize]
            .saga
            .map(|g| &compiled.sagas[g as usize])
            .filter(|g| g.handles(&m.envelope.event_type));
        let decision = match (failure, &handler) {
            (Some(cause), _) => Err(cause.into()),
            (None, _) if saga.is_some() => {
                if cs.delivery.idempotent() && self.world.ledgers.is_processed(sub, event) {
                    return Some(self.skip_duplicate(sub, delivery));
                }
                match (saga, &in_flight.read) {
                    (Some(g), Some((stream, read_version))) => self.decide_saga(service, g, &m, stream, *read_version),
                    _ => Ok(None),
                }
            }
            (None, None) => Ok(None),
            (None, Some(h)) => {
                if cs.delivery.idempotent() && self.world.ledgers.is_processed(sub, event) {
                    return Some(self.skip_duplicate(sub, delivery));
                }
                match (store, &in_flight.read) {
                    (None, _) => decide(h, &self.world.services[service.0 as usize].state, &m.envelope).map(Some),
                    (Some(_), None) => {
                        // The stream name could not be rendered from the payload.
                        let stream = h.stream.as_ref().map(|t| render_key(t, Input::from(&m.envelope)));
                        Err(match stream {
                            Some(Err(refusal)) => refusal.within("stream"),
                            _ => FailureCause::Malformed { field: "subject".into() }.into(),
                        })
                    }
                    (Some(_), Some((stream, read_version))) => {
                        self.decide_event_sourced(service, h, &m, stream, *read_version)
                    }
                }
            }
        };
        let weighed = match &decision {
            Ok(Some(d)) => {
                let declined = d.declined;
                let emit_path = |i: usize| match () {
                    _ if saga.is_some() => String::new(),
                    _ if declined => indexed("otherwise", i as u64),
                    _ => indexed("emit", i as u64),
                };
                self.weigh(service, &m.envelope, d, &emit_path).map(Some)
            }
            Err(Refusal::Overflowed(_)) => {
                let Err(Refusal::Overflowed(o)) = decision else { unreachable!("matched above") };
                // The handling stays in flight, as it was before this step.
                let restored = InFlight { delivery, ..in_flight };
                self.world.subs[sub.0 as usize].in_flight = Some(restored);
                self.halt_in_handler(service, &m.envelope.event_type, o);
                return None;
            }
            _ => Ok(None),
        };
        let weight = match weighed {
            Ok(weight) => weight,
            Err(overflow) => {
                // The handling stays in flight, as it was before this step.
                let restored = InFlight { delivery, ..in_flight };
                self.world.subs[sub.0 as usize].in_flight = Some(restored);
                self.halt_in_handler(service, &m.envelope.event_type, overflow);
                return None;
            }
        };
        if let Some(weight) = weight {
            self.charge(weight.bytes);
        }
        Some(match decision {
            Ok(decision) => self.commit(sub, delivery, decision, in_flight.read),
            Err(Refusal::Failed(cause)) => {
                let reject = matches!(cause, FailureCause::Malformed { .. })
                    && handler.as_ref().is_some_and(|h| h.reject_malformed);
                self.fail(sub, delivery, cause, reject)
            }
            Err(Refusal::Overflowed(_)) => unreachable!("an overflow halts above"),
        })
    }

    /// Loads the aggregate, checks that nobody appended since it was read, and decides.
    fn decide_event_sourced(
        &self,
        service: ServiceId,
        handler: &super::compiled::CompiledHandler,
        m: &Message,
        stream: &str,
        read_version: u64,
    ) -> Result<Option<Decision>, Refusal> {
        let state = self
            .aggregate_state(service, stream, None, true)
            .map_err(|e: FoldError| FailureCause::UnreadableHistory { position: e.position, field: e.field })?;
        let actual = self.stores[service.0 as usize].version(stream);
        if actual != read_version {
            return Err(FailureCause::Conflict { stream: stream.to_string(), expected: read_version, actual }.into());
        }
        decide(handler, &state, &m.envelope).map(Some)
    }

    /// Runs the saga coordinator's rules on a start event or a reply.
    fn decide_saga(
        &self,
        service: ServiceId,
        saga: &CompiledSaga,
        m: &Message,
        stream: &str,
        read_version: u64,
    ) -> Result<Option<Decision>, Refusal> {
        let store = &self.stores[service.0 as usize];
        let actual = store.version(stream);
        if actual != read_version {
            return Err(FailureCause::Conflict { stream: stream.to_string(), expected: read_version, actual }.into());
        }
        let instance = fold_instance(saga, store.read_stream(stream));
        let decision = saga::decide(saga, instance.as_ref(), &m.envelope.event_type, &m.envelope.data);
        if decision.records.is_empty() && decision.sends.is_empty() {
            // A reply the instance no longer waits for (late, or for another step).
            return Ok(None);
        }
        // Commands are built from the payload that started the saga.
        let start_data = instance.as_ref().map_or(&m.envelope.data, |i| &i.data);
        let input = Input { subject: &m.envelope.subject, data: start_data };
        let mut emits = Vec::new();
        for send in &decision.sends {
            let (spec, path) = match send {
                SagaSend::Action(i) => {
                    (Some(&saga.steps[*i as usize].action), joined(&indexed("steps", u64::from(*i)), "action"))
                }
                SagaSend::Compensation(i) => (
                    saga.steps[*i as usize].compensation.as_ref(),
                    joined(&indexed("steps", u64::from(*i)), "compensation"),
                ),
                SagaSend::Completed => (saga.on_completed.as_ref(), "on_completed".into()),
                SagaSend::Aborted => (saga.on_aborted.as_ref(), "on_aborted".into()),
            };
            if let Some(spec) = spec {
                emits.push(plan_emit(spec, input).map_err(|r| r.within(&path))?);
            }
        }
        let records = decision
            .records
            .into_iter()
            .map(|r| PlannedRecord {
                event_type: r.event_type.to_string(),
                kind: EventKind::Domain,
                topic: None,
                data: r.data,
            })
            .collect();
        Ok(Some(Decision { declined: false, effects: Vec::new(), records, emits }))
    }

    /// The saga instances of every coordinator, in scenario order then instance id.
    pub fn saga_instances(&self) -> Vec<(u32, String, SagaInstance)> {
        let mut out = Vec::new();
        for (g, saga) in self.compiled.sagas.iter().enumerate() {
            let store = &self.stores[saga.coordinator.0 as usize];
            for (stream, _) in store.streams() {
                let Some(id) = stream.strip_prefix("saga.") else { continue };
                if let Some(instance) = fold_instance(saga, store.read_stream(stream)) {
                    out.push((g as u32, id.to_string(), instance));
                }
            }
        }
        out
    }

    /// The state of an event-sourced aggregate as of a stream version (default: now),
    /// folded from the nearest snapshot (or from zero without `use_snapshots`).
    pub fn aggregate_state(
        &self,
        service: ServiceId,
        stream: &str,
        as_of_version: Option<u64>,
        use_snapshots: bool,
    ) -> Result<BTreeMap<String, i64>, FoldError> {
        let Some(spec) = self.compiled.services.get(service.0 as usize).and_then(|s| s.store.as_ref()) else {
            return Ok(BTreeMap::new());
        };
        let store = &self.stores[service.0 as usize];
        let as_of = as_of_version.unwrap_or(u64::MAX).min(store.version(stream));
        let snapshot =
            if use_snapshots { store.snapshots(stream).iter().rev().find(|s| s.version <= as_of) } else { None };
        let (from, state) = snapshot.map_or((0, BTreeMap::new()), |s| (s.version, s.state.clone()));
        let upcasters = self.compiled.upcasting.then_some(spec.upcasters.as_slice());
        fold(
            &spec.apply,
            upcasters,
            store.read_stream(stream).filter(|e| e.version > from && e.version <= as_of),
            state,
        )
    }

    /// A service's event store (empty unless the service is event-sourced).
    pub fn store(&self, service: ServiceId) -> &EventStore {
        &self.stores[service.0 as usize]
    }

    pub fn projection_state(&self, projection: u32) -> Option<&ProjectionState> {
        self.world.projections.get(projection as usize)
    }

    /// Appends the history of every event-sourced service before the run starts.
    fn load_history(&mut self) {
        let compiled = Rc::clone(&self.compiled);
        for (i, spec) in compiled.scenario.services.iter().enumerate() {
            let Some(store_spec) = &spec.event_store else { continue };
            for (k, h) in store_spec.history.iter().enumerate() {
                let id =
                    event_id(Fnv1a::default().u64(compiled.seed).str(&spec.name).str("history").u64(k as u64).finish());
                let event = NewEvent {
                    event_type: h.event_type.clone(),
                    schema_version: h.schema_version,
                    data: h.data.clone(),
                    event_id: id,
                };
                let _ = self.stores[i].append(&h.stream, ExpectedVersion::Any, vec![event], 0);
                let version = self.stores[i].version(&h.stream);
                self.snapshot_if_due(ServiceId(i as u32), &h.stream, version - 1, version);
            }
            self.world.store_heads[i] = self.stores[i].head();
            self.wake_projections(ServiceId(i as u32));
        }
    }

    /// Stores the aggregate's state at each multiple of `snapshot_every` crossed by an
    /// append from version `before` to `after`.
    fn snapshot_if_due(&mut self, service: ServiceId, stream: &str, before: u64, after: u64) {
        let every =
            self.compiled.services[service.0 as usize].store.as_ref().map_or(0, |s| u64::from(s.snapshot_every));
        if every == 0 || after / every == before / every {
            return;
        }
        let version = after - after % every;
        if let Ok(state) = self.aggregate_state(service, stream, Some(version), true) {
            self.charge(state_bytes(&state));
            self.stores[service.0 as usize].add_snapshot(stream, Snapshot { version, state });
        }
    }

    /// Projections of this store that are idle and behind start catching up.
    fn wake_projections(&mut self, store: ServiceId) {
        let head = self.stores[store.0 as usize].head();
        for (i, cp) in self.compiled.projections.iter().enumerate() {
            let ps = &mut self.world.projections[i];
            if cp.store == store {
                ps.lag_max = ps.lag_max.max(head.saturating_sub(ps.checkpoint));
            }
            if cp.store == store && !ps.busy && ps.stalled.is_none() && ps.checkpoint < head {
                ps.busy = true;
                let at = self.world.now_ms + cp.processing_ms;
                self.world.schedule(at, Agenda::Project { projection: i as u32 });
            }
        }
    }

    /// A projection applies the next event of its store to its read model.
    fn project(&mut self, projection: u32) -> Happened {
        let compiled = Rc::clone(&self.compiled);
        let cp = &compiled.projections[projection as usize];
        let store = &self.stores[cp.store.0 as usize];
        let ps = &mut self.world.projections[projection as usize];
        let position = ps.checkpoint + 1;
        let Some(event) = store.event_at(position) else {
            ps.busy = false;
            return Happened::ProjectionStalled { projection, position, field: "(no such event)".into() };
        };
        let upcasters = compiled.services[cp.store.0 as usize]
            .store
            .as_ref()
            .filter(|_| compiled.upcasting)
            .map(|s| s.upcasters.as_slice());
        match apply_one(&cp.apply, upcasters, event, &mut ps.state) {
            Ok(added) => {
                ps.checkpoint = position;
                // A read model's new entries are charged to the run (see `budget`).
                self.world.budget.held_bytes += added;
                let ps = &mut self.world.projections[projection as usize];
                if position < store.head() {
                    let at = self.world.now_ms + cp.processing_ms;
                    self.world.schedule(at, Agenda::Project { projection });
                } else {
                    ps.busy = false;
                }
                Happened::Projected { projection, position }
            }
            Err(e) => {
                ps.busy = false;
                ps.stalled = Some((position, e.field.clone()));
                let at = At { step: self.world.step, time_ms: self.world.now_ms };
                self.world.checkers.unreadable(&cp.name, position, &e.field, at);
                Happened::ProjectionStalled { projection, position, field: e.field }
            }
        }
    }

    fn skip_duplicate(&mut self, sub: SubId, delivery: Delivery) -> Happened {
        let message = delivery.message;
        let event = self.messages[message.0 as usize].event;
        self.world.checkers.copy_handled(sub, event);
        self.settle_carriers_if_unapplied(sub, message);
        let s = &mut self.world.subs[sub.0 as usize];
        s.stats.duplicates_skipped += 1;
        self.acknowledge(sub, delivery);
        Happened::DuplicateSkipped { message, sub }
    }

    /// A skipped duplicate copy leaves transit without touching an account.
    fn settle_carriers_if_unapplied(&mut self, sub: SubId, message: MessageId) {
        self.settle_carriers(sub, message);
    }

    /// Acknowledges a handled copy, unless a partition swallows the acknowledgement.
    /// Returns whether the broker got the ack.
    fn acknowledge(&mut self, sub: SubId, delivery: Delivery) -> bool {
        let cs = &self.compiled.subs[sub.0 as usize];
        let partitioned = self.world.services[cs.service.0 as usize].partitioned_until.is_some();
        if partitioned && !cs.delivery.acks_before_handling() {
            // The key stays blocked: the broker still thinks the copy is out.
            let mut d = delivery;
            d.attempt += 1;
            self.world.subs[sub.0 as usize].unacked.push(d);
            false
        } else {
            self.settle_outside(sub, delivery.message);
            true
        }
    }

    /// Applies a successful handling as one local transaction: state changes, the
    /// processed id, and the emitted events all commit together.
    fn commit(
        &mut self,
        sub: SubId,
        delivery: Delivery,
        decision: Option<Decision>,
        read: Option<(String, u64)>,
    ) -> Happened {
        let compiled = Rc::clone(&self.compiled);
        let cs = &compiled.subs[sub.0 as usize];
        let service = cs.service;
        let message = delivery.message;
        let at = self.at();
        let m = Rc::clone(&self.messages[message.0 as usize]);
        let now = self.world.now_ms;

        let (outcome, emitted, recorded) = match decision {
            None => (HandleOutcome::Ignored, 0, 0),
            Some(decision) => {
                for (key, delta) in &decision.effects {
                    let state = &mut self.world.services[service.0 as usize].state;
                    let value = state.entry(key.clone()).or_insert(0);
                    *value = value.saturating_add(*delta);
                    for (q, quantity) in self.compiled.quantities.iter().enumerate() {
                        if quantity.accounts.iter().any(|(s, prefix)| *s == service && key.starts_with(prefix.as_str()))
                        {
                            self.world.checkers.account_changed(q, *delta);
                        }
                    }
                }
                if cs.delivery.idempotent() {
                    self.world.ledgers.record_processed(sub, m.event);
                }
                if !decision.effects.is_empty() || !decision.emits.is_empty() || !decision.records.is_empty() {
                    self.world.checkers.effect_applied(&mut self.world.ledgers, sub, m.event, message, at, &cs.name);
                }
                if cs.ordered {
                    let handling = (sub, m.subject, m.seq);
                    self.world.checkers.ordered_handling(&mut self.world.ledgers, handling, message, at, &cs.name);
                }
                let recorded = decision.records.len() as u32;
                let mut emitted = decision.emits.len() as u32;
                if let (Some((stream, read_version)), false) = (read, decision.records.is_empty()) {
                    emitted += self.append_records(service, message, &m, &stream, read_version, decision.records);
                }
                for (i, emit) in decision.emits.into_iter().enumerate() {
                    let id = event_id(Fnv1a::default().u64(m.key).u64(i as u64).str(&emit.event_type).finish());
                    self.emit(service, message, &m, id, emit);
                }
                let outcome = if decision.declined { HandleOutcome::Declined } else { HandleOutcome::Applied };
                (outcome, emitted, recorded)
            }
        };
        self.world.checkers.copy_handled(sub, m.event);
        self.settle_carriers(sub, message);
        let s = &mut self.world.subs[sub.0 as usize];
        s.stats.handled += 1;
        let latency = now.saturating_sub(delivery.enqueued_ms.min(m.envelope.time_ms));
        s.stats.latency_ms_total += latency;
        s.stats.latency_ms_max = s.stats.latency_ms_max.max(latency);
        if let Some(mut flow) = m.flow.and_then(|f| self.world.ledgers.flow(f)) {
            flow.last_ms = now;
            flow.handled += 1;
            self.world.ledgers.set_flow(m.flow.unwrap_or_default(), flow);
        }
        let acked = if cs.delivery.acks_before_handling() {
            self.settle_outside(sub, message);
            true
        } else {
            self.acknowledge(sub, delivery)
        };
        Happened::Handled { message, sub, outcome, emitted, acked, recorded }
    }

    /// Appends recorded events to the aggregate's stream, snapshots, publishes the
    /// ones with a topic, and wakes the store's projections. Returns how many were
    /// published.
    fn append_records(
        &mut self,
        service: ServiceId,
        cause_id: MessageId,
        cause: &Rc<Message>,
        stream: &str,
        read_version: u64,
        records: Vec<super::handler::PlannedRecord>,
    ) -> u32 {
        let schema_version = self.compiled.services[service.0 as usize].store.as_ref().map_or(1, |s| s.schema_version);
        let ids: Vec<String> = (0..records.len())
            .map(|i| event_id(Fnv1a::default().u64(cause.key).str("record").u64(i as u64).finish()))
            .collect();
        let events = records
            .iter()
            .zip(&ids)
            .map(|(r, id)| NewEvent {
                event_type: r.event_type.clone(),
                schema_version,
                data: r.data.clone(),
                event_id: id.clone(),
            })
            .collect();
        let now = self.world.now_ms;
        // The version was checked in `decide_event_sourced` within this same step.
        let Ok(after) =
            self.stores[service.0 as usize].append(stream, ExpectedVersion::Exactly(read_version), events, now)
        else {
            return 0;
        };
        self.world.store_heads[service.0 as usize] = self.stores[service.0 as usize].head();
        self.snapshot_if_due(service, stream, read_version, after);
        let mut published = 0;
        for (r, id) in records.into_iter().zip(ids) {
            if let Some(topic) = r.topic {
                let emit = PlannedEmit {
                    topic,
                    event_type: r.event_type,
                    kind: r.kind,
                    subject: stream.to_string(),
                    schema_version,
                    data: r.data,
                    compensation: false,
                };
                self.emit(service, cause_id, cause, id, emit);
                published += 1;
            }
        }
        self.wake_projections(service);
        published
    }

    fn emit(&mut self, service: ServiceId, cause: MessageId, cause_msg: &Message, id: String, emit: PlannedEmit) {
        let correlation_id =
            if self.compiled.correlation_ids { cause_msg.envelope.correlation_id.clone() } else { None };
        let mut data = emit.data;
        if self.compiled.fat_events {
            let mut entity = Map::new();
            entity.extend(
                self.world.services[service.0 as usize].state.iter().map(|(k, v)| (k.clone(), Value::from(*v))),
            );
            data.insert("entity".into(), Value::Object(entity));
        }
        let envelope = Envelope {
            id,
            source: self.compiled.services[service.0 as usize].name.clone(),
            event_type: emit.event_type,
            kind: emit.kind,
            time_ms: self.world.now_ms,
            subject: emit.subject,
            schema_version: emit.schema_version,
            data,
            correlation_id,
            causation_id: Some(cause_msg.envelope.id.clone()),
        };
        let at = self.at();
        for (envelope, target) in self.addressed_copies(envelope, emit.topic) {
            let new_id = self.new_message(envelope, emit.topic, Some(service), Some(cause), emit.compensation, target);
            self.world.checkers.committed(new_id, service.0);
            let correlation = self.messages[new_id.0 as usize].envelope.correlation_id.clone();
            self.world.checkers.emitted(
                cause_msg.envelope.correlation_id.as_deref(),
                correlation.as_deref(),
                new_id,
                at,
            );
            if self.world.services[service.0 as usize].partitioned_until.is_some() {
                self.world.services[service.0 as usize].held.push(new_id);
            } else {
                let at = self.world.now_ms + self.compiled.scenario.publish_latency_ms;
                self.world.schedule(at, Agenda::Publish { message: new_id });
            }
        }
    }

    fn fail(&mut self, sub: SubId, delivery: Delivery, cause: FailureCause, reject: bool) -> Happened {
        let compiled = Rc::clone(&self.compiled);
        if let FailureCause::UnreadableHistory { position, field } = &cause {
            let at = self.at();
            let service = &compiled.services[compiled.subs[sub.0 as usize].service.0 as usize].name;
            self.world.checkers.unreadable(service, *position, field, at);
        }
        let cs = &compiled.subs[sub.0 as usize];
        let message = delivery.message;
        let attempt = delivery.attempt;
        self.world.subs[sub.0 as usize].stats.failures += 1;
        let then = if cs.delivery.acks_before_handling() {
            // Acknowledged before handling: the broker will not send it again.
            self.settle_outside(sub, message);
            self.lose(sub, message);
            AfterFailure::Lost
        } else if reject {
            self.settle_outside(sub, message);
            if self.dead_letter_or_lose(sub, delivery, DeadLetterReason::Rejected, Some(cause.clone())) {
                AfterFailure::DeadLettered(DeadLetterReason::Rejected)
            } else {
                AfterFailure::Lost
            }
        } else if attempt < cs.retry.attempts_max || !cs.dlq {
            let base =
                if attempt < cs.retry.attempts_max { cs.retry.backoff_ms(attempt) } else { cs.retry.backoff_max_ms };
            let backoff = self.jitter(base, cs.retry.jitter_per_mille);
            let mut d = delivery;
            d.attempt += 1;
            d.faulted = false;
            // The copy keeps its key blocked while it waits (see `pick`), which is what
            // per-key order needs; unordered subscriptions ignore the block.
            self.world.subs[sub.0 as usize].waiting += 1;
            let at = self.world.now_ms + backoff;
            self.world
                .schedule(at, Agenda::Requeue { sub, delivery: Box::new(d), cause: RequeueCause::BackoffElapsed });
            if attempt < cs.retry.attempts_max {
                AfterFailure::RetryInMs(backoff)
            } else {
                AfterFailure::LoopsWithoutDlq(backoff)
            }
        } else {
            self.settle_outside(sub, message);
            self.dead_letter_or_lose(sub, delivery, DeadLetterReason::DeliveryLimit, Some(cause.clone()));
            AfterFailure::DeadLettered(DeadLetterReason::DeliveryLimit)
        };
        Happened::HandlingFailed { message, sub, attempt, cause, then }
    }

    fn jitter(&mut self, base: Millis, per_mille: u32) -> Millis {
        if per_mille == 0 || base == 0 {
            return base;
        }
        let spread = base.saturating_mul(u64::from(per_mille.min(1000))) / 1000;
        let offset = self.world.rng.below(2 * spread + 1);
        (base - spread).saturating_add(offset).max(1)
    }

    // -----------------------------------------------------------------------------
    // Service faults
    // -----------------------------------------------------------------------------

    fn mark_service_ready(&mut self, service: ServiceId) {
        for sub in &self.compiled.services[service.0 as usize].subs {
            self.world.ready.insert(*sub);
        }
    }

    fn crash(&mut self, service: ServiceId, restart_after_ms: Option<Millis>) -> Happened {
        let (mut lost, mut requeued) = (0, 0);
        self.world.services[service.0 as usize].up = false;
        self.world.agenda.retain(|Reverse(e)| !matches!(&e.event, Agenda::Restart { service: s } if *s == service));
        let subs = self.compiled.services[service.0 as usize].subs.clone();
        for sub in subs {
            let Some(in_flight) = self.world.subs[sub.0 as usize].in_flight.take() else { continue };
            let message = in_flight.delivery.message;
            if self.compiled.subs[sub.0 as usize].delivery.acks_before_handling() {
                self.settle_outside(sub, message);
                self.lose(sub, message);
                lost += 1;
            } else {
                let mut d = in_flight.delivery;
                d.attempt += 1;
                d.faulted = false;
                self.enter_queue_front(sub, d);
                requeued += 1;
            }
        }
        // The handlings in flight will never complete.
        let mut doomed = BTreeSet::new();
        doomed.extend(self.compiled.services[service.0 as usize].subs.iter().map(|s| s.0));
        self.world.agenda.retain(|Reverse(e)| {
            !matches!(&e.event, Agenda::Complete { sub } if doomed.contains(&sub.0))
                && !matches!(&e.event, Agenda::Restart { service: s } if *s == service)
        });
        // Events the service committed but has not published yet. With a transactional
        // outbox they sit in the service's database and the relay sends them after the
        // restart; with a dual write they existed only in the dead process's memory.
        let mut pending: Vec<(Millis, u64, MessageId)> = Vec::new();
        let messages = &self.messages;
        self.world.agenda.retain(|Reverse(e)| match &e.event {
            Agenda::Publish { message } if messages[message.0 as usize].emitted_by == Some(service) => {
                pending.push((e.time, e.seq, *message));
                false
            }
            _ => true,
        });
        super::sorting::sort(&mut pending);
        let mut unpublished = 0;
        for (_, _, message) in pending {
            if self.compiled.outbox {
                self.world.services[service.0 as usize].held.push(message);
            } else {
                unpublished += 1;
                self.unpublished(service, message);
            }
        }
        if let Some(after) = restart_after_ms {
            let at = self.world.now_ms + after;
            self.world.schedule(at, Agenda::Restart { service });
        }
        Happened::Crashed { service, lost, requeued, unpublished }
    }

    /// A committed event that will never reach the bus: every subscriber misses it.
    fn unpublished(&mut self, service: ServiceId, message: MessageId) {
        let at = self.at();
        let m = Rc::clone(&self.messages[message.0 as usize]);
        let name = &self.compiled.services[service.0 as usize].name;
        self.world.checkers.never_published(message, at, name);
        for (q, quantity) in self.compiled.quantities.iter().enumerate() {
            for carrier in &quantity.carriers {
                if carrier.event_type == m.envelope.event_type
                    && self.compiled.subs[carrier.sub.0 as usize].topic == m.topic
                {
                    self.world.checkers.carrier_settled(q as u32, carrier.sub, m.event);
                }
            }
        }
    }

    /// One envelope per consumer under events-as-commands (each a command with its own
    /// id, addressed to one subscription), or the envelope itself.
    fn addressed_copies(&self, envelope: Envelope, topic: TopicId) -> Vec<(Envelope, Option<SubId>)> {
        let subs = &self.compiled.topics[topic.0 as usize].subs;
        if !self.compiled.events_as_commands || subs.len() < 2 {
            return vec![(envelope, None)];
        }
        subs.iter()
            .map(|sub| {
                let mut e = envelope.clone();
                e.id = event_id(Fnv1a::default().str(&envelope.id).u64(u64::from(sub.0)).finish());
                e.kind = EventKind::Command;
                if e.correlation_id.as_deref() == Some(envelope.id.as_str()) {
                    e.correlation_id = Some(e.id.clone());
                }
                (e, Some(*sub))
            })
            .collect()
    }

    /// Brings a service back, on its timer (`restart_after_ms`) or at an operator's
    /// request (`restart_service`): one path, so both resume the outbox relay. A
    /// restart that skipped the relay would leave committed events in the outbox for
    /// good, and a saga waiting on one would wait forever.
    fn restart(&mut self, service: ServiceId) -> Happened {
        // A requested restart overtakes the timed one.
        self.world.agenda.retain(|Reverse(e)| !matches!(&e.event, Agenda::Restart { service: s } if *s == service));
        let now = self.world.now_ms;
        let svc = &mut self.world.services[service.0 as usize];
        svc.up = true;
        // The outbox relay resumes, unless a partition still cuts the service off.
        let released = if svc.partitioned_until.is_none() { std::mem::take(&mut svc.held) } else { Vec::new() };
        for message in released {
            let at = now + self.compiled.scenario.publish_latency_ms;
            self.world.schedule(at, Agenda::Publish { message });
        }
        self.mark_service_ready(service);
        Happened::Restarted { service }
    }

    fn heal(&mut self, service: ServiceId) -> Happened {
        let now = self.world.now_ms;
        let svc = &mut self.world.services[service.0 as usize];
        svc.partitioned_until = None;
        let held = if svc.up { std::mem::take(&mut svc.held) } else { Vec::new() };
        let mut released = held.len() as u32;
        for message in held {
            let at = now + self.compiled.scenario.publish_latency_ms;
            self.world.schedule(at, Agenda::Publish { message });
        }
        for sub in self.compiled.services[service.0 as usize].subs.clone() {
            let unacked = std::mem::take(&mut self.world.subs[sub.0 as usize].unacked);
            released += unacked.len() as u32;
            for d in unacked.into_iter().rev() {
                self.enter_queue_front(sub, d);
            }
        }
        self.mark_service_ready(service);
        Happened::Healed { service, released }
    }

    // -----------------------------------------------------------------------------
    // Scripted faults
    // -----------------------------------------------------------------------------

    fn apply_scripted(&mut self, index: u32) -> Happened {
        let fault = self.script[index as usize].fault.clone();
        let missed = |fault: &Fault| Happened::FaultMissed { label: fault.label(), target: fault.target().to_string() };
        let service_of = |c: &Compiled, name: &str| c.service_by_name(name);
        match &fault {
            Fault::CrashService { service, restart_after_ms } => match service_of(&self.compiled, service) {
                Some(id) => self.crash(id, *restart_after_ms),
                None => missed(&fault),
            },
            Fault::RestartService { service } => match service_of(&self.compiled, service) {
                Some(id) => self.restart(id),
                None => missed(&fault),
            },
            Fault::SlowService { service, extra_ms } => match service_of(&self.compiled, service) {
                Some(id) => {
                    self.world.services[id.0 as usize].extra_ms = *extra_ms;
                    Happened::Slowed { service: id, extra_ms: *extra_ms }
                }
                None => missed(&fault),
            },
            Fault::FailHandlers { service, per_mille } => match service_of(&self.compiled, service) {
                Some(id) => {
                    self.world.services[id.0 as usize].fail_per_mille = (*per_mille).min(1000);
                    Happened::FailureRateSet { service: id, per_mille: (*per_mille).min(1000) }
                }
                None => missed(&fault),
            },
            Fault::PartitionService { service, duration_ms } => match service_of(&self.compiled, service) {
                Some(id) => {
                    let until = self.world.now_ms + duration_ms;
                    let svc = &mut self.world.services[id.0 as usize];
                    let until = svc.partitioned_until.map_or(until, |u| u.max(until));
                    svc.partitioned_until = Some(until);
                    self.world.agenda.retain(|Reverse(e)| !matches!(&e.event, Agenda::Heal { service: s } if *s == id));
                    self.world.schedule(until, Agenda::Heal { service: id });
                    Happened::Partitioned { service: id, duration_ms: *duration_ms }
                }
                None => missed(&fault),
            },
            Fault::SetState { service, key, value } => match service_of(&self.compiled, service) {
                Some(id) => {
                    let state = &mut self.world.services[id.0 as usize].state;
                    let old = state.insert(key.clone(), *value).unwrap_or(0);
                    let delta = value.saturating_sub(old);
                    for (q, quantity) in self.compiled.quantities.iter().enumerate() {
                        if quantity.accounts.iter().any(|(s, prefix)| *s == id && key.starts_with(prefix.as_str())) {
                            self.world.checkers.quantity_adjusted(q, delta);
                        }
                    }
                    Happened::StateSet { service: id, key: key.clone(), value: *value }
                }
                None => missed(&fault),
            },
            Fault::PoisonMessage { message } => match self.message_by_event_id(message) {
                Some(id) => {
                    let event = self.messages[id.0 as usize].event;
                    self.world.poisoned.insert(u64::from(event));
                    Happened::Poisoned { message: id }
                }
                None => missed(&fault),
            },
            Fault::DropMessage { message, subscription }
            | Fault::DuplicateMessage { message, subscription }
            | Fault::DelayMessage { message, subscription, .. }
            | Fault::ReorderMessage { message, subscription } => {
                match self.find_queued(message, subscription.as_deref()) {
                    Some((sub, index)) => {
                        let verdict = match &fault {
                            Fault::DropMessage { .. } => Verdict::Drop,
                            Fault::DuplicateMessage { .. } => Verdict::Duplicate,
                            Fault::DelayMessage { delay_ms, .. } => Verdict::Delay { delay_ms: *delay_ms },
                            _ => Verdict::Reorder,
                        };
                        self.apply_verdict(sub, index, verdict).unwrap_or_else(|| missed(&fault))
                    }
                    None => missed(&fault),
                }
            }
            Fault::RedriveDeadLetters { subscription, message } => {
                self.redrive_or_discard(subscription, message.as_deref(), true).unwrap_or_else(|| missed(&fault))
            }
            Fault::RebuildProjection { projection } => {
                match self.compiled.projections.iter().position(|p| &p.name == projection) {
                    Some(i) => {
                        let ps = &mut self.world.projections[i];
                        ps.checkpoint = 0;
                        ps.state.clear();
                        ps.stalled = None;
                        ps.rebuilds += 1;
                        let store = self.compiled.projections[i].store;
                        self.wake_projections(store);
                        Happened::ProjectionRebuilding { projection: i as u32 }
                    }
                    None => missed(&fault),
                }
            }
            Fault::DiscardDeadLetters { subscription, message } => {
                self.redrive_or_discard(subscription, message.as_deref(), false).unwrap_or_else(|| missed(&fault))
            }
        }
    }

    /// The first queued copy of an event (in subscription order).
    fn find_queued(&self, event_id: &str, subscription: Option<&str>) -> Option<(SubId, usize)> {
        let wanted = subscription.and_then(|n| self.compiled.sub_by_name(n));
        for (i, s) in self.world.subs.iter().enumerate() {
            if subscription.is_some() && wanted != Some(SubId(i as u32)) {
                continue;
            }
            if let Some(index) =
                s.queue.iter().position(|d| self.messages[d.message.0 as usize].envelope.id == event_id)
            {
                return Some((SubId(i as u32), index));
            }
        }
        None
    }

    /// Redrives or discards the subscription's dead letters (or only the named one).
    /// One step handles them all; the record names the first.
    fn redrive_or_discard(&mut self, subscription: &str, event_id: Option<&str>, redrive: bool) -> Option<Happened> {
        let sub = self.compiled.sub_by_name(subscription)?;
        let letters = std::mem::take(&mut self.world.subs[sub.0 as usize].dlq);
        let (chosen, kept): (Vec<Rc<DeadLetter>>, Vec<Rc<DeadLetter>>) = letters
            .into_iter()
            .partition(|l| event_id.is_none_or(|id| self.messages[l.delivery.message.0 as usize].envelope.id == id));
        self.world.subs[sub.0 as usize].dlq = kept;
        let first = chosen.first()?.delivery.message;
        let now = self.world.now_ms;
        for letter in chosen {
            let letter = Rc::unwrap_or_clone(letter);
            let message = letter.delivery.message;
            if redrive {
                let d = Delivery {
                    message,
                    attempt: 1,
                    enqueued_ms: now,
                    faulted: false,
                    history: letter.delivery.history,
                };
                let s = &mut self.world.subs[sub.0 as usize];
                s.stats.redriven += 1;
                s.queue.push_back(d);
                self.world.ready.insert(sub);
            } else {
                let event = self.messages[message.0 as usize].event;
                self.world.checkers.copy_discarded(sub, event);
                self.settle_carriers(sub, message);
                self.world.subs[sub.0 as usize].stats.discarded += 1;
            }
        }
        Some(if redrive {
            Happened::Redriven { message: first, sub }
        } else {
            Happened::Discarded { message: first, sub }
        })
    }
}

/// The fingerprint flows are keyed by.
pub fn correlation_key(correlation_id: &str) -> u64 {
    Fnv1a::default().str(correlation_id).finish()
}

fn unblock(blocked: &mut BTreeMap<u64, u32>, key: u64) {
    if let Some(n) = blocked.get_mut(&key) {
        if *n > 1 {
            *n -= 1;
        } else {
            blocked.remove(&key);
        }
    }
}

impl World {
    fn schedule(&mut self, time: Millis, event: Agenda) {
        self.seq += 1;
        self.agenda.push(Reverse(Entry { time, seq: self.seq, event }));
    }
}

impl Lookup for Simulation {
    fn event_id(&self, message: MessageId) -> &str {
        self.messages.get(message.0 as usize).map_or("?", |m| m.envelope.id.as_str())
    }
    fn event_type(&self, message: MessageId) -> &str {
        self.messages.get(message.0 as usize).map_or("?", |m| m.envelope.event_type.as_str())
    }
    fn topic_name(&self, topic: TopicId) -> &str {
        self.compiled.topics.get(topic.0 as usize).map_or("?", |t| t.name.as_str())
    }
    fn service_name(&self, service: ServiceId) -> &str {
        self.compiled.services.get(service.0 as usize).map_or("?", |s| s.name.as_str())
    }
    fn sub_name(&self, sub: SubId) -> &str {
        self.compiled.subs.get(sub.0 as usize).map_or("?", |s| s.name.as_str())
    }
    fn attempts_max(&self, sub: SubId) -> u32 {
        self.compiled.subs.get(sub.0 as usize).map_or(0, |s| s.retry.attempts_max)
    }
    fn projection_name(&self, projection: u32) -> &str {
        self.compiled.projections.get(projection as usize).map_or("?", |p| p.name.as_str())
    }
    fn stored_event(&self, projection: u32, position: u64) -> Option<(&str, &str, &str, u64)> {
        let store = self.compiled.projections.get(projection as usize)?.store;
        let e = self.stores.get(store.0 as usize)?.event_at(position)?;
        Some((e.event_id.as_str(), e.event_type.as_str(), e.stream.as_str(), e.version))
    }
}

#[cfg(test)]
mod outbox_checker_tests {
    use super::*;
    use crate::sim::invariant::{Invariant, Violation};
    use crate::sim::scenario::builtin;

    /// Checkout by orchestration, its coordinator crashed at step 20 with order-2's
    /// payment command committed but not published, then brought back up by `revive`.
    fn crashed_coordinator(revive: impl Fn(&mut Simulation, ServiceId)) -> Simulation {
        let mut sim = Simulation::new(RunConfig::new(builtin("checkout-orchestration").unwrap(), 1)).unwrap();
        let orchestrator = sim.compiled.service_by_name("orchestrator").unwrap();
        sim.run(20);
        sim.inject(Fault::CrashService { service: "orchestrator".into(), restart_after_ms: None }).unwrap();
        assert!(
            !sim.world.services[orchestrator.0 as usize].held.is_empty(),
            "the crash caught a command in the outbox"
        );
        revive(&mut sim, orchestrator);
        sim.run_to_end();
        sim
    }

    #[test]
    fn an_outboxed_event_nobody_relays_is_lost_and_a_relayed_one_is_not() {
        // The relay turned off: the service is up again, its outbox untouched.
        let unrelayed = crashed_coordinator(|sim, service| {
            sim.world.services[service.0 as usize].up = true;
            sim.mark_service_ready(service);
        });
        let lost: Vec<&Violation> =
            unrelayed.checkers().violations.iter().filter(|v| v.invariant == Invariant::NoEventLost).collect();
        assert_eq!(lost.len(), 1, "{:?}", unrelayed.checkers().violations);
        assert_eq!(lost[0].detail, "committed to orchestrator's outbox but never published");
        let message = lost[0].message.expect("the violation names the event");
        assert!(unrelayed.messages()[message.0 as usize].envelope.event_type.ends_with("payment.process"));

        let relayed = crashed_coordinator(|sim, service| {
            sim.restart(service);
        });
        assert_eq!(relayed.checkers().total_violations(), 0, "{:?}", relayed.checkers().violations);
        assert_eq!(relayed.checkers().unpublished().count(), 0, "everything committed was published");
    }

    #[test]
    fn an_outbox_waiting_for_a_crashed_service_is_not_counted_lost() {
        let down = crashed_coordinator(|_, _| {});
        assert_eq!(down.checkers().count(Invariant::NoEventLost), 0, "it is published when the service restarts");
        assert_eq!(down.checkers().unpublished().count(), 1);
    }
}
