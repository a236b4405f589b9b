//! Browser tests of the guided path: the router's parse and format, progress read
//! from untrusted storage, and the reducer's lesson rules (the prediction stops the run
//! just before its reveal, "try this" toggles, leaving a lesson keeps the run).

use eventscope::lessons::{lesson, lessons};
use eventscope::ui::guide::GuideAction;
use eventscope::ui::progress::Progress;
use eventscope::ui::route::{format, parse, same_page, Route};
use eventscope::ui::state::{Notice, Shell, ShellAction};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
fn routes_parse_and_format_both_ways() {
    assert_eq!(parse("").route, Route::Index);
    assert_eq!(parse("#").route, Route::Index);
    assert_eq!(parse("#/").route, Route::Index);
    assert_eq!(parse("#/lessons").route, Route::Index);
    assert_eq!(parse("#/play").route, Route::Play);
    assert_eq!(parse("#/lessons/delivery-guarantees").route, Route::Lesson("delivery-guarantees"));
    for l in lessons() {
        let route = Route::Lesson(l.slug);
        assert_eq!(parse(&format(&route)).route, route);
    }
    assert_eq!(parse(&format(&Route::Play)).route, Route::Play);
    assert_eq!(parse(&format(&Route::Index)).route, Route::Index);
}

#[wasm_bindgen_test]
fn queries_ride_along_for_share_links() {
    let location = parse("#/play?s=abc_-DEF&step=4");
    assert_eq!(location.route, Route::Play);
    assert_eq!(location.param("s"), Some("abc_-DEF"));
    assert_eq!(location.param("step"), Some("4"));
    let bare = parse("#s=xyz");
    assert_eq!(bare.route, Route::Play, "a bare #s=... opens free play");
    assert_eq!(bare.param("s"), Some("xyz"));
    assert!(same_page(&parse("#/play?s=1").route, &Route::Play));
}

#[wasm_bindgen_test]
fn bad_addresses_are_not_found_and_never_panic() {
    for bad in ["#/lessons/nope", "#/what", "#//lessons//x//y", "#/%%%/?&&=", "#?", "#/play/extra", "#\u{0}"] {
        let _ = parse(bad);
    }
    assert_eq!(parse("#/lessons/nope").route, Route::NotFound("lessons/nope".into()));
    assert!(same_page(&Route::NotFound("x".into()), &Route::Index));
    assert!(matches!(parse(&format!("#/{}", "a".repeat(70_000))).route, Route::NotFound(_)));
}

#[wasm_bindgen_test]
fn progress_reads_only_what_makes_sense() {
    for junk in ["", "null", "[]", "{", "{\"v\":2,\"completed\":[\"cqrs\"]}", "\"x\"", "{\"v\":1,\"completed\":7}"] {
        assert_eq!(Progress::parse(junk), Progress::default(), "{junk}");
    }
    let mixed = Progress::parse(r#"{"v":1,"completed":["cqrs",3,"nope"],"answers":{"cqrs":1,"outbox":99,"x":0}}"#);
    assert_eq!(mixed.completed.iter().copied().collect::<Vec<_>>(), ["cqrs"]);
    assert_eq!(mixed.answers.len(), 1);
    assert_eq!(Progress::parse(&mixed.to_json()), mixed, "round trip");
    assert_eq!(Progress::parse(&"x".repeat(100_000)), Progress::default());
    assert_eq!(mixed.next_lesson(), Some("envelope-pubsub"));
}

fn lesson_shell(slug: &'static str) -> Shell {
    Shell::default().apply(ShellAction::Guide(GuideAction::Navigate(Route::Lesson(slug))))
}

#[wasm_bindgen_test]
fn the_prediction_stops_the_run_just_before_its_reveal() {
    let l = lesson("delivery-guarantees").unwrap();
    let mut shell = lesson_shell(l.slug);
    assert_eq!(shell.scenario_name, l.scenario);
    assert_eq!(shell.seed, l.seed);
    shell = shell.apply(ShellAction::JumpToEnd);
    while shell.running_to_end {
        shell = shell.apply(ShellAction::ContinueToEnd);
    }
    let run = shell.guide.lesson.clone().unwrap();
    assert!(run.asking, "the question is open");
    let stopped = shell.step;
    {
        let sim = shell.sim.borrow();
        assert!(l.prediction.reveal.first_step(&sim).is_none(), "the reveal has not happened yet");
    }
    // Forward does not pass the question; answering does.
    assert_eq!(shell.apply(ShellAction::Step).step, stopped);
    assert!(!shell.apply(ShellAction::Play).playing);
    shell = shell.apply(ShellAction::Guide(GuideAction::Answer(l.prediction.answer)));
    assert_eq!(shell.guide.progress.answers.get(l.slug), Some(&l.prediction.answer));
    shell = shell.apply(ShellAction::Guide(GuideAction::Continue)).apply(ShellAction::Step);
    assert_eq!(shell.step, stopped + 1);
    let sim = shell.sim.borrow();
    assert_eq!(l.prediction.reveal.first_step(&sim), Some(stopped), "the next step was the reveal");
}

#[wasm_bindgen_test]
fn a_toggle_restarts_with_the_anti_pattern_and_leaving_keeps_the_run() {
    let mut shell = lesson_shell("poison-messages");
    shell = shell.apply(ShellAction::Guide(GuideAction::Try(1)));
    assert_eq!(shell.anti_patterns.len(), 1);
    assert_eq!(shell.guide.lesson.as_ref().unwrap().tried, [1]);
    shell = shell.apply(ShellAction::Step).apply(ShellAction::Step);
    let step = shell.step;
    shell = shell.apply(ShellAction::Guide(GuideAction::Navigate(Route::Play)));
    assert_eq!(shell.guide.route, Route::Play);
    assert!(shell.guide.lesson.is_none());
    assert_eq!((shell.step, shell.anti_patterns.len(), shell.scenario_name.as_str()), (step, 1, "poison-message"));
    // Pressed twice, a toggle is off again.
    let mut again = lesson_shell("poison-messages").apply(ShellAction::Guide(GuideAction::Try(1)));
    again = again.apply(ShellAction::Guide(GuideAction::Try(1)));
    assert!(again.anti_patterns.is_empty());
    assert!(again.guide.lesson.unwrap().tried.is_empty());
    // Another scenario picked from a lesson is free play.
    let picked = lesson_shell("outbox").apply(ShellAction::PickScenario("checkout".into()));
    assert_eq!(picked.guide.route, Route::Play);
}

#[wasm_bindgen_test]
fn the_comparing_lesson_switches_designs_and_keeps_the_faults() {
    let l = lesson("choreography-vs-orchestration").unwrap();
    let mut shell = lesson_shell(l.slug).apply(ShellAction::Guide(GuideAction::Try(0)));
    assert_eq!(shell.faults.scripted.len(), 1);
    shell = shell.apply(ShellAction::Guide(GuideAction::SwitchDesign));
    assert_eq!(Some(shell.scenario_name.as_str()), l.compare_with);
    assert_eq!((shell.faults.scripted.len(), shell.step), (1, 0));
    assert_eq!(shell.guide.route, Route::Lesson(l.slug), "still in the lesson");
    shell = shell.apply(ShellAction::Guide(GuideAction::SwitchDesign));
    assert_eq!(shell.scenario_name, l.scenario);
}

fn to_end(mut shell: Shell) -> Shell {
    shell = shell.apply(ShellAction::JumpToEnd);
    while shell.running_to_end {
        shell = shell.apply(ShellAction::ContinueToEnd);
    }
    shell
}

#[wasm_bindgen_test]
fn a_try_that_cannot_act_is_refused_with_its_reason() {
    let l = lesson("orchestration").unwrap();
    let mut shell = to_end(lesson_shell(l.slug));
    shell = shell.apply(ShellAction::Guide(GuideAction::Answer(l.prediction.answer)));
    shell = to_end(shell.apply(ShellAction::Guide(GuideAction::Continue)));
    assert!(shell.finished.is_some() && shell.step == shell.horizon, "at the end of the run");
    let fail = l.try_this.iter().position(|t| t.label == "Make payment fail").unwrap();
    let before = shell.faults.clone();
    let pressed = shell.apply(ShellAction::Guide(GuideAction::Try(fail)));
    assert_eq!(pressed.faults, before, "nothing was injected");
    assert!(pressed.guide.lesson.as_ref().unwrap().tried.is_empty(), "and nothing is marked done");
    match &pressed.notice {
        Some(Notice::Refused(text)) => assert!(text.contains("The run has ended"), "{text}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Rewound, the same button acts.
    let rewound = shell.apply(ShellAction::RewindTo(20)).apply(ShellAction::Guide(GuideAction::Try(fail)));
    assert_eq!(rewound.faults.scripted.len(), 1);
}

#[wasm_bindgen_test]
fn a_scenario_of_ones_own_is_set_aside_by_a_lesson_and_given_back_by_the_index() {
    let mut own = eventscope::sim::scenario::builtin("checkout").unwrap();
    own.name = "my-shop".into();
    let mut shell = Shell::default().apply(ShellAction::ApplyScenario(Box::new(own)));
    shell = shell.apply(ShellAction::Step).apply(ShellAction::Step).apply(ShellAction::Step);
    assert_eq!((shell.scenario_name.as_str(), shell.step), ("my-shop", 3));
    shell = shell.apply(ShellAction::Guide(GuideAction::Navigate(Route::Lesson("outbox"))));
    assert_eq!(shell.scenario_name, "outbox");
    match &shell.notice {
        Some(Notice::Rebuilt(text)) => assert!(text.contains("my-shop") && text.contains("set aside"), "{text}"),
        other => panic!("expected a word about the scenario, got {other:?}"),
    }
    // Another lesson keeps what was set aside; the index gives it back.
    shell = shell.apply(ShellAction::Guide(GuideAction::Navigate(Route::Lesson("cqrs"))));
    shell = shell.apply(ShellAction::Guide(GuideAction::Navigate(Route::Index)));
    assert_eq!((shell.scenario_name.as_str(), shell.step), ("my-shop", 3));
    assert_eq!(shell.guide.route, Route::Index);
    assert!(shell.guide.set_aside.is_none());
    // A built-in left as it was is not set aside.
    let plain = Shell::default().apply(ShellAction::Guide(GuideAction::Navigate(Route::Lesson("outbox"))));
    assert!(plain.guide.set_aside.is_none());
}
