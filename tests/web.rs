//! Browser tests: the core and the app shell running as WebAssembly in headless
//! Chromium (`make test` runs them with wasm-bindgen-test-runner and chromedriver).
//!
//! These check what only a real browser can: that the core links and runs in wasm32,
//! that the shell mounts and renders its regions, and that the panic banner reaches
//! the DOM. Reducer rules are tested here too because the `ui` module only exists on
//! wasm32. Natively this file compiles to an empty test binary.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use eventscope::sim::fault::Fault;
use eventscope::sim::scenario::{builtin, catalog, Delivery};
use eventscope::sim::simulation::{Finish, RunConfig, Simulation};
use eventscope::sim::view::ServiceStatus;
use eventscope::ui::app::App;
use eventscope::ui::panic::{show_banner, BANNER_ID};
use eventscope::ui::state::{action_for_key, Notice, Shell, ShellAction, SubscriptionEdit, KEY_BINDINGS};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The guided path: router, progress and the lesson rules of the reducer.
#[path = "web/guide.rs"]
mod guide;

/// The log's type column and the key table.
#[path = "web/surfaces.rs"]
mod surfaces;

/// Restoring a far step: replayed in slices beside the run on screen, cancellable.
#[path = "web/replay.rs"]
mod replay;

/// Verdicts that read the run-health model.
#[path = "web/verdicts.rs"]
mod verdicts;

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
    for region in ["Topology", "Event log", "Timeline"] {
        assert!(regions.iter().any(|r| r == region), "region {region} in {regions:?}");
    }
    let tabs = texts(&root, "[role=tab]");
    for tab in ["Inspector", "Invariants", "Faults", "Delivery"] {
        assert!(tabs.iter().any(|t| t.starts_with(tab)), "tab {tab} in {tabs:?}");
    }
    let options = root.query_selector_all("#scenario-select option").unwrap();
    assert_eq!(options.length() as usize, catalog().len());
    for label in ["Play", "Pause", "Step", "Step back", "Reset", "Start", "End"] {
        let button = root.query_selector(&format!("button[aria-label=\"{label}\"]")).unwrap();
        assert!(button.is_some(), "a button labelled {label}");
    }
    assert_eq!(texts(&root, ".step-counter"), vec!["step 0 of 0"]);
    // The log and the inspector explain themselves until there is something to show.
    assert_eq!(texts(&root, ".empty-state").len(), 2, "log and inspector empty states");
    assert!(root.query_selector_all("g.service").unwrap().length() > 0, "services are drawn");

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

fn shell_of(name: &str, seed: u64) -> Shell {
    Shell::for_scenario(name.to_string(), builtin(name).expect("built-in"), seed)
}

#[wasm_bindgen_test]
fn reducer_plays_steps_and_rewinds_within_the_run() {
    let run = Shell::default();
    assert_eq!((run.step, run.horizon), (0, 0));
    let playing = run.apply(ShellAction::Play);
    assert!(playing.playing, "a fresh run can play: its steps are computed as it goes");
    let after_ticks = playing.apply(ShellAction::Tick).apply(ShellAction::Tick).apply(ShellAction::Tick);
    assert_eq!((after_ticks.step, after_ticks.horizon), (3, 3), "playing computes new steps");

    let back = after_ticks.apply(ShellAction::StepBack);
    assert_eq!((back.step, back.horizon), (2, 3), "stepping back keeps the computed future");
    assert!(!back.playing);
    assert_eq!(back.apply(ShellAction::JumpToStart).step, 0);
    assert_eq!(back.apply(ShellAction::RewindTo(99)).step, 3, "the scrubber stops at the horizon");

    let end = run.apply(ShellAction::JumpToEnd);
    let end = (0..100).fold(end, |s, _| s.apply(ShellAction::ContinueToEnd));
    assert!(!end.running_to_end);
    assert_eq!(end.finished, Some(Finish::Quiescent));
    assert_eq!(end.step, end.horizon);
    assert!(!end.apply(ShellAction::Play).playing, "a finished run cannot play");
    assert_eq!(end.apply(ShellAction::Step).step, end.step);

    let reseeded = after_ticks.apply(ShellAction::SetSeed(7));
    assert_eq!((reseeded.seed, reseeded.step, reseeded.horizon), (7, 0, 0), "a new seed is a new run");
    assert_eq!(after_ticks.apply(ShellAction::PickScenario("no-such".into())), after_ticks);
    assert_eq!(run.apply(ShellAction::SetSpeed(3)), run, "only offered speeds");
    assert_eq!(after_ticks.apply(ShellAction::Reset).step, 0);
}

#[wasm_bindgen_test]
fn the_app_run_has_the_trace_hash_of_a_straight_run() {
    // Playing, stepping back and running to the end in slices must not change the run:
    // the app's trace hash equals a straight run's (the e2e test compares it with the CLI).
    let shell = (0..30).fold(shell_of("checkout", 1), |s, _| s.apply(ShellAction::Step));
    let shell = shell.apply(ShellAction::RewindTo(7)).apply(ShellAction::JumpToEnd);
    let shell = (0..100).fold(shell, |s, _| s.apply(ShellAction::ContinueToEnd));
    let mut straight =
        Simulation::new(RunConfig::new(builtin("checkout").expect("built-in"), 1)).expect("valid scenario");
    straight.run_to_end();
    assert_eq!(shell.step, straight.step_index());
    assert_eq!(shell.sim.borrow().trace_hash(), straight.trace_hash());
}

#[wasm_bindgen_test]
fn injecting_while_rewound_forks_and_removing_rebuilds_at_the_same_step() {
    let ahead = shell_of("checkout", 1).apply(ShellAction::RewindTo(0));
    let ahead = (0..20).fold(ahead, |s, _| s.apply(ShellAction::Step));
    let rewound = ahead.apply(ShellAction::RewindTo(5));
    assert_eq!((rewound.step, rewound.horizon), (5, 20));
    let crashed =
        rewound.apply(ShellAction::Inject(Fault::CrashService { service: "payment".into(), restart_after_ms: None }));
    assert_eq!((crashed.step, crashed.horizon), (6, 6), "the old future is discarded");
    assert!(
        matches!(crashed.notice, Some(Notice::Forked { step: 5, discarded_steps: 15, .. })),
        "{:?}",
        crashed.notice
    );
    assert_eq!(crashed.faults.scripted.len(), 1);
    assert!(crashed
        .sim
        .borrow()
        .service_views()
        .iter()
        .any(|s| s.name == "payment" && s.status == ServiceStatus::Crashed));

    let further = (0..10).fold(crashed, |s, _| s.apply(ShellAction::Step));
    let removed = further.apply(ShellAction::RemoveFault(0));
    assert!(removed.faults.scripted.is_empty());
    assert_eq!(removed.step, further.step, "the rebuilt run returns to the same step");
    assert!(removed.sim.borrow().service_views().iter().all(|s| s.status != ServiceStatus::Crashed));
    assert_eq!(removed.apply(ShellAction::RemoveFault(3)), removed, "no such fault: nothing changes");
}

#[wasm_bindgen_test]
fn editing_delivery_settings_restarts_the_run_and_bad_values_are_refused() {
    let shell = (0..10).fold(shell_of("checkout", 1), |s, _| s.apply(ShellAction::Step));
    let edited = shell.apply(ShellAction::EditSubscription(0, SubscriptionEdit::Delivery(Delivery::AtMostOnce)));
    assert_eq!(edited.step, 0, "a settings change restarts from step 0");
    assert_eq!(edited.scenario.subscriptions[0].delivery, Delivery::AtMostOnce);
    let refused = edited.apply(ShellAction::EditSubscription(0, SubscriptionEdit::AttemptsMax(0)));
    assert!(matches!(refused.notice, Some(Notice::Refused(_))), "{:?}", refused.notice);
    assert_eq!(
        refused.scenario.subscriptions[0].retry.attempts_max,
        edited.scenario.subscriptions[0].retry.attempts_max
    );
    assert_eq!(edited.apply(ShellAction::EditSubscription(99, SubscriptionEdit::Dlq(false))), edited);
    let longer = shell.apply(ShellAction::SetWorkloadCount(0, 50));
    assert_eq!(longer.scenario.workload[0].repeat.as_ref().map(|r| r.count), Some(50));
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

// -------------------------------------------------------------------------------------
// Export, import and share in the browser
// -------------------------------------------------------------------------------------

mod transfer {
    use eventscope::export::jobs::{answer, Answer, Format, Job};
    use eventscope::sim::fault::Fault;
    use eventscope::sim::scenario::builtin;
    use eventscope::ui::editor::{check, copy_of, line_of_path};
    use eventscope::ui::export_menu::export_job;
    use eventscope::ui::import::{import_answer, ImportProblem};
    use eventscope::ui::share::action_for_link;
    use eventscope::ui::state::{Notice, Shell, ShellAction};
    use wasm_bindgen_test::*;

    /// A run of `scenario` with `seed`, a fault injected at step 5, stopped at `step`.
    fn run_with_fault(scenario: &str, seed: u64, fault: Fault, step: u64) -> Shell {
        let mut shell = Shell::default().apply(ShellAction::PickScenario(scenario.into()));
        shell = shell.apply(ShellAction::SetSeed(seed));
        for _ in 0..5 {
            shell = shell.apply(ShellAction::Step);
        }
        shell = shell.apply(ShellAction::Inject(fault));
        assert!(!matches!(shell.notice, Some(Notice::Refused(_))), "{:?}", shell.notice);
        while shell.step < step {
            shell = shell.apply(ShellAction::Step);
        }
        shell
    }

    /// The file the worker writes for `shell`'s run: (name, text). The worker's jobs
    /// are pure functions, so the test calls them directly.
    fn export(shell: &Shell, format: Format) -> (String, String) {
        match answer(export_job(&shell.sim.borrow(), format, None)) {
            Answer::File { name, text, .. } => (name, text),
            other => panic!("no file: {other:?}"),
        }
    }

    fn import_text(name: &str, text: &str) -> Result<ShellAction, ImportProblem> {
        import_answer(name, answer(Job::Import { text: text.to_string() }))
    }

    /// The shell a page opened at `fragment` shows once the worker has decoded the link.
    fn shell_for_fragment(fragment: &str) -> Shell {
        Shell::default().apply(action_for_link(answer(Job::OpenLink { link: fragment.to_string() })))
    }

    #[wasm_bindgen_test]
    fn export_then_import_gives_the_same_run_for_two_scenarios() {
        let runs = [
            run_with_fault("checkout", 7, Fault::FailHandlers { service: "payment".into(), per_mille: 500 }, 40),
            run_with_fault(
                "poison-message",
                3,
                Fault::CrashService { service: builtin_service("poison-message"), restart_after_ms: Some(200) },
                30,
            ),
        ];
        for original in runs {
            let (name, text) = export(&original, Format::Trace);
            assert!(name.ends_with(".eventscope.json"), "{name}");
            let action = import_text(&name, &text).expect("the exported file imports");
            // Into a page showing some other run.
            let restored = Shell::default().apply(action);
            assert_eq!(restored.step, original.step, "{name}");
            assert_eq!(restored.sim.borrow().trace_hash(), original.sim.borrow().trace_hash(), "{name}");
            assert_eq!(restored.faults, original.faults, "{name}");
            assert!(matches!(&restored.notice, Some(Notice::Rebuilt(text)) if text.starts_with("Imported")));
            // And the share link of the same run lands on the same step and hash.
            let fragment =
                eventscope::export::encode_share(original.sim.borrow().config(), original.step).expect("short enough");
            let shared = shell_for_fragment(&format!("#/play?{fragment}"));
            assert_eq!(shared.step, original.step);
            assert_eq!(shared.sim.borrow().trace_hash(), original.sim.borrow().trace_hash());
        }
    }

    fn builtin_service(scenario: &str) -> String {
        builtin(scenario).expect("built in").services.last().expect("a service").name.clone()
    }

    #[wasm_bindgen_test]
    fn a_failed_import_leaves_no_action_and_names_the_path() {
        let shell = Shell::default().apply(ShellAction::Step);
        let (_, text) = export(&shell, Format::Trace);
        let broken = text.replacen("\"seed\": 42", "\"seed\": \"forty-two\"", 1);
        let problem = import_text("x.eventscope.json", &broken).expect_err("a wrong type fails");
        assert_eq!(problem.errors[0].0, "seed");
        let newer = text.replacen("\"format_version\": 1", "\"format_version\": 2", 1);
        let problem = import_text("x.eventscope.json", &newer).expect_err("a newer version fails");
        assert!(problem.errors[0].1.contains("newer Eventscope"), "{problem:?}");
    }

    #[wasm_bindgen_test]
    fn a_bad_share_link_opens_the_default_run_with_a_notice() {
        let shell = shell_for_fragment("#s=not-a-link!!");
        assert_eq!(shell.step, 0);
        assert!(matches!(&shell.notice, Some(Notice::Refused(text)) if text.contains("could not be opened")));
        assert!(eventscope::export::share::share_param("#/lessons/dlq").is_none());
    }

    #[wasm_bindgen_test]
    fn editor_errors_carry_their_path_and_line() {
        let text = builtin("checkout").expect("built in").to_json_pretty();
        // The first subscription's topic, renamed to one that does not exist.
        let at = text.find("\"subscriptions\": [").expect("subscriptions");
        let (head, tail) = text.split_at(at);
        let broken = format!("{head}{}", tail.replacen("\"topic\": \"", "\"topic\": \"nowhere-", 1));
        let errors = check(&broken).expect_err("an unknown topic fails");
        let first = &errors[0];
        assert!(first.path.starts_with("subscriptions[0]"), "{first:?}");
        let line = first.line.expect("the line is found");
        assert!(broken.lines().nth(line - 1).is_some_and(|l| l.contains("nowhere-")), "line {line}: {first:?}");
        // Syntax errors come with serde_json's own line.
        let syntax = check("{\n  \"name\": \n}").expect_err("not JSON");
        assert_eq!(syntax[0].line, Some(3));
        assert_eq!(line_of_path("{\"a\": [1, {\"b\": 2}]}", "a[1].b"), Some(1));
        assert_eq!(line_of_path("{\n\"a\": [\n1,\n{\"b\": 2}]}", "a[1].b"), Some(4));
        let (copy, name) = copy_of(&text).expect("a copy");
        assert_eq!(name, "checkout-copy");
        let scenario = check(&copy).expect("the copy is valid");
        assert!(scenario.title.starts_with("Copy of "));
        let applied = Shell::default().apply(ShellAction::ApplyScenario(Box::new(scenario)));
        assert_eq!(applied.scenario_name, "checkout-copy");
        assert_eq!(applied.step, 0);
    }
}
