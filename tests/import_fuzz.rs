//! Property tests of the two importers that read user input: trace files and share
//! links. Each gets at least 100,000 generated inputs (truncated, oversized, deeply
//! nested, wrong-typed, randomly mutated and mutated-but-valid documents), and the
//! property is the same for all: an answer (`Ok` or an `Err` with a message), never a
//! panic. A panic in the browser kills the app, and these inputs come from strangers.
//!
//! The generator is a small SplitMix64, seeded from `EVENTSCOPE_FUZZ_SEED` (default
//! fixed, so CI is reproducible); `EVENTSCOPE_FUZZ_CASES` changes the case count. A
//! failure prints the seed and case number that reproduce it.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::builtin;
use eventscope::export::trace_file::TRACE_BYTES_MAX;
use eventscope::export::{decode_share, encode_share, export_trace, import_trace};
use eventscope::sim::{Fault, FaultScript, RunConfig, Simulation};
use serde_json::{json, Map, Value};

const CASES_DEFAULT: u64 = 100_000;
const SEED_DEFAULT: u64 = 0x5eed_e7e7_2026;

/// SplitMix64: tiny, fast and good enough to drive a fuzzer.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `cases` generated inputs through `check`, reporting the seed and case of the
/// first panic.
fn fuzz(label: &str, mut case: impl FnMut(&mut SplitMix64, u64)) {
    let seed = env_u64("EVENTSCOPE_FUZZ_SEED", SEED_DEFAULT);
    let cases = env_u64("EVENTSCOPE_FUZZ_CASES", CASES_DEFAULT);
    for i in 0..cases {
        // Each case has its own generator, so one case reproduces on its own.
        let mut rng = SplitMix64(seed ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d));
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| case(&mut rng, i))) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{label}: case {i} panicked (EVENTSCOPE_FUZZ_SEED={seed}): {why}");
        }
    }
    println!("{label}: {cases} cases, seed {seed}, no panic");
}

/// A valid run to mutate: short, so that mutated-but-valid files replay quickly.
fn base_run(name: &str, steps: u64, faults: FaultScript) -> Simulation {
    let mut sim =
        Simulation::new(RunConfig { scenario: builtin(name), seed: 3, faults, anti_patterns: Vec::new() }).unwrap();
    sim.run(steps);
    sim
}

fn random_string(rng: &mut SplitMix64) -> String {
    const PIECES: &[&str] = &[
        "",
        "a",
        "orders",
        "payment",
        "payment-orders",
        "checkout",
        "io.eventscope.order.placed",
        "{data.x}",
        "{n}",
        "é",
        "\u{0}",
        "\u{202e}",
        "💥",
        "\"",
        "\\",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "s=",
        "#",
        "%",
        " ",
        "\n",
        "crash_service",
        "step",
        "time_ms",
        "format_version",
        "eventscope-trace",
    ];
    let n = rng.below(6);
    let mut s = String::new();
    for _ in 0..n {
        let piece: &&str = rng.pick(PIECES);
        s.push_str(piece);
    }
    if rng.chance(20) {
        s.push_str(&"x".repeat(rng.below(5000) as usize));
    }
    s
}

fn random_number(rng: &mut SplitMix64) -> Value {
    match rng.below(9) {
        0 => json!(0),
        1 => json!(-1),
        2 => json!(u64::MAX),
        3 => json!(i64::MIN),
        4 => json!(1.5),
        5 => json!(1e308),
        6 => json!(rng.below(10)),
        7 => json!(rng.below(1_000_000_000)),
        _ => json!(rng.next()),
    }
}

fn random_value(rng: &mut SplitMix64, depth: u32) -> Value {
    let leaf = depth > 3 || rng.chance(600);
    match if leaf { rng.below(4) } else { rng.below(7) } {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(500)),
        2 => random_number(rng),
        3 => Value::String(random_string(rng)),
        4 => {
            let n = rng.below(4);
            Value::Array((0..n).map(|_| random_value(rng, depth + 1)).collect())
        }
        5 => deep(rng.below(400) as usize),
        _ => {
            let mut m = Map::new();
            let n = rng.below(4);
            for _ in 0..n {
                m.insert(random_string(rng), random_value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// Arrays nested `depth` deep (serde_json refuses more than 128 levels when parsing).
fn deep(depth: usize) -> Value {
    let mut v = Value::Null;
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

/// Replaces, removes or duplicates one randomly chosen node of a document.
fn mutate(rng: &mut SplitMix64, v: &mut Value) {
    let stop_here = rng.chance(250);
    match v {
        Value::Object(m) if !m.is_empty() && !stop_here => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            if rng.chance(100) {
                m.remove(&key);
            } else if rng.chance(50) {
                m.insert(random_string(rng), random_value(rng, 0));
            } else if let Some(child) = m.get_mut(&key) {
                mutate(rng, child);
            }
        }
        Value::Array(a) if !a.is_empty() && !stop_here => {
            let i = rng.below(a.len() as u64) as usize;
            match rng.below(20) {
                0 => {
                    a.remove(i);
                }
                1 => {
                    let copy = a[i].clone();
                    a.insert(i, copy);
                }
                _ => mutate(rng, &mut a[i]),
            }
        }
        _ => *v = random_value(rng, 0),
    }
}

/// Flips, inserts or deletes a few bytes; the result may not even be UTF-8.
fn mutate_bytes(rng: &mut SplitMix64, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let edits = rng.below(4);
    for _ in 0..=edits {
        if bytes.is_empty() {
            break;
        }
        let i = rng.below(bytes.len() as u64) as usize;
        match rng.below(3) {
            0 => bytes[i] = rng.next() as u8,
            1 => bytes.insert(i, *rng.pick(b"{}[]\",:0123456789-eE.tfn \\")),
            _ => {
                bytes.remove(i);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn truncate(rng: &mut SplitMix64, text: &str) -> String {
    let mut cut = rng.below(text.len() as u64) as usize;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_string()
}

/// The import must answer; an error must say something.
fn check_import(text: &str) {
    if let Err(e) = import_trace(text) {
        assert!(!e.to_string().is_empty(), "an empty error message");
    }
}

fn check_share(link: &str) {
    if let Err(e) = decode_share(link) {
        assert!(!e.to_string().is_empty(), "an empty error message");
    }
}

/// A scenario as small as a valid one gets, with a retry, an emit and a template: the
/// bulk of the cases mutate it, so that each case costs tens of microseconds.
fn tiny_run() -> Simulation {
    let scenario = eventscope::sim::Scenario::from_json(
        r#"{"name":"tiny","title":"Tiny","topics":[{"name":"t"},{"name":"u"}],
            "services":[{"name":"a"},{"name":"b","handlers":[{"on":"x","processing_ms":3,
              "emit":[{"topic":"u","type":"y","kind":"domain","data":{"k":"{data.k}"}}]}]}],
            "subscriptions":[{"name":"b-t","topic":"t","service":"b","retry":{"attempts_max":2}}],
            "workload":[{"topic":"t","type":"x","kind":"command","source":"a","subject":"s-{n}",
              "data":{"k":"{n}"},"repeat":{"count":2,"every_ms":5}}]}"#,
    )
    .unwrap();
    let mut faults = FaultScript::random(300);
    faults.scripted.push(eventscope::sim::ScriptedFault {
        at: eventscope::sim::Trigger::Step(2),
        fault: Fault::CrashService { service: "b".into(), restart_after_ms: Some(4) },
    });
    let mut sim = Simulation::new(RunConfig { scenario, seed: 5, faults, anti_patterns: Vec::new() }).unwrap();
    sim.run_to_end();
    sim
}

#[test]
fn the_trace_importer_never_panics() {
    let tiny = tiny_run();
    assert!(tiny.step_index() >= 6, "the tiny run has a few steps");
    // The tiny run is mutated four times as often as the built-in one.
    let sims = [&tiny, &tiny, &tiny, &tiny, &base_run("pubsub", 8, FaultScript::default())];
    let bases: Vec<String> = sims
        .iter()
        .map(|sim| {
            // Compact, so that each case parses quickly.
            let v: Value = serde_json::from_str(&export_trace(sim)).unwrap();
            v.to_string()
        })
        .collect();
    let values: Vec<Value> = bases.iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    for b in &bases {
        assert!(import_trace(b).is_ok(), "the base documents are valid");
    }
    let oversized = format!("{{\"format\":\"{}\"}}", "x".repeat(TRACE_BYTES_MAX));
    fuzz("trace importer", |rng, i| {
        let which = rng.below(bases.len() as u64) as usize;
        match rng.below(10) {
            0 => check_import(&truncate(rng, &bases[which])),
            1 | 2 => check_import(&mutate_bytes(rng, &bases[which])),
            3..=6 => {
                let mut v = values[which].clone();
                let edits = rng.below(3);
                for _ in 0..=edits {
                    mutate(rng, &mut v);
                }
                check_import(&v.to_string());
            }
            7 => {
                // Mutated but still plausible: header fields and counts.
                let mut v = values[which].clone();
                let field = *rng.pick(&["format_version", "step", "seed", "trace_hash", "anti_patterns", "faults"]);
                v[field] = random_value(rng, 0);
                check_import(&v.to_string());
            }
            8 => {
                let depth = rng.below(200_000) as usize;
                let closing = rng.below(depth as u64 + 1) as usize;
                let nested = format!("{}{}", "[".repeat(depth), "]".repeat(closing));
                check_import(&nested);
            }
            _ => {
                if i % 1000 == 0 {
                    // Bigger than the limit: refused before parsing (one buffer, reused).
                    assert!(import_trace(&oversized).is_err());
                } else {
                    check_import(&random_value(rng, 0).to_string());
                }
            }
        }
    });
}

#[test]
fn the_share_link_decoder_never_panics() {
    let sims = [base_run("pubsub", 5, FaultScript::default()), base_run("checkout", 30, FaultScript::random(100))];
    let mut links: Vec<String> = sims.iter().map(|s| encode_share(s.config(), s.step_index()).unwrap()).collect();
    // A modified scenario travels in full: a bigger payload to mutate.
    let mut custom = sims[0].config().clone();
    custom.scenario.steps_max = 500;
    links.push(encode_share(&custom, 3).unwrap());
    let payloads: Vec<Value> = links
        .iter()
        .map(|l| {
            let bytes = URL_SAFE_NO_PAD.decode(&l[2..]).unwrap();
            serde_json::from_slice(&miniz_oxide::inflate::decompress_to_vec(&bytes).unwrap()).unwrap()
        })
        .collect();
    let encode = |json: &[u8]| format!("s={}", URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(json, 1)));
    let bomb = encode(&vec![b'7'; 4 << 20]);
    fuzz("share-link decoder", |rng, i| {
        let which = rng.below(links.len() as u64) as usize;
        match rng.below(10) {
            0 => check_share(&truncate(rng, &links[which])),
            1 | 2 => check_share(&mutate_bytes(rng, &links[which])),
            3 => {
                // Random base64url of random length: garbage to inflate.
                const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                let longest = if rng.chance(50) { 20_000 } else { 400 };
                let n = rng.below(longest) as usize;
                let mut text = String::with_capacity(n);
                for _ in 0..n {
                    text.push(*rng.pick(ALPHABET) as char);
                }
                check_share(&format!("#s={text}"));
            }
            4..=7 => {
                let mut v = payloads[which].clone();
                let edits = rng.below(3);
                for _ in 0..=edits {
                    mutate(rng, &mut v);
                }
                check_share(&encode(v.to_string().as_bytes()));
            }
            8 => {
                let depth = rng.below(5_000) as usize;
                check_share(&encode(format!("{}1{}", "[".repeat(depth), "]".repeat(depth)).as_bytes()));
            }
            _ => {
                if i % 1000 == 0 {
                    assert!(decode_share(&bomb).is_err(), "a deflate bomb is refused");
                } else {
                    check_share(&random_string(rng));
                }
            }
        }
    });
}
