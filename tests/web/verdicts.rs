//! The side-by-side verdict reads the run-health model: no "same outcome" in green
//! while work is dead-lettered on either side.

use eventscope::sim::fault::{Fault, ScriptedFault, Trigger};
use eventscope::sim::scenario::builtin;
use eventscope::sim::simulation::{RunConfig, Simulation};
use eventscope::ui::compare::{compare_verdict, outcome, SIDES};
use wasm_bindgen_test::*;

fn finished_pair(payment_fails: bool) -> Vec<(&'static str, Simulation)> {
    SIDES
        .iter()
        .map(|(name, title)| {
            let mut config = RunConfig::new(builtin(name).expect("built-in"), 3);
            if payment_fails {
                config.faults.scripted.push(ScriptedFault {
                    at: Trigger::Step(0),
                    fault: Fault::FailHandlers { service: "payment".into(), per_mille: 1000 },
                });
            }
            let mut sim = Simulation::new(config).expect("valid");
            sim.run_to_end();
            (*title, sim)
        })
        .collect()
}

fn verdict_of(pair: &[(&'static str, Simulation)]) -> (&'static str, &'static str, Vec<String>) {
    let healths: Vec<_> = pair.iter().map(|(title, sim)| (*title, sim.health())).collect();
    let outcomes: Vec<_> = pair.iter().map(|(_, sim)| outcome(sim)).collect();
    let same = outcomes.windows(2).all(|w| w[0] == w[1]);
    let verdict = compare_verdict(&healths, same, true);
    (verdict.class, verdict.text, verdict.reasons)
}

#[wasm_bindgen_test]
fn every_order_dead_lettered_is_not_the_same_outcome_in_green() {
    let pair = finished_pair(true);
    let (class, text, reasons) = verdict_of(&pair);
    assert_eq!(class, "pending", "{text}");
    assert!(text.starts_with("Not settled"), "{text}");
    assert!(reasons.iter().any(|r| r.contains("in the DLQ of")), "{reasons:?}");
}

#[wasm_bindgen_test]
fn a_clean_pair_reaches_the_same_outcome() {
    let pair = finished_pair(false);
    let (class, text, reasons) = verdict_of(&pair);
    assert_eq!(class, "same", "{text} {reasons:?}");
    assert!(text.starts_with("Both reach the same outcome"));
}

#[wasm_bindgen_test]
fn the_saga_advice_names_only_what_the_scenario_has() {
    use eventscope::ui::sagas::advice;
    let trip = [("hotel".to_string(), "rooms".to_string(), 3)];
    let text = advice(&trip);
    assert!(!text.contains("shipping") && !text.contains("trucks"), "{text}");
    let checkout = [("shipping".to_string(), "trucks".to_string(), 5)];
    assert!(advice(&checkout).contains("shipping's trucks at 0"));
}
