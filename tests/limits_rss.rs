//! Hostile scenarios end with their limit error in bounded time and memory.
//!
//! A family of self-feeding and fan-out scenarios, generated from a grid of shapes and
//! sizes, each run by the real CLI as its own process (so its memory is its own),
//! while this test samples the process's peak resident set (`VmHWM` in
//! `/proc/PID/status`) until it exits. Each must exit with code 2 and one line naming
//! the limit it reached, within generous bounds of time and memory: the run budget is
//! 256 MiB by estimate, so a process far above that means a limit is not where the
//! growth happens. Linux only (it reads `/proc`).
//!
//! `cargo test --test limits_rss -- --nocapture` prints the figures per case (the
//! table in BENCHMARKS.md).

#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Generous bounds: a case well inside them still shows a limit doing its work.
const SECONDS_MAX: f64 = 60.0;
const PEAK_RSS_KIB_MAX: u64 = 1 << 20;

struct Case {
    name: String,
    scenario: Value,
    anti_patterns: Vec<&'static str>,
    /// The limit the case must end with.
    limit: &'static str,
}

fn doc(name: &str, handlers: Value, subscriptions: Value, workload_data: Value, repeat: u32) -> Value {
    json!({
        "name": name, "title": name, "description": "A generated hostile scenario.",
        "steps_max": 1_048_576,
        "topics": [{ "name": "echoes" }],
        "services": [{ "name": "echo", "handlers": handlers }],
        "subscriptions": subscriptions,
        "workload": [{ "at_ms": 0, "topic": "echoes", "type": "io.eventscope.ping", "kind": "domain",
                       "source": "echo", "subject": "echo-1", "data": workload_data,
                       "repeat": { "count": repeat, "every_ms": 0 } }]
    })
}

fn subscriptions(n: u32) -> Value {
    Value::Array(
        (0..n)
            .map(
                |i| json!({ "name": format!("echo-{i}"), "topic": "echoes", "service": "echo", "capacity": 1_000_000 }),
            )
            .collect(),
    )
}

fn emit(event_type: &str, data: Value) -> Value {
    json!({ "topic": "echoes", "type": event_type, "kind": "domain", "data": data })
}

/// The family: ping-pong loops that copy the payload `copies` times per hop; loops
/// that fan out `width` events per handling (to themselves); one event to `subs`
/// subscriptions of a slow service; commands to every consumer; and payloads built
/// from many whole copies of a field.
fn family() -> Vec<Case> {
    let mut cases = Vec::new();
    for copies in [2, 3, 4, 8] {
        let p = "{data.p}".repeat(copies);
        let handlers = json!([
            { "on": "io.eventscope.ping", "processing_ms": 1, "emit": [emit("io.eventscope.pong", json!({ "p": p }))] },
            { "on": "io.eventscope.pong", "processing_ms": 1, "emit": [emit("io.eventscope.ping", json!({ "p": p }))] }
        ]);
        cases.push(Case {
            name: format!("ping-pong, {copies} copies per hop"),
            scenario: doc("grow", handlers, subscriptions(1), json!({ "p": "abcdefghij" }), 1),
            anti_patterns: vec![],
            limit: "string_bytes",
        });
    }
    for width in [2, 4, 16] {
        let emits: Vec<Value> = (0..width).map(|_| emit("io.eventscope.ping", json!({ "p": "{data.p}" }))).collect();
        let handlers = json!([{ "on": "io.eventscope.ping", "processing_ms": 1, "emit": emits }]);
        cases.push(Case {
            name: format!("self-feeding fan-out, {width} per handling"),
            scenario: doc("fan", handlers, subscriptions(1), json!({ "p": "x" }), 1),
            anti_patterns: vec![],
            limit: "run_bytes",
        });
    }
    for subs in [64, 256] {
        let handlers = json!([{ "on": "io.eventscope.ping", "processing_ms": 3_600_000 }]);
        cases.push(Case {
            name: format!("one topic to {subs} slow subscriptions"),
            scenario: doc("flood", handlers, subscriptions(subs), json!({ "p": "x" }), 32_768),
            anti_patterns: vec![],
            limit: "run_bytes",
        });
    }
    {
        let emits: Vec<Value> = (0..16).map(|i| emit(&format!("io.eventscope.out{i}"), json!({ "p": 1 }))).collect();
        let handlers = json!([{ "on": "io.eventscope.ping", "processing_ms": 1, "emit": emits }]);
        let mut scenario = doc("commands", handlers, subscriptions(64), json!({ "p": 1 }), 1000);
        scenario["publish_latency_ms"] = json!(86_400_000);
        cases.push(Case {
            name: "16 commands to each of 64 consumers".into(),
            scenario,
            anti_patterns: vec!["events_as_commands"],
            limit: "messages",
        });
    }
    {
        let fields: serde_json::Map<String, Value> = (0..20).map(|i| (format!("f{i}"), json!("{data.p}"))).collect();
        let handlers = json!([
            { "on": "io.eventscope.ping", "processing_ms": 1,
              "emit": [emit("io.eventscope.big", json!({ "p": "{data.p}".repeat(64) }))] },
            { "on": "io.eventscope.big", "processing_ms": 1, "emit": [emit("io.eventscope.huge", Value::Object(fields))] }
        ]);
        cases.push(Case {
            name: "20 whole copies of a 64,000-byte field".into(),
            scenario: doc("copies", handlers, subscriptions(1), json!({ "p": "x".repeat(1000) }), 1),
            anti_patterns: vec![],
            limit: "message_bytes",
        });
    }
    cases
}

/// Runs the CLI on the scenario; returns (exit code, stderr, seconds, peak RSS in KiB).
fn run(case: &Case, file: &PathBuf) -> (Option<i32>, String, f64, u64) {
    std::fs::write(file, case.scenario.to_string()).expect("temp is writable");
    let mut args = vec!["run", "--scenario", file.to_str().expect("utf-8"), "--seed", "1", "--format", "trace"];
    for a in &case.anti_patterns {
        args.extend(["--anti-pattern", a]);
    }
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventscope-cli"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().strip_suffix("kB"));
            if let Some(kib) = hwm.and_then(|v| v.trim().parse::<u64>().ok()) {
                peak = peak.max(kib);
            }
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed().as_secs_f64() > 2.0 * SECONDS_MAX {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read as _;
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.code(), stderr, seconds, peak)
}

#[test]
fn hostile_scenarios_end_with_their_limit_in_bounded_time_and_memory() {
    let file = std::env::temp_dir().join(format!("eventscope-limits-rss-{}.json", std::process::id()));
    let mut failures = Vec::new();
    eprintln!("{:<44} {:>8} {:>10}  limit", "case", "seconds", "peak RSS");
    for case in family() {
        let (code, stderr, seconds, peak) = run(&case, &file);
        let last = stderr.lines().last().unwrap_or("").to_string();
        // A process that ends within the first sample leaves no figure ("-").
        let rss = if peak == 0 { "-".to_string() } else { format!("{:.1} MiB", peak as f64 / 1024.0) };
        eprintln!("{:<44} {seconds:>8.2} {rss:>10}  {last}", case.name);
        let named =
            last.starts_with("eventscope-cli: step ") && last.contains(&format!("limit {} reached", case.limit));
        if code != Some(2) || !named || seconds > SECONDS_MAX || peak > PEAK_RSS_KIB_MAX || stderr.contains("panicked")
        {
            failures.push(format!("{}: exit {code:?}, {seconds:.2} s, {peak} KiB: {stderr}", case.name));
        }
    }
    let _ = std::fs::remove_file(&file);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
