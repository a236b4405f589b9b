//! Faults: what goes wrong, when, and where.
//!
//! A [`FaultScript`] has two parts, both plain data that travel with a run:
//!
//! * `rules` are standing, seeded rules checked each time the broker hands a message
//!   to a consumer. They are tried in order and the first verdict that is not
//!   [`Verdict::Pass`] wins; a rule fires with its `per_mille` probability, drawn
//!   from the run's one RNG, so the same seed fires the same rules.
//! * `scripted` entries are single interventions at a step or a simulated time: crash
//!   this service, duplicate that message, redrive a dead letter. A fault injected
//!   from the UI is appended here with the step it was injected at, which is what
//!   lets the run replay exactly.

use serde::Serialize;
use serde_json::Value;

use super::reader::{i64_of, invalid, join, string, u32_of, u64_of, variant, Obj, Read, ReadError};
use super::scenario::{Scenario, ScenarioError, ScenarioErrors, DURATION_MS_MAX};
use super::time::Millis;

pub const RULES_MAX: usize = 64;
pub const SCRIPT_ENTRIES_MAX: usize = 10_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FaultScript {
    pub rules: Vec<FaultRule>,
    pub scripted: Vec<ScriptedFault>,
}

/// One intervention and when it happens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScriptedFault {
    pub at: Trigger,
    pub fault: Fault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// As step number `n` (counting from 0): the step is the fault's application.
    Step(u64),
    /// When the simulated clock reaches this time.
    TimeMs(Millis),
}

/// A single intervention. Message faults name an event by its `id`; with a
/// `subscription` they touch only that subscription's copy. In JSON the variant is the
/// key: `{"crash_service": {"service": "payment", "restart_after_ms": 200}}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The service stops: in-flight work is lost (at-most-once) or redelivered later
    /// (at-least-once). It restarts by itself after `restart_after_ms`, if given.
    CrashService {
        service: String,
        restart_after_ms: Option<Millis>,
    },
    RestartService {
        service: String,
    },
    /// Every handling in the service takes `extra_ms` longer (0 restores it).
    SlowService {
        service: String,
        extra_ms: Millis,
    },
    /// The service's handlers fail with this probability (0 heals it).
    FailHandlers {
        service: String,
        per_mille: u32,
    },
    /// The service cannot reach the bus for `duration_ms`: no deliveries reach it and
    /// its acknowledgements and publications wait until the partition heals.
    PartitionService {
        service: String,
        duration_ms: Millis,
    },
    DropMessage {
        message: String,
        subscription: Option<String>,
    },
    DuplicateMessage {
        message: String,
        subscription: Option<String>,
    },
    DelayMessage {
        message: String,
        subscription: Option<String>,
        delay_ms: Millis,
    },
    /// Moves the message behind the next one in its queue.
    ReorderMessage {
        message: String,
        subscription: Option<String>,
    },
    /// Sets a state counter of a service, as an operator's correction would (a
    /// shipping service with no trucks left, say). Conserved totals move with it.
    SetState {
        service: String,
        key: String,
        value: i64,
    },
    /// Every handling of this event fails from now on, as with a malformed payload.
    PoisonMessage {
        message: String,
    },
    /// Operator action: send dead letters back to their queue (all of the
    /// subscription's, or the one named), keeping their death history.
    RedriveDeadLetters {
        subscription: String,
        message: Option<String>,
    },
    /// Operator action: clear a projection's read model and rebuild it from the first
    /// event in its store.
    RebuildProjection {
        projection: String,
    },
    /// Operator action: delete dead letters for good.
    DiscardDeadLetters {
        subscription: String,
        message: Option<String>,
    },
}

impl Fault {
    /// The kind of fault as a short verb phrase for lists and traces.
    pub fn label(&self) -> &'static str {
        match self {
            Self::CrashService { .. } => "crash",
            Self::RestartService { .. } => "restart",
            Self::SlowService { .. } => "slow down",
            Self::FailHandlers { .. } => "fail handlers",
            Self::PartitionService { .. } => "partition",
            Self::DropMessage { .. } => "drop",
            Self::DuplicateMessage { .. } => "duplicate",
            Self::DelayMessage { .. } => "delay",
            Self::ReorderMessage { .. } => "reorder",
            Self::SetState { .. } => "set state",
            Self::PoisonMessage { .. } => "poison",
            Self::RedriveDeadLetters { .. } => "redrive",
            Self::DiscardDeadLetters { .. } => "discard",
            Self::RebuildProjection { .. } => "rebuild",
        }
    }

    /// The service, subscription or message the fault is aimed at.
    pub fn target(&self) -> &str {
        match self {
            Self::CrashService { service, .. }
            | Self::RestartService { service }
            | Self::SlowService { service, .. }
            | Self::FailHandlers { service, .. }
            | Self::PartitionService { service, .. }
            | Self::SetState { service, .. } => service,
            Self::DropMessage { message, .. }
            | Self::DuplicateMessage { message, .. }
            | Self::DelayMessage { message, .. }
            | Self::ReorderMessage { message, .. }
            | Self::PoisonMessage { message } => message,
            Self::RedriveDeadLetters { subscription, .. } | Self::DiscardDeadLetters { subscription, .. } => {
                subscription
            }
            Self::RebuildProjection { projection } => projection,
        }
    }
}

// ---------------------------------------------------------------------------------
// Reading a fault
// ---------------------------------------------------------------------------------
//
// Read by hand from parsed JSON (see `super::reader`) rather than derived: serde's
// derive gives each of the fourteen variants its own visitor and field matcher. Here
// one table says which fields each variant has. The accepted JSON and the error
// messages are serde's ("unknown variant", "unknown field", "missing field", wrong
// types); a test compares them with the derive's.

/// The variants' names in JSON, in declaration order.
const FAULT_VARIANTS: &[&str] = &[
    "crash_service",
    "restart_service",
    "slow_service",
    "fail_handlers",
    "partition_service",
    "drop_message",
    "duplicate_message",
    "delay_message",
    "reorder_message",
    "set_state",
    "poison_message",
    "redrive_dead_letters",
    "rebuild_projection",
    "discard_dead_letters",
];

/// The fields of variant `v` (an index into `FAULT_VARIANTS`) as JSON names, in
/// declaration order, and the one among them that may be left out or null (an
/// `Option` in the enum), if any.
fn fault_fields(v: usize) -> (&'static [&'static str], Option<&'static str>) {
    match v {
        0 => (&["service", "restart_after_ms"], Some("restart_after_ms")),
        1 => (&["service"], None),
        2 => (&["service", "extra_ms"], None),
        3 => (&["service", "per_mille"], None),
        4 => (&["service", "duration_ms"], None),
        5 | 6 | 8 => (&["message", "subscription"], Some("subscription")),
        7 => (&["message", "subscription", "delay_ms"], Some("subscription")),
        9 => (&["service", "key", "value"], None),
        10 => (&["message"], None),
        12 => (&["projection"], None),
        _ => (&["subscription", "message"], Some("message")),
    }
}

impl Fault {
    /// Reads a fault written as `{"crash_service": {"service": "payment", …}}`.
    pub fn read(value: Value, path: &str) -> Read<Fault> {
        let map = match value {
            Value::Object(map) if map.len() == 1 => map,
            other => return Err(invalid(path, &other, "a map with one fault kind, as {\"crash_service\": {…}}")),
        };
        let Some((name, fields)) = map.into_iter().next() else {
            return Err(ReadError { path: path.to_string(), message: "no fault kind".into() });
        };
        let v = variant(Value::String(name.clone()), path, FAULT_VARIANTS)?;
        let (names, optional) = fault_fields(v);
        let mut o = Obj::new(fields, &join(path, &name), names)?;
        // Each field by its kind; the optional one may be missing or null.
        let text = |o: &mut Obj, key: &str| -> Read<Option<String>> {
            if !names.contains(&key) {
                Ok(None)
            } else if optional == Some(key) {
                o.opt(key, string)
            } else {
                o.get(key, string).map(Some)
            }
        };
        let service = text(&mut o, "service")?.unwrap_or_default();
        let message = text(&mut o, "message")?;
        let subscription = text(&mut o, "subscription")?;
        let projection = text(&mut o, "projection")?.unwrap_or_default();
        let key = text(&mut o, "key")?.unwrap_or_default();
        let ms = |o: &mut Obj, key: &str| -> Read<Millis> {
            if names.contains(&key) {
                o.get(key, u64_of)
            } else {
                Ok(0)
            }
        };
        Ok(match v {
            0 => Fault::CrashService { service, restart_after_ms: o.opt("restart_after_ms", u64_of)? },
            1 => Fault::RestartService { service },
            2 => Fault::SlowService { service, extra_ms: ms(&mut o, "extra_ms")? },
            3 => Fault::FailHandlers { service, per_mille: o.get("per_mille", u32_of)? },
            4 => Fault::PartitionService { service, duration_ms: ms(&mut o, "duration_ms")? },
            5 => Fault::DropMessage { message: message.unwrap_or_default(), subscription },
            6 => Fault::DuplicateMessage { message: message.unwrap_or_default(), subscription },
            7 => Fault::DelayMessage {
                message: message.unwrap_or_default(),
                subscription,
                delay_ms: ms(&mut o, "delay_ms")?,
            },
            8 => Fault::ReorderMessage { message: message.unwrap_or_default(), subscription },
            9 => Fault::SetState { service, key, value: o.get("value", i64_of)? },
            10 => Fault::PoisonMessage { message: message.unwrap_or_default() },
            11 => Fault::RedriveDeadLetters { subscription: subscription.unwrap_or_default(), message },
            12 => Fault::RebuildProjection { projection },
            _ => Fault::DiscardDeadLetters { subscription: subscription.unwrap_or_default(), message },
        })
    }
}

impl FaultScript {
    /// Reads a fault script from a parsed JSON value (see `super::reader`); validation
    /// against a scenario is separate ([`FaultScript::validate_against`]).
    pub fn read(value: Value, path: &str) -> Read<FaultScript> {
        let mut o = Obj::new(value, path, &["rules", "scripted"])?;
        Ok(FaultScript {
            rules: o.list_or_empty("rules", |value, path| {
                let mut o = Obj::new(value, path, &["matcher", "verdict", "per_mille"])?;
                Ok(FaultRule {
                    matcher: o.or("matcher", Matcher::default(), |value, path| {
                        let mut o = Obj::new(value, path, &["type", "subscription", "service"])?;
                        Ok(Matcher {
                            event_type: o.opt("type", string)?,
                            subscription: o.opt("subscription", string)?,
                            service: o.opt("service", string)?,
                        })
                    })?,
                    verdict: o.get("verdict", Verdict::read)?,
                    per_mille: o.get("per_mille", u32_of)?,
                })
            })?,
            scripted: o.list_or_empty("scripted", |value, path| {
                let mut o = Obj::new(value, path, &["at", "fault"])?;
                Ok(ScriptedFault {
                    at: o.get("at", |value, path| {
                        let mut o = Obj::new(value, path, &["step", "time_ms"])?;
                        match (o.opt("step", u64_of)?, o.opt("time_ms", u64_of)?) {
                            (Some(step), None) => Ok(Trigger::Step(step)),
                            (None, Some(ms)) => Ok(Trigger::TimeMs(ms)),
                            _ => Err(ReadError {
                                path: path.to_string(),
                                message: "expected exactly one of `step` or `time_ms`".into(),
                            }),
                        }
                    })?,
                    fault: o.get("fault", Fault::read)?,
                })
            })?,
        })
    }
}

impl Verdict {
    /// `"drop"`, or `{"delay": {"delay_ms": 50}}` for the verdicts with fields.
    fn read(value: Value, path: &str) -> Read<Verdict> {
        const UNIT: [Verdict; 6] =
            [Verdict::Pass, Verdict::Drop, Verdict::Duplicate, Verdict::Reorder, Verdict::Fail, Verdict::Random];
        const NAMES: &[&str] = &["pass", "drop", "duplicate", "delay", "reorder", "fail", "crash", "random"];
        if let Value::String(_) = value {
            let i = variant(value, path, &["pass", "drop", "duplicate", "reorder", "fail", "random"])?;
            return Ok(UNIT[i]);
        }
        let map = match value {
            Value::Object(map) if map.len() == 1 => map,
            other => return Err(invalid(path, &other, "a verdict, as \"drop\" or {\"delay\": {\"delay_ms\": 50}}")),
        };
        let Some((name, fields)) = map.into_iter().next() else {
            return Err(ReadError { path: path.to_string(), message: "no verdict".into() });
        };
        match variant(Value::String(name.clone()), path, NAMES)? {
            3 => {
                let mut o = Obj::new(fields, &join(path, &name), &["delay_ms"])?;
                Ok(Verdict::Delay { delay_ms: o.get("delay_ms", u64_of)? })
            }
            6 => {
                let mut o = Obj::new(fields, &join(path, &name), &["restart_after_ms"])?;
                Ok(Verdict::Crash { restart_after_ms: o.get("restart_after_ms", u64_of)? })
            }
            _ => Err(invalid(&join(path, &name), &fields, "a verdict without fields, as \"drop\"")),
        }
    }
}

/// A standing rule checked at each delivery.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRule {
    pub matcher: Matcher,
    pub verdict: Verdict,
    pub per_mille: u32,
}

/// Which deliveries a rule applies to; an empty field matches anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Matcher {
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub subscription: Option<String>,
    pub service: Option<String>,
}

/// What a rule does to the delivery it fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// Lost between broker and consumer.
    Drop,
    /// Delivered twice.
    Duplicate,
    Delay {
        delay_ms: Millis,
    },
    Reorder,
    /// This handling attempt fails.
    Fail,
    /// The consuming service crashes and restarts after `restart_after_ms`.
    Crash {
        restart_after_ms: Millis,
    },
    /// One of drop, duplicate, delay, reorder, fail or crash, chosen by the RNG: the
    /// "chaos" rule used by `explore --fault-rate`.
    Random,
}

impl FaultScript {
    /// A chaos script: every delivery suffers a random fault with this probability.
    pub fn random(per_mille: u32) -> Self {
        Self {
            rules: vec![FaultRule { matcher: Matcher::default(), verdict: Verdict::Random, per_mille }],
            scripted: Vec::new(),
        }
    }

    /// Both scripts' rules and entries, `self` first.
    pub fn merged(&self, other: &FaultScript) -> FaultScript {
        let mut rules = self.rules.clone();
        rules.extend(other.rules.iter().cloned());
        let mut scripted = self.scripted.clone();
        scripted.extend(other.scripted.iter().cloned());
        FaultScript { rules, scripted }
    }

    /// Checks limits and that every named service and subscription exists.
    pub fn validate_against(&self, scenario: &Scenario) -> Result<(), ScenarioErrors> {
        let mut errors = Vec::new();
        let mut err = |path: String, message: String| {
            if errors.len() < 100 {
                errors.push(ScenarioError { path, message });
            }
        };
        if self.rules.len() > RULES_MAX {
            err("rules".into(), format!("has {} rules; the limit is {RULES_MAX}", self.rules.len()));
        }
        if self.scripted.len() > SCRIPT_ENTRIES_MAX {
            err("scripted".into(), format!("has {} entries; the limit is {SCRIPT_ENTRIES_MAX}", self.scripted.len()));
        }
        let service = |n: &str| scenario.services.iter().any(|s| s.name == n);
        let subscription = |n: &str| scenario.subscriptions.iter().any(|s| s.name == n);
        // The engine adds durations to the clock; bounding them here, like the
        // scenario's own durations, keeps that arithmetic from overflowing.
        let too_long = |ms: Millis| (ms > DURATION_MS_MAX).then(|| format!("is {ms}; the limit is {DURATION_MS_MAX}"));
        for (i, r) in self.rules.iter().enumerate().take(RULES_MAX) {
            if r.per_mille > 1000 {
                err(format!("rules[{i}].per_mille"), "must be 0 to 1000".into());
            }
            let duration = match r.verdict {
                Verdict::Delay { delay_ms } => Some(("delay_ms", delay_ms)),
                Verdict::Crash { restart_after_ms } => Some(("restart_after_ms", restart_after_ms)),
                _ => None,
            };
            if let Some((field, message)) = duration.and_then(|(field, ms)| Some((field, too_long(ms)?))) {
                err(format!("rules[{i}].verdict.{field}"), message);
            }
            if let Some(s) = &r.matcher.service {
                if !service(s) {
                    err(format!("rules[{i}].matcher.service"), format!("no service named '{s}'"));
                }
            }
            if let Some(s) = &r.matcher.subscription {
                if !subscription(s) {
                    err(format!("rules[{i}].matcher.subscription"), format!("no subscription named '{s}'"));
                }
            }
        }
        for (i, e) in self.scripted.iter().enumerate().take(SCRIPT_ENTRIES_MAX) {
            let p = format!("scripted[{i}].fault");
            match &e.fault {
                Fault::CrashService { service: s, .. }
                | Fault::RestartService { service: s }
                | Fault::SlowService { service: s, .. }
                | Fault::FailHandlers { service: s, .. }
                | Fault::PartitionService { service: s, .. }
                | Fault::SetState { service: s, .. }
                    if !service(s) =>
                {
                    err(format!("{p}.service"), format!("no service named '{s}'"));
                }
                Fault::DropMessage { subscription: Some(s), .. }
                | Fault::DuplicateMessage { subscription: Some(s), .. }
                | Fault::DelayMessage { subscription: Some(s), .. }
                | Fault::ReorderMessage { subscription: Some(s), .. }
                | Fault::RedriveDeadLetters { subscription: s, .. }
                | Fault::DiscardDeadLetters { subscription: s, .. }
                    if !subscription(s) =>
                {
                    err(format!("{p}.subscription"), format!("no subscription named '{s}'"));
                }
                _ => {}
            }
            if let Fault::RebuildProjection { projection } = &e.fault {
                if !scenario.projections.iter().any(|p| &p.name == projection) {
                    err(format!("{p}.projection"), format!("no projection named '{projection}'"));
                }
            }
            if let Fault::SetState { key, .. } = &e.fault {
                if key.is_empty() || key.len() > 200 {
                    err(format!("{p}.key"), "must be 1 to 200 characters".into());
                }
            }
            if let Fault::FailHandlers { per_mille, .. } = &e.fault {
                if *per_mille > 1000 {
                    err(format!("{p}.per_mille"), "must be 0 to 1000".into());
                }
            }
            let duration = match &e.fault {
                Fault::CrashService { restart_after_ms: Some(ms), .. } => Some(("restart_after_ms", *ms)),
                Fault::SlowService { extra_ms, .. } => Some(("extra_ms", *extra_ms)),
                Fault::PartitionService { duration_ms, .. } => Some(("duration_ms", *duration_ms)),
                Fault::DelayMessage { delay_ms, .. } => Some(("delay_ms", *delay_ms)),
                _ => None,
            };
            if let Some((field, message)) = duration.and_then(|(field, ms)| Some((field, too_long(ms)?))) {
                err(format!("{p}.{field}"), message);
            }
            if let Trigger::TimeMs(ms) = e.at {
                if let Some(message) = too_long(ms) {
                    err(format!("scripted[{i}].at.time_ms"), message);
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioErrors(errors))
        }
    }

    /// Parses a fault script document and validates it against a scenario.
    pub fn from_json(text: &str, scenario: &Scenario) -> Result<FaultScript, ScenarioErrors> {
        let limit = super::scenario::SCENARIO_BYTES_MAX;
        if text.len() > limit {
            return Err(ScenarioErrors(vec![ScenarioError {
                path: String::new(),
                message: format!("fault script is {} bytes; the limit is {limit}", text.len()),
            }]));
        }
        let value: Value = super::scenario::typed_from_str(text)?;
        let script = FaultScript::read(value, "").map_err(|e| ScenarioErrors::one(e.path, e.message))?;
        script.validate_against(scenario)?;
        Ok(script)
    }

    /// Reads a fault script from a parsed JSON value and validates it against a scenario.
    pub fn from_value(value: serde_json::Value, scenario: &Scenario) -> Result<FaultScript, ScenarioErrors> {
        FaultScript::from_json(&value.to_string(), scenario)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::{Fault, Millis};

    /// `Fault` as serde's derive would read it: the hand-written reader must accept the
    /// same documents, build the same faults and fail with the same messages (serde_json
    /// adds the position, which the reader gives as a path instead).
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case", deny_unknown_fields)]
    enum Derived {
        CrashService { service: String, restart_after_ms: Option<Millis> },
        RestartService { service: String },
        SlowService { service: String, extra_ms: Millis },
        FailHandlers { service: String, per_mille: u32 },
        PartitionService { service: String, duration_ms: Millis },
        DropMessage { message: String, subscription: Option<String> },
        DuplicateMessage { message: String, subscription: Option<String> },
        DelayMessage { message: String, subscription: Option<String>, delay_ms: Millis },
        ReorderMessage { message: String, subscription: Option<String> },
        SetState { service: String, key: String, value: i64 },
        PoisonMessage { message: String },
        RedriveDeadLetters { subscription: String, message: Option<String> },
        RebuildProjection { projection: String },
        DiscardDeadLetters { subscription: String, message: Option<String> },
    }

    #[test]
    fn reads_faults_as_the_derived_reader_does() {
        let names = super::FAULT_VARIANTS;
        let values = [r#""s""#, "null", "7", "-3", "5000000000", "[]", "{}", "true"];
        let fields = ["service", "message", "subscription", "projection", "key", "restart_after_ms", "extra_ms"];
        let more = ["per_mille", "duration_ms", "delay_ms", "value", "nope"];
        let mut docs = vec!["{}".to_string(), r#""crash_service""#.into(), r#"{"nope": {}}"#.into()];
        for name in names {
            docs.push(format!(r#"{{"{name}": {{}}}}"#));
            docs.push(format!(r#"{{"{name}": 3}}"#));
            for field in fields.iter().chain(&more) {
                for value in values {
                    docs.push(format!(r#"{{"{name}": {{"{field}": {value}}}}}"#));
                }
            }
            // Every field the variant has, with a value of the right type.
            let (own, _) = super::fault_fields(names.iter().position(|n| n == name).unwrap());
            let full: Vec<String> = own
                .iter()
                .map(|f| {
                    let v = if ["service", "message", "subscription", "projection", "key"].contains(f) {
                        r#""x""#
                    } else {
                        "4"
                    };
                    format!(r#""{f}": {v}"#)
                })
                .collect();
            docs.push(format!(r#"{{"{name}": {{{}}}}}"#, full.join(", ")));
            docs.push(format!(r#"{{"{name}": {{{}, "{}": null}}}}"#, full.join(", "), own[0]));
            docs.push(format!(r#"{{"{name}": {{{}}}, "x": 1}}"#, full.join(", ")));
            if own.len() > 1 {
                docs.push(format!(r#"{{"{name}": {{{}}}}}"#, full[1..].join(", ")));
                docs.push(format!(r#"{{"{name}": {{{}, {}}}}}"#, full.join(", "), full[0]));
            }
        }
        let mut compared = 0;
        for doc in &docs {
            let ours = serde_json::from_str::<serde_json::Value>(doc)
                .map_err(|e| e.to_string())
                .and_then(|v| Fault::read(v, "").map_err(|e| e.message));
            let derived = serde_json::from_str::<Derived>(doc);
            match (ours, derived) {
                (Ok(ours), Ok(derived)) => {
                    assert_eq!(serde_json::to_value(&ours).unwrap(), serde_json::to_value(&derived).unwrap(), "{doc}");
                    compared += 1;
                }
                (Err(ours), Err(derived)) => {
                    // Both fail; where the derived reader names a field or variant, so
                    // does ours, in the same words.
                    let d = derived.to_string();
                    let (o, d) = (ours, d.split(" at line ").next().unwrap_or_default().to_string());
                    if [
                        "unknown field",
                        "missing field",
                        "unknown variant",
                        // (Not "duplicate field": the parsed JSON keeps a repeated key's
                        // last value, so the reader never sees the first.)
                        "invalid type: ",
                        "invalid value",
                    ]
                    .iter()
                    .any(|k| d.starts_with(k) && !d.contains("expected struct variant") && !d.contains("expected enum"))
                    {
                        // The reader checks for missing fields as it reads, the derive
                        // after the document's last field: with both problems in one
                        // document each names a real one.
                        let missing = o.starts_with("missing field") && doc.matches(':').count() > 1;
                        assert!(o == d || missing, "{doc}: ours {o}, derived {d}");
                    }
                }
                // A repeated key: the parsed JSON keeps the last value, as serde_json's
                // `Value` does; the derive refuses the document.
                (Ok(_), Err(derived)) if derived.to_string().starts_with("duplicate field") => {}
                (ours, derived) => panic!("{doc}: ours {ours:?}, derived {derived:?}"),
            }
        }
        assert!(compared >= 14, "every variant read at least once");
        let unknown = Fault::read(serde_json::json!({"set_state": {"nope": 1}}), "").unwrap_err().message;
        assert!(unknown.starts_with("unknown field `nope`, expected one of `service`, `key`, `value`"), "{unknown}");
    }
}
