//! Static analysis of a scenario's design: who talks to whom.
//!
//! Coupling is counted from the scenario itself, not from a run: service A knows
//! service B when A consumes an event type that B produces, or B consumes one that A
//! produces. A choreography spreads this knowledge over every service; an
//! orchestration concentrates it in the coordinator.

use std::collections::{BTreeMap, BTreeSet};

use super::scenario::Scenario;

/// For each service, in scenario order, the other services it exchanges messages with.
pub fn coupling(scenario: &Scenario) -> Vec<(String, Vec<String>)> {
    // Who produces each (topic, event type).
    let mut producers: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for w in &scenario.workload {
        producers.entry((w.topic.as_str(), w.event_type.as_str())).or_default().insert(w.source.as_str());
    }
    for s in &scenario.services {
        for h in &s.handlers {
            for e in h.emit.iter().chain(&h.otherwise) {
                producers.entry((e.topic.as_str(), e.event_type.as_str())).or_default().insert(s.name.as_str());
            }
            for r in &h.record {
                if let Some(t) = &r.topic {
                    producers.entry((t.as_str(), r.event_type.as_str())).or_default().insert(s.name.as_str());
                }
            }
        }
    }
    for g in &scenario.sagas {
        let sends = g
            .steps
            .iter()
            .flat_map(|st| std::iter::once(&st.action).chain(&st.compensation))
            .chain(&g.on_completed)
            .chain(&g.on_aborted);
        for e in sends {
            producers.entry((e.topic.as_str(), e.event_type.as_str())).or_default().insert(g.coordinator.as_str());
        }
    }
    // Who consumes each (topic, event type): services with a handler (or a saga) for
    // that type and a subscription to that topic.
    let mut knows: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for sub in &scenario.subscriptions {
        let Some(service) = scenario.services.iter().find(|s| s.name == sub.service) else { continue };
        let saga = scenario.sagas.iter().find(|g| g.coordinator == service.name);
        for ((topic, event_type), from) in &producers {
            if *topic != sub.topic {
                continue;
            }
            let handled = service.handlers.iter().any(|h| h.on == *event_type)
                || saga.is_some_and(|g| {
                    g.start_on == *event_type
                        || g.steps.iter().any(|st| {
                            st.success == *event_type
                                || st.failure == *event_type
                                || st.compensated.as_deref() == Some(*event_type)
                        })
                });
            if !handled {
                continue;
            }
            for producer in from {
                if *producer != service.name {
                    knows.entry(service.name.as_str()).or_default().insert(producer);
                    knows.entry(producer).or_default().insert(service.name.as_str());
                }
            }
        }
    }
    scenario
        .services
        .iter()
        .map(|s| {
            let others =
                knows.get(s.name.as_str()).map_or_else(Vec::new, |k| k.iter().map(|x| x.to_string()).collect());
            (s.name.clone(), others)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::builtin;

    fn knows<'a>(rows: &'a [(String, Vec<String>)], service: &str) -> &'a [String] {
        &rows.iter().find(|(s, _)| s == service).unwrap().1
    }

    #[test]
    fn the_orchestrator_knows_everyone_and_participants_know_only_it() {
        let rows = coupling(&builtin("checkout-orchestration").unwrap());
        assert_eq!(knows(&rows, "orchestrator").len(), 6, "{rows:?}");
        for participant in ["payment", "inventory", "shipping", "notifier", "order"] {
            assert_eq!(knows(&rows, participant), ["orchestrator"], "{participant}");
        }
    }

    #[test]
    fn in_the_choreography_knowledge_is_spread_out() {
        let rows = coupling(&builtin("checkout").unwrap());
        assert!(knows(&rows, "payment").len() >= 4, "{rows:?}");
        assert!(knows(&rows, "inventory").len() >= 3, "{rows:?}");
        let max = rows.iter().map(|(_, k)| k.len()).max().unwrap();
        assert!(max < 6, "no single service knows everyone");
    }
}
