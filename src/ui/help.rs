//! The keyboard help overlay, opened with `?`.
//!
//! It is generated from [`KEY_BINDINGS`], the same table the key handler uses, so the
//! list on screen is always the list that works.

use web_sys::HtmlElement;
use yew::prelude::*;

use super::markup::emit_on_click;
use super::state::{ShellAction, KEY_BINDINGS};

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub dispatch: Callback<ShellAction>,
}

/// A modal dialog listing every keyboard shortcut.
#[function_component(HelpOverlay)]
pub fn help_overlay(props: &HelpProps) -> Html {
    let close_button = use_node_ref();
    {
        // Move focus into the dialog so Escape, Enter and screen readers act on it.
        let close_button = close_button.clone();
        use_effect_with((), move |_| {
            if let Some(button) = close_button.cast::<HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let close = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::HideHelp)
    };
    // Clicks inside the dialog must not reach the backdrop, which closes it.
    let keep_open = Callback::from(|event: MouseEvent| event.stop_propagation());
    html! {
        <div class="overlay" onclick={close.clone()}>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title"
                onclick={keep_open}>
                <h2 id="help-title">{ "Keyboard shortcuts" }</h2>
                <p class="dialog-intro">
                    { "Everything the toolbar does also works from the keyboard, handy when projecting." }
                </p>
                <table class="keys">
                    <tbody>
                        { for KEY_BINDINGS.iter().map(|binding| html! {
                            <tr>
                                <th scope="row"><kbd>{ binding.label }</kbd></th>
                                <td>{ binding.description }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                <button type="button" class="control primary" ref={close_button} onclick={close}
                    title="Close this list (Esc)">
                    <span class="control-text">{ "Close" }</span>
                </button>
            </div>
        </div>
    }
}
