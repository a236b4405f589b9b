//! Orchestrated sagas: a coordinator drives a business transaction across services,
//! step by step, and undoes the completed steps in reverse order when one fails.
//!
//! The coordinator keeps no mutable record of an instance: every decision is stored
//! as an event in the instance's own stream (`saga.<id>` in the coordinator's event
//! store), and the instance's state is the fold of those events. `decide` is the
//! coordinator's whole rulebook: given the instance and an incoming reply, it returns
//! the events to record and the commands to send. Compensations are ordinary
//! commands, retried by the bus like any other until they succeed; one that keeps
//! failing leaves the instance visibly "compensating" with its command in a DLQ.
//!
//! The *pivot* is the step after whose success the saga can only go forward: steps
//! after it have no compensation, and a failure there is retried instead of undone.

use serde_json::{Map, Value};

use super::compiled::CompiledSaga;
use super::store::StoredEvent;

pub const STARTED: &str = "io.eventscope.saga.started";
pub const STEP_SUCCEEDED: &str = "io.eventscope.saga.step_succeeded";
pub const STEP_FAILED: &str = "io.eventscope.saga.step_failed";
pub const STEP_RETRIED: &str = "io.eventscope.saga.step_retried";
pub const COMPENSATED: &str = "io.eventscope.saga.compensated";
pub const COMPLETED: &str = "io.eventscope.saga.completed";
pub const ABORTED: &str = "io.eventscope.saga.aborted";

/// Where an instance stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaStatus {
    /// Waiting for the reply to this step's command.
    Running {
        step: u32,
    },
    /// Waiting for the reply to this step's compensation.
    Compensating {
        step: u32,
    },
    Completed,
    /// Every completed step was compensated.
    Aborted,
}

impl SagaStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Running { .. } => "running",
            Self::Compensating { .. } => "compensating",
            Self::Completed => "completed",
            Self::Aborted => "aborted",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Aborted)
    }
}

/// One saga instance, rebuilt from its stream.
#[derive(Clone, Debug, PartialEq)]
pub struct SagaInstance {
    pub status: SagaStatus,
    pub succeeded: Vec<bool>,
    pub compensated: Vec<bool>,
    pub failed_step: Option<u32>,
    /// The payload of the event that started the saga: commands are built from it.
    pub data: Map<String, Value>,
}

/// An event the coordinator records in the instance's stream.
#[derive(Clone, Debug, PartialEq)]
pub struct SagaRecord {
    pub event_type: &'static str,
    pub data: Map<String, Value>,
}

/// A command (or outcome event) to publish: which step's action or compensation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SagaSend {
    Action(u32),
    Compensation(u32),
    Completed,
    Aborted,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SagaDecision {
    pub records: Vec<SagaRecord>,
    pub sends: Vec<SagaSend>,
}

fn step_data(step: u32) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("step".into(), Value::from(step));
    m
}

/// Folds an instance's stream (no rules: it only records what was decided).
pub fn fold_instance<'a>(saga: &CompiledSaga, events: impl Iterator<Item = &'a StoredEvent>) -> Option<SagaInstance> {
    let n = saga.steps.len();
    let mut instance: Option<SagaInstance> = None;
    for e in events {
        let step = e.data.get("step").and_then(Value::as_u64).map(|s| s as u32);
        match (e.event_type.as_str(), instance.as_mut()) {
            (STARTED, None) => {
                instance = Some(SagaInstance {
                    status: SagaStatus::Running { step: 0 },
                    succeeded: vec![false; n],
                    compensated: vec![false; n],
                    failed_step: None,
                    data: e.data.clone(),
                });
            }
            (STEP_SUCCEEDED, Some(i)) => {
                if let Some(s) = step.filter(|s| (*s as usize) < n) {
                    i.succeeded[s as usize] = true;
                    i.status = SagaStatus::Running { step: s + 1 };
                }
            }
            (STEP_FAILED, Some(i)) => {
                i.failed_step = step;
                if let Some(next) = e.data.get("compensate").and_then(Value::as_u64) {
                    i.status = SagaStatus::Compensating { step: next as u32 };
                }
            }
            (COMPENSATED, Some(i)) => {
                if let Some(s) = step.filter(|s| (*s as usize) < n) {
                    i.compensated[s as usize] = true;
                }
                if let Some(next) = e.data.get("compensate").and_then(Value::as_u64) {
                    i.status = SagaStatus::Compensating { step: next as u32 };
                }
            }
            (COMPLETED, Some(i)) => i.status = SagaStatus::Completed,
            (ABORTED, Some(i)) => i.status = SagaStatus::Aborted,
            _ => {}
        }
    }
    instance
}

/// The coordinator's rules: what to record and send when `event_type` arrives for an
/// instance (`None` if it does not exist yet).
pub fn decide(
    saga: &CompiledSaga,
    instance: Option<&SagaInstance>,
    event_type: &str,
    data: &Map<String, Value>,
) -> SagaDecision {
    let mut d = SagaDecision::default();
    let Some(instance) = instance else {
        if event_type == saga.start_on {
            d.records.push(SagaRecord { event_type: STARTED, data: data.clone() });
            d.sends.push(SagaSend::Action(0));
        }
        return d;
    };
    match instance.status {
        SagaStatus::Running { step } => {
            let Some(spec) = saga.steps.get(step as usize) else { return d };
            if event_type == spec.success {
                d.records.push(SagaRecord { event_type: STEP_SUCCEEDED, data: step_data(step) });
                if step as usize + 1 == saga.steps.len() {
                    d.records.push(SagaRecord { event_type: COMPLETED, data: Map::new() });
                    d.sends.push(SagaSend::Completed);
                } else {
                    d.sends.push(SagaSend::Action(step + 1));
                }
            } else if event_type == spec.failure {
                if saga.pivot.is_some_and(|p| step > p) {
                    // Past the pivot there is no way back: try the step again.
                    d.records.push(SagaRecord { event_type: STEP_RETRIED, data: step_data(step) });
                    d.sends.push(SagaSend::Action(step));
                } else {
                    let mut data = step_data(step);
                    match next_compensation(saga, instance, step) {
                        Some(c) => {
                            data.insert("compensate".into(), Value::from(c));
                            d.records.push(SagaRecord { event_type: STEP_FAILED, data });
                            d.sends.push(SagaSend::Compensation(c));
                        }
                        None => {
                            d.records.push(SagaRecord { event_type: STEP_FAILED, data });
                            d.records.push(SagaRecord { event_type: ABORTED, data: Map::new() });
                            d.sends.push(SagaSend::Aborted);
                        }
                    }
                }
            }
        }
        SagaStatus::Compensating { step } => {
            let Some(spec) = saga.steps.get(step as usize) else { return d };
            if spec.compensated.as_deref() == Some(event_type) {
                let mut data = step_data(step);
                match next_compensation(saga, instance, step) {
                    Some(c) => {
                        data.insert("compensate".into(), Value::from(c));
                        d.records.push(SagaRecord { event_type: COMPENSATED, data });
                        d.sends.push(SagaSend::Compensation(c));
                    }
                    None => {
                        d.records.push(SagaRecord { event_type: COMPENSATED, data });
                        d.records.push(SagaRecord { event_type: ABORTED, data: Map::new() });
                        d.sends.push(SagaSend::Aborted);
                    }
                }
            }
        }
        SagaStatus::Completed | SagaStatus::Aborted => {}
    }
    d
}

/// The highest completed step below `below` that has a compensation: compensations
/// run in reverse order of the steps.
fn next_compensation(saga: &CompiledSaga, instance: &SagaInstance, below: u32) -> Option<u32> {
    (0..below).rev().find(|s| {
        let i = *s as usize;
        instance.succeeded[i] && !instance.compensated[i] && saga.steps[i].compensation.is_some()
    })
}
