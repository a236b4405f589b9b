//! The command line at its boundary: the real `eventscope-cli` binary, run as a
//! process, checked on what it prints and how it exits.
//!
//! Two promises are tested here. Good invocations print a run's trace and summary
//! deterministically (the same arguments give byte-identical output, so CI can diff
//! runs). Bad invocations (arguments, files, references) exit with code 2 and print
//! exactly one line on stderr starting with `eventscope-cli:`, never a panic message
//! or a backtrace: the binary is the first thing a scripted pipeline talks to.
//!
//! Scenario and fault files are written under the system temp directory with names
//! unique to this process and test, and removed when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use eventscope::sim::scenario;
use eventscope::sim::{AntiPattern, Invariant, RunConfig, Simulation};
use serde_json::{json, Value};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eventscope-cli"))
        .args(args)
        // If the binary ever panics, make sure the test sees everything it would print.
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the eventscope-cli binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed and returns its standard output.
fn success(args: &[&str]) -> String {
    let output = cli(args);
    assert_eq!(output.status.code(), Some(0), "{args:?} failed:\n{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{args:?} wrote to stderr:\n{}", stderr(&output));
    stdout(&output)
}

/// Runs a command that must be refused and returns its one error line.
fn refused(args: &[&str]) -> String {
    let output = cli(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?} should exit with 2; stderr:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{args:?} panicked:\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?} should print exactly one error line, got:\n{err}");
    assert!(lines[0].starts_with("eventscope-cli: "), "{args:?}: {}", lines[0]);
    assert!(output.stdout.is_empty(), "{args:?} printed to stdout:\n{}", stdout(&output));
    lines[0].to_string()
}

/// A file under the temp directory that is deleted when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, contents: impl AsRef<[u8]>) -> TempFile {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("eventscope-cli-test-{}-{n}-{tag}", std::process::id()));
        std::fs::write(&path, contents).expect("the temp directory is writable");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("temp paths are UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn checkout_json() -> Value {
    let s = scenario::builtin("checkout").expect("built-in");
    serde_json::from_str(&s.to_json_pretty()).expect("a scenario serialises to JSON")
}

// ---------------------------------------------------------------------------------
// Listings
// ---------------------------------------------------------------------------------

#[test]
fn scenarios_lists_every_builtin() {
    let out = success(&["scenarios"]);
    let names: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let builtins: Vec<&str> = scenario::builtin_names().collect();
    assert_eq!(names, builtins, "{out}");
    for s in scenario::catalog() {
        assert!(out.contains(s.title) && out.contains(s.summary), "{} missing from:\n{out}", s.name);
    }
}

#[test]
fn anti_patterns_lists_every_name() {
    let out = success(&["anti-patterns"]);
    let names: Vec<&str> = out.lines().filter_map(|l| l.split_whitespace().next()).collect();
    let known: Vec<&str> = AntiPattern::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(names, known, "{out}");
}

#[test]
fn help_prints_the_usage() {
    let out = success(&["help"]);
    for command in ["scenarios", "anti-patterns", "run", "explore"] {
        assert!(out.contains(&format!("eventscope-cli {command}")), "{out}");
    }
}

// ---------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------

#[test]
fn run_prints_the_trace_and_a_summary() {
    let out = success(&["run", "--scenario", "checkout", "--seed", "1"]);
    let (trace, summary) = out.split_once("\n--\n").expect("a `--` line separates trace and summary");

    // The same run through the library: one trace line per step, the same hash.
    let mut sim = Simulation::new(RunConfig::new(scenario::builtin("checkout").expect("built-in"), 1)).expect("valid");
    sim.run_to_end();
    let lines: Vec<&str> = trace.lines().collect();
    assert_eq!(lines.len() as u64, sim.step_index(), "one line per step");
    for (i, line) in lines.iter().enumerate() {
        let step = line.split_whitespace().next().and_then(|n| n.parse::<usize>().ok());
        assert_eq!(step, Some(i), "trace lines start with their step number: {line}");
    }
    assert!(lines.iter().any(|l| l.contains("publish")) && lines.iter().any(|l| l.contains("handle")), "{trace}");

    let first = summary.lines().next().expect("a summary line");
    assert!(first.starts_with("scenario checkout seed 1:"), "{first}");
    assert!(first.contains(&format!("trace hash {:016x}", sim.trace_hash())), "{first}");
    for inv in Invariant::ALL {
        assert!(summary.lines().any(|l| l.starts_with("invariant") && l.contains(inv.name())), "{summary}");
    }
}

#[test]
fn run_is_deterministic_and_seeds_differ() {
    let args = ["run", "--scenario", "checkout", "--seed", "1"];
    let first = success(&args);
    assert_eq!(first, success(&args), "the same run printed different output");

    let other = success(&["run", "--scenario", "checkout", "--seed", "2"]);
    assert_ne!(first, other, "seeds 1 and 2 printed the same output");
    let hash = |out: &str| out.lines().find(|l| l.contains("trace hash")).map(str::to_string);
    assert_ne!(hash(&first), hash(&other), "seeds 1 and 2 have the same trace hash");

    // With chaos faults the seed drives the faults too, and the run still replays.
    let chaos = ["run", "--scenario", "poison-message", "--seed", "7", "--fault-rate", "300"];
    assert_eq!(success(&chaos), success(&chaos));
}

#[test]
fn a_scenario_file_runs_like_the_builtin_it_copies() {
    let file = TempFile::new("checkout.json", scenario::builtin("checkout").expect("built-in").to_json_pretty());
    let from_file = success(&["run", "--scenario", file.path(), "--seed", "3"]);
    assert_eq!(from_file, success(&["run", "--scenario", "checkout", "--seed", "3"]));
}

#[test]
fn steps_max_stops_the_run() {
    let out = success(&["run", "--scenario", "checkout", "--seed", "1", "--steps-max", "10"]);
    let (trace, summary) = out.split_once("\n--\n").expect("a summary");
    assert_eq!(trace.lines().count(), 10);
    assert!(summary.contains("10 steps") && summary.contains("stopped at the step limit"), "{summary}");
}

#[test]
fn no_idempotency_shows_a_double_apply() {
    // delivery-guarantees crashes and partitions its ledgers; without idempotency the
    // exactly-once-effect ledger applies a redelivered payment twice.
    let args = ["run", "--scenario", "delivery-guarantees", "--seed", "1"];
    let eoe_violation =
        |out: &str| out.lines().any(|l| l.contains("exactly_once_effect:") && l.contains("eoe-payments"));
    let safe = success(&args);
    assert!(!eoe_violation(&safe), "the idempotent consumer double-applied:\n{safe}");
    let unsafe_run = success(&[&args[..], &["--anti-pattern", "no_idempotency"]].concat());
    assert!(eoe_violation(&unsafe_run), "no violation line:\n{unsafe_run}");
    assert!(unsafe_run.lines().any(|l| l.starts_with("invariant exactly_once_effect  broken")));

    // checkout with a duplicating fault script: the same, through --faults.
    let faults =
        TempFile::new("duplicate.json", json!({ "rules": [{ "verdict": "duplicate", "per_mille": 300 }] }).to_string());
    let base = ["run", "--scenario", "checkout", "--seed", "1", "--faults", faults.path()];
    let violated = |out: &str| out.lines().any(|l| l.starts_with("invariant exactly_once_effect  broken"));
    assert!(!violated(&success(&base)), "duplicates alone must be absorbed by idempotent consumers");
    let out = success(&[&base[..], &["--anti-pattern", "no_idempotency"]].concat());
    assert!(violated(&out), "{out}");
    assert!(out.lines().any(|l| l.contains("exactly_once_effect: ") && l.contains("a second time")), "{out}");
}

// ---------------------------------------------------------------------------------
// explore
// ---------------------------------------------------------------------------------

/// Parses `explored N runs: H held, P pending, B broken, S steps/s` into (N, H, P, B, S).
fn explored(line: &str) -> Option<(u64, u64, u64, u64, u64)> {
    let rest = line.strip_prefix("explored ")?;
    let (runs, rest) = rest.split_once(" runs: ")?;
    let (held, rest) = rest.split_once(" held, ")?;
    let (pending, rest) = rest.split_once(" pending, ")?;
    let (broken, rest) = rest.split_once(" broken, ")?;
    let speed = rest.strip_suffix(" steps/s")?;
    let n = |text: &str| text.parse().ok();
    Some((n(runs)?, n(held)?, n(pending)?, n(broken)?, n(speed)?))
}

/// Parses an invariant's line of `explore`: `NAME held H, pending P, broken B...`.
fn tally(out: &str, invariant: Invariant) -> (u64, u64, u64) {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(invariant.name()))
        .unwrap_or_else(|| panic!("{} not reported:\n{out}", invariant.name()));
    let numbers: Vec<u64> = line.split([' ', ',', ';']).filter_map(|w| w.parse().ok()).take(3).collect();
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn explore_sweeps_seeds_and_reports() {
    let out = success(&["explore", "--scenario", "poison-message", "--seeds", "20", "--fault-rate", "50"]);
    let last = out.lines().last().expect("output");
    let (runs, held, pending, broken, speed) = explored(last).unwrap_or_else(|| panic!("unexpected last line: {last}"));
    assert_eq!(runs, 20);
    assert_eq!(held + pending + broken, 20, "{last}");
    assert!(speed > 0, "{last}");
    for inv in Invariant::ALL {
        let (h, p, b) = tally(&out, inv);
        assert_eq!(h + p + b, 20, "{}:\n{out}", inv.name());
    }
    // The poisoned message ends every run in a DLQ: parked, so pending, never held.
    let (h, p, b) = tally(&out, Invariant::NoEventLost);
    assert_eq!((h, p + b), (0, 20), "{out}");
    assert!(out.lines().any(|l| l.starts_with("no_event_lost") && l.contains("first pending at seed 0")), "{out}");

    // An anti-pattern that breaks an invariant shows up in the sweep.
    let out = success(&["explore", "--scenario", "delivery-guarantees", "--seeds", "3", "--anti-pattern", "no_dlq"]);
    let (_, _, _, broken, _) = explored(out.lines().last().expect("output")).expect("summary line");
    assert_eq!(broken, 3, "delivery-guarantees loses a payment at-most-once in every run:\n{out}");
    assert_eq!(tally(&out, Invariant::NoEventLost).2, 3, "{out}");
    assert!(out.lines().any(|l| l.starts_with("no_event_lost") && l.contains("first broken at seed 0")), "{out}");
}

#[test]
fn run_prints_held_pending_or_broken_and_the_sagas_that_are_stuck() {
    let out = success(&["run", "--scenario", "checkout-orchestration", "--seed", "1"]);
    let summary = out.split_once("\n--\n").expect("a summary").1;
    for inv in Invariant::ALL {
        let line = format!("invariant {:<20} held", inv.name());
        assert!(summary.lines().any(|l| l == line), "{line}:\n{summary}");
    }
    assert!(summary.lines().any(|l| l == "sagas: 4 completed, 1 compensated"), "{summary}");

    // Payment fails every command: every order is dead-lettered, nothing is broken.
    let faults = TempFile::new(
        "payment-fails.json",
        json!({ "scripted": [{ "at": { "step": 0 }, "fault": { "fail_handlers": { "service": "payment", "per_mille": 1000 } } }] })
            .to_string(),
    );
    let out = success(&["run", "--scenario", "checkout-orchestration", "--seed", "1", "--faults", faults.path()]);
    let summary = out.split_once("\n--\n").expect("a summary").1;
    assert!(
        summary.lines().any(|l| l == "invariant no_event_lost        pending: 5 in the DLQ of payment-commands"),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|l| l
                .starts_with("invariant saga_all_or_nothing  pending: saga checkout for order-1 stuck at step pay")),
        "{summary}"
    );
    assert!(summary.lines().any(|l| l == "sagas: 5 stuck"), "{summary}");
    assert!(
        summary.lines().any(|l| l
            == "  saga checkout order-2 stuck at step pay: io.eventscope.payment.process is in the DLQ of payment-commands"),
        "{summary}"
    );
    assert!(summary.lines().any(|l| l == "invariant conservation         held"), "no money moved:\n{summary}");
}

// ---------------------------------------------------------------------------------
// Refusals: exit code 2, one line on stderr
// ---------------------------------------------------------------------------------

#[test]
fn bad_arguments_are_refused_in_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "no command"),
        (&["frobnicate"], "unknown command 'frobnicate'"),
        (&["run", "--scenario", "checkout", "--seed", "1", "--colour", "red"], "unknown argument '--colour'"),
        (&["run", "--scenario", "checkout"], "--seed is required"),
        (&["run", "--seed", "1"], "--scenario is required"),
        (&["run", "--scenario", "checkout", "--seed"], "--seed needs a value"),
        (&["run", "--scenario", "checkout", "--seed", "abc"], "'abc'"),
        (&["run", "--scenario", "checkout", "--seed", "-1"], "'-1'"),
        (&["run", "--scenario", "checkout", "--seed", "99999999999999999999999"], "--seed"),
        (&["explore", "--scenario", "checkout"], "--seeds is required"),
        (&["explore", "--scenario", "checkout", "--seeds", "3", "--fault-rate", "5000"], "--fault-rate"),
        (&["run", "--scenario", "no-such-scenario", "--seed", "1"], "no-such-scenario"),
        (&["run", "--scenario", "checkout", "--seed", "1", "--anti-pattern", "no_tests"], "no_tests"),
        (&["run", "--scenario", "checkout", "--seed", "1", "--steps-max", "0"], "steps_max"),
        (&["run", "--scenario", "checkout", "--seed", "1", "--steps-max", "99999999999"], "steps_max"),
        (&["run", "--scenario", "checkout", "--seed", "1", "--faults", "/no/such/faults.json"], "/no/such/faults.json"),
    ];
    for (args, mentions) in cases {
        let line = refused(args);
        assert!(line.contains(mentions), "{args:?}: expected the error to mention {mentions}: {line}");
    }
}

#[test]
fn bad_files_are_refused_in_one_line() {
    let not_json = TempFile::new("not-json.json", "this is not JSON\n{ nor this");
    let line = refused(&["run", "--scenario", not_json.path(), "--seed", "1"]);
    assert!(line.contains(not_json.path()), "{line}");

    let binary = TempFile::new("binary.json", [0xff, 0xfe, 0x00, 0x7b]);
    refused(&["run", "--scenario", binary.path(), "--seed", "1"]);

    let mut doc = checkout_json();
    doc["subscriptions"][1]["topic"] = json!("nowhere");
    let wrong_reference = TempFile::new("wrong-reference.json", doc.to_string());
    let line = refused(&["run", "--scenario", wrong_reference.path(), "--seed", "1"]);
    assert!(line.contains("subscriptions[1].topic") && line.contains("nowhere"), "{line}");

    // Several problems still make one line (the errors are joined).
    doc["subscriptions"][2]["service"] = json!("nobody");
    doc["workload"][0]["subject"] = json!("order-{\nunclosed");
    let many = TempFile::new("many-errors.json", doc.to_string());
    let line = refused(&["explore", "--scenario", many.path(), "--seeds", "2"]);
    assert!(line.contains("nowhere") && line.contains("nobody") && line.contains("workload[0].subject"), "{line}");

    let oversized = TempFile::new("oversized.json", " ".repeat((1 << 20) + 1));
    let line = refused(&["run", "--scenario", oversized.path(), "--seed", "1"]);
    assert!(line.contains("limit"), "{line}");

    let unknown_service = TempFile::new(
        "unknown-service.json",
        json!({ "scripted": [{ "at": { "step": 3 }, "fault": { "crash_service": { "service": "bank", "restart_after_ms": null } } }] })
            .to_string(),
    );
    let line = refused(&["run", "--scenario", "checkout", "--seed", "1", "--faults", unknown_service.path()]);
    assert!(line.contains("bank") && line.contains("scripted[0].fault.service"), "{line}");

    let faults_not_json = TempFile::new("faults-not-json.json", "[1, 2");
    refused(&["run", "--scenario", "checkout", "--seed", "1", "--faults", faults_not_json.path()]);

    let too_long = TempFile::new(
        "too-long.json",
        json!({ "rules": [{ "verdict": { "delay": { "delay_ms": u64::MAX } }, "per_mille": 10 }] }).to_string(),
    );
    let line = refused(&["run", "--scenario", "checkout", "--seed", "1", "--faults", too_long.path()]);
    assert!(line.contains("rules[0].verdict.delay_ms") || line.contains("rules[0].verdict.delay.delay_ms"), "{line}");

    let dir = std::env::temp_dir();
    refused(&["run", "--scenario", dir.to_str().expect("UTF-8 temp dir"), "--seed", "1"]);
    assert!(Path::new(not_json.path()).exists(), "temp files live until the end of the test");
}

// ---------------------------------------------------------------------------------
// run --format and replay
// ---------------------------------------------------------------------------------

#[test]
fn run_writes_each_export_deterministically() {
    for format in ["trace", "cloudevents", "cloudevents-jsonl", "mermaid", "perfetto", "asyncapi"] {
        let args = ["run", "--scenario", "checkout", "--seed", "1", "--fault-rate", "100", "--format", format];
        let out = success(&args);
        assert!(!out.is_empty(), "{format}");
        assert_eq!(success(&args), out, "{format}: the same arguments give the same bytes");
        if format != "mermaid" && format != "cloudevents-jsonl" {
            serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{format} is JSON: {e}"));
        }
    }
    let text = success(&["run", "--scenario", "checkout", "--seed", "1", "--format", "text"]);
    assert_eq!(text, success(&["run", "--scenario", "checkout", "--seed", "1"]), "text is the default");
    let flow = success(&["run", "--scenario", "checkout", "--seed", "1", "--format", "mermaid", "--correlation", "x"]);
    assert!(flow.contains("no deliveries with correlation id x"), "{flow}");
}

#[test]
fn run_refuses_an_unknown_format_or_a_stray_correlation() {
    let line = refused(&["run", "--scenario", "checkout", "--seed", "1", "--format", "svg"]);
    assert!(line.contains("unknown format 'svg'"), "{line}");
    let line = refused(&["run", "--scenario", "checkout", "--seed", "1", "--correlation", "c"]);
    assert!(line.contains("--correlation applies only to --format mermaid"), "{line}");
}

#[test]
fn replay_checks_that_a_trace_file_reproduces() {
    let trace = success(&["run", "--scenario", "checkout", "--seed", "4", "--fault-rate", "150", "--format", "trace"]);
    let file = TempFile::new("good.eventscope.json", &trace);
    let out = success(&["replay", file.path()]);
    let summary = success(&["run", "--scenario", "checkout", "--seed", "4", "--fault-rate", "150"]);
    let hash = summary.split("trace hash ").nth(1).unwrap().split(')').next().unwrap();
    let steps = trace.matches("\"verb\"").count();
    assert_eq!(out, format!("replayed {steps} steps, trace hash {hash}: identical\n"));

    // A different seed: valid, but not the recorded run. Exit 1, one line.
    let other = TempFile::new("other.eventscope.json", trace.replacen("\"seed\": 4,", "\"seed\": 5,", 1));
    let output = cli(&["replay", other.path()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("eventscope-cli: ") && err.contains("differs from the file at step "), "{err}");

    let broken = TempFile::new("broken.eventscope.json", &trace[..trace.len() / 2]);
    assert!(refused(&["replay", broken.path()]).contains("not a JSON document"));
    assert!(refused(&["replay"]).contains("replay needs a trace file"));
    assert!(refused(&["replay", "/no/such/file.json"]).contains("cannot read"));
}
