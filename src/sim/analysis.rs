//! Static analysis of a scenario's design: who talks to whom.
//!
//! Coupling is counted from the scenario itself, not from a run: service A knows
//! service B when A consumes an event type that B produces, or B consumes one that A
//! produces. A choreography spreads this knowledge over every service; an
//! orchestration concentrates it in the coordinator.

use super::scenario::Scenario;
use super::sorting;

/// For each service, in scenario order, the other services it exchanges messages with.
///
/// Built from flat lists rather than maps of sets: this runs once per scenario on small
/// lists, and each map type would add its own copy of the B-tree code to the bundle.
pub fn coupling(scenario: &Scenario) -> Vec<(String, Vec<String>)> {
    // Who produces each (topic, event type), as (topic, event type, producer).
    let mut producers: Vec<(&str, &str, &str)> = Vec::new();
    for w in &scenario.workload {
        producers.push((w.topic.as_str(), w.event_type.as_str(), w.source.as_str()));
    }
    for s in &scenario.services {
        for h in &s.handlers {
            for e in h.emit.iter().chain(&h.otherwise) {
                producers.push((e.topic.as_str(), e.event_type.as_str(), s.name.as_str()));
            }
            for r in &h.record {
                if let Some(t) = &r.topic {
                    producers.push((t.as_str(), r.event_type.as_str(), s.name.as_str()));
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
            producers.push((e.topic.as_str(), e.event_type.as_str(), g.coordinator.as_str()));
        }
    }
    // Who consumes each (topic, event type): services with a handler (or a saga) for
    // that type and a subscription to that topic. Each pair that knows each other is
    // listed both ways round.
    let mut knows: Vec<(&str, &str)> = Vec::new();
    for sub in &scenario.subscriptions {
        let Some(service) = scenario.services.iter().find(|s| s.name == sub.service) else { continue };
        let saga = scenario.sagas.iter().find(|g| g.coordinator == service.name);
        for &(topic, event_type, producer) in &producers {
            if topic != sub.topic || producer == service.name {
                continue;
            }
            let handled = service.handlers.iter().any(|h| h.on == event_type)
                || saga.is_some_and(|g| {
                    g.start_on == event_type
                        || g.steps.iter().any(|st| {
                            st.success == event_type
                                || st.failure == event_type
                                || st.compensated.as_deref() == Some(event_type)
                        })
                });
            if handled {
                knows.push((service.name.as_str(), producer));
                knows.push((producer, service.name.as_str()));
            }
        }
    }
    scenario
        .services
        .iter()
        .map(|s| {
            let mut others: Vec<&str> = knows.iter().filter(|(a, _)| *a == s.name).map(|(_, b)| *b).collect();
            sorting::sort(&mut others);
            others.dedup();
            (s.name.clone(), others.into_iter().map(str::to_string).collect())
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
