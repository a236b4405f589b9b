//! Tidy: machine-checked habits of the core.
//!
//! The simulation core and the lessons must stay pure and deterministic: no web crates (only `src/ui`
//! may name them), no hash-ordered collections, no wall clock, no unseeded
//! randomness, and no `usize` in traced data (it is 32 bits on wasm32).

use std::path::Path;

const FORBIDDEN_IN_CORE: &[(&str, &str)] = &[
    ("yew", "web crates belong in src/ui"),
    ("web_sys", "web crates belong in src/ui"),
    ("js_sys", "web crates belong in src/ui"),
    ("gloo", "web crates belong in src/ui"),
    ("wasm_bindgen", "web crates belong in src/ui"),
    ("HashMap", "iteration order is random: use BTreeMap"),
    ("HashSet", "iteration order is random: use BTreeSet"),
    ("Instant", "the core never reads a clock: time is an input"),
    ("SystemTime", "the core never reads a clock: time is an input"),
    ("thread_rng", "all randomness comes from the seeded ChaCha8"),
    ("StdRng", "all randomness comes from the seeded ChaCha8"),
    ("getrandom", "all randomness comes from the seeded ChaCha8"),
];

/// Files whose types are traced or exported: `usize` would differ across targets.
const TRACED: &[&str] = &["trace.rs", "envelope.rs", "invariant.rs", "fault.rs"];

/// Problems in one file's text, as "file:line: word (why)".
fn check(file: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for (word, why) in FORBIDDEN_IN_CORE {
            if contains_word(code, word) {
                problems.push(format!("{file}:{}: {word} ({why})", n + 1));
            }
        }
        if TRACED.iter().any(|t| file.ends_with(t)) && declares_usize_field(code) {
            problems.push(format!("{file}:{}: usize in traced data (use u32 or u64)", n + 1));
        }
    }
    problems
}

/// A struct field or enum payload typed `usize` (`pub step: usize,` or
/// `Published { fanout: usize }`), as opposed to a constant, a local or a function
/// parameter, where `usize` is harmless.
fn declares_usize_field(code: &str) -> bool {
    code.contains(": usize") && !["fn ", "const ", "let ", "static ", "for "].iter().any(|k| code.contains(k))
}

fn contains_word(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let is_ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !is_ident(before) && !is_ident(after)
    })
}

/// Checks every `.rs` file in the given folders; returns (files read, problems).
fn check_dirs(dirs: &[&str]) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut files = 0;
    for dir in dirs {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                problems.extend(check(&path.display().to_string(), &text));
            }
        }
    }
    (files, problems)
}

#[test]
fn the_core_stays_pure() {
    let (files, problems) = check_dirs(&["src/sim", "src/lessons"]);
    assert!(files >= 10, "found only {files} core files");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The exports run in the browser next to the core and must be as deterministic:
/// the same run exports the same bytes.
#[test]
fn the_exports_stay_pure() {
    let (files, problems) = check_dirs(&["src/export"]);
    assert!(files >= 7, "found only {files} export files");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_catches_each_forbidden_habit() {
    assert_eq!(check("sim/x.rs", "use std::collections::HashMap;").len(), 1);
    assert_eq!(check("sim/x.rs", "let t = std::time::Instant::now();").len(), 1);
    assert_eq!(check("sim/x.rs", "use yew::prelude::*;").len(), 1);
    assert_eq!(check("sim/trace.rs", "    pub step: usize,").len(), 1);
    assert_eq!(check("sim/trace.rs", "    Published { message: MessageId, fanout: usize },").len(), 1);
    assert!(check("sim/trace.rs", "pub const KEPT_MAX: usize = 10;").is_empty(), "constants are not traced");
    assert!(check("sim/x.rs", "// a HashMap would be wrong here").is_empty(), "comments are allowed");
    assert!(check("sim/x.rs", "let instant_replay = 1;").is_empty(), "only whole words count");
}
