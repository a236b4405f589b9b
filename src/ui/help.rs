//! The keyboard help overlay, opened with `?`.
//!
//! It is generated from [`KEY_BINDINGS`], the same table the key handlers use, so the
//! list on screen is always the list that works, grouped by where a key acts.

use yew::prelude::*;

use super::details::emit_on_click;
use super::menu::use_focus_trip;
use super::state::{KeyAction, KeyBinding, ShellAction, KEY_BINDINGS};

/// Whether a binding belongs to a group of the list.
type Belongs = fn(&KeyAction) -> bool;

/// The groups of the list: a caption and which bindings belong to it.
const GROUPS: [(&str, Belongs); 3] = [
    ("Anywhere (outside text fields)", |a| matches!(a, KeyAction::Page(_))),
    ("On a focused service, message token or log row", |a| matches!(a, KeyAction::OpenMenu)),
    ("In a menu", |a| matches!(a, KeyAction::Menu(_))),
];

fn row(binding: &KeyBinding) -> Html {
    html! {
        <tr>
            <th scope="row"><kbd>{ binding.label }</kbd></th>
            <td>{ binding.description }</td>
        </tr>
    }
}

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub dispatch: Callback<ShellAction>,
}

/// A modal dialog listing every keyboard shortcut.
#[function_component(HelpOverlay)]
pub fn help_overlay(props: &HelpProps) -> Html {
    let dialog = use_node_ref();
    // Focus moves into the dialog (its Close button) so Escape, Enter and screen
    // readers act on it, and back to what opened it when it closes.
    use_focus_trip(dialog.clone(), "button.primary");
    let close = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::HideHelp)
    };
    // Clicks inside the dialog must not reach the backdrop, which closes it.
    let keep_open = Callback::from(|event: MouseEvent| event.stop_propagation());
    html! {
        <div class="overlay" onclick={close.clone()}>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title" ref={dialog}
                onclick={keep_open}>
                <h2 id="help-title">{ "Keyboard shortcuts" }</h2>
                <p class="dialog-intro">
                    { "Everything the toolbar does also works from the keyboard, handy when projecting." }
                </p>
                { for GROUPS.iter().map(|(caption, belongs)| html! {
                    <table class="keys">
                        <caption>{ *caption }</caption>
                        <tbody>
                            { for KEY_BINDINGS.iter().filter(|b| belongs(&b.action)).map(row) }
                        </tbody>
                    </table>
                }) }
                <button type="button" class="control primary" onclick={close}
                    title="Close this list (Esc)">
                    <span class="control-text">{ "Close" }</span>
                </button>
            </div>
        </div>
    }
}
