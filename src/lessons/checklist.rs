//! The verification checklist of the curriculum, evaluated live for any run.
//!
//! Each item is green or red from the run's actual configuration and behaviour (not
//! from what the scenario claims), grey when it does not apply, and names the lesson
//! that explains it.

use crate::sim::scenario::Delivery;
use crate::sim::{AntiPattern, Invariant, Simulation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Item {
    EventsImmutableAndVersioned,
    ConsumersIdempotent,
    DlqForEveryConsumer,
    CorrelationIdsFlow,
    CompensationsDefined,
    SchemaEvolution,
    Monitoring,
}

impl Item {
    pub const ALL: [Item; 7] = [
        Self::EventsImmutableAndVersioned,
        Self::ConsumersIdempotent,
        Self::DlqForEveryConsumer,
        Self::CorrelationIdsFlow,
        Self::CompensationsDefined,
        Self::SchemaEvolution,
        Self::Monitoring,
    ];

    /// The item as the curriculum words it.
    pub fn text(self) -> &'static str {
        match self {
            Self::EventsImmutableAndVersioned => "Events are immutable and versioned",
            Self::ConsumersIdempotent => "Consumers are idempotent",
            Self::DlqForEveryConsumer => "Dead letter queues configured for all consumers",
            Self::CorrelationIdsFlow => "Correlation IDs flow through entire event chain",
            Self::CompensationsDefined => "Compensating actions defined for each saga step",
            Self::SchemaEvolution => "Schema evolution strategy documented",
            Self::Monitoring => "Monitoring on consumer lag, DLQ depth, processing latency",
        }
    }

    /// The slug of the lesson that explains it.
    pub fn lesson(self) -> &'static str {
        match self {
            Self::EventsImmutableAndVersioned => "event-sourcing",
            Self::ConsumersIdempotent => "delivery-guarantees",
            Self::DlqForEveryConsumer => "poison-messages",
            Self::CorrelationIdsFlow => "correlation-ids",
            Self::CompensationsDefined => "orchestration",
            Self::SchemaEvolution => "schema-versioning",
            Self::Monitoring => "monitoring",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    NotApplicable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub item: Item,
    pub verdict: Verdict,
    /// Why, in one line, from this run.
    pub reason: String,
}

/// Alert thresholds of the monitoring item.
pub const LAG_MESSAGES_ALERT: u32 = 25;
pub const LATENCY_MS_ALERT: u64 = 2_000;

/// Evaluates every checklist item against the run as it stands now.
pub fn evaluate(sim: &Simulation) -> Vec<Status> {
    Item::ALL.iter().map(|item| evaluate_one(sim, *item)).collect()
}

fn status(item: Item, verdict: Verdict, reason: impl Into<String>) -> Status {
    Status { item, verdict, reason: reason.into() }
}

fn evaluate_one(sim: &Simulation, item: Item) -> Status {
    use Verdict::{Fail, NotApplicable, Pass};
    let scenario = sim.scenario();
    let checkers = sim.checkers();
    let anti = &sim.compiled().anti_patterns;
    match item {
        Item::EventsImmutableAndVersioned => {
            if anti.contains(&AntiPattern::NoSchemaVersioning) {
                status(item, Fail, "readers ignore the schema version of stored events")
            } else {
                status(
                    item,
                    Pass,
                    "every event carries its schema version in dataschema; nothing rewrites a published event",
                )
            }
        }
        Item::ConsumersIdempotent => {
            let careless: Vec<&str> = scenario
                .subscriptions
                .iter()
                .filter(|s| s.delivery != Delivery::ExactlyOnceEffect)
                .map(|s| s.name.as_str())
                .collect();
            let doubled = checkers.count(Invariant::ExactlyOnceEffect);
            if doubled > 0 {
                status(item, Fail, format!("{doubled} event(s) applied twice in this run"))
            } else if let Some(first) = careless.first() {
                status(
                    item,
                    Fail,
                    format!("{first} does not record processed ids ({} such consumer(s))", careless.len()),
                )
            } else {
                status(item, Pass, "every consumer stores processed ids with its effect")
            }
        }
        Item::DlqForEveryConsumer => match scenario.subscriptions.iter().find(|s| !s.dlq) {
            Some(s) => status(item, Fail, format!("{} has no dead-letter queue", s.name)),
            None => status(item, Pass, "every subscription has a dead-letter queue"),
        },
        Item::CorrelationIdsFlow => {
            let broken = checkers.count(Invariant::CorrelationFlows);
            if anti.contains(&AntiPattern::NoCorrelationId) || broken > 0 {
                status(item, Fail, format!("{broken} event(s) emitted without their cause's correlation id"))
            } else {
                status(item, Pass, "every emitted event carries its cause's correlation id")
            }
        }
        Item::CompensationsDefined => {
            if scenario.sagas.is_empty() {
                let chained = scenario
                    .services
                    .iter()
                    .flat_map(|s| s.handlers.iter())
                    .any(|h| h.emit.iter().chain(&h.otherwise).any(|e| e.compensation));
                return if chained {
                    status(item, Pass, "failure events trigger a compensation chain")
                } else {
                    status(item, NotApplicable, "no saga in this scenario")
                };
            }
            for saga in &scenario.sagas {
                let pivot = saga.pivot.as_ref().and_then(|p| saga.steps.iter().position(|s| &s.name == p));
                let last = pivot.unwrap_or(saga.steps.len());
                if let Some(step) = saga.steps.iter().take(last).find(|s| s.compensation.is_none()) {
                    return status(item, Fail, format!("step {} of saga {} cannot be undone", step.name, saga.name));
                }
            }
            status(item, Pass, "every step before the pivot has a compensation")
        }
        Item::SchemaEvolution => {
            let stores: Vec<_> = scenario.services.iter().filter_map(|s| s.event_store.as_ref()).collect();
            if stores.is_empty() {
                return status(item, NotApplicable, "no stored events in this scenario");
            }
            let unreadable = checkers.count(Invariant::ReadableHistory);
            let needs_upcasting =
                stores.iter().any(|st| st.history.iter().any(|h| h.schema_version < st.schema_version));
            let has_upcasters = stores.iter().any(|st| !st.upcasters.is_empty());
            if unreadable > 0 || anti.contains(&AntiPattern::NoSchemaVersioning) {
                status(item, Fail, format!("{unreadable} stored event(s) could not be read"))
            } else if needs_upcasting && !has_upcasters {
                status(item, Fail, "old schema versions are stored but no upcaster reads them")
            } else {
                status(item, Pass, "old versions are upcast on read; every reader sees the current schema")
            }
        }
        Item::Monitoring => {
            let subs = sim.subscription_views();
            if let Some(s) = subs.iter().find(|s| s.dlq_depth > 0) {
                return status(item, Fail, format!("alert: {} has {} dead letter(s)", s.name, s.dlq_depth));
            }
            if let Some(s) = subs.iter().find(|s| s.lag_messages > LAG_MESSAGES_ALERT) {
                return status(item, Fail, format!("alert: {} lags {} messages", s.name, s.lag_messages));
            }
            if let Some(s) = subs.iter().find(|s| s.latency_ms_max > LATENCY_MS_ALERT) {
                return status(
                    item,
                    Fail,
                    format!("alert: {} took {} ms to handle a message", s.name, s.latency_ms_max),
                );
            }
            status(item, Pass, "lag, DLQ depth and latency are watched and within their alert limits")
        }
    }
}
