//! Engine throughput: simulated steps per second on the checkout workload, with the
//! trace recorded and invariants checked after every step, as in every real run.
//!
//! Run with `cargo bench --bench engine`. It prints one line per measurement; the
//! figures in BENCHMARKS.md come from here.

use std::time::Instant;

use eventscope::sim::scenario::{builtin, RepeatSpec, Scenario, STEPS_MAX_LIMIT};
use eventscope::sim::{FaultScript, RunConfig, Simulation};

/// The checkout flow with `orders` orders from one well-funded customer and deep
/// stock, so every order runs the whole chain (payment, accounting, inventory,
/// shipping, order).
fn checkout(orders: u32) -> Scenario {
    let mut s = builtin("checkout").expect("built-in");
    s.steps_max = STEPS_MAX_LIMIT;
    s.workload[0].repeat = Some(RepeatSpec { count: orders, every_ms: 25 });
    s.workload[0].data.insert("customer".into(), "c-1".into());
    let payment = s.services.iter_mut().find(|x| x.name == "payment").expect("payment");
    payment.state.insert("balance.c-1".into(), i64::MAX / 4);
    let inventory = s.services.iter_mut().find(|x| x.name == "inventory").expect("inventory");
    inventory.state.insert("stock.widget".into(), i64::MAX / 4);
    s
}

fn measure(label: &str, scenario: &Scenario, faults: FaultScript, rounds: u32) {
    let mut rates = Vec::new();
    let mut steps = 0;
    for _ in 0..rounds {
        let config = RunConfig { scenario: scenario.clone(), seed: 7, faults: faults.clone(), anti_patterns: vec![] };
        let mut sim = Simulation::new(config).expect("valid");
        let started = Instant::now();
        sim.run_to_end();
        let secs = started.elapsed().as_secs_f64();
        steps = sim.step_index();
        rates.push(steps as f64 / secs);
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let median = rates[rates.len() / 2];
    println!("{label:<44} {steps:>9} steps  {:>12.0} steps/s (median of {rounds})", median);
}

fn rewind(scenario: &Scenario) {
    let config =
        RunConfig { scenario: scenario.clone(), seed: 7, faults: FaultScript::random(50), anti_patterns: vec![] };
    let mut sim = Simulation::new(config).expect("valid");
    sim.run_to_end();
    let end = sim.step_index();
    let mut worst = 0f64;
    let mut total = 0f64;
    let targets: Vec<u64> = (0..50).map(|i| (end * (97 * i % 50)) / 50 + 2_047).map(|t| t.min(end)).collect();
    for &t in &targets {
        let started = Instant::now();
        sim.rewind_to(t);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        worst = worst.max(ms);
        total += ms;
    }
    println!(
        "{:<44} {end:>9} steps  rewind mean {:.2} ms, worst {:.2} ms ({} jumps)",
        "rewind to any step (checkout, 5% faults)",
        total / targets.len() as f64,
        worst,
        targets.len()
    );
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent; keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let orders = if quick { 200 } else { 10_000 };
    let scenario = checkout(orders);
    measure("checkout, no faults", &scenario, FaultScript::default(), if quick { 1 } else { 5 });
    measure("checkout, random faults 5%", &scenario, FaultScript::random(50), if quick { 1 } else { 5 });
    rewind(&checkout(if quick { 200 } else { 10_000 }));
}
