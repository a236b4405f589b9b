//! Helpers shared by the native test suites.

#![allow(dead_code)]

use eventscope::sim::scenario::{self, Delivery, Scenario};
use eventscope::sim::{AntiPattern, FaultScript, RunConfig, Simulation};

pub fn builtin(name: &str) -> Scenario {
    scenario::builtin(name).unwrap_or_else(|| panic!("no built-in scenario {name}"))
}

/// The configuration the curriculum recommends: at-least-once delivery with an
/// idempotent consumer (exactly-once effect) and a DLQ on every subscription.
pub fn safe(mut s: Scenario) -> Scenario {
    for sub in &mut s.subscriptions {
        sub.delivery = Delivery::ExactlyOnceEffect;
        sub.dlq = true;
    }
    s
}

pub fn run(scenario: Scenario, seed: u64, faults: FaultScript, anti_patterns: &[AntiPattern]) -> Simulation {
    let config = RunConfig { scenario, seed, faults, anti_patterns: anti_patterns.to_vec() };
    let mut sim = Simulation::new(config).expect("valid configuration");
    sim.run_to_end();
    sim
}

/// An orchestrated saga from another business domain than the built-in checkout: a
/// travel desk holds a seat, books a room and charges the traveller. It has fewer
/// rooms than trips, so the last trip gives its seat back.
pub fn trip_booking() -> Scenario {
    Scenario::from_json(include_str!("trip-booking.json")).expect("the trip-booking scenario is valid")
}
