//! Scenarios: the data that describes a system to simulate.
//!
//! A scenario is plain JSON so that people can read, copy and edit it, and so
//! that it travels inside exported traces and share links. It names topics, services
//! with their handlers, subscriptions with their delivery mode and retry policy, a
//! workload of initial events, and quantities that must be conserved.
//!
//! Loading has two stages, each reporting errors with the JSON path they concern:
//! reading (wrong types, unknown fields; see `super::reader`) and validating
//! (references to unknown names, limits). Only a validated scenario can be compiled into the engine's
//! index-based form, so the engine never sees a dangling name and never panics on
//! user input.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::envelope::EventKind;
use super::fault::{FaultScript, SCRIPT_ENTRIES_MAX};
use super::reader::{i64_of, invalid, map_of, object, string, u32_of, u64_of, value_map, variant, Obj, Read};
use super::store::Upcaster;

/// Largest scenario document accepted, in bytes.
pub const SCENARIO_BYTES_MAX: usize = 1 << 20;
/// Upper bounds that keep a scenario's run bounded in memory and time.
pub const NAMES_MAX: usize = 64;
pub const NAME_CHARS_MAX: usize = 64;
pub const SUBSCRIPTIONS_MAX: usize = 256;
pub const HANDLERS_MAX: usize = 64;
pub const ACTIONS_MAX: usize = 16;
pub const STATE_ENTRIES_MAX: usize = 1_000;
pub const WORKLOAD_ITEMS_MAX: usize = 256;
/// Events a workload may declare: a quarter of the messages a run may hold (see
/// `limits::MESSAGES_MAX`), leaving room for what handlers emit in response.
pub const WORKLOAD_MESSAGES_MAX: u64 = super::limits::MESSAGES_MAX / 4;
/// The steps cap is derived from the run's memory budget (see `limits`).
pub use super::limits::STEPS_MAX_LIMIT;
pub const DURATION_MS_MAX: u64 = 86_400_000;
pub const ATTEMPTS_MAX_LIMIT: u32 = 100;
pub const CAPACITY_MAX: u32 = 1_000_000;

/// A one-line description of a built-in scenario, for pickers and listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioSummary {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
}

/// The built-in scenarios' JSON, in the order a newcomer meets them.
const BUILTINS: &[(&str, &str)] = &[
    ("pubsub", include_str!("../../scenarios/pubsub.json")),
    ("delivery-guarantees", include_str!("../../scenarios/delivery-guarantees.json")),
    ("poison-message", include_str!("../../scenarios/poison-message.json")),
    ("checkout", include_str!("../../scenarios/checkout.json")),
    ("checkout-orchestration", include_str!("../../scenarios/checkout-orchestration.json")),
    ("bank-account", include_str!("../../scenarios/bank-account.json")),
    ("order-read-model", include_str!("../../scenarios/order-read-model.json")),
    ("schema-versioning", include_str!("../../scenarios/schema-versioning.json")),
    ("outbox", include_str!("../../scenarios/outbox.json")),
];

/// The built-in scenarios, in the order a newcomer meets them.
pub fn catalog() -> Vec<ScenarioSummary> {
    vec![
        ScenarioSummary {
            name: "pubsub",
            title: "Envelope and pub/sub",
            summary: "One order event fans out to three subscribers; each gets its own copy.",
        },
        ScenarioSummary {
            name: "delivery-guarantees",
            title: "Delivery guarantees",
            summary: "The same payments consumed at-most-once, at-least-once and exactly-once-effect.",
        },
        ScenarioSummary {
            name: "poison-message",
            title: "Poison message, retries and DLQ",
            summary: "A message that always fails is retried with backoff, then dead-lettered.",
        },
        ScenarioSummary {
            name: "checkout",
            title: "Checkout by choreography",
            summary: "Services react to each other's events; a failure runs the compensations backwards.",
        },
        ScenarioSummary {
            name: "checkout-orchestration",
            title: "Checkout by orchestration",
            summary: "A coordinator sends each step's command and compensates in reverse on failure.",
        },
        ScenarioSummary {
            name: "bank-account",
            title: "Event-sourced bank account",
            summary: "Balances folded from event streams, snapshots, and concurrency conflicts.",
        },
        ScenarioSummary {
            name: "order-read-model",
            title: "CQRS read models",
            summary: "Projections follow the event store with their own checkpoints and lag.",
        },
        ScenarioSummary {
            name: "schema-versioning",
            title: "Schema versioning and upcasting",
            summary: "Old v1 events are upcast to v2 on read, so readers never break.",
        },
        ScenarioSummary {
            name: "outbox",
            title: "Transactional outbox",
            summary: "A crash between saving and publishing: the outbox keeps the event, a dual write loses it.",
        },
    ]
}

/// Loads a built-in scenario by name.
pub fn builtin(name: &str) -> Option<Scenario> {
    let (_, json) = BUILTINS.iter().find(|(n, _)| *n == name)?;
    // The built-ins are part of the program and covered by tests; failing here is a bug.
    // Not `expect`, whose message would carry the error's Debug form (compiled in for this
    // one line): the native tests name the scenario and its error.
    Some(Scenario::from_json(json).unwrap_or_else(|_| panic!("built-in scenario {name} is valid")))
}

/// The names of all built-in scenarios.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(n, _)| *n)
}

// ---------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The run stops after this many steps even if work remains (a poison message
    /// looping without a DLQ would otherwise run forever).
    pub steps_max: u64,
    /// Time from a handler's commit to its events reaching the bus.
    pub publish_latency_ms: u64,
    pub topics: Vec<TopicSpec>,
    pub services: Vec<ServiceSpec>,
    pub subscriptions: Vec<SubscriptionSpec>,
    pub workload: Vec<WorkloadSpec>,
    pub conserved: Vec<ConservedSpec>,
    /// Read models fed from event-sourced services' stores (CQRS).
    pub projections: Vec<ProjectionSpec>,
    /// Orchestrated sagas, each run by a coordinator service.
    pub sagas: Vec<SagaSpec>,
    /// Faults that belong to the scenario itself (a lesson's crash, say); the user's
    /// own fault script runs in addition to these.
    pub faults: FaultScript,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicSpec {
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceSpec {
    pub name: String,
    pub description: String,
    /// Local state: named integer counters (balances, stock, order status codes).
    pub state: BTreeMap<String, i64>,
    pub handlers: Vec<HandlerSpec>,
    /// Makes the service event-sourced: its state is the fold of its streams.
    pub event_store: Option<EventStoreSpec>,
}

/// An event-sourced service's store: how events fold into an aggregate's state, how
/// old events are upcast, and what the store already holds when the run starts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventStoreSpec {
    /// Store the aggregate's state every this many events (0: never).
    pub snapshot_every: u32,
    /// The fold: how each event type changes an aggregate's counters. No rules here;
    /// the rules live in the handlers that decide which events to record.
    pub apply: Vec<ApplySpec>,
    /// Upcasters from older schema versions, applied on read.
    pub upcasters: Vec<Upcaster>,
    /// The schema version the service writes now.
    pub schema_version: u32,
    /// Events in the store before the run starts, possibly in older schema versions.
    pub history: Vec<HistorySpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApplySpec {
    pub on: String,
    pub effects: Vec<EffectSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistorySpec {
    pub stream: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: u32,
    pub data: serde_json::Map<String, Value>,
}

/// An event an event-sourced handler appends to the aggregate's stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordSpec {
    #[serde(rename = "type")]
    pub event_type: String,
    /// Also publish the recorded event on this topic (through the outbox).
    pub topic: Option<String>,
    pub kind: EventKind,
    /// Payload templates, as in `emit`; without it the handled event's payload is kept.
    pub data: Option<BTreeMap<String, Value>>,
}

/// A read model (CQRS): it follows one event-sourced service's store from a
/// checkpoint, applying each event to its own counters, a little behind the writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectionSpec {
    pub name: String,
    pub description: String,
    /// The event-sourced service whose store it reads.
    pub store: String,
    pub processing_ms: u64,
    /// Keys may use `{subject}` (the stream) and `{data.FIELD}`.
    pub apply: Vec<ApplySpec>,
}

/// An orchestrated saga: a coordinator sends each step's command, waits for its reply,
/// and on a failure sends the compensations of the completed steps in reverse order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SagaSpec {
    pub name: String,
    pub description: String,
    /// The service that runs the coordinator; it must subscribe to the start event and
    /// to the replies.
    pub coordinator: String,
    /// The event type that starts an instance; its subject becomes the instance id.
    pub start_on: String,
    pub processing_ms: u64,
    pub steps: Vec<SagaStepSpec>,
    /// The step after whose success the saga only goes forward.
    pub pivot: Option<String>,
    /// Published when an instance completes.
    pub on_completed: Option<EmitSpec>,
    /// Published when an instance has been compensated.
    pub on_aborted: Option<EmitSpec>,
}

/// One step: a command, the replies that mean yes and no, and how to undo it.
/// Templates in commands read the payload of the event that started the saga.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SagaStepSpec {
    pub name: String,
    pub action: EmitSpec,
    pub success: String,
    pub failure: String,
    pub compensation: Option<EmitSpec>,
    pub compensated: Option<String>,
}

/// What a service does with one event type.
///
/// A handler runs as one local transaction: if every `require` holds, all `effects`
/// are applied and `emit` is published; otherwise nothing changes and `otherwise` is
/// published (a business "no", such as insufficient funds, is a normal outcome that
/// is acknowledged, not a failure). A payload missing a field the handler reads is a
/// failure: it is retried, or rejected straight to the DLQ with `reject_malformed`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HandlerSpec {
    /// The CloudEvents `type` this handler reacts to.
    pub on: String,
    pub processing_ms: u64,
    pub require: Vec<RequireSpec>,
    pub effects: Vec<EffectSpec>,
    pub emit: Vec<EmitSpec>,
    pub otherwise: Vec<EmitSpec>,
    pub reject_malformed: bool,
    /// Event-sourced services only: the aggregate stream (default `{subject}`).
    pub stream: Option<String>,
    /// Event-sourced services only: events appended to the stream when the
    /// requirements hold, with the stream's version as read when handling began.
    pub record: Vec<RecordSpec>,
}

/// A guard: the state counter named by `key` must be at least `at_least`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequireSpec {
    pub key: String,
    pub at_least: ExprSpec,
}

/// Adds `add` to the state counter named by `key` (a template such as
/// `"balance.{data.customer}"`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EffectSpec {
    pub key: String,
    pub add: ExprSpec,
}

/// An integer expression: a literal, or `"data.FIELD"` / `"-data.FIELD"` read from the
/// event being handled.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExprSpec {
    Literal(i64),
    Field(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmitSpec {
    pub topic: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub kind: EventKind,
    /// Subject template; defaults to the subject of the event being handled.
    pub subject: Option<String>,
    /// Payload. Strings may hold `{data.FIELD}` and `{subject}` placeholders; a string
    /// that is exactly one placeholder keeps the field's JSON type. Without `data`, the
    /// handled event's payload is carried over.
    pub data: Option<BTreeMap<String, Value>>,
    /// Marks the event as part of a compensation (undoing an earlier step), so views
    /// and exports can draw the reverse path.
    pub compensation: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Acknowledge before handling: a crash or failure loses the event.
    AtMostOnce,
    /// Acknowledge after handling: a crash redelivers, so duplicates are possible.
    AtLeastOnce,
    /// At-least-once plus an idempotent consumer: processed ids are stored in the same
    /// transaction as the effect, so a redelivered duplicate is recognised and skipped.
    #[default]
    ExactlyOnceEffect,
}

impl Delivery {
    pub const ALL: [Delivery; 3] = [Self::AtMostOnce, Self::AtLeastOnce, Self::ExactlyOnceEffect];

    pub fn name(self) -> &'static str {
        match self {
            Self::AtMostOnce => "at_most_once",
            Self::AtLeastOnce => "at_least_once",
            Self::ExactlyOnceEffect => "exactly_once_effect",
        }
    }

    pub fn acks_before_handling(self) -> bool {
        self == Self::AtMostOnce
    }

    pub fn idempotent(self) -> bool {
        self == Self::ExactlyOnceEffect
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Messages are handled in queue order, but a retry waiting out its backoff does not
    /// hold back the messages behind it.
    #[default]
    None,
    /// Messages with the same subject are handled in publish order: a message waiting
    /// for a retry blocks the later messages of its subject (head-of-line blocking).
    PerKey,
}

/// How a subscription retries a failed handling.
///
/// `attempts_max` counts the first attempt: 3 means one try and two retries (as SQS
/// and Temporal count; Step Functions counts retries only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetryPolicy {
    pub attempts_max: u32,
    pub backoff_initial_ms: u64,
    /// Growth of the backoff per attempt, in percent (200 doubles it).
    pub backoff_multiplier_percent: u32,
    pub backoff_max_ms: u64,
    /// Random spread of each backoff, in per-mille of it, drawn from the seeded RNG
    /// (250 = up to 25% shorter or longer).
    pub jitter_per_mille: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts_max: defaults::attempts_max(),
            backoff_initial_ms: defaults::backoff_initial_ms(),
            backoff_multiplier_percent: defaults::backoff_multiplier_percent(),
            backoff_max_ms: defaults::backoff_max_ms(),
            jitter_per_mille: 0,
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `attempt + 1`, without jitter.
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let mut backoff = self.backoff_initial_ms;
        for _ in 1..attempt {
            backoff = backoff.saturating_mul(u64::from(self.backoff_multiplier_percent)) / 100;
            if backoff >= self.backoff_max_ms {
                break;
            }
        }
        backoff.min(self.backoff_max_ms)
    }
}

/// A consumer group: one service's durable interest in one topic, with its own queue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubscriptionSpec {
    pub name: String,
    pub topic: String,
    pub service: String,
    pub delivery: Delivery,
    pub retry: RetryPolicy,
    /// Dead-letter queue on or off. Off is the "no DLQ" anti-pattern.
    pub dlq: bool,
    pub capacity: u32,
    pub ordering: Ordering,
    /// How long the broker waits for an acknowledgement before redelivering.
    pub ack_timeout_ms: u64,
    /// A message waiting in the queue longer than this expires to the DLQ.
    pub ttl_ms: Option<u64>,
}

/// Events injected from outside (the "client"), optionally repeated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkloadSpec {
    pub at_ms: u64,
    pub topic: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub kind: EventKind,
    pub source: String,
    /// Subject template; `{n}` is the repetition number, from 1.
    pub subject: String,
    /// Payload; strings may hold `{n}`, and a string that is exactly `"{n}"` becomes
    /// the number.
    pub data: BTreeMap<String, Value>,
    pub repeat: Option<RepeatSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepeatSpec {
    pub count: u32,
    pub every_ms: u64,
}

/// A quantity (money, stock) whose total must never change: the sum of the named
/// state counters plus what is in transit in events.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConservedSpec {
    pub name: String,
    pub accounts: Vec<AccountSpec>,
    pub in_transit: Vec<CarrierSpec>,
}

/// The state counters of `service` whose names start with `key_prefix`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountSpec {
    pub service: String,
    pub key_prefix: String,
}

/// Events of `type` carry `field` of the quantity until `subscription` applies them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CarrierSpec {
    #[serde(rename = "type")]
    pub event_type: String,
    pub field: String,
    pub subscription: String,
}

// ---------------------------------------------------------------------------------
// Reading the document (see `super::reader` for why it is walked by hand)
// ---------------------------------------------------------------------------------

const KINDS: [EventKind; 4] =
    [EventKind::Domain, EventKind::Integration, EventKind::Command, EventKind::ChangeDataCapture];

fn kind(value: Value, path: &str) -> Read<EventKind> {
    Ok(KINDS[variant(value, path, &["domain", "integration", "command", "change_data_capture"])?])
}

fn delivery(value: Value, path: &str) -> Read<Delivery> {
    Ok(Delivery::ALL[variant(value, path, &["at_most_once", "at_least_once", "exactly_once_effect"])?])
}

fn ordering(value: Value, path: &str) -> Read<Ordering> {
    Ok([Ordering::None, Ordering::PerKey][variant(value, path, &["none", "per_key"])?])
}

fn data_map(value: Value, path: &str) -> Read<BTreeMap<String, Value>> {
    value_map(value, path)
}

fn expr(value: Value, path: &str) -> Read<ExprSpec> {
    match value {
        Value::String(field) => Ok(ExprSpec::Field(field)),
        Value::Number(_) => i64_of(value, path).map(ExprSpec::Literal),
        other => Err(invalid(path, &other, "a whole number or the name of a data field")),
    }
}

impl Scenario {
    /// Reads the document from a parsed JSON value (validation is separate).
    pub fn read(value: Value, path: &str) -> Read<Scenario> {
        let mut o = Obj::new(
            value,
            path,
            &[
                "name",
                "title",
                "description",
                "steps_max",
                "publish_latency_ms",
                "topics",
                "services",
                "subscriptions",
                "workload",
                "conserved",
                "projections",
                "sagas",
                "faults",
            ],
        )?;
        Ok(Scenario {
            name: o.string("name")?,
            title: o.string("title")?,
            description: o.text("description")?,
            steps_max: o.u64_or("steps_max", defaults::steps_max())?,
            publish_latency_ms: o.u64_or("publish_latency_ms", defaults::publish_latency_ms())?,
            topics: o.list("topics", TopicSpec::read)?,
            services: o.list("services", ServiceSpec::read)?,
            subscriptions: o.list("subscriptions", SubscriptionSpec::read)?,
            workload: o.list("workload", WorkloadSpec::read)?,
            conserved: o.list_or_empty("conserved", ConservedSpec::read)?,
            projections: o.list_or_empty("projections", ProjectionSpec::read)?,
            sagas: o.list_or_empty("sagas", SagaSpec::read)?,
            faults: o.or("faults", FaultScript::default(), FaultScript::read)?,
        })
    }
}

impl TopicSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["name", "description"])?;
        Ok(Self { name: o.string("name")?, description: o.text("description")? })
    }
}

impl ServiceSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["name", "description", "state", "handlers", "event_store"])?;
        Ok(Self {
            name: o.string("name")?,
            description: o.text("description")?,
            state: o.or("state", BTreeMap::new(), |value, path| map_of(value, path, i64_of))?,
            handlers: o.list_or_empty("handlers", HandlerSpec::read)?,
            event_store: o.opt("event_store", EventStoreSpec::read)?,
        })
    }
}

impl EventStoreSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["snapshot_every", "apply", "upcasters", "schema_version", "history"])?;
        Ok(Self {
            snapshot_every: o.u32_or("snapshot_every", defaults::snapshot_every())?,
            apply: o.list("apply", ApplySpec::read)?,
            upcasters: o.list_or_empty("upcasters", Upcaster::read)?,
            schema_version: o.u32_or("schema_version", defaults::schema_version())?,
            history: o.list_or_empty("history", HistorySpec::read)?,
        })
    }
}

impl ApplySpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["on", "effects"])?;
        Ok(Self { on: o.string("on")?, effects: o.list("effects", EffectSpec::read)? })
    }
}

impl HistorySpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["stream", "type", "schema_version", "data"])?;
        Ok(Self {
            stream: o.string("stream")?,
            event_type: o.string("type")?,
            schema_version: o.u32_or("schema_version", defaults::schema_version())?,
            data: o.or("data", serde_json::Map::new(), object)?,
        })
    }
}

impl RecordSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["type", "topic", "kind", "data"])?;
        Ok(Self {
            event_type: o.string("type")?,
            topic: o.opt("topic", string)?,
            kind: o.or("kind", defaults::domain(), kind)?,
            data: o.opt("data", data_map)?,
        })
    }
}

impl ProjectionSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["name", "description", "store", "processing_ms", "apply"])?;
        Ok(Self {
            name: o.string("name")?,
            description: o.text("description")?,
            store: o.string("store")?,
            processing_ms: o.u64_or("processing_ms", defaults::projection_ms())?,
            apply: o.list("apply", ApplySpec::read)?,
        })
    }
}

impl SagaSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(
            value,
            path,
            &[
                "name",
                "description",
                "coordinator",
                "start_on",
                "processing_ms",
                "steps",
                "pivot",
                "on_completed",
                "on_aborted",
            ],
        )?;
        Ok(Self {
            name: o.string("name")?,
            description: o.text("description")?,
            coordinator: o.string("coordinator")?,
            start_on: o.string("start_on")?,
            processing_ms: o.u64_or("processing_ms", defaults::coordinator_ms())?,
            steps: o.list("steps", SagaStepSpec::read)?,
            pivot: o.opt("pivot", string)?,
            on_completed: o.opt("on_completed", EmitSpec::read)?,
            on_aborted: o.opt("on_aborted", EmitSpec::read)?,
        })
    }
}

impl SagaStepSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["name", "action", "success", "failure", "compensation", "compensated"])?;
        Ok(Self {
            name: o.string("name")?,
            action: o.get("action", EmitSpec::read)?,
            success: o.string("success")?,
            failure: o.string("failure")?,
            compensation: o.opt("compensation", EmitSpec::read)?,
            compensated: o.opt("compensated", string)?,
        })
    }
}

impl HandlerSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(
            value,
            path,
            &["on", "processing_ms", "require", "effects", "emit", "otherwise", "reject_malformed", "stream", "record"],
        )?;
        Ok(Self {
            on: o.string("on")?,
            processing_ms: o.u64_or("processing_ms", defaults::processing_ms())?,
            require: o.list_or_empty("require", RequireSpec::read)?,
            effects: o.list_or_empty("effects", EffectSpec::read)?,
            emit: o.list_or_empty("emit", EmitSpec::read)?,
            otherwise: o.list_or_empty("otherwise", EmitSpec::read)?,
            reject_malformed: o.bool_or("reject_malformed", false)?,
            stream: o.opt("stream", string)?,
            record: o.list_or_empty("record", RecordSpec::read)?,
        })
    }
}

impl RequireSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["key", "at_least"])?;
        Ok(Self { key: o.string("key")?, at_least: o.get("at_least", expr)? })
    }
}

impl EffectSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["key", "add"])?;
        Ok(Self { key: o.string("key")?, add: o.get("add", expr)? })
    }
}

impl EmitSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["topic", "type", "kind", "subject", "data", "compensation"])?;
        Ok(Self {
            topic: o.string("topic")?,
            event_type: o.string("type")?,
            kind: o.get("kind", kind)?,
            subject: o.opt("subject", string)?,
            data: o.opt("data", data_map)?,
            compensation: o.bool_or("compensation", false)?,
        })
    }
}

impl RetryPolicy {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(
            value,
            path,
            &["attempts_max", "backoff_initial_ms", "backoff_multiplier_percent", "backoff_max_ms", "jitter_per_mille"],
        )?;
        Ok(Self {
            attempts_max: o.u32_or("attempts_max", defaults::attempts_max())?,
            backoff_initial_ms: o.u64_or("backoff_initial_ms", defaults::backoff_initial_ms())?,
            backoff_multiplier_percent: o
                .u32_or("backoff_multiplier_percent", defaults::backoff_multiplier_percent())?,
            backoff_max_ms: o.u64_or("backoff_max_ms", defaults::backoff_max_ms())?,
            jitter_per_mille: o.u32_or("jitter_per_mille", 0)?,
        })
    }
}

impl SubscriptionSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(
            value,
            path,
            &[
                "name",
                "topic",
                "service",
                "delivery",
                "retry",
                "dlq",
                "capacity",
                "ordering",
                "ack_timeout_ms",
                "ttl_ms",
            ],
        )?;
        Ok(Self {
            name: o.string("name")?,
            topic: o.string("topic")?,
            service: o.string("service")?,
            delivery: o.or("delivery", Delivery::default(), delivery)?,
            retry: o.or("retry", RetryPolicy::default(), RetryPolicy::read)?,
            dlq: o.bool_or("dlq", defaults::yes())?,
            capacity: o.u32_or("capacity", defaults::capacity())?,
            ordering: o.or("ordering", Ordering::default(), ordering)?,
            ack_timeout_ms: o.u64_or("ack_timeout_ms", defaults::ack_timeout_ms())?,
            ttl_ms: o.opt("ttl_ms", u64_of)?,
        })
    }
}

impl WorkloadSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["at_ms", "topic", "type", "kind", "source", "subject", "data", "repeat"])?;
        Ok(Self {
            at_ms: o.u64_or("at_ms", 0)?,
            topic: o.string("topic")?,
            event_type: o.string("type")?,
            kind: o.get("kind", kind)?,
            source: o.string("source")?,
            subject: o.string("subject")?,
            data: o.or("data", BTreeMap::new(), data_map)?,
            repeat: o.opt("repeat", |value, path| {
                let mut o = Obj::new(value, path, &["count", "every_ms"])?;
                Ok(RepeatSpec { count: o.get("count", u32_of)?, every_ms: o.get("every_ms", u64_of)? })
            })?,
        })
    }
}

impl ConservedSpec {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["name", "accounts", "in_transit"])?;
        Ok(Self {
            name: o.string("name")?,
            accounts: o.list("accounts", |value, path| {
                let mut o = Obj::new(value, path, &["service", "key_prefix"])?;
                Ok(AccountSpec { service: o.string("service")?, key_prefix: o.string("key_prefix")? })
            })?,
            in_transit: o.list_or_empty("in_transit", |value, path| {
                let mut o = Obj::new(value, path, &["type", "field", "subscription"])?;
                Ok(CarrierSpec {
                    event_type: o.string("type")?,
                    field: o.string("field")?,
                    subscription: o.string("subscription")?,
                })
            })?,
        })
    }
}

impl Upcaster {
    fn read(value: Value, path: &str) -> Read<Self> {
        let mut o = Obj::new(value, path, &["type", "from_version", "rename", "defaults"])?;
        Ok(Self {
            event_type: o.string("type")?,
            from_version: o.get("from_version", u32_of)?,
            rename: o.or("rename", BTreeMap::new(), |value, path| map_of(value, path, string))?,
            defaults: o.or("defaults", BTreeMap::new(), data_map)?,
        })
    }
}

mod defaults {
    pub fn steps_max() -> u64 {
        100_000
    }
    pub fn publish_latency_ms() -> u64 {
        2
    }
    pub fn processing_ms() -> u64 {
        10
    }
    pub fn attempts_max() -> u32 {
        3
    }
    pub fn backoff_initial_ms() -> u64 {
        100
    }
    pub fn backoff_multiplier_percent() -> u32 {
        200
    }
    pub fn backoff_max_ms() -> u64 {
        2_000
    }
    pub fn yes() -> bool {
        true
    }
    pub fn capacity() -> u32 {
        10_000
    }
    pub fn ack_timeout_ms() -> u64 {
        250
    }
    pub fn snapshot_every() -> u32 {
        5
    }
    pub fn schema_version() -> u32 {
        1
    }
    pub fn projection_ms() -> u64 {
        15
    }
    pub fn coordinator_ms() -> u64 {
        5
    }
    pub fn domain() -> super::EventKind {
        super::EventKind::Domain
    }
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

/// One thing wrong with a scenario, and where (a JSON path such as
/// `subscriptions[2].topic`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a scenario (validation does not stop at the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioErrors {}

impl ScenarioErrors {
    pub fn one(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![ScenarioError { path: path.into(), message: message.into() }])
    }
}

impl Scenario {
    /// Parses and validates a scenario document.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioErrors> {
        if text.len() > SCENARIO_BYTES_MAX {
            return Err(ScenarioErrors::one(
                "",
                format!("scenario is {} bytes; the limit is {SCENARIO_BYTES_MAX}", text.len()),
            ));
        }
        let value: Value = typed_from_str(text)?;
        let scenario = Scenario::read(value, "").map_err(|e| ScenarioErrors::one(e.path, e.message))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Parses and validates a scenario given as an already-parsed JSON value.
    pub fn from_value(value: Value) -> Result<Scenario, ScenarioErrors> {
        Scenario::from_json(&value.to_string())
    }

    /// The scenario as compact JSON, straight from the struct, so fields keep the order
    /// people read them in (name and title first).
    ///
    /// This is the one serialiser of the scenario in the program: the pretty form below
    /// lays this text out, and [`Scenario::to_value`] parses it back, because every other
    /// serialiser (`serde_json::to_value`, a pretty writer) would compile a second copy
    /// of the whole document's serialisation code into the browser bundle.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising it cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| panic!("a scenario always serialises"))
    }

    /// The scenario as `serde_json::to_string_pretty` would write it.
    pub fn to_json_pretty(&self) -> String {
        pretty_json(&self.to_json())
    }

    /// The scenario as a JSON value (whose objects sort their keys).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.to_json()).unwrap_or(Value::Null)
    }

    /// What validation allows but a reader should hear about, each with its JSON path:
    /// handlers that feed their own input (see `feedback`). Empty for a scenario that
    /// does not validate (its errors come first).
    pub fn warnings(&self) -> Vec<ScenarioError> {
        match self.validate() {
            Ok(()) => super::feedback::warnings(self),
            Err(_) => Vec::new(),
        }
    }

    /// Checks references and limits; on success the scenario compiles without errors.
    pub fn validate(&self) -> Result<(), ScenarioErrors> {
        let mut v = Validator::default();
        v.check(self);
        if v.errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioErrors(v.errors))
        }
    }
}

/// Deserialises a typed document from JSON text, naming the JSON path of the first
/// problem. The app's own documents are parsed here as a `Value` (then walked by
/// `super::reader`), so a syntax error names where it is.
///
/// serde_json reports where in the text it stopped; [`path_at`] turns that position
/// into a path by re-reading the text up to it.
pub fn typed_from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ScenarioErrors> {
    serde_json::from_str(text).map_err(|e| {
        let offset = byte_offset(text, e.line(), e.column());
        // serde_json's message ends with "at line L column C", which editors use.
        let message = e.to_string();
        let message = if e.is_syntax() || e.is_eof() { format!("not valid JSON: {message}") } else { message };
        ScenarioErrors::one(path_at(text, offset), message)
    })
}

/// The byte offset of a 1-based line and a column counted in bytes, as serde_json
/// reports them (the column is how many bytes of that line it had read).
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (start + column).min(text.len())
}

/// The JSON path (`workload[0].at_ms`) of the value being read at byte `offset` of
/// `text`. It re-reads the text up to there, tracking object keys and array indices;
/// a closing bracket just read belongs to the container it closes.
pub fn path_at(text: &str, offset: usize) -> String {
    enum Frame {
        Object { key: Option<String>, expecting_key: bool },
        Array { index: u64 },
    }
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut prefix = &text[..end];
    // The error concerns a container as a whole (a missing field, an early end).
    let closing = prefix.ends_with('}') || prefix.ends_with(']');
    if closing {
        prefix = &prefix[..prefix.len() - 1];
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut chars = prefix.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => stack.push(Frame::Object { key: None, expecting_key: true }),
            '[' => stack.push(Frame::Array { index: 0 }),
            '}' | ']' => {
                stack.pop();
            }
            ',' => match stack.last_mut() {
                Some(Frame::Object { key, expecting_key }) => {
                    *key = None;
                    *expecting_key = true;
                }
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            '"' => {
                let mut string = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (true, c) => {
                            string.push(c);
                            escaped = false;
                        }
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        (false, c) => string.push(c),
                    }
                }
                if let Some(Frame::Object { key, expecting_key }) = stack.last_mut() {
                    if *expecting_key {
                        *key = Some(string);
                        *expecting_key = false;
                    }
                }
            }
            _ => {}
        }
    }
    if closing {
        match stack.last_mut() {
            Some(Frame::Object { key, .. }) => *key = None,
            Some(Frame::Array { .. }) => {
                stack.pop();
            }
            None => {}
        }
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    path
}

#[derive(Default)]
struct Validator {
    errors: Vec<ScenarioError>,
}

impl Validator {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        // A pathological document could produce millions of errors; a hundred say enough.
        if self.errors.len() < 100 {
            self.errors.push(ScenarioError { path: path.into(), message: message.into() });
        }
    }

    fn name(&mut self, path: &str, name: &str) {
        if name.is_empty() || name.chars().count() > NAME_CHARS_MAX {
            self.err(path, format!("must be 1 to {NAME_CHARS_MAX} characters"));
        } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            self.err(path, "may use only letters, digits, '-', '_' and '.'");
        }
    }

    fn count(&mut self, path: &str, len: usize, max: usize) {
        if len > max {
            self.err(path, format!("has {len} entries; the limit is {max}"));
        }
    }

    fn at_most(&mut self, path: &str, value: u64, max: u64) {
        if value > max {
            self.err(path, format!("is {value}; the limit is {max}"));
        }
    }

    fn unique<'a>(&mut self, what: &str, names: impl Iterator<Item = &'a str>) {
        let mut seen = BTreeMap::new();
        for (i, n) in names.enumerate() {
            if let Some(first) = seen.insert(n, i) {
                self.err(format!("{what}[{i}].name"), format!("'{n}' is already used by {what}[{first}]"));
            }
        }
    }

    fn template(&mut self, path: &str, text: &str, allowed: Placeholders) {
        if let Err(e) = Template::parse(text, allowed) {
            self.err(path, e);
        }
    }

    fn expr(&mut self, path: &str, expr: &ExprSpec) {
        if let Err(e) = Expr::compile(expr) {
            self.err(path, e);
        }
    }

    fn event_type(&mut self, path: &str, t: &str) {
        if t.is_empty() || t.len() > 128 {
            self.err(path, "event type must be 1 to 128 characters");
        }
    }

    fn check(&mut self, s: &Scenario) {
        self.name("name", &s.name);
        if s.title.len() > 200 {
            self.err("title", "must be at most 200 characters");
        }
        if s.description.len() > 20_000 {
            self.err("description", "must be at most 20000 characters");
        }
        if s.steps_max == 0 {
            self.err("steps_max", "must be at least 1");
        }
        self.at_most("steps_max", s.steps_max, STEPS_MAX_LIMIT);
        self.at_most("publish_latency_ms", s.publish_latency_ms, DURATION_MS_MAX);
        self.count("topics", s.topics.len(), NAMES_MAX);
        self.count("services", s.services.len(), NAMES_MAX);
        self.count("subscriptions", s.subscriptions.len(), SUBSCRIPTIONS_MAX);
        self.count("workload", s.workload.len(), WORKLOAD_ITEMS_MAX);
        self.count("conserved", s.conserved.len(), 16);
        if !self.errors.is_empty() {
            return; // counts out of bounds: don't walk a huge document
        }
        self.unique("topics", s.topics.iter().map(|t| t.name.as_str()));
        self.unique("services", s.services.iter().map(|t| t.name.as_str()));
        self.unique("subscriptions", s.subscriptions.iter().map(|t| t.name.as_str()));
        let topic = |n: &str| s.topics.iter().any(|t| t.name == n);
        let service = |n: &str| s.services.iter().any(|t| t.name == n);

        for (i, t) in s.topics.iter().enumerate() {
            self.name(&format!("topics[{i}].name"), &t.name);
        }
        for (i, svc) in s.services.iter().enumerate() {
            let p = format!("services[{i}]");
            self.name(&format!("{p}.name"), &svc.name);
            self.count(&format!("{p}.state"), svc.state.len(), STATE_ENTRIES_MAX);
            self.count(&format!("{p}.handlers"), svc.handlers.len(), HANDLERS_MAX);
            let mut seen_types = BTreeMap::new();
            for (j, h) in svc.handlers.iter().take(HANDLERS_MAX).enumerate() {
                let p = format!("{p}.handlers[{j}]");
                self.event_type(&format!("{p}.on"), &h.on);
                if let Some(first) = seen_types.insert(h.on.as_str(), j) {
                    self.err(format!("{p}.on"), format!("'{}' is already handled by handlers[{first}]", h.on));
                }
                self.at_most(&format!("{p}.processing_ms"), h.processing_ms, DURATION_MS_MAX);
                for (list, len) in [
                    ("require", h.require.len()),
                    ("effects", h.effects.len()),
                    ("emit", h.emit.len()),
                    ("otherwise", h.otherwise.len()),
                ] {
                    self.count(&format!("{p}.{list}"), len, ACTIONS_MAX);
                }
                for (k, r) in h.require.iter().take(ACTIONS_MAX).enumerate() {
                    self.template(&format!("{p}.require[{k}].key"), &r.key, Placeholders::EVENT);
                    self.expr(&format!("{p}.require[{k}].at_least"), &r.at_least);
                }
                for (k, e) in h.effects.iter().take(ACTIONS_MAX).enumerate() {
                    self.template(&format!("{p}.effects[{k}].key"), &e.key, Placeholders::EVENT);
                    self.expr(&format!("{p}.effects[{k}].add"), &e.add);
                }
                for (list, emits) in [("emit", &h.emit), ("otherwise", &h.otherwise)] {
                    for (k, e) in emits.iter().take(ACTIONS_MAX).enumerate() {
                        let p = format!("{p}.{list}[{k}]");
                        if !topic(&e.topic) {
                            self.err(format!("{p}.topic"), format!("no topic named '{}'", e.topic));
                        }
                        self.event_type(&format!("{p}.type"), &e.event_type);
                        if let Some(subject) = &e.subject {
                            self.template(&format!("{p}.subject"), subject, Placeholders::EVENT);
                        }
                        if let Some(data) = &e.data {
                            self.data(&format!("{p}.data"), data, Placeholders::EVENT);
                        }
                    }
                }
            }
        }
        for (i, svc) in s.services.iter().enumerate() {
            let p = format!("services[{i}]");
            for (j, h) in svc.handlers.iter().take(HANDLERS_MAX).enumerate() {
                let hp = format!("{p}.handlers[{j}]");
                if svc.event_store.is_some() {
                    if !h.effects.is_empty() {
                        self.err(format!("{hp}.effects"), "an event-sourced service changes state only by recording events: use \"record\" and the store's \"apply\"");
                    }
                } else if !h.record.is_empty() || h.stream.is_some() {
                    self.err(
                        format!("{hp}.record"),
                        "only an event-sourced service (with \"event_store\") can record events",
                    );
                }
                if let Some(stream) = &h.stream {
                    self.template(&format!("{hp}.stream"), stream, Placeholders::EVENT);
                }
                self.count(&format!("{hp}.record"), h.record.len(), ACTIONS_MAX);
                for (k, r) in h.record.iter().take(ACTIONS_MAX).enumerate() {
                    let rp = format!("{hp}.record[{k}]");
                    self.event_type(&format!("{rp}.type"), &r.event_type);
                    if let Some(t) = &r.topic {
                        if !topic(t) {
                            self.err(format!("{rp}.topic"), format!("no topic named '{t}'"));
                        }
                    }
                    if let Some(data) = &r.data {
                        self.data(&format!("{rp}.data"), data, Placeholders::EVENT);
                    }
                }
            }
            if let Some(store) = &svc.event_store {
                let sp = format!("{p}.event_store");
                self.apply_specs(&format!("{sp}.apply"), &store.apply);
                self.count(&format!("{sp}.upcasters"), store.upcasters.len(), ACTIONS_MAX);
                self.count(&format!("{sp}.history"), store.history.len(), 10_000);
                if store.schema_version == 0 || store.schema_version > 100 {
                    self.err(format!("{sp}.schema_version"), "must be 1 to 100");
                }
                for (k, h) in store.history.iter().take(10_000).enumerate() {
                    self.name(&format!("{sp}.history[{k}].stream"), &h.stream);
                    self.event_type(&format!("{sp}.history[{k}].type"), &h.event_type);
                    if h.schema_version == 0 || h.schema_version > 100 {
                        self.err(format!("{sp}.history[{k}].schema_version"), "must be 1 to 100");
                    }
                }
            }
        }
        self.count("projections", s.projections.len(), NAMES_MAX);
        self.unique("projections", s.projections.iter().take(NAMES_MAX).map(|p| p.name.as_str()));
        for (i, proj) in s.projections.iter().take(NAMES_MAX).enumerate() {
            let p = format!("projections[{i}]");
            self.name(&format!("{p}.name"), &proj.name);
            match s.services.iter().find(|x| x.name == proj.store) {
                None => self.err(format!("{p}.store"), format!("no service named '{}'", proj.store)),
                Some(x) if x.event_store.is_none() => self.err(
                    format!("{p}.store"),
                    format!("'{}' is not event-sourced (it has no event_store)", proj.store),
                ),
                _ => {}
            }
            self.at_most(&format!("{p}.processing_ms"), proj.processing_ms, DURATION_MS_MAX);
            self.apply_specs(&format!("{p}.apply"), &proj.apply);
        }
        self.count("sagas", s.sagas.len(), 16);
        self.unique("sagas", s.sagas.iter().take(16).map(|x| x.name.as_str()));
        for (i, saga) in s.sagas.iter().take(16).enumerate() {
            let p = format!("sagas[{i}]");
            self.name(&format!("{p}.name"), &saga.name);
            match s.services.iter().find(|x| x.name == saga.coordinator) {
                None => self.err(format!("{p}.coordinator"), format!("no service named '{}'", saga.coordinator)),
                Some(x) if x.event_store.is_some() || !x.handlers.is_empty() => self.err(
                    format!("{p}.coordinator"),
                    format!("'{}' must do nothing but coordinate (no handlers, no event_store)", saga.coordinator),
                ),
                _ => {}
            }
            if s.sagas[..i].iter().any(|o| o.coordinator == saga.coordinator) {
                self.err(format!("{p}.coordinator"), "a service coordinates at most one saga");
            }
            self.event_type(&format!("{p}.start_on"), &saga.start_on);
            self.at_most(&format!("{p}.processing_ms"), saga.processing_ms, DURATION_MS_MAX);
            if saga.steps.is_empty() || saga.steps.len() > ACTIONS_MAX {
                self.err(format!("{p}.steps"), format!("must have 1 to {ACTIONS_MAX} steps"));
            }
            let pivot = saga.pivot.as_ref().map(|name| saga.steps.iter().position(|st| &st.name == name));
            if let Some(None) = pivot {
                self.err(format!("{p}.pivot"), "no step by that name");
            }
            let pivot = pivot.flatten();
            for (j, step) in saga.steps.iter().take(ACTIONS_MAX).enumerate() {
                let sp = format!("{p}.steps[{j}]");
                self.name(&format!("{sp}.name"), &step.name);
                self.emit_spec(&format!("{sp}.action"), &step.action, &topic);
                self.event_type(&format!("{sp}.success"), &step.success);
                self.event_type(&format!("{sp}.failure"), &step.failure);
                if step.compensation.is_some() != step.compensated.is_some() {
                    self.err(
                        format!("{sp}.compensation"),
                        "give both \"compensation\" and \"compensated\", or neither",
                    );
                }
                if let Some(c) = &step.compensation {
                    self.emit_spec(&format!("{sp}.compensation"), c, &topic);
                    if pivot.is_some_and(|pv| j > pv) {
                        self.err(format!("{sp}.compensation"), "steps after the pivot cannot be compensated");
                    }
                }
            }
            for (field, e) in [("on_completed", &saga.on_completed), ("on_aborted", &saga.on_aborted)] {
                if let Some(e) = e {
                    self.emit_spec(&format!("{p}.{field}"), e, &topic);
                }
            }
        }
        for (i, sub) in s.subscriptions.iter().enumerate() {
            let p = format!("subscriptions[{i}]");
            self.name(&format!("{p}.name"), &sub.name);
            if !topic(&sub.topic) {
                self.err(format!("{p}.topic"), format!("no topic named '{}'", sub.topic));
            }
            if !service(&sub.service) {
                self.err(format!("{p}.service"), format!("no service named '{}'", sub.service));
            }
            let r = &sub.retry;
            if r.attempts_max == 0 || r.attempts_max > ATTEMPTS_MAX_LIMIT {
                self.err(
                    format!("{p}.retry.attempts_max"),
                    format!("must be 1 to {ATTEMPTS_MAX_LIMIT} (it counts the first attempt)"),
                );
            }
            self.at_most(&format!("{p}.retry.backoff_initial_ms"), r.backoff_initial_ms, DURATION_MS_MAX);
            self.at_most(&format!("{p}.retry.backoff_max_ms"), r.backoff_max_ms, DURATION_MS_MAX);
            if !(100..=1_000).contains(&r.backoff_multiplier_percent) {
                self.err(
                    format!("{p}.retry.backoff_multiplier_percent"),
                    "must be 100 to 1000 (100 keeps the backoff constant)",
                );
            }
            self.at_most(&format!("{p}.retry.jitter_per_mille"), u64::from(r.jitter_per_mille), 1_000);
            if sub.capacity == 0 || sub.capacity > CAPACITY_MAX {
                self.err(format!("{p}.capacity"), format!("must be 1 to {CAPACITY_MAX}"));
            }
            if sub.ack_timeout_ms == 0 {
                self.err(format!("{p}.ack_timeout_ms"), "must be at least 1");
            }
            self.at_most(&format!("{p}.ack_timeout_ms"), sub.ack_timeout_ms, DURATION_MS_MAX);
            if let Some(ttl) = sub.ttl_ms {
                self.at_most(&format!("{p}.ttl_ms"), ttl, DURATION_MS_MAX);
            }
        }
        let mut messages: u64 = 0;
        for (i, w) in s.workload.iter().enumerate() {
            let p = format!("workload[{i}]");
            if !topic(&w.topic) {
                self.err(format!("{p}.topic"), format!("no topic named '{}'", w.topic));
            }
            self.at_most(&format!("{p}.at_ms"), w.at_ms, DURATION_MS_MAX);
            self.event_type(&format!("{p}.type"), &w.event_type);
            self.name(&format!("{p}.source"), &w.source);
            self.template(&format!("{p}.subject"), &w.subject, Placeholders::WORKLOAD);
            self.data(&format!("{p}.data"), &w.data, Placeholders::WORKLOAD);
            let count = w.repeat.as_ref().map_or(1, |r| u64::from(r.count));
            if let Some(r) = &w.repeat {
                if r.count == 0 {
                    self.err(format!("{p}.repeat.count"), "must be at least 1");
                }
                self.at_most(&format!("{p}.repeat.every_ms"), r.every_ms, DURATION_MS_MAX);
            }
            messages = messages.saturating_add(count);
        }
        if messages > WORKLOAD_MESSAGES_MAX {
            self.err("workload", format!("produces {messages} events; the limit is {WORKLOAD_MESSAGES_MAX}"));
        }
        for (i, c) in s.conserved.iter().enumerate() {
            let p = format!("conserved[{i}]");
            self.name(&format!("{p}.name"), &c.name);
            self.count(&format!("{p}.accounts"), c.accounts.len(), ACTIONS_MAX);
            self.count(&format!("{p}.in_transit"), c.in_transit.len(), ACTIONS_MAX);
            for (j, a) in c.accounts.iter().enumerate() {
                if !service(&a.service) {
                    self.err(format!("{p}.accounts[{j}].service"), format!("no service named '{}'", a.service));
                }
            }
            for (j, t) in c.in_transit.iter().enumerate() {
                if !s.subscriptions.iter().any(|x| x.name == t.subscription) {
                    self.err(
                        format!("{p}.in_transit[{j}].subscription"),
                        format!("no subscription named '{}'", t.subscription),
                    );
                }
            }
        }
        if let Err(e) = s.faults.validate_against(s) {
            for mut one in e.0 {
                one.path = if one.path.is_empty() { "faults".into() } else { format!("faults.{}", one.path) };
                self.err(one.path, one.message);
            }
        }
        if s.faults.scripted.len() > SCRIPT_ENTRIES_MAX {
            self.err("faults.scripted", "too many entries");
        }
        // Loops are looked for once every name resolves.
        if self.errors.is_empty() {
            for e in super::feedback::refusals(s) {
                self.err(e.path, e.message);
            }
        }
    }

    fn emit_spec(&mut self, path: &str, e: &EmitSpec, topic: &dyn Fn(&str) -> bool) {
        if !topic(&e.topic) {
            self.err(format!("{path}.topic"), format!("no topic named '{}'", e.topic));
        }
        self.event_type(&format!("{path}.type"), &e.event_type);
        if let Some(subject) = &e.subject {
            self.template(&format!("{path}.subject"), subject, Placeholders::EVENT);
        }
        if let Some(data) = &e.data {
            self.data(&format!("{path}.data"), data, Placeholders::EVENT);
        }
    }

    fn apply_specs(&mut self, path: &str, apply: &[ApplySpec]) {
        self.count(path, apply.len(), HANDLERS_MAX);
        for (k, a) in apply.iter().take(HANDLERS_MAX).enumerate() {
            self.event_type(&format!("{path}[{k}].on"), &a.on);
            self.count(&format!("{path}[{k}].effects"), a.effects.len(), ACTIONS_MAX);
            for (m, e) in a.effects.iter().take(ACTIONS_MAX).enumerate() {
                self.template(&format!("{path}[{k}].effects[{m}].key"), &e.key, Placeholders::EVENT);
                self.expr(&format!("{path}[{k}].effects[{m}].add"), &e.add);
            }
        }
    }

    fn data(&mut self, path: &str, data: &BTreeMap<String, Value>, allowed: Placeholders) {
        if data.len() > 64 {
            self.err(path, "has more than 64 fields");
            return;
        }
        for (k, v) in data {
            if let Value::String(text) = v {
                self.template(&format!("{path}.{k}"), text, allowed);
            }
            if depth(v) > 8 {
                self.err(format!("{path}.{k}"), "is nested more than 8 levels deep");
            }
        }
    }
}

fn depth(v: &Value) -> u32 {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------
// Templates and expressions, compiled once so handlers do no parsing per event
// ---------------------------------------------------------------------------------

/// Which placeholders a template may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placeholders {
    event: bool,
    repetition: bool,
}

impl Placeholders {
    /// In handlers: `{subject}` and `{data.FIELD}` of the event being handled.
    pub const EVENT: Self = Self { event: true, repetition: false };
    /// In the workload: `{n}`, the repetition number.
    pub const WORKLOAD: Self = Self { event: false, repetition: true };
}

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Text(String),
    Subject,
    Field(String),
    Repetition,
}

/// A string with placeholders, such as `balance.{data.customer}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str, allowed: Placeholders) -> Result<Template, String> {
        if text.len() > 1_000 {
            return Err("is longer than 1000 characters".into());
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| format!("'{{' without a closing '}}' in \"{text}\""))?;
            let name = &after[..close];
            let part = match name {
                "subject" if allowed.event => Part::Subject,
                "n" if allowed.repetition => Part::Repetition,
                _ => match name.strip_prefix("data.") {
                    Some(field) if allowed.event && !field.is_empty() => Part::Field(field.to_string()),
                    _ => {
                        let known = if allowed.event { "{subject} or {data.FIELD}" } else { "{n}" };
                        return Err(format!("unknown placeholder {{{name}}}; use {known}"));
                    }
                },
            };
            parts.push(part);
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The single placeholder this template consists of, if it is exactly one.
    pub fn sole_placeholder(&self) -> Option<&Part> {
        match self.parts.as_slice() {
            [p] if !matches!(p, Part::Text(_)) => Some(p),
            _ => None,
        }
    }
}

/// A compiled integer expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(i64),
    Field { name: String, negate: bool },
}

impl Expr {
    pub fn compile(spec: &ExprSpec) -> Result<Expr, String> {
        match spec {
            ExprSpec::Literal(n) => Ok(Expr::Literal(*n)),
            ExprSpec::Field(text) => {
                let (negate, body) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text.as_str()),
                };
                match body.strip_prefix("data.") {
                    Some(field) if !field.is_empty() && field.len() <= 64 => {
                        Ok(Expr::Field { name: field.to_string(), negate })
                    }
                    _ => Err(format!("\"{text}\" is not an integer, \"data.FIELD\" or \"-data.FIELD\"")),
                }
            }
        }
    }
}

/// Lays out compact JSON text (as `serde_json::to_string` writes it: no whitespace
/// outside strings) the way `serde_json::to_string_pretty` does: two spaces per level,
/// one member or element per line, `": "` after keys, and `{}` or `[]` when empty.
fn pretty_json(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut chars = compact.chars().peekable();
    let (mut in_string, mut escaped) = (false, false);
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

/// Two scenarios are equal when their documents are: compared through the one
/// serialiser ([`Scenario::to_json`]), so the browser bundle carries no field-by-field
/// comparison of the whole document. The same scenario object compares without
/// serialising.
impl PartialEq for Scenario {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.to_json() == other.to_json()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pretty_form_is_serde_json_s() {
        for name in super::BUILTINS.iter().map(|(n, _)| *n) {
            let s = super::builtin(name).unwrap();
            assert_eq!(s.to_json_pretty(), serde_json::to_string_pretty(&s).unwrap(), "{name}");
            assert_eq!(s.to_value(), serde_json::to_value(&s).unwrap(), "{name}");
        }
        let tricky = serde_json::json!({"a": "q\"{[,:]}\\", "b": [], "c": {}, "d": [{}, [1, {"e": null}]]});
        assert_eq!(super::pretty_json(&tricky.to_string()), serde_json::to_string_pretty(&tricky).unwrap());
    }

    use super::*;

    #[test]
    fn every_builtin_parses_and_is_listed_in_the_catalog() {
        let names: Vec<&str> = builtin_names().collect();
        let listed: Vec<&str> = catalog().iter().map(|s| s.name).collect();
        assert_eq!(names, listed);
        for name in names {
            let s = builtin(name).unwrap();
            assert_eq!(s.name, name);
        }
    }

    #[test]
    fn errors_name_their_path() {
        let mut s = builtin("checkout").unwrap();
        s.subscriptions[1].topic = "nowhere".into();
        let errors = s.validate().unwrap_err();
        assert!(
            errors.0.iter().any(|e| e.path == "subscriptions[1].topic" && e.message.contains("nowhere")),
            "{errors}"
        );

        let text =
            r#"{"name":"x","title":"t","topics":[],"services":[],"subscriptions":[],"workload":[{"at_ms":"soon"}]}"#;
        let errors = Scenario::from_json(text).unwrap_err();
        assert!(errors.0[0].path.starts_with("workload[0]"), "{errors}");
    }

    #[test]
    fn paths_point_at_the_value_being_read() {
        let text = "{\"a\": [1, {\"b\": \"x\"}], \"c\": {\"d\": \"q\\\"uoted\", \"e\": 3}}";
        let at = |needle: &str| path_at(text, text.find(needle).unwrap() + needle.len());
        assert_eq!(at("\"x\""), "a[1].b");
        assert_eq!(at("1"), "a[0]");
        assert_eq!(at("uoted\""), "c.d");
        assert_eq!(at("3"), "c.e");
        assert_eq!(at("3}"), "c", "a closing brace concerns its whole object");
        assert_eq!(path_at("{\"multi\":\n [true,\n  5]}", 19), "multi[1]");
    }

    #[test]
    fn templates_parse_and_reject_unknown_placeholders() {
        let t = Template::parse("balance.{data.customer}", Placeholders::EVENT).unwrap();
        assert_eq!(t.parts, vec![Part::Text("balance.".into()), Part::Field("customer".into())]);
        assert!(Template::parse("order-{n}", Placeholders::EVENT).is_err());
        assert!(Template::parse("order-{n", Placeholders::WORKLOAD).is_err());
        assert!(Template::parse("x{subject}", Placeholders::WORKLOAD).is_err());
    }

    #[test]
    fn backoff_grows_and_caps() {
        let r = RetryPolicy {
            attempts_max: 5,
            backoff_initial_ms: 100,
            backoff_multiplier_percent: 200,
            backoff_max_ms: 500,
            jitter_per_mille: 0,
        };
        assert_eq!([r.backoff_ms(1), r.backoff_ms(2), r.backoff_ms(3), r.backoff_ms(4)], [100, 200, 400, 500]);
        assert_eq!(r.backoff_ms(90), 500);
    }
}
