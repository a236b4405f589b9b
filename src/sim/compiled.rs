//! A validated scenario compiled into the engine's index-based form.
//!
//! Names become `u32` indices, templates and expressions are parsed once, and the
//! anti-pattern switches are folded in. The compiled form is immutable for the whole
//! run, so snapshots of the mutable world never copy it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::anti_pattern::AntiPattern;
use super::envelope::EventKind;
use super::fault::{FaultRule, Verdict};
use super::hash::Fnv1a;
use super::scenario::{
    ApplySpec, Delivery, EmitSpec, Expr, ExprSpec, Ordering, Part, Placeholders, RecordSpec, RetryPolicy, Scenario,
    ScenarioErrors, Template,
};
use super::store::Upcaster;
use super::time::Millis;
use super::trace::{ServiceId, SubId, TopicId};

#[derive(Clone, Debug)]
pub struct Compiled {
    pub scenario: Scenario,
    pub seed: u64,
    pub anti_patterns: Vec<AntiPattern>,
    pub topics: Vec<CompiledTopic>,
    pub services: Vec<CompiledService>,
    pub subs: Vec<CompiledSub>,
    pub workload: Vec<CompiledWorkload>,
    pub quantities: Vec<CompiledQuantity>,
    pub rules: Vec<CompiledRule>,
    pub correlation_ids: bool,
    pub fat_events: bool,
    pub key_order_enforced: bool,
    pub outbox: bool,
    /// False under the "no schema versioning" anti-pattern: old events are read raw.
    pub upcasting: bool,
    pub projections: Vec<CompiledProjection>,
    pub sagas: Vec<CompiledSaga>,
    pub events_as_commands: bool,
    /// Under synchronous processing: extra milliseconds a handler of (service, event
    /// type) waits for the handlers downstream of what it emits.
    pub sync_wait_ms: BTreeMap<(ServiceId, String), Millis>,
}

#[derive(Clone, Debug)]
pub struct CompiledSaga {
    pub name: String,
    pub coordinator: ServiceId,
    pub start_on: String,
    pub processing_ms: Millis,
    pub steps: Vec<CompiledSagaStep>,
    pub pivot: Option<u32>,
    pub on_completed: Option<CompiledEmit>,
    pub on_aborted: Option<CompiledEmit>,
}

#[derive(Clone, Debug)]
pub struct CompiledSagaStep {
    pub name: String,
    pub action: CompiledEmit,
    pub success: String,
    pub failure: String,
    pub compensation: Option<CompiledEmit>,
    pub compensated: Option<String>,
}

impl CompiledSaga {
    /// Whether the coordinator reacts to this event type.
    pub fn handles(&self, event_type: &str) -> bool {
        self.start_on == event_type
            || self.steps.iter().any(|s| {
                s.success == event_type || s.failure == event_type || s.compensated.as_deref() == Some(event_type)
            })
    }
}

/// The stream that holds a saga instance's events in the coordinator's store.
pub fn saga_stream(instance: &str) -> String {
    format!("saga.{instance}")
}

/// The fold rules of a store or projection: per event type, the counters it changes.
pub type FoldRules = BTreeMap<String, Vec<(Template, Expr)>>;

#[derive(Clone, Debug)]
pub struct CompiledStore {
    pub snapshot_every: u32,
    pub apply: FoldRules,
    pub upcasters: Vec<Upcaster>,
    pub schema_version: u32,
}

#[derive(Clone, Debug)]
pub struct CompiledRecord {
    pub event_type: String,
    pub kind: EventKind,
    pub topic: Option<TopicId>,
    pub data: Option<Vec<(String, DataTemplate)>>,
}

#[derive(Clone, Debug)]
pub struct CompiledProjection {
    pub name: String,
    pub store: ServiceId,
    pub processing_ms: Millis,
    pub apply: FoldRules,
}

#[derive(Clone, Debug)]
pub struct CompiledTopic {
    pub name: String,
    pub subs: Vec<SubId>,
}

#[derive(Clone, Debug)]
pub struct CompiledService {
    pub name: String,
    pub handlers: BTreeMap<String, CompiledHandler>,
    pub subs: Vec<SubId>,
    pub store: Option<CompiledStore>,
    /// Index into `Compiled::sagas` if the service coordinates a saga.
    pub saga: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct CompiledHandler {
    pub processing_ms: Millis,
    pub require: Vec<(Template, Expr)>,
    pub effects: Vec<(Template, Expr)>,
    pub emit: Vec<CompiledEmit>,
    pub otherwise: Vec<CompiledEmit>,
    pub reject_malformed: bool,
    pub stream: Option<Template>,
    pub record: Vec<CompiledRecord>,
}

#[derive(Clone, Debug)]
pub struct CompiledEmit {
    pub topic: TopicId,
    pub event_type: String,
    pub kind: EventKind,
    pub subject: Option<Template>,
    pub data: Option<Vec<(String, DataTemplate)>>,
    pub compensation: bool,
}

#[derive(Clone, Debug)]
pub enum DataTemplate {
    Literal(Value),
    Template(Template),
}

#[derive(Clone, Debug)]
pub struct CompiledSub {
    pub name: String,
    pub topic: TopicId,
    pub service: ServiceId,
    pub delivery: Delivery,
    pub retry: RetryPolicy,
    pub dlq: bool,
    pub capacity: u32,
    pub ordered: bool,
    pub ack_timeout_ms: Millis,
    pub ttl_ms: Option<Millis>,
}

#[derive(Clone, Debug)]
pub struct CompiledWorkload {
    pub at_ms: Millis,
    pub topic: TopicId,
    pub event_type: String,
    pub kind: EventKind,
    pub source: String,
    pub subject: Template,
    pub data: Vec<(String, DataTemplate)>,
    pub count: u32,
    pub every_ms: Millis,
}

#[derive(Clone, Debug)]
pub struct CompiledQuantity {
    pub name: String,
    pub accounts: Vec<(ServiceId, String)>,
    pub carriers: Vec<Carrier>,
}

/// Events of `event_type` carry `field` (negated for refunds) until `sub` applies them.
#[derive(Clone, Debug)]
pub struct Carrier {
    pub event_type: String,
    pub field: String,
    pub negate: bool,
    pub sub: SubId,
}

#[derive(Clone, Debug)]
pub struct CompiledRule {
    pub event_type: Option<String>,
    pub sub: Option<SubId>,
    pub service: Option<ServiceId>,
    pub verdict: Verdict,
    pub per_mille: u32,
}

fn template(text: &str, allowed: Placeholders) -> Template {
    // Validation ran first and parsed every template, so this cannot fail.
    Template::parse(text, allowed).unwrap_or(Template { parts: vec![Part::Text(text.to_string())] })
}

/// A state key (a template over the event) with the expression computed for it.
/// Validation has already checked the expression, so a failure here cannot happen.
fn keyed_expr(key: &str, expr: &ExprSpec) -> (Template, Expr) {
    (template(key, Placeholders::EVENT), Expr::compile(expr).unwrap_or(Expr::Literal(0)))
}

fn fold_rules(apply: &[ApplySpec]) -> FoldRules {
    // Built by `extend`, not `collect`, which would sort (see `sorting`).
    let mut rules = FoldRules::new();
    rules.extend(apply.iter().map(|a| {
        let effects = a.effects.iter().map(|e| keyed_expr(&e.key, &e.add)).collect();
        (a.on.clone(), effects)
    }));
    rules
}

/// A service's handlers by event type, built by `extend`: `collect` would sort (see
/// `sorting`).
fn handlers(entries: impl Iterator<Item = (String, CompiledHandler)>) -> BTreeMap<String, CompiledHandler> {
    let mut handlers = BTreeMap::new();
    handlers.extend(entries);
    handlers
}

fn data_templates(data: &BTreeMap<String, Value>, allowed: Placeholders) -> Vec<(String, DataTemplate)> {
    data.iter()
        .map(|(k, v)| {
            let t = match v {
                Value::String(s) if s.contains('{') => DataTemplate::Template(template(s, allowed)),
                other => DataTemplate::Literal(other.clone()),
            };
            (k.clone(), t)
        })
        .collect()
}

impl Compiled {
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        anti_patterns: &[AntiPattern],
        rules: &[FaultRule],
    ) -> Result<Compiled, ScenarioErrors> {
        let mut scenario = scenario.clone();
        let mut anti: Vec<AntiPattern> = anti_patterns.to_vec();
        super::sorting::sort(&mut anti);
        anti.dedup();
        for a in &anti {
            a.apply_to(&mut scenario);
        }
        scenario.validate()?;
        let s = &scenario;
        let topic_id = |n: &str| TopicId(s.topics.iter().position(|t| t.name == n).unwrap_or(0) as u32);
        let service_id = |n: &str| ServiceId(s.services.iter().position(|t| t.name == n).unwrap_or(0) as u32);
        let sub_id = |n: &str| SubId(s.subscriptions.iter().position(|t| t.name == n).unwrap_or(0) as u32);

        let mut topics: Vec<CompiledTopic> =
            s.topics.iter().map(|t| CompiledTopic { name: t.name.clone(), subs: Vec::new() }).collect();
        let subs: Vec<CompiledSub> = s
            .subscriptions
            .iter()
            .map(|x| CompiledSub {
                name: x.name.clone(),
                topic: topic_id(&x.topic),
                service: service_id(&x.service),
                delivery: x.delivery,
                retry: x.retry.clone(),
                dlq: x.dlq,
                capacity: x.capacity,
                ordered: x.ordering == Ordering::PerKey,
                ack_timeout_ms: x.ack_timeout_ms,
                ttl_ms: x.ttl_ms,
            })
            .collect();
        for (i, sub) in subs.iter().enumerate() {
            topics[sub.topic.0 as usize].subs.push(SubId(i as u32));
        }
        let compile_emit = |e: &EmitSpec| CompiledEmit {
            topic: topic_id(&e.topic),
            event_type: e.event_type.clone(),
            kind: e.kind,
            subject: e.subject.as_deref().map(|t| template(t, Placeholders::EVENT)),
            data: e.data.as_ref().map(|d| data_templates(d, Placeholders::EVENT)),
            compensation: e.compensation,
        };
        let services: Vec<CompiledService> = s
            .services
            .iter()
            .enumerate()
            .map(|(i, svc)| CompiledService {
                name: svc.name.clone(),
                handlers: handlers(svc.handlers.iter().map(|h| {
                    let compiled = CompiledHandler {
                        processing_ms: h.processing_ms,
                        require: h.require.iter().map(|r| keyed_expr(&r.key, &r.at_least)).collect(),
                        effects: h.effects.iter().map(|e| keyed_expr(&e.key, &e.add)).collect(),
                        emit: h.emit.iter().map(compile_emit).collect(),
                        otherwise: h.otherwise.iter().map(compile_emit).collect(),
                        reject_malformed: h.reject_malformed,
                        stream: h.stream.as_deref().map(|t| template(t, Placeholders::EVENT)),
                        record: h
                            .record
                            .iter()
                            .map(|r: &RecordSpec| CompiledRecord {
                                event_type: r.event_type.clone(),
                                kind: r.kind,
                                topic: r.topic.as_deref().map(topic_id),
                                data: r.data.as_ref().map(|d| data_templates(d, Placeholders::EVENT)),
                            })
                            .collect(),
                    };
                    (h.on.clone(), compiled)
                })),
                subs: subs
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.service.0 as usize == i)
                    .map(|(j, _)| SubId(j as u32))
                    .collect(),
                saga: s.sagas.iter().position(|g| g.coordinator == svc.name).map(|g| g as u32),
                store: svc.event_store.as_ref().map(|st| CompiledStore {
                    snapshot_every: st.snapshot_every,
                    apply: fold_rules(&st.apply),
                    upcasters: st.upcasters.clone(),
                    schema_version: st.schema_version,
                }),
            })
            .collect();
        let sagas = s
            .sagas
            .iter()
            .map(|g| CompiledSaga {
                name: g.name.clone(),
                coordinator: service_id(&g.coordinator),
                start_on: g.start_on.clone(),
                processing_ms: g.processing_ms,
                steps: g
                    .steps
                    .iter()
                    .map(|st| CompiledSagaStep {
                        name: st.name.clone(),
                        action: compile_emit(&st.action),
                        success: st.success.clone(),
                        failure: st.failure.clone(),
                        compensation: st
                            .compensation
                            .as_ref()
                            .map(|c| CompiledEmit { compensation: true, ..compile_emit(c) }),
                        compensated: st.compensated.clone(),
                    })
                    .collect(),
                pivot: g.pivot.as_ref().and_then(|p| g.steps.iter().position(|st| &st.name == p)).map(|p| p as u32),
                on_completed: g.on_completed.as_ref().map(compile_emit),
                on_aborted: g.on_aborted.as_ref().map(compile_emit),
            })
            .collect();
        let projections = s
            .projections
            .iter()
            .map(|p| CompiledProjection {
                name: p.name.clone(),
                store: service_id(&p.store),
                processing_ms: p.processing_ms,
                apply: fold_rules(&p.apply),
            })
            .collect();
        let workload = s
            .workload
            .iter()
            .map(|w| CompiledWorkload {
                at_ms: w.at_ms,
                topic: topic_id(&w.topic),
                event_type: w.event_type.clone(),
                kind: w.kind,
                source: w.source.clone(),
                subject: template(&w.subject, Placeholders::WORKLOAD),
                data: data_templates(&w.data, Placeholders::WORKLOAD),
                count: w.repeat.as_ref().map_or(1, |r| r.count),
                every_ms: w.repeat.as_ref().map_or(0, |r| r.every_ms),
            })
            .collect();
        let quantities = s
            .conserved
            .iter()
            .map(|c| CompiledQuantity {
                name: c.name.clone(),
                accounts: c.accounts.iter().map(|a| (service_id(&a.service), a.key_prefix.clone())).collect(),
                carriers: c
                    .in_transit
                    .iter()
                    .map(|t| Carrier {
                        event_type: t.event_type.clone(),
                        field: t.field.trim_start_matches('-').to_string(),
                        negate: t.field.starts_with('-'),
                        sub: sub_id(&t.subscription),
                    })
                    .collect(),
            })
            .collect();
        let rules = rules
            .iter()
            .map(|r| CompiledRule {
                event_type: r.matcher.event_type.clone(),
                sub: r.matcher.subscription.as_deref().map(sub_id),
                service: r.matcher.service.as_deref().map(service_id),
                verdict: r.verdict,
                per_mille: r.per_mille.min(1000),
            })
            .collect();
        let sync_wait_ms = if anti.contains(&AntiPattern::SynchronousProcessing) {
            synchronous_waits(&services, &subs, &topics)
        } else {
            BTreeMap::new()
        };
        Ok(Compiled {
            events_as_commands: anti.contains(&AntiPattern::EventsAsCommands),
            sync_wait_ms,
            correlation_ids: !anti.contains(&AntiPattern::NoCorrelationId),
            fat_events: anti.contains(&AntiPattern::FatEvents),
            key_order_enforced: !anti.contains(&AntiPattern::UnorderedRetries),
            outbox: !anti.contains(&AntiPattern::NoOutbox),
            upcasting: !anti.contains(&AntiPattern::NoSchemaVersioning),
            projections,
            sagas,
            anti_patterns: anti,
            seed,
            topics,
            services,
            subs,
            workload,
            quantities,
            rules,
            scenario,
        })
    }

    pub fn service_by_name(&self, name: &str) -> Option<ServiceId> {
        self.services.iter().position(|s| s.name == name).map(|i| ServiceId(i as u32))
    }

    pub fn sub_by_name(&self, name: &str) -> Option<SubId> {
        self.subs.iter().position(|s| s.name == name).map(|i| SubId(i as u32))
    }

    /// The deterministic id of the `n`th repetition of workload item `item`.
    pub fn workload_event_id(&self, item: u32, n: u32) -> String {
        event_id(
            Fnv1a::default()
                .u64(self.seed)
                .str(&self.scenario.name)
                .str("workload")
                .u64(u64::from(item))
                .u64(u64::from(n))
                .finish(),
        )
    }
}

/// For every handler, the time it would wait if each event it emits were handled
/// synchronously by every subscriber, transitively (bounded depth, so cycles end).
fn synchronous_waits(
    services: &[CompiledService],
    subs: &[CompiledSub],
    topics: &[CompiledTopic],
) -> BTreeMap<(ServiceId, String), Millis> {
    fn downstream(
        services: &[CompiledService],
        subs: &[CompiledSub],
        topics: &[CompiledTopic],
        handler: &CompiledHandler,
        depth: u32,
    ) -> Millis {
        if depth > 8 {
            return 0;
        }
        let mut total: Millis = 0;
        let emitted = handler
            .emit
            .iter()
            .map(|e| (e.topic, e.event_type.as_str()))
            .chain(handler.record.iter().filter_map(|r| r.topic.map(|t| (t, r.event_type.as_str()))));
        for (topic, event_type) in emitted {
            for sub in &topics[topic.0 as usize].subs {
                let consumer = &services[subs[sub.0 as usize].service.0 as usize];
                if let Some(h) = consumer.handlers.get(event_type) {
                    total = total.saturating_add(h.processing_ms).saturating_add(downstream(
                        services,
                        subs,
                        topics,
                        h,
                        depth + 1,
                    ));
                }
            }
        }
        total
    }
    let mut waits = BTreeMap::new();
    for (i, service) in services.iter().enumerate() {
        for (event_type, handler) in &service.handlers {
            let wait = downstream(services, subs, topics, handler, 0);
            if wait > 0 {
                waits.insert((ServiceId(i as u32), event_type.clone()), wait);
            }
        }
    }
    waits
}

/// Formats a 64-bit fingerprint as an event id: `evt_` and 12 hex digits (48 bits,
/// so a run of a million events has about a 0.2% chance of any collision).
pub fn event_id(fingerprint: u64) -> String {
    format!("evt_{:012x}", fingerprint >> 16)
}
