//! Browser tests: the core and the app shell running as WebAssembly in headless
//! Chromium (`make test` runs them with wasm-bindgen-test-runner and chromedriver).
//!
//! These check what only a real browser can: that the core links and runs in wasm32,
//! that the shell mounts and renders its regions, and that the panic banner reaches
//! the DOM. Reducer rules are tested here too because the `ui` module only exists on
//! wasm32. Natively this file compiles to an empty test binary.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use eventscope::sim::scenario::catalog;
use eventscope::ui::app::App;
use eventscope::ui::panic::{show_banner, BANNER_ID};
use eventscope::ui::state::{action_for_key, Shell, ShellAction, KEY_BINDINGS};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page for one test to render into.
fn fresh_root() -> Element {
    let document = gloo::utils::document();
    let root = document.create_element("div").expect("create a div");
    document.body().expect("the test page has a body").append_child(&root).expect("attach the root");
    root
}

/// Yew renders asynchronously; give its scheduler a turn.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(20)).await;
}

fn texts(root: &Element, selector: &str) -> Vec<String> {
    let nodes = root.query_selector_all(selector).expect("valid selector");
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|node| node.text_content())
        .map(|text| text.trim().to_string())
        .collect()
}

#[wasm_bindgen_test]
fn core_catalog_runs_in_wasm() {
    let scenarios = catalog();
    assert!(!scenarios.is_empty(), "the catalog lists at least one scenario");
    for scenario in &scenarios {
        assert!(!scenario.name.is_empty() && !scenario.title.is_empty());
        assert!(!scenario.summary.is_empty(), "{} has a summary", scenario.name);
    }
}

#[wasm_bindgen_test]
async fn shell_mounts_with_every_region() {
    let root = fresh_root();
    let handle = yew::Renderer::<App>::with_root(root.clone()).render();
    settle().await;

    assert_eq!(texts(&root, "h1"), vec!["Eventscope"]);
    let regions = texts(&root, "h2");
    for region in ["Topology", "Event log", "Envelope inspector", "Invariants", "Timeline"] {
        assert!(regions.iter().any(|r| r == region), "region {region} in {regions:?}");
    }
    let options = root.query_selector_all("#scenario-select option").unwrap();
    assert_eq!(options.length() as usize, catalog().len());
    for label in ["Play", "Pause", "Step", "Step back", "Reset", "Start", "End"] {
        let button = root.query_selector(&format!("button[aria-label=\"{label}\"]")).unwrap();
        assert!(button.is_some(), "a button labelled {label}");
    }
    assert_eq!(texts(&root, ".step-counter"), vec!["step 0 of 0"]);
    assert_eq!(texts(&root, ".empty-state").len(), 5, "one empty state per region");

    handle.destroy();
}

#[wasm_bindgen_test]
async fn help_button_lists_every_key_binding() {
    let root = fresh_root();
    let handle = yew::Renderer::<App>::with_root(root.clone()).render();
    settle().await;
    assert!(root.query_selector("[role=dialog]").unwrap().is_none());

    let help: HtmlElement = root
        .query_selector("button[aria-label=\"Keyboard shortcuts\"]")
        .unwrap()
        .expect("a help button")
        .dyn_into()
        .unwrap();
    help.click();
    settle().await;

    let listed = texts(&root, "[role=dialog] kbd");
    let expected: Vec<String> = KEY_BINDINGS.iter().map(|b| b.label.to_string()).collect();
    assert_eq!(listed, expected);
    handle.destroy();
}

#[wasm_bindgen_test]
fn reducer_plays_steps_and_rewinds_within_the_run() {
    let run = Shell { horizon: 3, ..Shell::default() };
    let playing = run.apply(ShellAction::Play);
    assert!(playing.playing);
    let after_ticks =
        playing.apply(ShellAction::Tick).apply(ShellAction::Tick).apply(ShellAction::Tick).apply(ShellAction::Tick);
    assert_eq!(after_ticks.step, 3, "ticks stop at the horizon");
    assert!(!after_ticks.playing, "playback pauses at the end");

    let back = after_ticks.apply(ShellAction::StepBack);
    assert_eq!(back.step, 2);
    assert_eq!(back.apply(ShellAction::JumpToStart).step, 0);
    assert_eq!(run.apply(ShellAction::StepBack).step, 0, "no step before 0");
    assert_eq!(run.apply(ShellAction::JumpToEnd).step, 3);

    let moved = run.apply(ShellAction::Step).apply(ShellAction::Step);
    assert_eq!(moved.apply(ShellAction::Reset).step, 0);
    let reseeded = moved.apply(ShellAction::SetSeed(7));
    assert_eq!((reseeded.seed, reseeded.step), (7, 0), "a new seed is a new run");
    assert_eq!(moved.apply(ShellAction::PickScenario("no-such".into())), moved);
    assert_eq!(run.apply(ShellAction::SetSpeed(3)), run, "only offered speeds");
}

#[wasm_bindgen_test]
fn an_empty_run_cannot_play() {
    let empty = Shell::default();
    assert_eq!(empty.horizon, 0);
    assert!(!empty.apply(ShellAction::Play).playing);
    assert!(!empty.apply(ShellAction::TogglePlay).playing);
    assert_eq!(empty.apply(ShellAction::Step).step, 0);
}

#[wasm_bindgen_test]
fn keys_map_to_actions() {
    assert_eq!(action_for_key(" "), Some(ShellAction::TogglePlay));
    assert_eq!(action_for_key("ArrowRight"), Some(ShellAction::Step));
    assert_eq!(action_for_key("ArrowLeft"), Some(ShellAction::StepBack));
    assert_eq!(action_for_key("Home"), Some(ShellAction::JumpToStart));
    assert_eq!(action_for_key("End"), Some(ShellAction::JumpToEnd));
    assert_eq!(action_for_key("R"), Some(ShellAction::Reset));
    assert_eq!(action_for_key("?"), Some(ShellAction::ToggleHelp));
    assert_eq!(action_for_key("x"), None);
}

#[wasm_bindgen_test]
fn panic_banner_shows_the_message_once() {
    show_banner("first failure");
    show_banner("index out of bounds: the len is 3 but the index is 7");
    let document = gloo::utils::document();
    let banners = document.query_selector_all(".panic-banner").unwrap();
    assert_eq!(banners.length(), 1, "a second panic updates the banner");
    let banner = document.get_element_by_id(BANNER_ID).expect("banner");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("alert"));
    let text = banner.text_content().unwrap_or_default();
    assert!(text.contains("the index is 7"), "{text}");
    assert!(text.contains("Reload the page"), "{text}");
    banner.remove();
}
