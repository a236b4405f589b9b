//! Fuzz tests for everything a user hands the simulator: scenario documents and fault
//! scripts.
//!
//! The property under test is the style guide's "panics mean bugs; user input gets
//! errors". A scenario or fault script arrives from a file, a share link or a paste
//! box, and in the browser a panic kills the app. So every generated input must give
//! either a value or an error, never a panic; an input that validates must also build
//! a simulation and run it for a bounded number of steps without panicking.
//!
//! Generation uses no fuzzing crate. A SplitMix64 generator, seeded per case, drives
//! every choice, so a failure is reproducible from the case seed it prints alone:
//! `EVENTSCOPE_FUZZ_CASE=0x… cargo test --test scenario_fuzz NAME` reruns that one case.
//! Inputs start from the built-in scenarios and are mutated structurally (on the JSON
//! tree) or byte by byte (on the text), so most of them are *nearly* valid and reach
//! deep into validation instead of failing at the first byte.
//!
//! A last family is built from scratch to be hostile rather than nearly valid:
//! handlers that feed their own and each other's input, templates that repeat
//! placeholders, and the widest fan-out a scenario may declare. Each of its 100,000
//! scenarios is refused with a path or runs to its end (quiescent, at `steps_max`, or
//! halted at a limit) holding no more than the run budget.
//!
//! Run with `--nocapture` to see how many inputs each test generated.

use std::panic::{catch_unwind, AssertUnwindSafe};

use eventscope::sim::fault::Matcher;
use eventscope::sim::scenario::{self, Scenario, ScenarioErrors, SCENARIO_BYTES_MAX};
use eventscope::sim::{
    AntiPattern, Fault, FaultRule, FaultScript, RunConfig, ScriptedFault, Simulation, Trigger, Verdict,
};
use serde_json::{json, Value};

/// Simulations of generated scenarios stop after this many steps, so a mutant that
/// loops (a poison message without a DLQ, say) costs milliseconds, not minutes.
const FUZZ_STEPS_MAX: u64 = 2_000;
/// Workload repetitions are capped too: the step cap bounds time, this bounds the
/// agenda a run starts with.
const FUZZ_REPEAT_MAX: u32 = 20;

// ---------------------------------------------------------------------------------
// The generator and the case runner
// ---------------------------------------------------------------------------------

/// SplitMix64: tiny, fast, and statistically good enough to drive mutations. The
/// simulation's own ChaCha8 is not used so that the fuzzer's choices can never be
/// correlated with the engine's.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound`; `bound` must be positive.
    fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.next_u64() % 1000 < per_mille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The case seed to replay alone, from `EVENTSCOPE_FUZZ_CASE`.
fn replayed_case() -> Option<u64> {
    std::env::var("EVENTSCOPE_FUZZ_CASE").ok().map(|text| {
        let digits = text.trim_start_matches("0x");
        u64::from_str_radix(digits, 16).expect("EVENTSCOPE_FUZZ_CASE is a hex seed such as 0x1f")
    })
}

/// Runs `cases` cases of a property. Each case gets its own seed, derived from the
/// test's name and the case number, and a panic in a case (the code under test's or
/// a failed assertion) fails the test naming that seed. Returns the number of inputs
/// the cases reported generating.
fn for_each_case(test: &str, cases: u64, mut case: impl FnMut(&mut SplitMix64) -> u64) -> u64 {
    let base = test.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let only = replayed_case();
    let mut inputs = 0;
    for i in 0..cases {
        let seed = SplitMix64(base ^ i).next_u64();
        if only.is_some_and(|only| only != seed) {
            continue;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| case(&mut SplitMix64(seed))));
        match outcome {
            Ok(n) => inputs += n,
            Err(_) => panic!(
                "{test}: case {i} panicked (see above); rerun it alone with \
                 EVENTSCOPE_FUZZ_CASE={seed:#x} cargo test --test scenario_fuzz {test}"
            ),
        }
    }
    eprintln!("{test}: {inputs} generated inputs in {cases} cases");
    inputs
}

// ---------------------------------------------------------------------------------
// Inputs: the built-ins, and the strings and numbers most likely to break things
// ---------------------------------------------------------------------------------

/// The seed whose event ids scripted faults name. Ids derive from the seed, so runs
/// meant to hit those messages use it too.
const EVENT_IDS_SEED: u64 = 1;

struct Base {
    name: &'static str,
    scenario: Scenario,
    value: Value,
    /// Every short string in the document: names, types, keys. Swapping one for
    /// another produces cross-wired references, duplicate names and wrong enums.
    strings: Vec<String>,
    /// Event ids of a clean run, so scripted faults can name real messages.
    event_ids: Vec<String>,
}

fn bases() -> Vec<Base> {
    scenario::builtin_names()
        .map(|name| {
            let scenario = scenario::builtin(name).expect("a listed built-in loads");
            let value: Value = serde_json::from_str(&scenario.to_json_pretty()).expect("a scenario serialises to JSON");
            let mut strings = Vec::new();
            collect_strings(&value, &mut strings);
            strings.sort();
            strings.dedup();
            let mut sim = Simulation::new(RunConfig::new(scenario.clone(), EVENT_IDS_SEED)).expect("a built-in builds");
            sim.run(500);
            let event_ids = sim.messages().iter().map(|m| m.envelope.id.clone()).collect();
            Base { name, scenario, value, strings, event_ids }
        })
        .collect()
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() <= 64 && !s.contains(' ') => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(map) => {
            for (k, x) in map {
                out.push(k.clone());
                collect_strings(x, out);
            }
        }
        _ => {}
    }
}

/// Strings aimed at the template parser, the name rules and the enums.
const NASTY_STRINGS: &[&str] = &[
    "",
    " ",
    "{",
    "}",
    "{}",
    "{{",
    "{data.}",
    "{data.x",
    "{unknown}",
    "{n}",
    "{subject}",
    "{data.customer}",
    "x{data.amount}{",
    "order-{n}-{n}",
    "}{",
    "data.",
    "-data.",
    "data.amount",
    "-data.amount",
    "--data.amount",
    "-",
    "nowhere",
    "no such service",
    "évènement",
    "💥{n}",
    "\u{0}",
    "a\nb",
    "at_most_once",
    "at_least_once",
    "exactly_once_effect",
    "per_key",
    "none",
    "domain",
    "command",
    "crash_service",
    "drop_message",
    "random",
    "crash",
    "step",
    "time_ms",
    "evt_000000000000",
];

fn nasty_string(rng: &mut SplitMix64) -> String {
    match rng.below(10) {
        // Just over and far over the name and template limits.
        0 => "n".repeat(*rng.pick(&[64, 65, 129, 1_001, 20_001])),
        1 => "{".repeat(rng.below(50) + 1),
        2 => format!("{{data.{}}}", "f".repeat(rng.below(100))),
        _ => rng.pick(NASTY_STRINGS).to_string(),
    }
}

fn extreme_number(rng: &mut SplitMix64) -> Value {
    match rng.below(14) {
        0 => json!(u64::MAX),
        1 => json!(i64::MIN),
        2 => json!(i64::MAX),
        3 => json!(-1),
        4 => json!(0),
        5 => json!(1),
        6 => json!(u64::from(u32::MAX) + 1),
        7 => json!(u32::MAX),
        8 => json!(1e300),
        9 => json!(-0.5),
        10 => json!(2.5),
        11 => json!(9_007_199_254_740_993u64),
        12 => json!(1_001),
        _ => json!(rng.below(200) as u64),
    }
}

/// Field names of the scenario and fault formats, so random objects sometimes look
/// like the real thing and get past `deny_unknown_fields` to the values.
const FIELD_NAMES: &[&str] = &[
    "name",
    "title",
    "topic",
    "service",
    "subscription",
    "type",
    "kind",
    "on",
    "key",
    "add",
    "at_least",
    "fault",
    "verdict",
    "per_mille",
    "message",
    "delay_ms",
    "restart_after_ms",
    "at",
    "step",
    "time_ms",
    "count",
    "every_ms",
    "unexpected",
];

fn random_value(rng: &mut SplitMix64, strings: &[String], depth: u32) -> Value {
    let choices = if depth == 0 { 7 } else { 10 };
    match rng.below(choices) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(500)),
        2 | 3 => extreme_number(rng),
        4 => Value::String(nasty_string(rng)),
        5 | 6 => Value::String(rng.pick(strings).clone()),
        7 => (0..rng.below(4)).map(|_| random_value(rng, strings, depth - 1)).collect(),
        8 => Value::Object(
            (0..rng.below(4))
                .map(|_| (rng.pick(FIELD_NAMES).to_string(), random_value(rng, strings, depth - 1)))
                .collect(),
        ),
        // Deep but narrow: nesting that is legal JSON yet past the payload depth rule.
        _ => (0..rng.below(12) + 1).fold(Value::Bool(true), |inner, _| json!([inner])),
    }
}

// ---------------------------------------------------------------------------------
// Structural mutation of a JSON tree
// ---------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A path in the notation of the errors (`subscriptions[1].topic`, `.` for the root).
fn path_text(path: &[Seg]) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn all_paths(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(path.clone());
    match v {
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                all_paths(x, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                path.push(Seg::Key(k.clone()));
                all_paths(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    for seg in path {
        v = match (seg, v) {
            (Seg::Key(k), Value::Object(map)) => map.get_mut(k).expect("path from all_paths"),
            (Seg::Index(i), Value::Array(items)) => &mut items[*i],
            _ => unreachable!("paths are taken from the tree they index"),
        };
    }
    v
}

/// What one mutation did, for the error-path property.
enum Mutation {
    /// The value at this path was replaced; nothing else changed.
    Replaced(Vec<Seg>),
    Other,
}

fn mutate(rng: &mut SplitMix64, root: &mut Value, strings: &[String], extra: &Value) -> Mutation {
    let mut paths = Vec::new();
    all_paths(root, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let choice = rng.below(16);
    // Delete the node from its parent.
    if choice <= 2 {
        if let Some((last, parent)) = path.split_last() {
            match (node_mut(root, parent), last) {
                (Value::Object(map), Seg::Key(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), Seg::Index(i)) => {
                    items.remove(*i);
                }
                _ => {}
            }
            return Mutation::Other;
        }
    }
    let node = node_mut(root, &path);
    match choice {
        3..=6 => {
            *node = random_value(rng, strings, 3);
            Mutation::Replaced(path)
        }
        7 | 8 => {
            *node = Value::String(rng.pick(strings).clone());
            Mutation::Replaced(path)
        }
        9 => {
            *node = extreme_number(rng);
            Mutation::Replaced(path)
        }
        10 => match node {
            Value::Object(map) => {
                let key = if rng.chance(500) { rng.pick(FIELD_NAMES).to_string() } else { nasty_string(rng) };
                map.insert(key, random_value(rng, strings, 2));
                Mutation::Other
            }
            Value::Array(items) if !items.is_empty() => {
                // Duplicates: same names, same handlers, same subscriptions.
                let copy = items[rng.below(items.len())].clone();
                items.insert(rng.below(items.len() + 1), copy);
                Mutation::Other
            }
            _ => Mutation::Other,
        },
        11 => match node {
            // Past the count limits (64 names, 256 subscriptions and workload items).
            Value::Array(items) if !items.is_empty() => {
                let copies = *rng.pick(&[65, 257, 300]);
                let item = items[0].clone();
                items.extend(std::iter::repeat_n(item, copies));
                Mutation::Other
            }
            _ => Mutation::Other,
        },
        12 => {
            match node {
                Value::Array(items) => items.clear(),
                Value::Object(map) => map.clear(),
                Value::String(s) => s.clear(),
                other => *other = Value::Null,
            }
            Mutation::Other
        }
        13 => {
            let inner = node.take();
            *node = if rng.chance(500) { json!([inner]) } else { json!({ "value": inner }) };
            Mutation::Replaced(path)
        }
        // Splice in something well-formed from elsewhere (a fault script, say).
        _ => {
            *node = extra.clone();
            Mutation::Replaced(path)
        }
    }
}

/// True if the error's path is the mutated path, an ancestor of it or a descendant:
/// a wrong value is reported where it is, or at the enum or map that holds it.
fn paths_related(error: &str, mutated: &str) -> bool {
    let prefix_of = |short: &str, long: &str| {
        long.starts_with(short) && matches!(long.as_bytes().get(short.len()), None | Some(b'.') | Some(b'['))
    };
    error == "." || error.is_empty() || mutated == "." || prefix_of(error, mutated) || prefix_of(mutated, error)
}

fn check_errors(errors: &ScenarioErrors, input: &str) {
    assert!(!errors.0.is_empty(), "an error without any entry for {input}");
    assert!(errors.0.len() <= 100, "{} errors; validation promises to stop at 100", errors.0.len());
    for e in &errors.0 {
        assert!(!e.message.is_empty(), "an error without a message at {}", e.path);
    }
}

// ---------------------------------------------------------------------------------
// Running what validates
// ---------------------------------------------------------------------------------

/// Caps a scenario so that its run is short, keeping it valid.
fn bounded(mut s: Scenario) -> Scenario {
    s.steps_max = s.steps_max.min(FUZZ_STEPS_MAX);
    for w in &mut s.workload {
        if let Some(r) = &mut w.repeat {
            r.count = r.count.min(FUZZ_REPEAT_MAX);
        }
    }
    s
}

fn random_anti_patterns(rng: &mut SplitMix64) -> Vec<AntiPattern> {
    AntiPattern::ALL.into_iter().filter(|_| rng.chance(150)).collect()
}

/// Builds and runs a validated configuration; it must build and must stop in time.
fn run_bounded(config: RunConfig, check_determinism: bool) {
    let steps_max = config.scenario.steps_max;
    let mut sim = match Simulation::new(config.clone()) {
        Ok(sim) => sim,
        Err(e) => panic!("a configuration that validated did not build: {e}"),
    };
    sim.run_to_end();
    assert!(sim.finished().is_some(), "run_to_end returned before the run finished");
    assert!(sim.step_index() <= steps_max, "ran {} steps past steps_max {steps_max}", sim.step_index());
    for record in sim.trace() {
        let _ = sim.line(record);
    }
    // The verdicts read every queue, dead letter and saga of a user's scenario.
    let _ = sim.health();
    if check_determinism {
        let mut again = Simulation::new(config).expect("built once, builds again");
        again.run_to_end();
        assert_eq!(sim.trace_hash(), again.trace_hash(), "same configuration, different trace");
    }
}

// ---------------------------------------------------------------------------------
// Scenarios: structural mutation
// ---------------------------------------------------------------------------------

const STRUCTURAL_CASES: u64 = 12_000;

#[test]
fn mutated_scenarios_give_errors_or_runs_never_panics() {
    let bases = bases();
    let fault_sample = serde_json::to_value(sample_fault_script(&bases[1])).expect("fault scripts serialise");
    let mut validated = 0u64;
    let inputs = for_each_case("mutated_scenarios_give_errors_or_runs_never_panics", STRUCTURAL_CASES, |rng| {
        let base = rng.pick(&bases);
        let mut doc = base.value.clone();
        let mutations = if rng.chance(400) { 1 } else { rng.below(6) + 2 };
        let mut last = Mutation::Other;
        for _ in 0..mutations {
            last = mutate(rng, &mut doc, &base.strings, &fault_sample);
        }
        let text = serde_json::to_string(&doc).expect("a JSON value serialises");
        let by_text = Scenario::from_json(&text);
        let by_value = Scenario::from_value(doc.clone());
        let mut inputs = 2;

        match (&by_text, &by_value) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "text and value parse differently"),
            (Err(e), Ok(_)) if text.len() > SCENARIO_BYTES_MAX => assert!(e.to_string().contains("limit")),
            (Err(a), Err(b)) => {
                check_errors(a, &text);
                check_errors(b, &text);
            }
            _ => panic!("text and value disagree: {by_text:?} vs {by_value:?} for {text}"),
        }

        // A single wrong value that fails deserialisation is reported at its path.
        if let (1, Mutation::Replaced(path), Err(errors)) = (mutations, &last, &by_value) {
            if Scenario::read(doc.clone(), "").is_err() {
                let mutated = path_text(path);
                assert_eq!(errors.0.len(), 1, "deserialisation stops at the first error");
                assert!(
                    paths_related(&errors.0[0].path, &mutated),
                    "{mutated} was changed but the error is at {}: {}",
                    errors.0[0].path,
                    errors.0[0].message
                );
            }
        }

        if let Ok(s) = by_value {
            validated += 1;
            // What loads must save and load again unchanged (exports and share links).
            let again = Scenario::from_json(&s.to_json_pretty()).expect("a valid scenario reloads");
            assert_eq!(again, s);
            inputs += 1;
            let config = RunConfig {
                scenario: bounded(s),
                seed: rng.next_u64(),
                faults: FaultScript::default(),
                anti_patterns: random_anti_patterns(rng),
            };
            run_bounded(config, rng.chance(100));
        }
        inputs
    });
    eprintln!("  of which {validated} mutants validated and ran (base scenarios: {})", bases.len());
    if replayed_case().is_none() {
        assert!(inputs >= 2 * STRUCTURAL_CASES);
        // If almost nothing validates, the simulation half of this test tests nothing.
        assert!(validated > STRUCTURAL_CASES / 20, "only {validated} mutants validated");
    }
}

// ---------------------------------------------------------------------------------
// Scenarios: byte-level mutation
// ---------------------------------------------------------------------------------

#[test]
fn every_truncation_of_a_scenario_is_an_error() {
    let bases = bases();
    let mut inputs = 0u64;
    for base in &bases {
        for text in [serde_json::to_string(&base.value).expect("serialises"), base.scenario.to_json_pretty()] {
            let end = text.trim_end().len();
            for cut in (0..end).filter(|i| text.is_char_boundary(*i)) {
                let prefix = &text[..cut];
                match catch_unwind(|| Scenario::from_json(prefix)) {
                    Ok(Err(e)) => check_errors(&e, prefix),
                    Ok(Ok(_)) => panic!("{}: a document cut at byte {cut} parsed", base.name),
                    Err(_) => panic!("{}: a document cut at byte {cut} panicked", base.name),
                }
                inputs += 1;
            }
        }
    }
    eprintln!("every_truncation_of_a_scenario_is_an_error: {inputs} generated inputs");
}

/// Bytes that matter to a JSON parser, for insertion and replacement.
const JSON_BYTES: &[u8] = b"{}[]\",:\\/0123456789-+.eE tfn\n\t\x00\xff";

fn mutate_bytes(rng: &mut SplitMix64, bytes: &mut Vec<u8>) {
    let at = rng.below(bytes.len().max(1));
    match rng.below(7) {
        0 if !bytes.is_empty() => bytes[at] ^= 1 << rng.below(8),
        1 if !bytes.is_empty() => bytes[at] = *rng.pick(JSON_BYTES),
        2 => bytes.insert(at.min(bytes.len()), *rng.pick(JSON_BYTES)),
        3 if !bytes.is_empty() => {
            let len = rng.below(64).min(bytes.len() - at);
            bytes.drain(at..at + len);
        }
        4 if !bytes.is_empty() => {
            // Copy a slice of the document elsewhere: repeated keys and elements.
            let from = rng.below(bytes.len());
            let len = rng.below(200).min(bytes.len() - from);
            let chunk: Vec<u8> = bytes[from..from + len].to_vec();
            let to = rng.below(bytes.len());
            bytes.splice(to..to, chunk);
        }
        5 => {
            let digits = rng.pick(&["99999999999999999999999", "-1", "1e999", "0.0000001", "-0"]);
            bytes.splice(at..at, digits.bytes());
        }
        _ => bytes.truncate(at),
    }
}

const BYTE_CASES: u64 = 30_000;

#[test]
fn byte_mutated_scenarios_never_panic() {
    let bases = bases();
    let texts: Vec<Vec<u8>> = bases
        .iter()
        .flat_map(|b| [serde_json::to_vec(&b.value).expect("serialises"), b.scenario.to_json_pretty().into_bytes()])
        .collect();
    let mut parsed = 0u64;
    for_each_case("byte_mutated_scenarios_never_panic", BYTE_CASES, |rng| {
        let mut bytes = rng.pick(&texts).clone();
        for _ in 0..rng.below(4) + 1 {
            mutate_bytes(rng, &mut bytes);
        }
        // Text arrives as `&str`; invalid UTF-8 is the caller's error, not the parser's.
        let text = String::from_utf8_lossy(&bytes);
        match Scenario::from_json(&text) {
            Ok(s) => {
                parsed += 1;
                run_bounded(RunConfig::new(bounded(s), rng.next_u64()), false);
            }
            Err(e) => check_errors(&e, &text),
        }
        1
    });
    eprintln!("  of which {parsed} still parsed and ran");
}

/// The workload payload field of checkout, as `to_json_pretty` writes it.
const ORDER_FIELD: &str = "\"order\": \"order-{n}\"";

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let checkout = scenario::builtin("checkout").expect("built-in");
    let deep_array = "[".repeat(10_000);
    let deep_object = "{\"a\":".repeat(10_000);
    let closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let mut documents = vec![deep_array.clone(), deep_object.clone(), closed.clone()];
    // Nesting inside fields the parser reaches only after the rest of a valid prefix.
    for field in ["title", "faults", "topics"] {
        documents.push(format!(r#"{{"name":"x","{field}":{closed}}}"#));
    }
    let pretty = checkout.to_json_pretty();
    // Eight levels is what a payload may have, so it loads; one more does not.
    let eight = format!("{}true{}", "[".repeat(8), "]".repeat(8));
    let text = pretty.replacen(ORDER_FIELD, &format!("\"order\": {eight}"), 1);
    assert!(Scenario::from_json(&text).is_ok(), "a payload nested 8 levels deep is allowed");
    for depth in [9, 100, 127, 128, 129, 10_000] {
        let nested = format!("{}true{}", "[".repeat(depth), "]".repeat(depth));
        documents.push(pretty.replacen(ORDER_FIELD, &format!("\"order\": {nested}"), 1));
    }
    for text in &documents {
        let errors = Scenario::from_json(text).expect_err("too deep or wrongly typed");
        check_errors(&errors, text);
        let errors = FaultScript::from_json(text, &checkout).expect_err("not a fault script");
        check_errors(&errors, text);
    }
    // A payload nested past the engine's rule (8 levels) but within the parser's is
    // refused by validation, at the field that holds it.
    let nested = format!("{}1{}", "[".repeat(20), "]".repeat(20));
    let text = pretty.replacen(ORDER_FIELD, &format!("\"order\": {nested}"), 1);
    assert_ne!(text, pretty, "the checkout workload has an order field");
    let errors = Scenario::from_json(&text).expect_err("too deep");
    assert!(errors.0.iter().any(|e| e.path == "workload[0].data.order" && e.message.contains("nested")), "{errors}");
}

#[test]
fn oversized_documents_are_refused_naming_the_limit() {
    let checkout = scenario::builtin("checkout").expect("built-in");
    let pretty = checkout.to_json_pretty();
    // Whitespace keeps the document valid, so only its size can be wrong.
    let pad = |len: usize| format!("{pretty}{}", " ".repeat(len - pretty.len()));
    let at_limit = pad(SCENARIO_BYTES_MAX);
    assert_eq!(Scenario::from_json(&at_limit).as_ref(), Ok(&checkout), "a document of exactly the limit loads");
    for len in [SCENARIO_BYTES_MAX + 1, 3 * SCENARIO_BYTES_MAX] {
        let errors = Scenario::from_json(&pad(len)).expect_err("over the limit");
        let text = errors.to_string();
        assert!(text.contains("limit") && text.contains(&SCENARIO_BYTES_MAX.to_string()), "{text}");
        let script = format!("{{}}{}", " ".repeat(len - 2));
        let text = FaultScript::from_json(&script, &checkout).expect_err("over the limit").to_string();
        assert!(text.contains("limit") && text.contains(&SCENARIO_BYTES_MAX.to_string()), "{text}");
    }
    // Large because of content rather than padding: a 1.5 MiB description.
    let mut doc: Value = serde_json::from_str(&pretty).expect("valid JSON");
    doc["description"] = Value::String("d".repeat(3 * SCENARIO_BYTES_MAX / 2));
    let text = Scenario::from_json(&doc.to_string()).expect_err("over the limit").to_string();
    assert!(text.contains("limit"), "{text}");
    // The same document as a value is held to the same byte limit.
    let errors = Scenario::from_value(doc).expect_err("over the limit");
    assert!(errors.to_string().contains("limit"), "{errors}");
}

// ---------------------------------------------------------------------------------
// Scenarios: errors name their JSON path
// ---------------------------------------------------------------------------------

#[test]
fn errors_carry_the_json_path_of_the_problem() {
    let checkout: Value =
        serde_json::from_str(&scenario::builtin("checkout").expect("built-in").to_json_pretty()).expect("valid JSON");
    // (where to write, what to write, the path the first error must start with)
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/steps_max", json!("many"), "steps_max"),
        ("/steps_max", json!(-1), "steps_max"),
        ("/steps_max", json!(0), "steps_max"),
        ("/title", json!(12), "title"),
        ("/topics", json!({}), "topics"),
        ("/topics/1/name", json!(["payments"]), "topics[1].name"),
        ("/topics/1/name", json!("orders"), "topics[1].name"),
        ("/topics/1/name", json!(""), "topics[1].name"),
        ("/subscriptions/1/topic", json!(5), "subscriptions[1].topic"),
        ("/subscriptions/1/topic", json!("nowhere"), "subscriptions[1].topic"),
        ("/subscriptions/2/service", json!("nobody"), "subscriptions[2].service"),
        ("/subscriptions/0/delivery", json!("sometimes"), "subscriptions[0].delivery"),
        ("/subscriptions/0/retry/attempts_max", json!(0), "subscriptions[0].retry.attempts_max"),
        ("/subscriptions/0/retry/attempts_max", json!(1.5), "subscriptions[0].retry.attempts_max"),
        ("/subscriptions/0/capacity", json!(u64::MAX), "subscriptions[0].capacity"),
        ("/services/2/state/balance.c-1", json!("rich"), "services[2].state"),
        ("/services/2/handlers/0/require/0/at_least", json!(true), "services[2].handlers[0].require[0].at_least"),
        ("/services/2/handlers/0/require/0/at_least", json!("amount"), "services[2].handlers[0].require[0].at_least"),
        ("/services/2/handlers/0/effects/0/key", json!("balance.{data.}"), "services[2].handlers[0].effects[0].key"),
        ("/services/2/handlers/0/emit/0/topic", json!("nowhere"), "services[2].handlers[0].emit[0].topic"),
        ("/services/2/handlers/0/emit/0/kind", json!("gossip"), "services[2].handlers[0].emit[0].kind"),
        ("/workload/0/subject", json!("order-{unknown}"), "workload[0].subject"),
        ("/workload/0/subject", json!("order-{"), "workload[0].subject"),
        ("/workload/0/repeat/count", json!(-1), "workload[0].repeat.count"),
        ("/workload/0/repeat/count", json!(0), "workload[0].repeat.count"),
        ("/workload/0/at_ms", json!("soon"), "workload[0].at_ms"),
        ("/conserved/0/accounts/0/service", json!("bank"), "conserved[0].accounts[0].service"),
        ("/conserved/0/in_transit/0/subscription", json!("pipe"), "conserved[0].in_transit[0].subscription"),
        ("/faults", json!({ "rules": [{ "verdict": "explode", "per_mille": 1 }] }), "faults.rules[0].verdict"),
        ("/faults", json!({ "rules": [{ "verdict": "drop", "per_mille": 1001 }] }), "faults.rules[0]"),
        (
            "/faults",
            json!({ "scripted": [{ "at": { "step": 3 }, "fault": { "crash_service": { "service": "bank", "restart_after_ms": null } } }] }),
            "faults.scripted[0].fault.service",
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut doc = checkout.clone();
        *doc.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} exists in checkout")) = value.clone();
        for errors in [Scenario::from_value(doc.clone()), Scenario::from_json(&doc.to_string())]
            .map(|r| r.expect_err("a wrong document"))
        {
            assert!(
                errors.0.iter().any(|e| e.path.starts_with(expected)),
                "{pointer} = {value}: expected an error at {expected}, got:\n{errors}"
            );
        }
    }
    // An unknown field is named in the message, wherever it is.
    let mut doc = checkout.clone();
    doc["subscriptions"][3]["colour"] = json!("blue");
    let errors = Scenario::from_value(doc).expect_err("unknown field");
    assert!(errors.0[0].path.starts_with("subscriptions[3]") && errors.0[0].message.contains("colour"), "{errors}");

    // Fault scripts report paths relative to the script.
    let s = scenario::builtin("checkout").expect("built-in");
    let script_cases = [
        (r#"{"rules":[{"verdict":"drop","per_mille":"often"}]}"#, "rules[0].per_mille"),
        (r#"{"rules":[{"verdict":"drop","per_mille":5000}]}"#, "rules[0].per_mille"),
        (r#"{"rules":[{"matcher":{"service":"bank"},"verdict":"fail","per_mille":5}]}"#, "rules[0].matcher"),
        (r#"{"scripted":[{"at":{"step":"x"},"fault":{"restart_service":{"service":"order"}}}]}"#, "scripted[0].at"),
        (r#"{"scripted":[{"at":{"step":1},"fault":{"restart_service":{"service":"bank"}}}]}"#, "scripted[0].fault"),
        (
            r#"{"scripted":[{"at":{"step":1},"fault":{"redrive_dead_letters":{"subscription":"x","message":null}}}]}"#,
            "scripted[0].fault.subscription",
        ),
        (r#"{"scripted":[{},{}]}"#, "scripted[0]"),
    ];
    for (text, expected) in script_cases {
        let errors = FaultScript::from_json(text, &s).expect_err("a wrong fault script");
        assert!(errors.0.iter().any(|e| e.path.starts_with(expected)), "{text}: expected {expected}, got:\n{errors}");
    }
}

// ---------------------------------------------------------------------------------
// Fault scripts
// ---------------------------------------------------------------------------------

/// Durations worth trying: ordinary ones, the limit and far past it.
fn duration_ms(rng: &mut SplitMix64) -> u64 {
    match rng.below(8) {
        0 => 0,
        1 => 86_400_000,
        2 => 86_400_001,
        3 => u64::MAX,
        4 => u64::MAX / 2,
        _ => rng.below(2_000) as u64,
    }
}

/// A name that is real most of the time and unknown otherwise.
fn target(rng: &mut SplitMix64, real: &[String]) -> String {
    if real.is_empty() || rng.chance(150) {
        nasty_string(rng)
    } else {
        rng.pick(real).clone()
    }
}

fn random_fault(rng: &mut SplitMix64, base: &Base) -> Fault {
    let services: Vec<String> = base.scenario.services.iter().map(|s| s.name.clone()).collect();
    let subs: Vec<String> = base.scenario.subscriptions.iter().map(|s| s.name.clone()).collect();
    let service = target(rng, &services);
    let sub = target(rng, &subs);
    let message = target(rng, &base.event_ids);
    let maybe_sub = if rng.chance(500) { Some(sub.clone()) } else { None };
    let maybe_message = if rng.chance(500) { Some(message.clone()) } else { None };
    let per_mille = if rng.chance(100) { rng.next_u64() as u32 } else { rng.below(1_001) as u32 };
    match rng.below(12) {
        0 => Fault::CrashService { service, restart_after_ms: rng.chance(700).then(|| duration_ms(rng)) },
        1 => Fault::RestartService { service },
        2 => Fault::SlowService { service, extra_ms: duration_ms(rng) },
        3 => Fault::FailHandlers { service, per_mille },
        4 => Fault::PartitionService { service, duration_ms: duration_ms(rng) },
        5 => Fault::DropMessage { message, subscription: maybe_sub },
        6 => Fault::DuplicateMessage { message, subscription: maybe_sub },
        7 => Fault::DelayMessage { message, subscription: maybe_sub, delay_ms: duration_ms(rng) },
        8 => Fault::ReorderMessage { message, subscription: maybe_sub },
        9 => Fault::PoisonMessage { message },
        10 => Fault::RedriveDeadLetters { subscription: sub, message: maybe_message },
        _ => Fault::DiscardDeadLetters { subscription: sub, message: maybe_message },
    }
}

fn random_trigger(rng: &mut SplitMix64) -> Trigger {
    match rng.below(10) {
        0 => Trigger::Step(u64::MAX),
        1 => Trigger::TimeMs(duration_ms(rng)),
        2..=5 => Trigger::TimeMs(rng.below(3_000) as u64),
        _ => Trigger::Step(rng.below(300) as u64),
    }
}

fn random_rule(rng: &mut SplitMix64, base: &Base) -> FaultRule {
    let services: Vec<String> = base.scenario.services.iter().map(|s| s.name.clone()).collect();
    let subs: Vec<String> = base.scenario.subscriptions.iter().map(|s| s.name.clone()).collect();
    let types: Vec<String> = base.scenario.workload.iter().map(|w| w.event_type.clone()).collect();
    let verdict = match rng.below(8) {
        0 => Verdict::Pass,
        1 => Verdict::Drop,
        2 => Verdict::Duplicate,
        3 => Verdict::Delay { delay_ms: duration_ms(rng) },
        4 => Verdict::Reorder,
        5 => Verdict::Fail,
        6 => Verdict::Crash { restart_after_ms: duration_ms(rng) },
        _ => Verdict::Random,
    };
    let per_mille = match rng.below(10) {
        0 => 1_000,
        1 => 1_001,
        2 => u32::MAX,
        _ => rng.below(300) as u32,
    };
    FaultRule {
        matcher: Matcher {
            event_type: rng.chance(300).then(|| target(rng, &types)),
            subscription: rng.chance(300).then(|| target(rng, &subs)),
            service: rng.chance(300).then(|| target(rng, &services)),
        },
        verdict,
        per_mille,
    }
}

fn random_fault_script(rng: &mut SplitMix64, base: &Base) -> FaultScript {
    FaultScript {
        rules: (0..rng.below(4)).map(|_| random_rule(rng, base)).collect(),
        scripted: (0..rng.below(8))
            .map(|_| ScriptedFault { at: random_trigger(rng), fault: random_fault(rng, base) })
            .collect(),
    }
}

/// A script that uses every kind of fault, for splicing into mutated documents.
fn sample_fault_script(base: &Base) -> FaultScript {
    let mut rng = SplitMix64(7);
    let mut script = random_fault_script(&mut rng, base);
    while script.scripted.len() < 12 {
        script.scripted.push(ScriptedFault { at: random_trigger(&mut rng), fault: random_fault(&mut rng, base) });
    }
    script
}

const FAULT_PARSE_CASES: u64 = 14_000;

#[test]
fn mutated_fault_scripts_give_errors_or_scripts_never_panic() {
    let bases = bases();
    let mut accepted = 0u64;
    for_each_case("mutated_fault_scripts_give_errors_or_scripts_never_panic", FAULT_PARSE_CASES, |rng| {
        let base = rng.pick(&bases);
        let script = random_fault_script(rng, base);
        let mut doc = serde_json::to_value(&script).expect("fault scripts serialise");
        let mut inputs = 0;
        // The generated script as is: accepted exactly when it validates.
        let text = doc.to_string();
        let parsed = FaultScript::from_json(&text, &base.scenario);
        inputs += 1;
        assert_eq!(parsed.is_ok(), script.validate_against(&base.scenario).is_ok(), "{text}");
        if let Ok(p) = &parsed {
            assert_eq!(p, &script, "a fault script does not survive JSON");
        }
        // Structurally mutated.
        for _ in 0..rng.below(4) + 1 {
            mutate(rng, &mut doc, &base.strings, &base.value["workload"]);
        }
        let text = doc.to_string();
        match FaultScript::from_json(&text, &base.scenario) {
            Ok(p) => {
                accepted += 1;
                assert!(p.validate_against(&base.scenario).is_ok());
            }
            Err(e) => check_errors(&e, &text),
        }
        inputs += 1;
        // Cut short: never a complete document.
        let cut = rng.below(text.len());
        if text.is_char_boundary(cut) {
            let errors = FaultScript::from_json(&text[..cut], &base.scenario).expect_err("a truncated script");
            check_errors(&errors, &text[..cut]);
            inputs += 1;
        }
        // Byte-mutated.
        let mut bytes = text.into_bytes();
        mutate_bytes(rng, &mut bytes);
        let _ = FaultScript::from_json(&String::from_utf8_lossy(&bytes), &base.scenario);
        inputs + 1
    });
    eprintln!("  of which {accepted} mutated scripts were accepted");
}

const FAULT_RUN_CASES: u64 = 1_500;

#[test]
fn random_fault_scripts_never_panic_the_simulation() {
    let bases = bases();
    let mut ran = 0u64;
    for_each_case("random_fault_scripts_never_panic_the_simulation", FAULT_RUN_CASES, |rng| {
        let base = rng.pick(&bases);
        let scenario = bounded(base.scenario.clone());
        let mut faults = random_fault_script(rng, base);
        if rng.chance(600) {
            // Most random scripts hold some invalid entry; keeping only the valid ones
            // makes more of them run, with the same variety of faults.
            let alone = |rules: Vec<FaultRule>, scripted: Vec<ScriptedFault>| {
                FaultScript { rules, scripted }.validate_against(&scenario).is_ok()
            };
            faults.rules.retain(|r| alone(vec![r.clone()], Vec::new()));
            faults.scripted.retain(|e| alone(Vec::new(), vec![e.clone()]));
        }
        let valid = faults.validate_against(&scenario).is_ok();
        let seed = if rng.chance(500) { EVENT_IDS_SEED } else { rng.next_u64() };
        let config = RunConfig { scenario, seed, faults, anti_patterns: random_anti_patterns(rng) };
        if !valid {
            assert!(Simulation::new(config).is_err(), "an invalid fault script was accepted by Simulation::new");
            return 1;
        }
        ran += 1;
        if rng.chance(300) {
            // Interactive injections: some mid-run, some after a rewind (a fork).
            //
            let mut sim = Simulation::new(config).expect("validated");
            for _ in 0..rng.below(5) + 1 {
                sim.run(rng.below(60) as u64);
                if rng.chance(300) {
                    let back = rng.below(sim.step_index() as usize + 1) as u64;
                    sim.rewind_to(back);
                }
                let _ = sim.inject(random_fault(rng, base));
            }
            sim.run_to_end();
            assert!(sim.step_index() <= FUZZ_STEPS_MAX);
            let _ = sim.health();
        } else {
            run_bounded(config, rng.chance(50));
        }
        1
    });
    eprintln!("  of which {ran} scripts validated and ran");
}

// ---------------------------------------------------------------------------------
// Hostile scenarios: loops, repeated placeholders, maximal fan-out
// ---------------------------------------------------------------------------------

/// Generated hostile scenarios, split over two tests so they run side by side.
const HOSTILE_CASES: u64 = 50_000;

const TYPES: [&str; 3] = ["io.eventscope.a", "io.eventscope.b", "io.eventscope.c"];

/// A field template built to grow: copies of input fields and the subject, some
/// repeated, some mixed with text.
fn growing_template(rng: &mut SplitMix64) -> Value {
    let pieces = ["{data.p}", "{data.q}", "{subject}", "x", "{data.n}"];
    if rng.chance(100) {
        return json!(rng.below(1000));
    }
    let copies = if rng.chance(50) { 16 + rng.below(100) } else { 1 + rng.below(4) };
    let text: String = (0..copies).map(|_| *rng.pick(&pieces)).collect();
    json!(text)
}

/// A scenario of one or two services whose handlers emit the event types they and
/// each other handle, with templates that copy fields several times, subscriptions
/// that fan each event out, and now and then the widest fan-out a scenario may have
/// (16 emits to 256 subscriptions).
fn hostile_scenario(rng: &mut SplitMix64) -> (Value, Vec<AntiPattern>) {
    let topics = 1 + rng.below(3);
    let services = 1 + rng.below(2);
    let widest = rng.chance(2);
    let mut service_docs = Vec::new();
    for s in 0..services {
        let mut handlers = Vec::new();
        let mut handled: Vec<&str> = TYPES.to_vec();
        for _ in 0..TYPES.len() - (1 + rng.below(TYPES.len())) {
            handled.remove(rng.below(handled.len()));
        }
        for on in handled {
            let emits_len = if widest { 16 } else { rng.below(4) };
            let emits: Vec<Value> = (0..emits_len)
                .map(|_| {
                    let mut data = serde_json::Map::new();
                    for field in ["p", "q", "n"] {
                        if rng.chance(600) {
                            data.insert(field.to_string(), growing_template(rng));
                        }
                    }
                    let mut e = json!({ "topic": format!("t{}", rng.below(topics)), "type": *rng.pick(&TYPES),
                                        "kind": "domain" });
                    if rng.chance(800) {
                        e["data"] = Value::Object(data);
                    }
                    if rng.chance(100) {
                        e["subject"] = json!(if rng.chance(500) { "{subject}{subject}" } else { "{data.p}" });
                    }
                    e
                })
                .collect();
            let mut handler = json!({ "on": on, "processing_ms": rng.below(5), "emit": emits });
            if rng.chance(200) {
                handler["require"] = json!([{ "key": "budget", "at_least": 1 }]);
                handler["effects"] = json!([{ "key": "budget", "add": -1 }]);
            }
            handlers.push(handler);
        }
        service_docs.push(json!({ "name": format!("s{s}"), "state": { "budget": 20 }, "handlers": handlers }));
    }
    let subs_len = if widest { 256 } else { 1 + rng.below(6) };
    let subs: Vec<Value> = (0..subs_len)
        .map(|i| {
            json!({ "name": format!("sub{i}"), "topic": format!("t{}", rng.below(topics)),
                    "service": format!("s{}", rng.below(services)), "dlq": rng.chance(500) })
        })
        .collect();
    let p = "p".repeat(rng.below(1000));
    let workload: Vec<Value> = (0..1 + rng.below(2))
        .map(|_| {
            json!({ "at_ms": 0, "topic": format!("t{}", rng.below(topics)), "type": *rng.pick(&TYPES), "kind": "domain",
                    "source": "s0", "subject": "k-{n}", "data": { "p": p, "q": "q", "n": 1 },
                    "repeat": { "count": 1 + rng.below(3), "every_ms": rng.below(10) } })
        })
        .collect();
    let doc = json!({
        "name": "hostile", "title": "hostile", "description": "generated",
        "steps_max": 50 + rng.below(350),
        "topics": (0..topics).map(|i| json!({ "name": format!("t{i}") })).collect::<Vec<_>>(),
        "services": service_docs,
        "subscriptions": subs,
        "workload": workload,
    });
    let mut anti = Vec::new();
    for a in [AntiPattern::EventsAsCommands, AntiPattern::FatEvents, AntiPattern::NoIdempotency] {
        if rng.chance(if widest { 500 } else { 100 }) {
            anti.push(a);
        }
    }
    (doc, anti)
}

/// One hostile case: refused with a path, or run to its end within every limit.
fn hostile_case(rng: &mut SplitMix64, outcomes: &mut [u64; 4]) {
    use eventscope::sim::limits::{Halt, Place, MESSAGES_MAX, MESSAGE_BYTES_MAX, RUN_BYTES_MAX};
    let (doc, anti_patterns) = hostile_scenario(rng);
    let scenario = match Scenario::from_value(doc) {
        Ok(s) => s,
        Err(errors) => {
            assert!(errors.0.iter().all(|e| !e.path.is_empty()), "an error without a path: {errors}");
            outcomes[0] += 1;
            return;
        }
    };
    let mut sim = Simulation::new(RunConfig { anti_patterns, ..RunConfig::new(scenario, 1) }).expect("validated");
    sim.run_to_end();
    assert!(sim.finished().is_some(), "run_to_end returned before the run finished");
    // What a run holds stays within the budget, up to one step's bookkeeping.
    assert!(sim.held_bytes() <= RUN_BYTES_MAX + MESSAGE_BYTES_MAX, "held {} bytes", sim.held_bytes());
    assert!(sim.messages().len() as u64 <= MESSAGES_MAX);
    match sim.halted().cloned() {
        Some(Halt::LimitReached { place, step, .. }) => {
            assert_eq!(step, sim.step_index(), "the halt names the step that did not happen");
            assert!(sim.step().is_none(), "a halted run does not step");
            if let Place::Handler { path, .. } = place {
                assert!(path.starts_with("services["), "{path}");
            }
            outcomes[1] += 1;
        }
        None if sim.step_index() == sim.scenario().steps_max => outcomes[2] += 1,
        None => outcomes[3] += 1,
    }
}

fn hostile(test: &str) {
    let mut outcomes = [0u64; 4];
    let started = std::time::Instant::now();
    // Case seeds derive from the test's name, so each half draws its own.
    let inputs = for_each_case(test, HOSTILE_CASES, |rng| {
        hostile_case(rng, &mut outcomes);
        1
    });
    let [refused, halted, step_limit, quiescent] = outcomes;
    eprintln!(
        "{test}: {inputs} scenarios in {:.1} s: {refused} refused, {halted} halted at a limit, \
         {step_limit} at steps_max, {quiescent} quiescent",
        started.elapsed().as_secs_f64()
    );
    if replayed_case().is_none() {
        assert!(refused > 0 && halted > 0 && step_limit > 0, "the generator covers every outcome: {outcomes:?}");
    }
}

#[test]
fn hostile_scenarios_end_within_their_limits_first_half() {
    hostile("hostile_scenarios_end_within_their_limits_first_half");
}

#[test]
fn hostile_scenarios_end_within_their_limits_second_half() {
    hostile("hostile_scenarios_end_within_their_limits_second_half");
}
