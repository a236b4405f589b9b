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

use serde::{Deserialize, Serialize};

use super::scenario::{Scenario, ScenarioError, ScenarioErrors, DURATION_MS_MAX};
use super::time::Millis;

pub const RULES_MAX: usize = 64;
pub const SCRIPT_ENTRIES_MAX: usize = 10_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultScript {
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    #[serde(default)]
    pub scripted: Vec<ScriptedFault>,
}

/// One intervention and when it happens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedFault {
    pub at: Trigger,
    pub fault: Fault,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// As step number `n` (counting from 0): the step is the fault's application.
    Step(u64),
    /// When the simulated clock reaches this time.
    TimeMs(Millis),
}

/// A single intervention. Message faults name an event by its `id`; with a
/// `subscription` they touch only that subscription's copy. In JSON the variant is the
/// key: `{"crash_service": {"service": "payment", "restart_after_ms": 200}}`. (An
/// externally tagged enum deserialises without buffering, which keeps the browser
/// bundle small.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
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

/// A standing rule checked at each delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default)]
    pub matcher: Matcher,
    pub verdict: Verdict,
    pub per_mille: u32,
}

/// Which deliveries a rule applies to; an empty field matches anything.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    #[serde(default, rename = "type")]
    pub event_type: Option<String>,
    #[serde(default)]
    pub subscription: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
}

/// What a rule does to the delivery it fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
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
        let script: FaultScript = super::scenario::typed_from_str(text)?;
        script.validate_against(scenario)?;
        Ok(script)
    }

    /// Reads a fault script from a parsed JSON value and validates it against a scenario.
    pub fn from_value(value: serde_json::Value, scenario: &Scenario) -> Result<FaultScript, ScenarioErrors> {
        FaultScript::from_json(&value.to_string(), scenario)
    }
}
