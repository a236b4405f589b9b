//! Browser tests of the log's type column and of the key table: the prefix the log
//! drops, the types as shown, and the keys each place of the page answers to.

use eventscope::sim::scenario::{builtin, catalog};
use eventscope::ui::log::{scenario_event_types, shared_prefix_len, shown_type, TYPE_CHARS_MAX};
use eventscope::ui::state::{action_for_key, menu_move, opens_menu, KeyAction, MenuMove, ShellAction, KEY_BINDINGS};
use wasm_bindgen_test::*;

fn prefix<'a>(types: &[&'a str]) -> &'a str {
    let len = shared_prefix_len(types.iter().copied());
    &types[0][..len]
}

#[wasm_bindgen_test]
fn the_shared_prefix_ends_at_a_dot_and_leaves_every_type_a_name() {
    assert_eq!(
        prefix(&["io.example.card.charge", "io.example.card.charged", "io.example.card.declined"]),
        "io.example.card."
    );
    // "charge" and "charged" share "charge", which is not cut in the middle of a word.
    assert_eq!(prefix(&["io.x.charge", "io.x.charged"]), "io.x.");
    assert_eq!(prefix(&["io.eventscope.order.placed", "io.eventscope.payment.failed"]), "io.eventscope.");
    assert_eq!(prefix(&["order.placed", "payment.failed"]), "");
    assert_eq!(prefix(&["a.b", "a.b.c"]), "a.");
    // One type keeps its last word; a type that is all prefix keeps its whole name.
    assert_eq!(prefix(&["io.eventscope.order.placed"]), "io.eventscope.order.");
    assert_eq!(prefix(&["a.", "a.b"]), "");
    assert_eq!(shared_prefix_len(std::iter::empty()), 0);
    // A common prefix that ends inside a multi-byte character is never sliced there.
    assert_eq!(prefix(&["é.à.x", "é.á.y"]), "é.");
}

#[wasm_bindgen_test]
fn types_are_shown_without_the_prefix_and_cut_only_from_the_left() {
    assert_eq!(shown_type("io.example.card.charged", "io.example.card.".len()), "charged");
    assert_eq!(shown_type("other", 3), "er");
    assert_eq!(shown_type("abc", 3), "abc", "never an empty type");
    let long = format!("p.{}", "x".repeat(40) + "declined");
    let shown = shown_type(&long, 2);
    assert_eq!(shown.chars().count(), TYPE_CHARS_MAX);
    assert!(shown.starts_with('\u{2026}') && shown.ends_with("declined"), "{shown}");
}

#[wasm_bindgen_test]
fn built_in_scenarios_list_their_types_and_share_a_prefix() {
    for summary in catalog() {
        let scenario = builtin(summary.name).expect("built-in");
        let types = scenario_event_types(&scenario);
        assert!(!types.is_empty(), "{} has event types", summary.name);
        let len = shared_prefix_len(types.iter().copied());
        assert!(types.iter().all(|t| t.len() > len && t.starts_with(&types[0][..len])), "{}", summary.name);
        assert!(len >= "io.eventscope.".len(), "{} shares at least io.eventscope.", summary.name);
    }
    let read_model = builtin("order-read-model").expect("built-in");
    assert_eq!(shared_prefix_len(scenario_event_types(&read_model)), "io.eventscope.order.".len());
}

#[wasm_bindgen_test]
fn each_key_means_one_thing_in_each_place() {
    assert_eq!(action_for_key(" "), Some(ShellAction::TogglePlay));
    assert_eq!(action_for_key("Home"), Some(ShellAction::JumpToStart));
    assert_eq!(action_for_key("Enter"), None, "Enter acts only on a focused service, token or row");
    assert!(opens_menu("Enter") && opens_menu(" ") && !opens_menu("x"));
    assert_eq!(menu_move("ArrowDown"), Some(MenuMove::Next));
    assert_eq!(menu_move("ArrowUp"), Some(MenuMove::Previous));
    assert_eq!(menu_move("Home"), Some(MenuMove::First));
    assert_eq!(menu_move("End"), Some(MenuMove::Last));
    assert_eq!(menu_move("ArrowRight"), None);
    // No key is bound twice in the same place.
    for (i, a) in KEY_BINDINGS.iter().enumerate() {
        for b in &KEY_BINDINGS[i + 1..] {
            let same_place = std::mem::discriminant(&a.action) == std::mem::discriminant(&b.action);
            let shared = a.keys.iter().any(|k| b.keys.contains(k));
            assert!(!(same_place && shared), "{} and {} share a key in one place", a.label, b.label);
        }
    }
    assert!(KEY_BINDINGS.iter().any(|b| b.action == KeyAction::OpenMenu));
}
