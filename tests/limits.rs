//! Limits at the boundary: hostile scenarios stop with a typed error that names the
//! limit, the place and the step, and never exhaust memory.
//!
//! The growth fixture (`tests/fixtures/growth.json`) re-emits its own event with the
//! payload quadrupled; without limits it needed gigabytes within fifty steps, and now
//! validation refuses it. `growth-cycle.json` does the same through two handlers that
//! answer each other, which validation cannot decide from one handler, so the run-time
//! limits stop it. Every other case here is built in code from a small scenario.

use eventscope::sim::limits::{Halt, Limit, Place, MESSAGES_MAX, MESSAGE_BYTES_MAX, STRING_BYTES_MAX};
use eventscope::sim::trace::SubId;
use eventscope::sim::{Fault, Finish, RunConfig, Scenario, Simulation};
use serde_json::{json, Value};

fn growth_cycle() -> Scenario {
    Scenario::from_json(include_str!("fixtures/growth-cycle.json")).expect("the fixture is a valid scenario")
}

fn run(scenario: Scenario) -> Simulation {
    let mut sim = Simulation::new(RunConfig::new(scenario, 1)).expect("valid");
    sim.run_to_end();
    sim
}

/// A service that handles `io.eventscope.echo` on `echoes` and emits `emits` to it.
fn echo(data: Value, emits: Value, extra: impl FnOnce(&mut Value)) -> Scenario {
    let mut doc = json!({
        "name": "echo",
        "title": "echo",
        "description": "A service that feeds its own topic.",
        "steps_max": 1_000_000,
        "topics": [{ "name": "echoes" }],
        "services": [{ "name": "echo", "handlers": [{ "on": "io.eventscope.echo", "processing_ms": 1, "emit": emits }] }],
        "subscriptions": [{ "name": "echo-echoes", "topic": "echoes", "service": "echo" }],
        "workload": [{ "at_ms": 0, "topic": "echoes", "type": "io.eventscope.echo", "kind": "domain",
                       "source": "echo", "subject": "echo-1", "data": data }]
    });
    extra(&mut doc);
    Scenario::from_value(doc).expect("valid")
}

fn halt(sim: &Simulation) -> (Limit, Place, u64) {
    match sim.halted() {
        Some(Halt::LimitReached { limit, place, step, .. }) => (*limit, place.clone(), *step),
        None => panic!("the run should have halted; it {:?} after {} steps", sim.finished(), sim.step_index()),
    }
}

#[test]
fn the_growth_cycle_halts_at_the_string_limit_naming_handler_template_and_step() {
    let sim = run(growth_cycle());
    let (limit, place, step) = halt(&sim);
    assert_eq!(limit, Limit::StringBytes);
    assert_eq!(
        place,
        Place::Handler {
            service: "echo".into(),
            event_type: "io.eventscope.ping".into(),
            path: "services[0].handlers[0].emit[0].data.p".into()
        }
    );
    assert_eq!(step, sim.step_index(), "the halt names the step that did not happen");
    assert_eq!(sim.trace().len() as u64, step);
    assert_eq!(sim.finished(), Some(Finish::Halted));
    let Some(Halt::LimitReached { reached, .. }) = sim.halted() else { unreachable!() };
    assert!(*reached > STRING_BYTES_MAX && *reached <= 4 * STRING_BYTES_MAX, "reached {reached}");
    // The message that would have grown past the limit is still in flight, as before
    // the step: the halted step changed nothing a view shows.
    assert!(sim.sub_state(SubId(0)).in_flight.is_some(), "the handling is still in flight");
    let longest = sim.messages().iter().map(|m| m.envelope.data_bytes()).max().unwrap_or(0);
    assert!(longest <= STRING_BYTES_MAX, "no message holds more than the limit: {longest}");
}

#[test]
fn stepping_a_halted_run_records_nothing_and_injecting_is_refused() {
    let mut sim = run(growth_cycle());
    let (step, horizon, hash, now) = (sim.step_index(), sim.horizon(), sim.trace_hash(), sim.now_ms());
    let halt = sim.halted().cloned();
    for _ in 0..3 {
        assert!(sim.step().is_none());
    }
    assert_eq!(sim.run(10), 0);
    assert_eq!(sim.run_to_end(), Some(Finish::Halted));
    let fault = Fault::SlowService { service: "echo".into(), extra_ms: 5 };
    let refused = sim.inject(fault).expect_err("a halted run takes no fault");
    assert!(refused.to_string().contains("stopped at a limit"), "{refused}");
    assert_eq!((sim.step_index(), sim.horizon(), sim.trace_hash(), sim.now_ms()), (step, horizon, hash, now));
    assert_eq!(sim.halted().cloned(), halt);
    assert!(sim.fault_script().scripted.is_empty(), "the refused fault is not in the script");
}

#[test]
fn rewinding_clears_the_halt_and_replaying_reaches_it_again() {
    let mut sim = run(growth_cycle());
    let first = sim.halted().cloned().expect("halted");
    let hash = sim.trace_hash();
    sim.rewind_to(5);
    assert_eq!(sim.halted(), None, "at step 5 nothing has reached a limit");
    assert_eq!(sim.finished(), None);
    sim.run_to_end();
    assert_eq!(sim.halted(), Some(&first));
    assert_eq!(sim.trace_hash(), hash);
    // Injecting while rewound forks as usual, and the new future halts too.
    sim.rewind_to(5);
    sim.inject(Fault::SlowService { service: "echo".into(), extra_ms: 5 }).expect("a rewound run takes faults");
    sim.run_to_end();
    assert!(matches!(sim.halted(), Some(Halt::LimitReached { limit: Limit::StringBytes, .. })));
}

#[test]
fn a_payload_built_from_many_copies_of_a_field_halts_at_the_message_limit() {
    // A first hop writes a 64,000-byte field (just under the string limit); the second
    // copies it whole into each of 20 fields: no string is too long, the message is.
    let emits = json!([{ "topic": "echoes", "type": "io.eventscope.big", "kind": "domain",
                         "data": { "p": "{data.p}".repeat(64) } }]);
    let fields: serde_json::Map<String, Value> = (0..20).map(|i| (format!("f{i}"), json!("{data.p}"))).collect();
    let scenario = echo(json!({ "p": "x".repeat(1000) }), emits, |doc| {
        let copy = json!({ "on": "io.eventscope.big", "processing_ms": 1,
                           "emit": [{ "topic": "echoes", "type": "io.eventscope.huge", "kind": "domain", "data": fields }] });
        doc["services"][0]["handlers"].as_array_mut().expect("handlers").push(copy);
    });
    let sim = run(scenario);
    let (limit, place, _) = halt(&sim);
    assert_eq!(limit, Limit::MessageBytes, "{:?}", sim.halted());
    let Place::Handler { path, event_type, .. } = place else { panic!("{place:?}") };
    assert_eq!(event_type, "io.eventscope.big");
    assert!(path.starts_with("services[0].handlers[1].emit[0].data.f"), "{path}");
    let Some(Halt::LimitReached { reached, .. }) = sim.halted() else { unreachable!() };
    assert!(*reached > MESSAGE_BYTES_MAX && *reached < MESSAGE_BYTES_MAX + (64 << 10), "stopped while building");
}

#[test]
fn a_fan_out_that_creates_messages_faster_than_it_publishes_halts_at_the_message_count() {
    // Sixteen emits per handling, each a command to every one of 64 consumers
    // (events as commands), published only after a simulated day: messages pile up
    // in the outbox far faster than any other budget fills.
    let emits: Vec<Value> = (0..16)
        .map(|i| json!({ "topic": "echoes", "type": format!("io.eventscope.out{i}"), "kind": "command" }))
        .collect();
    let scenario = echo(json!({ "p": 1 }), Value::Array(emits), |doc| {
        doc["publish_latency_ms"] = json!(86_400_000);
        let subs: Vec<Value> =
            (0..64).map(|i| json!({ "name": format!("echo-{i}"), "topic": "echoes", "service": "echo" })).collect();
        doc["subscriptions"] = Value::Array(subs);
        doc["workload"][0]["repeat"] = json!({ "count": 1000, "every_ms": 0 });
    });
    let mut sim = Simulation::new(RunConfig {
        anti_patterns: vec![eventscope::sim::AntiPattern::EventsAsCommands],
        ..RunConfig::new(scenario, 1)
    })
    .expect("valid");
    sim.run_to_end();
    let (limit, place, _) = halt(&sim);
    assert_eq!(limit, Limit::Messages, "{:?}", sim.halted());
    assert!(matches!(&place, Place::Handler { path, .. } if path == "services[0].handlers[0]"), "{place:?}");
    assert!(sim.messages().len() as u64 <= MESSAGES_MAX);
}

#[test]
fn the_cli_prints_the_halt_on_stderr_and_exits_2() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/growth-cycle.json");
    for format in ["text", "trace"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_eventscope-cli"))
            .args(["run", "--scenario", path, "--seed", "1", "--format", format])
            .output()
            .expect("the CLI runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{format}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{format}: one error line: {stderr}");
        for part in ["eventscope-cli: step ", "string_bytes", "echo", "services[0].handlers[0].emit[0].data.p"] {
            assert!(lines[0].contains(part), "{format}: {} lacks {part}", lines[0]);
        }
    }
}

#[test]
fn queues_flooded_by_fan_out_halt_at_the_run_budget_before_the_next_step() {
    // One event to 256 subscriptions of a service that takes a simulated hour per
    // handling: every publication adds 256 queued copies and almost nothing drains.
    let scenario = echo(json!({ "p": 1 }), json!([]), |doc| {
        doc["services"][0]["handlers"][0]["processing_ms"] = json!(3_600_000);
        let subs: Vec<Value> = (0..256)
            .map(|i| json!({ "name": format!("echo-{i}"), "topic": "echoes", "service": "echo", "capacity": 100_000 }))
            .collect();
        doc["subscriptions"] = Value::Array(subs);
        doc["workload"][0]["repeat"] = json!({ "count": 32_000, "every_ms": 0 });
    });
    let mut sim = run(scenario);
    let (limit, place, step) = halt(&sim);
    assert_eq!((limit, place), (Limit::RunBytes, Place::Run), "{:?}", sim.halted());
    let before = (sim.step_index(), sim.horizon(), sim.held_bytes());
    assert_eq!(before.0, step);
    assert!(sim.step().is_none());
    assert_eq!((sim.step_index(), sim.horizon(), sim.held_bytes()), before, "a halted step records nothing");
}

fn cli(args: &[&str]) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eventscope-cli")).args(args).output().expect("runs");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_template_that_grows_on_its_own_loop_is_refused_naming_the_path() {
    let errors = Scenario::from_json(include_str!("fixtures/growth.json")).expect_err("refused");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].path, "services[0].handlers[0].emit[0].data.p");
    assert!(errors.0[0].message.contains("grows without bound"), "{errors}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/growth.json");
    let (code, stderr) = cli(&["run", "--scenario", path, "--seed", "1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("services[0].handlers[0].emit[0].data.p: grows without bound"), "{stderr}");
}

/// A countdown that feeds its own input, guarded by a `require`: legitimate, warned.
fn countdown() -> Value {
    json!({
        "name": "countdown", "title": "countdown", "description": "Counts down to zero, one event at a time.",
        "topics": [{ "name": "ticks" }],
        "services": [{ "name": "clock", "state": { "left": 5 }, "handlers": [{
            "on": "io.eventscope.tick", "processing_ms": 1,
            "require": [{ "key": "left", "at_least": 1 }],
            "effects": [{ "key": "left", "add": -1 }],
            "emit": [{ "topic": "ticks", "type": "io.eventscope.tick", "kind": "domain", "data": { "n": "{data.n}" } }]
        }] }],
        "subscriptions": [{ "name": "clock-ticks", "topic": "ticks", "service": "clock" }],
        "workload": [{ "at_ms": 0, "topic": "ticks", "type": "io.eventscope.tick", "kind": "domain",
                       "source": "clock", "subject": "c", "data": { "n": 1 } }]
    })
}

#[test]
fn a_handler_that_feeds_its_own_topic_is_a_warning_shown_by_the_cli() {
    let scenario = Scenario::from_value(countdown()).expect("a guarded loop is valid");
    let warnings = scenario.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].path, "services[0].handlers[0].emit[0]");
    assert!(warnings[0].message.contains("feeds its own input"), "{}", warnings[0].message);
    let sim = run(scenario);
    assert_eq!(sim.finished(), Some(Finish::Quiescent), "the guard ends the loop");

    let file = std::env::temp_dir().join(format!("eventscope-limits-{}-countdown.json", std::process::id()));
    std::fs::write(&file, countdown().to_string()).expect("temp is writable");
    let (code, stderr) = cli(&["run", "--scenario", file.to_str().expect("utf-8"), "--seed", "1"]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("eventscope-cli: warning: services[0].handlers[0].emit[0]: {}", warnings[0].message)
    );
    // Built-ins have no such loop: their runs keep a clean stderr.
    for name in eventscope::sim::scenario::builtin_names() {
        let s = eventscope::sim::scenario::builtin(name).expect("built-in");
        assert_eq!(s.warnings(), vec![], "{name}");
    }
}
