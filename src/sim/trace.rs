//! The step trace: one record per step, the run's first-class artifact.
//!
//! Each step of the simulation produces exactly one [`TraceRecord`]: what happened,
//! to which message, where, and at what simulated time. The records drive the UI's
//! event log, the determinism tests (via [`trace_hash`]) and every export.
//!
//! # Legend of the one-line form
//!
//! ```text
//!   step     time  verb         event            type               where            detail
//!     12    105ms  deliver      evt_3a9c00129f1  order.placed       payment-orders   attempt 2/3
//! ```
//!
//! * `step` counts from 0; `time` is simulated milliseconds.
//! * `verb` is one of: `publish` (reached the bus and fanned out), `hold` (a
//!   partitioned service's publication waits), `deliver` (a consumer starts handling;
//!   `acked first` under at-most-once), `handle` (handling finished: `applied`,
//!   `declined` or `ignored`, with the number of events emitted), `skip-dup` (an
//!   idempotent consumer recognised a duplicate), `fail` (handling failed, with what
//!   happens next), `requeue` (back in the queue after backoff, delay or ack timeout),
//!   `dead-letter`, `lost`, `redrive`, `discard`, the fault verbs `drop`, `duplicate`,
//!   `delay`, `reorder`, `poison`, `crash`, `restart`, `slow`, `fail-rate`,
//!   `partition`, `heal`, `ack-lost`, `set-state`, the projection verbs `project`
//!   (applied one store event to a read model), `stall` (could not) and `rebuild`, and
//!   `missed` (a scripted fault found no target).
//! * `event` is the CloudEvents id, `type` the event type without the
//!   `io.eventscope.` prefix, and `where` the subscription or service concerned.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use super::envelope::MessageId;
use super::hash::Fnv1a;
use super::time::Millis;

/// Index of a topic in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicId(pub u32);
/// Index of a service in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServiceId(pub u32);
/// Index of a subscription in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubId(pub u32);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    pub step: u64,
    pub time_ms: Millis,
    pub happened: Happened,
}

/// Why a message went to a dead-letter queue (the reasons RabbitMQ's `x-death` uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterReason {
    /// The consumer rejected it as unprocessable (a malformed payload).
    Rejected,
    /// It waited in the queue longer than the subscription's TTL.
    Expired,
    /// The queue was full.
    MaxLength,
    /// It failed on every one of its `attempts_max` attempts.
    DeliveryLimit,
}

impl DeadLetterReason {
    pub fn name(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::MaxLength => "max_length",
            Self::DeliveryLimit => "delivery_limit",
        }
    }
}

/// Why a handling attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureCause {
    /// The payload lacks a field the handler reads (or it has the wrong type).
    Malformed { field: String },
    /// The message was marked as poison: every handling fails.
    Poisoned,
    /// A fault rule failed this attempt.
    Injected,
    /// The service fails handlers at a configured rate.
    FailureRate,
    /// The aggregate could not be loaded: a stored event lacks a field the fold reads
    /// (an old schema version that nothing upcast).
    UnreadableHistory { position: u64, field: String },
    /// Optimistic concurrency: the stream moved on since the handler read it.
    Conflict { stream: String, expected: u64, actual: u64 },
}

impl FailureCause {
    /// The wording the log and the DLQ panel share, so a dead letter's last error reads
    /// exactly as the failed attempt did in the trace.
    pub fn describe(&self) -> String {
        match self {
            Self::Malformed { field } => format!("malformed (data.{field})"),
            Self::Poisoned => "poison".to_string(),
            Self::Injected => "injected".to_string(),
            Self::FailureRate => "failure rate".to_string(),
            Self::UnreadableHistory { position, field } => {
                format!("cannot fold stored event #{position} (no data.{field})")
            }
            Self::Conflict { stream, expected, actual } => {
                format!("conflict on {stream} (read v{expected}, now v{actual})")
            }
        }
    }
}

/// What the engine did after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    RetryInMs(Millis),
    DeadLettered(DeadLetterReason),
    /// At-most-once had already acknowledged it, or it was rejected without a DLQ.
    Lost,
    /// No DLQ: the message goes back to the queue and will fail again.
    LoopsWithoutDlq(Millis),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleOutcome {
    /// Requirements held: effects applied, events emitted.
    Applied,
    /// A requirement did not hold (insufficient funds): no effect, `otherwise` emitted.
    Declined,
    /// The service has no handler for this type.
    Ignored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequeueCause {
    BackoffElapsed,
    DelayElapsed,
    AckTimeout,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happened {
    Published {
        message: MessageId,
        topic: TopicId,
        fanout: u32,
    },
    PublishHeld {
        message: MessageId,
        service: ServiceId,
    },
    Delivered {
        message: MessageId,
        sub: SubId,
        attempt: u32,
        acked_first: bool,
    },
    Handled {
        message: MessageId,
        sub: SubId,
        outcome: HandleOutcome,
        emitted: u32,
        acked: bool,
        recorded: u32,
    },
    DuplicateSkipped {
        message: MessageId,
        sub: SubId,
    },
    HandlingFailed {
        message: MessageId,
        sub: SubId,
        attempt: u32,
        cause: FailureCause,
        then: AfterFailure,
    },
    Requeued {
        message: MessageId,
        sub: SubId,
        attempt: u32,
        cause: RequeueCause,
    },
    DeadLettered {
        message: MessageId,
        sub: SubId,
        reason: DeadLetterReason,
    },
    Lost {
        message: MessageId,
        sub: SubId,
    },
    Redriven {
        message: MessageId,
        sub: SubId,
    },
    Discarded {
        message: MessageId,
        sub: SubId,
    },
    Dropped {
        message: MessageId,
        sub: SubId,
        lost: bool,
    },
    Duplicated {
        message: MessageId,
        sub: SubId,
    },
    Delayed {
        message: MessageId,
        sub: SubId,
        delay_ms: Millis,
    },
    Reordered {
        message: MessageId,
        sub: SubId,
    },
    Poisoned {
        message: MessageId,
    },
    Crashed {
        service: ServiceId,
        lost: u32,
        requeued: u32,
        unpublished: u32,
    },
    Restarted {
        service: ServiceId,
    },
    Slowed {
        service: ServiceId,
        extra_ms: Millis,
    },
    FailureRateSet {
        service: ServiceId,
        per_mille: u32,
    },
    Partitioned {
        service: ServiceId,
        duration_ms: Millis,
    },
    Healed {
        service: ServiceId,
        released: u32,
    },
    AckLost {
        message: MessageId,
        sub: SubId,
    },
    StateSet {
        service: ServiceId,
        key: String,
        value: i64,
    },
    /// A projection applied the store event at `position` to its read model.
    Projected {
        projection: u32,
        position: u64,
    },
    /// A projection could not apply the event at `position` and stopped.
    ProjectionStalled {
        projection: u32,
        position: u64,
        field: String,
    },
    /// A projection was reset to rebuild its read model from the first event.
    ProjectionRebuilding {
        projection: u32,
    },
    FaultMissed {
        label: &'static str,
        target: String,
    },
}

impl Happened {
    /// The short verb of the one-line form (see the module legend).
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Published { .. } => "publish",
            Self::PublishHeld { .. } => "hold",
            Self::Delivered { .. } => "deliver",
            Self::Handled { .. } => "handle",
            Self::DuplicateSkipped { .. } => "skip-dup",
            Self::HandlingFailed { .. } => "fail",
            Self::Requeued { .. } => "requeue",
            Self::DeadLettered { .. } => "dead-letter",
            Self::Lost { .. } => "lost",
            Self::Redriven { .. } => "redrive",
            Self::Discarded { .. } => "discard",
            Self::Dropped { .. } => "drop",
            Self::Duplicated { .. } => "duplicate",
            Self::Delayed { .. } => "delay",
            Self::Reordered { .. } => "reorder",
            Self::Poisoned { .. } => "poison",
            Self::Crashed { .. } => "crash",
            Self::Restarted { .. } => "restart",
            Self::Slowed { .. } => "slow",
            Self::FailureRateSet { .. } => "fail-rate",
            Self::Partitioned { .. } => "partition",
            Self::Healed { .. } => "heal",
            Self::AckLost { .. } => "ack-lost",
            Self::StateSet { .. } => "set-state",
            Self::Projected { .. } => "project",
            Self::ProjectionStalled { .. } => "stall",
            Self::ProjectionRebuilding { .. } => "rebuild",
            Self::FaultMissed { .. } => "missed",
        }
    }

    /// The message this step concerns, if any.
    pub fn message(&self) -> Option<MessageId> {
        match self {
            Self::Published { message, .. }
            | Self::PublishHeld { message, .. }
            | Self::Delivered { message, .. }
            | Self::Handled { message, .. }
            | Self::DuplicateSkipped { message, .. }
            | Self::HandlingFailed { message, .. }
            | Self::Requeued { message, .. }
            | Self::DeadLettered { message, .. }
            | Self::Lost { message, .. }
            | Self::Redriven { message, .. }
            | Self::Discarded { message, .. }
            | Self::Dropped { message, .. }
            | Self::Duplicated { message, .. }
            | Self::Delayed { message, .. }
            | Self::Reordered { message, .. }
            | Self::Poisoned { message }
            | Self::AckLost { message, .. } => Some(*message),
            _ => None,
        }
    }

    /// The subscription this step concerns, if any.
    pub fn sub(&self) -> Option<SubId> {
        match self {
            Self::Delivered { sub, .. }
            | Self::Handled { sub, .. }
            | Self::DuplicateSkipped { sub, .. }
            | Self::HandlingFailed { sub, .. }
            | Self::Requeued { sub, .. }
            | Self::DeadLettered { sub, .. }
            | Self::Lost { sub, .. }
            | Self::Redriven { sub, .. }
            | Self::Discarded { sub, .. }
            | Self::Dropped { sub, .. }
            | Self::Duplicated { sub, .. }
            | Self::Delayed { sub, .. }
            | Self::Reordered { sub, .. }
            | Self::AckLost { sub, .. } => Some(*sub),
            _ => None,
        }
    }

    /// The service this step concerns directly (faults on services), if any.
    pub fn service(&self) -> Option<ServiceId> {
        match self {
            Self::PublishHeld { service, .. }
            | Self::Crashed { service, .. }
            | Self::Restarted { service }
            | Self::Slowed { service, .. }
            | Self::FailureRateSet { service, .. }
            | Self::Partitioned { service, .. }
            | Self::Healed { service, .. }
            | Self::StateSet { service, .. } => Some(*service),
            _ => None,
        }
    }
}

/// Names for the ids in a record, supplied by the simulation.
pub trait Lookup {
    fn event_id(&self, message: MessageId) -> &str;
    fn event_type(&self, message: MessageId) -> &str;
    fn topic_name(&self, topic: TopicId) -> &str;
    fn service_name(&self, service: ServiceId) -> &str;
    fn sub_name(&self, sub: SubId) -> &str;
    fn attempts_max(&self, sub: SubId) -> u32;
    fn projection_name(&self, projection: u32) -> &str;
    /// The stored event a projection reads at `position`: (event id, type, stream, version).
    fn stored_event(&self, projection: u32, position: u64) -> Option<(&str, &str, &str, u64)>;
}

/// A record paired with the names it refers to: its `Display` is the one-line form.
pub struct TraceLine<'a, L: Lookup + ?Sized> {
    pub record: &'a TraceRecord,
    pub names: &'a L,
}

fn short_type(t: &str) -> &str {
    t.strip_prefix("io.eventscope.").unwrap_or(t)
}

/// The columns of the one-line form as plain text: what the UI's log shows and what
/// the canonical trace file records per step. Its `Display` *is* the one-line form, so
/// a trace read back from a file hashes exactly like the run that wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceColumns {
    pub step: u64,
    pub time_ms: Millis,
    pub verb: String,
    pub event: String,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(rename = "where")]
    pub place: String,
    pub detail: String,
}

impl fmt::Display for TraceColumns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>6} {:>8}ms  {:<11}  {:<16} {:<22} {:<18} {}",
            self.step, self.time_ms, self.verb, self.event, self.event_type, self.place, self.detail
        )
    }
}

impl<L: Lookup + ?Sized> fmt::Display for TraceLine<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.columns().fmt(f)
    }
}

impl<L: Lookup + ?Sized> TraceLine<'_, L> {
    /// The record's columns, with every id replaced by its name.
    pub fn columns(&self) -> TraceColumns {
        let r = self.record;
        let n = self.names;
        let h = &r.happened;
        let stored = match h {
            Happened::Projected { projection, position } | Happened::ProjectionStalled { projection, position, .. } => {
                n.stored_event(*projection, *position)
            }
            _ => None,
        };
        let (event, etype) = match (h.message(), stored) {
            (Some(m), _) => (n.event_id(m), short_type(n.event_type(m))),
            (None, Some((id, t, _, _))) => (id, short_type(t)),
            _ => ("-", "-"),
        };
        let place = match (h.sub(), h.service(), h) {
            (Some(s), _, _) => n.sub_name(s).to_string(),
            (None, Some(s), _) => n.service_name(s).to_string(),
            (None, None, Happened::Published { topic, .. }) => n.topic_name(*topic).to_string(),
            (
                None,
                None,
                Happened::Projected { projection, .. }
                | Happened::ProjectionStalled { projection, .. }
                | Happened::ProjectionRebuilding { projection },
            ) => n.projection_name(*projection).to_string(),
            _ => "-".to_string(),
        };
        let mut detail = String::new();
        match h {
            Happened::Published { fanout, .. } => {
                let _ = write!(detail, "to {fanout} subscription(s)");
            }
            Happened::PublishHeld { .. } => detail.push_str("partitioned: waits for heal"),
            Happened::Delivered { sub, attempt, acked_first, .. } => {
                let _ = write!(detail, "attempt {attempt}/{}", n.attempts_max(*sub));
                if *acked_first {
                    detail.push_str(", acked first");
                }
            }
            Happened::Handled { outcome, emitted, acked, recorded, .. } => {
                let o = match outcome {
                    HandleOutcome::Applied => "applied",
                    HandleOutcome::Declined => "declined",
                    HandleOutcome::Ignored => "ignored",
                };
                let _ = write!(detail, "{o}, emitted {emitted}");
                if *recorded > 0 {
                    let _ = write!(detail, ", recorded {recorded}");
                }
                if !acked {
                    detail.push_str(", ack pending");
                }
            }
            Happened::DuplicateSkipped { .. } => detail.push_str("already processed"),
            Happened::HandlingFailed { attempt, cause, then, .. } => {
                let c = cause.describe();
                let t = match then {
                    AfterFailure::RetryInMs(ms) => format!("retry in {ms}ms"),
                    AfterFailure::DeadLettered(reason) => format!("dead-lettered ({})", reason.name()),
                    AfterFailure::Lost => "lost".to_string(),
                    AfterFailure::LoopsWithoutDlq(ms) => format!("no DLQ: again in {ms}ms"),
                };
                let _ = write!(detail, "attempt {attempt}: {c}; {t}");
            }
            Happened::Requeued { attempt, cause, .. } => {
                let c = match cause {
                    RequeueCause::BackoffElapsed => "backoff elapsed",
                    RequeueCause::DelayElapsed => "delay elapsed",
                    RequeueCause::AckTimeout => "ack timeout",
                };
                let _ = write!(detail, "{c}, attempt {attempt} next");
            }
            Happened::DeadLettered { reason, .. } => detail.push_str(reason.name()),
            Happened::Dropped { lost, .. } => {
                detail.push_str(if *lost { "lost (acked first)" } else { "redelivered after ack timeout" })
            }
            Happened::Delayed { delay_ms, .. } => {
                let _ = write!(detail, "+{delay_ms}ms");
            }
            Happened::Crashed { lost, requeued, unpublished, .. } => {
                let _ = write!(detail, "{lost} lost, {requeued} requeued");
                if *unpublished > 0 {
                    let _ = write!(detail, ", {unpublished} unpublished event(s) lost");
                }
            }
            Happened::Projected { position, .. } => {
                if let Some((_, _, stream, version)) = stored {
                    let _ = write!(detail, "position {position} ({stream} v{version})");
                }
            }
            Happened::ProjectionStalled { position, field, .. } => {
                let _ = write!(detail, "stopped at position {position}: no data.{field}");
            }
            Happened::ProjectionRebuilding { .. } => detail.push_str("read model cleared, catching up from position 1"),
            Happened::StateSet { key, value, .. } => {
                let _ = write!(detail, "{key} = {value}");
            }
            Happened::Slowed { extra_ms, .. } => {
                let _ = write!(detail, "+{extra_ms}ms per handling");
            }
            Happened::FailureRateSet { per_mille, .. } => {
                let _ = write!(detail, "{per_mille}‰ of handlings fail");
            }
            Happened::Partitioned { duration_ms, .. } => {
                let _ = write!(detail, "for {duration_ms}ms");
            }
            Happened::Healed { released, .. } => {
                let _ = write!(detail, "{released} held item(s) released");
            }
            Happened::AckLost { .. } => detail.push_str("partitioned: will be redelivered"),
            Happened::FaultMissed { label, target } => {
                let _ = write!(detail, "{label} {target}: no such target now");
            }
            _ => {}
        }
        TraceColumns {
            step: r.step,
            time_ms: r.time_ms,
            verb: h.verb().to_string(),
            event: event.to_string(),
            event_type: etype.to_string(),
            place,
            detail,
        }
    }
}

/// A stable fingerprint of a whole trace: equal traces, equal hashes, on every
/// platform. It hashes the one-line form, which names every field that matters.
pub fn trace_hash<'a, L: Lookup + ?Sized>(records: impl Iterator<Item = &'a TraceRecord>, names: &L) -> u64 {
    hash_records(Fnv1a::default(), records, names).finish()
}

/// Folds more records into a trace hash: hashing a trace in two parts, the second
/// starting from the first part's state, gives the hash of the whole.
pub fn hash_records<'a, L: Lookup + ?Sized>(
    mut h: Fnv1a,
    records: impl Iterator<Item = &'a TraceRecord>,
    names: &L,
) -> Fnv1a {
    let mut line = String::new();
    for record in records {
        line.clear();
        let _ = write!(line, "{}", TraceLine { record, names });
        h = h.str(&line);
    }
    h
}

/// The same fingerprint as [`trace_hash`], from columns read back from a trace file:
/// a file whose steps were edited no longer matches the hash it carries.
pub fn columns_hash<'a>(columns: impl Iterator<Item = &'a TraceColumns>) -> u64 {
    let mut h = Fnv1a::default();
    let mut line = String::new();
    for c in columns {
        line.clear();
        let _ = write!(line, "{c}");
        h = h.str(&line);
    }
    h.finish()
}
