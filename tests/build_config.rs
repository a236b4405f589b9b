//! Checks that the build configuration agrees with itself.
//!
//! Several files must name the same thing, and a mismatch only shows up later as a
//! confusing failure in the browser build: the wasm-bindgen CLI must equal the crate
//! in Cargo.lock, Trunk must be told that version, and index.html must keep its strict
//! Content-Security-Policy. The web crates must stay inside `src/ui/`, the adapter, so
//! the core keeps building and testing natively.

use std::fs;
use std::path::{Path, PathBuf};

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
}

/// The version of `package` in Cargo.lock.
fn locked_version(package: &str) -> Option<String> {
    let lock = read("Cargo.lock");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"") {
            let version = lines.next()?.strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_string());
        }
    }
    None
}

/// The value of `key = "..."` in a TOML text (first occurrence).
fn toml_string(text: &str, key: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix(key)?.trim().strip_prefix('=').map(str::trim))
        .map(|value| value.trim_matches('"').to_string())
}

#[test]
fn trunk_uses_the_wasm_bindgen_version_of_the_lockfile() {
    let locked = locked_version("wasm-bindgen").expect("wasm-bindgen in Cargo.lock");
    let trunk = read("Trunk.toml");
    assert_eq!(toml_string(&trunk, "wasm_bindgen").as_deref(), Some(&*locked));
    assert_eq!(toml_string(&trunk, "wasm_opt").as_deref(), Some("version_132"));
    assert_eq!(toml_string(&trunk, "offline").as_deref(), Some("true"));
}

#[test]
fn wasm_bindgen_test_matches_wasm_bindgen() {
    // wasm-bindgen-test 0.3.N ships with wasm-bindgen 0.2.M through its shared crate;
    // the runner from wasm-bindgen-cli speaks only its own release's protocol.
    let locked = locked_version("wasm-bindgen").expect("wasm-bindgen in Cargo.lock");
    let shared = locked_version("wasm-bindgen-test-shared").expect("test-shared in Cargo.lock");
    assert_eq!(shared, locked);
}

#[test]
fn index_html_keeps_a_strict_content_security_policy() {
    let html = read("index.html");
    let csp = html
        .split("content=\"")
        .find(|part| part.starts_with("default-src"))
        .and_then(|part| part.split('"').next())
        .expect("a Content-Security-Policy meta tag");
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "CSP has {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "no 'unsafe-inline': {csp}");
    assert!(html.contains(r#"data-bin="eventscope""#), "Trunk builds the app binary");
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src/").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn only_the_ui_names_web_crates() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let ui = src.join("ui");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let web_crates = ["yew::", "web_sys", "gloo", "js_sys", "wasm_bindgen"];
    let mut offenders = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&ui)) {
        let text = fs::read_to_string(file).expect("read source");
        for name in web_crates.iter().filter(|name| text.contains(*name)) {
            offenders.push(format!("{} names {name}", file.display()));
        }
    }
    assert!(offenders.is_empty(), "web crates outside src/ui: {offenders:?}");
}
