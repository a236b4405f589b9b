//! What every menu of the app does with the keyboard and the focus.
//!
//! A menu takes the focus when it opens (its first item), moves it with the keys of
//! [`super::state::KEY_BINDINGS`] that act in menus, and gives it back to the element
//! that opened it when it closes, however it closes: Escape, a chosen item, a click
//! elsewhere. The opener is whatever had the focus when the menu appeared, which is
//! the service, token, log row or button that was clicked or pressed; so nothing has to
//! pass it along.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use super::state::{menu_move, MenuMove};

/// The enabled items of a menu, in order.
fn items(menu: &Element) -> Vec<HtmlElement> {
    let Ok(list) = menu.query_selector_all("[role=menuitem]:not(:disabled)") else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)?.dyn_into::<HtmlElement>().ok()).collect()
}

/// The element that has the focus, if any (not the page itself).
fn focused() -> Option<Element> {
    let document = gloo::utils::document();
    document.active_element().filter(|element| Some(element) != document.body().map(Element::from).as_ref())
}

/// For a menu's `onkeydown`: the arrow keys, Home and End move between the items, and
/// Space presses the focused one (as Enter does natively). The keys it handles are
/// marked handled, so the page's shortcuts (play, step, jump) ignore them.
pub fn on_menu_keydown() -> Callback<KeyboardEvent> {
    Callback::from(|event: KeyboardEvent| {
        let Some(menu) = event.current_target().and_then(|target| target.dyn_into::<Element>().ok()) else { return };
        let key = event.key();
        let items = items(&menu);
        let current = focused().and_then(|f| items.iter().position(|item| Element::from(item.clone()) == f));
        if key == " " {
            event.prevent_default();
            if let Some(item) = current.and_then(|i| items.get(i)) {
                item.click();
            }
            return;
        }
        // Left and right would step the run under an open menu; inside it they do nothing.
        if key == "ArrowLeft" || key == "ArrowRight" {
            event.prevent_default();
            return;
        }
        let Some(step) = menu_move(&key) else { return };
        event.prevent_default();
        if items.is_empty() {
            return;
        }
        let last = items.len() - 1;
        let next = match (step, current) {
            (MenuMove::First, _) | (MenuMove::Next, None) => 0,
            (MenuMove::Last, _) | (MenuMove::Previous, None) => last,
            (MenuMove::Next, Some(i)) => {
                if i == last {
                    0
                } else {
                    i + 1
                }
            }
            (MenuMove::Previous, Some(i)) => {
                if i == 0 {
                    last
                } else {
                    i - 1
                }
            }
        };
        let _ = items[next].focus();
    })
}

/// For a menu component: focuses its first item when it mounts and, when it unmounts,
/// gives the focus back to the element that had it before (see [`use_focus_trip`]).
#[hook]
pub fn use_menu_focus(menu: NodeRef) {
    use_focus_trip(menu, "[role=menuitem]:not(:disabled)");
}

/// For a menu or a dialog: focuses the first element inside `container` that matches
/// `selector` when it mounts and, when it unmounts, gives the focus back to the element
/// that had it before, if the focus was left inside or dropped onto the page (a
/// removed element loses the focus).
#[hook]
pub fn use_focus_trip(container: NodeRef, selector: &'static str) {
    use_effect_with((), move |_| {
        let opener = focused();
        // Kept as an element: by the time the menu unmounts, its node reference is cleared.
        let container = container.cast::<Element>();
        if let Some(first) = container.as_ref().and_then(|c| c.query_selector(selector).ok().flatten()) {
            focus(&first);
        }
        move || {
            let inside = match (focused(), &container) {
                (None, _) => true,
                (Some(now), Some(container)) => container.contains(Some(&now)),
                (Some(_), None) => false,
            };
            if let Some(opener) = opener.filter(|o| inside && o.is_connected()) {
                focus(&opener);
            }
        }
    });
}

/// Focuses an element, HTML or SVG (a service's `<g>` is an SVG element; both have
/// `focus()`, which the binding calls by name).
pub fn focus(element: &Element) {
    let _ = element.unchecked_ref::<HtmlElement>().focus();
}
