//! Round trips: a run exported as a trace file or a share link comes back as the same
//! run, for every built-in scenario, several seeds, random faults and faults injected
//! by hand (including after a rewind, which forks the run).
//!
//! A trace file must replay to the same step with the same trace hash; a share link
//! must restore the same configuration and step. Tampering with a file must be caught
//! and reported at the first step that differs.

mod common;

use common::builtin;
use eventscope::export::trace_file::{self, ImportError};
use eventscope::export::{decode_share, encode_share, export_trace, import_trace};
use eventscope::sim::scenario::builtin_names;
use eventscope::sim::{AntiPattern, Fault, FaultScript, RunConfig, Simulation};

const SEEDS: [u64; 3] = [1, 7, u64::MAX];

fn config(name: &str, seed: u64, faults: FaultScript, anti_patterns: &[AntiPattern]) -> RunConfig {
    RunConfig { scenario: builtin(name), seed, faults, anti_patterns: anti_patterns.to_vec() }
}

/// A run with faults injected by hand: a crash, a duplicate of the first event, then
/// a rewind and a slowdown injected there (a fork that discards the old future).
fn run_with_injections(name: &str, seed: u64) -> Simulation {
    let mut sim = Simulation::new(config(name, seed, FaultScript::random(50), &[])).unwrap();
    let consumer = sim.config().scenario.subscriptions[0].service.clone();
    sim.run(12);
    sim.inject(Fault::CrashService { service: consumer.clone(), restart_after_ms: Some(40) }).unwrap();
    sim.run(10);
    if let Some(first) = sim.messages().first().map(|m| m.envelope.id.clone()) {
        sim.inject(Fault::DuplicateMessage { message: first, subscription: None }).unwrap();
    }
    sim.run(20);
    let back = sim.step_index() / 2;
    sim.rewind_to(back);
    let injected = sim.inject(Fault::SlowService { service: consumer, extra_ms: 30 }).unwrap();
    assert!(injected.forked || sim.finished().is_some(), "{name}: injecting after a rewind forks");
    sim.run_to_end();
    sim
}

fn assert_round_trip(sim: &Simulation, what: &str) {
    let text = export_trace(sim);
    let imported = import_trace(&text).unwrap_or_else(|e| panic!("{what}: import failed: {e}"));
    assert_eq!(imported.step, sim.step_index(), "{what}: step");
    assert_eq!(imported.trace_hash, sim.trace_hash(), "{what}: trace hash");
    assert_eq!(imported.simulation.trace_hash(), sim.trace_hash(), "{what}: replayed hash");
    assert_eq!(&imported.config, sim.config(), "{what}: configuration");
    // Exporting is deterministic: the imported run exports the same bytes.
    assert_eq!(export_trace(&imported.simulation), text, "{what}: re-export differs");

    let link = encode_share(sim.config(), sim.step_index()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let shared = decode_share(&format!("https://example.org/eventscope/#{link}"))
        .unwrap_or_else(|e| panic!("{what}: share link: {e}"));
    assert_eq!(&shared.config, sim.config(), "{what}: share link configuration");
    assert_eq!(shared.step, sim.step_index(), "{what}: share link step");
}

#[test]
fn trace_files_and_share_links_round_trip_with_random_faults() {
    for name in builtin_names() {
        for seed in SEEDS {
            for faults in [FaultScript::default(), FaultScript::random(100)] {
                let mut sim = Simulation::new(config(name, seed, faults, &[])).unwrap();
                sim.run_to_end();
                assert_round_trip(&sim, &format!("{name} seed {seed}"));
                // A file saved part way through restores that step.
                let middle = sim.step_index() / 3;
                sim.rewind_to(middle);
                assert_round_trip(&sim, &format!("{name} seed {seed} at step {middle}"));
            }
        }
    }
}

#[test]
fn trace_files_and_share_links_round_trip_with_injected_faults() {
    for name in builtin_names() {
        for seed in SEEDS {
            let mut sim = run_with_injections(name, seed);
            assert!(!sim.config().faults.scripted.is_empty(), "{name}: injections are recorded");
            assert_round_trip(&sim, &format!("{name} seed {seed} with injections"));
            sim.rewind_to(sim.step_index() / 4);
            assert_round_trip(&sim, &format!("{name} seed {seed} with injections, rewound"));
        }
    }
}

#[test]
fn anti_patterns_travel_with_the_run() {
    for (name, anti) in [("checkout", AntiPattern::NoIdempotency), ("outbox", AntiPattern::NoOutbox)] {
        let mut sim = Simulation::new(config(name, 3, FaultScript::random(150), &[anti])).unwrap();
        sim.run_to_end();
        assert_round_trip(&sim, &format!("{name} with {anti}"));
    }
}

#[test]
fn a_share_link_names_an_unmodified_built_in_and_carries_a_modified_one() {
    let plain = config("checkout", 1, FaultScript::default(), &[]);
    let short = encode_share(&plain, 5).unwrap();
    let mut modified = plain.clone();
    modified.scenario.steps_max = 77;
    let long = encode_share(&modified, 5).unwrap();
    assert!(short.len() < 100, "a built-in by name is short: {short}");
    assert!(long.len() > short.len() * 5, "a modified scenario travels in full ({} chars)", long.len());
    assert_eq!(decode_share(&long).unwrap().config.scenario.steps_max, 77);
    assert!(short.starts_with("s=") && short[2..].bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)));
}

#[test]
fn a_share_link_too_long_says_what_to_do() {
    let mut big = config("checkout", 1, FaultScript::default(), &[]);
    // Random text does not compress: these titles push the link past its limit.
    let mut x: u64 = 1;
    big.scenario.description = (0..19_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let err = encode_share(&big, 0).unwrap_err().to_string();
    assert!(err.contains("limit is 16384") && err.contains("export a trace file"), "{err}");
}

#[test]
fn an_edited_step_is_reported_where_it_differs() {
    let mut sim = Simulation::new(config("checkout", 1, FaultScript::default(), &[])).unwrap();
    sim.run_to_end();
    let text = export_trace(&sim);

    // Edit the seed: the steps no longer match the replay, from the first step that
    // depends on it.
    let reseeded = text.replacen("\"seed\": 1,", "\"seed\": 2,", 1);
    match import_trace(&reseeded) {
        Err(ImportError::Diverged { step, recorded, replayed }) => {
            assert_ne!(recorded, replayed);
            assert!(step < sim.step_index(), "step {step}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }

    // Edit a step's detail: the recorded steps no longer hash to the file's hash.
    let edited = text.replacen("to 1 subscription(s)", "to 2 subscription(s)", 1);
    let err = import_trace(&edited).unwrap_err();
    assert!(!err.is_mismatch(), "an edited file is invalid, not a different run");
    assert!(err.to_string().starts_with("trace_hash: the file says"), "{err}");
}

#[test]
fn a_replay_that_ends_early_says_so() {
    let mut sim = Simulation::new(config("pubsub", 1, FaultScript::default(), &[])).unwrap();
    sim.run_to_end();
    let mut doc: serde_json::Value = serde_json::from_str(&export_trace(&sim)).unwrap();
    // Fewer workload messages: the replay runs out of work before the recorded step.
    doc["scenario"]["workload"][0]["repeat"]["count"] = 1.into();
    let err = import_trace(&doc.to_string()).unwrap_err();
    assert!(err.is_mismatch(), "{err}");
    assert!(err.to_string().contains("differ"), "{err}");
}

#[test]
fn import_errors_name_the_path() {
    let mut sim = Simulation::new(config("checkout", 1, FaultScript::default(), &[])).unwrap();
    sim.run(10);
    let doc: serde_json::Value = serde_json::from_str(&export_trace(&sim)).unwrap();

    let mut bad_topic = doc.clone();
    bad_topic["scenario"]["subscriptions"][2]["topic"] = "x".into();
    let err = import_trace(&bad_topic.to_string()).unwrap_err().to_string();
    assert_eq!(err, "scenario.subscriptions[2].topic: no topic named 'x'");

    let mut wrong_type = doc.clone();
    wrong_type["scenario"]["services"][1]["handlers"][0]["processing_ms"] = "slow".into();
    let err = import_trace(&wrong_type.to_string()).unwrap_err().to_string();
    assert!(err.starts_with("scenario.services[1].handlers[0].processing_ms: invalid type"), "{err}");

    let mut bad_fault = doc.clone();
    bad_fault["faults"] = serde_json::json!({"scripted": [{"at": {"step": 3}, "fault": {"crash_service": {"service": "nobody", "restart_after_ms": null}}}]});
    let err = import_trace(&bad_fault.to_string()).unwrap_err().to_string();
    assert_eq!(err, "faults.scripted[0].fault.service: no service named 'nobody'");

    let mut newer = doc.clone();
    newer["format_version"] = 2.into();
    newer["something_new"] = true.into();
    let err = import_trace(&newer.to_string()).unwrap_err().to_string();
    assert_eq!(err, "made by a newer Eventscope: format version 2, this one reads up to 1");

    let mut not_ours = doc.clone();
    not_ours["format"] = "chrome-trace".into();
    let err = import_trace(&not_ours.to_string()).unwrap_err().to_string();
    assert!(err.starts_with("format: is 'chrome-trace'"), "{err}");

    let mut short = doc.clone();
    short["steps"].as_array_mut().unwrap().pop();
    let err = import_trace(&short.to_string()).unwrap_err().to_string();
    assert!(err.starts_with("steps: has 9 entries but step is 10"), "{err}");

    let huge = " ".repeat(trace_file::TRACE_BYTES_MAX + 1);
    let err = import_trace(&huge).unwrap_err().to_string();
    assert!(err.contains("the limit is 20971520"), "{err}");
}

#[test]
fn share_link_errors_are_clear() {
    let link = encode_share(&config("checkout", 1, FaultScript::default(), &[]), 3).unwrap();
    let damaged = format!("{}!{}", &link[..10], &link[11..]);
    assert!(decode_share(&damaged).unwrap_err().to_string().contains("damaged"));
    assert!(decode_share("#x=1").unwrap_err().to_string().contains("not an Eventscope share link"));
    let long = format!("s={}", "A".repeat(20_000));
    assert!(decode_share(&long).unwrap_err().to_string().contains("the limit is 16384"));

    let payload = |json: &str| {
        use base64::Engine as _;
        let deflated = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 6);
        format!("s={}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(deflated))
    };
    let newer = payload(r#"{"v":2,"scenario":"checkout","seed":1,"step":0,"new":1}"#);
    assert_eq!(
        decode_share(&newer).unwrap_err().to_string(),
        "made by a newer Eventscope: format version 2, this one reads up to 1"
    );
    let unknown = payload(r#"{"v":1,"scenario":"nope","seed":1,"step":0}"#);
    assert!(decode_share(&unknown).unwrap_err().to_string().starts_with("scenario: no built-in scenario named 'nope'"));
    let negative = payload(r#"{"v":1,"scenario":"checkout","seed":-1,"step":0}"#);
    assert!(decode_share(&negative).unwrap_err().to_string().starts_with("seed: invalid value"));
    let beyond = payload(r#"{"v":1,"scenario":"checkout","seed":1,"step":99999999}"#);
    assert!(decode_share(&beyond).unwrap_err().to_string().starts_with("step: is 99999999"));
    // A deflate bomb: 16 KiB that would inflate to gigabytes stops at the limit.
    let bomb = payload(&" ".repeat(8 << 20));
    assert!(decode_share(&bomb).unwrap_err().to_string().contains("expands beyond"));
}
