//! Share links: the run in the page's address, and opening one.
//!
//! The link is the page's address with the run's configuration and step in the
//! fragment (`#s=…`, or `#/play?s=…` when the page routes by fragment; see
//! [`crate::export::share`]). Writing it replaces the fragment without a navigation;
//! opening one happens before the first render ([`startup_shell`]) so a shared link
//! never flashes the default run, and again whenever the fragment changes under an
//! open page. A link that cannot be opened says what is wrong and leaves the default
//! (or current) run on screen: never a blank page.

use yew::platform::spawn_local;
use yew::prelude::*;

use super::download::{copy_text, location_hash, page_address, replace_fragment};
use super::state::{Notice, Restored, Shell, ShellAction};
use crate::export::share::{decode_share, encode_share, fragment_with, share_param, FRAGMENT_CHARS_MAX};
use crate::export::SharedRun;

/// The shell the page starts with: the run of the share link in the address, if any.
pub fn startup_shell() -> Shell {
    shell_for_fragment(&location_hash())
}

/// The shell for a page whose fragment is `fragment`: the default run, the shared run
/// at its step, or the default run with a notice saying why the link did not open.
pub fn shell_for_fragment(fragment: &str) -> Shell {
    let shell = Shell::default();
    match action_for_fragment(fragment) {
        Some(action) => shell.apply(action),
        None => shell,
    }
}

/// What a fragment asks for: nothing (no `s=`), a restore, or a notice of the problem.
pub fn action_for_fragment(fragment: &str) -> Option<ShellAction> {
    share_param(fragment)?;
    Some(match decode_share(fragment) {
        Ok(shared) => restore_action(shared),
        Err(errors) => ShellAction::Notify(Notice::Refused(format!(
            "This share link could not be opened: {errors}. Showing the default run instead."
        ))),
    })
}

fn restore_action(shared: SharedRun) -> ShellAction {
    let faults = shared.config.faults.scripted.len() + shared.config.faults.rules.len();
    let message = format!(
        "Opened a shared run: {}, seed {}, {} fault{} of yours, at step {}.",
        shared.config.scenario.name,
        shared.config.seed,
        faults,
        if faults == 1 { "" } else { "s" },
        shared.step
    );
    ShellAction::Restore(Box::new(Restored { config: shared.config, step: shared.step, message }))
}

/// The link for the run as it stands, or why there can be none.
pub fn share_link(shell: &Shell) -> Result<String, String> {
    let sim = shell.sim.borrow();
    let param = encode_share(sim.config(), sim.step_index()).map_err(|e| e.to_string())?;
    let fragment = fragment_with(&location_hash(), &param);
    Ok(format!("{}#{fragment}", page_address()))
}

#[derive(Properties, PartialEq)]
pub struct SharePanelProps {
    pub shell: Shell,
    pub on_close: Callback<()>,
    /// Downloads the trace file, the advice when a link would be too long.
    pub on_export_trace: Callback<()>,
}

/// The panel the Share button opens: the link, selected, with a Copy button.
#[function_component(SharePanel)]
pub fn share_panel(props: &SharePanelProps) -> Html {
    let link = use_memo((props.shell.run_id, props.shell.revision), {
        let shell = props.shell.clone();
        move |_| share_link(&shell)
    });
    let copied = use_state(|| None::<bool>);
    let input = use_node_ref();
    {
        // Put the link in the address bar and select it, ready for Ctrl+C.
        let link = link.clone();
        let input = input.clone();
        let copied = copied.clone();
        use_effect_with(link.clone(), move |_| {
            if let Ok(url) = &*link {
                if let Some((_, fragment)) = url.split_once('#') {
                    replace_fragment(fragment);
                }
                if let Some(input) = input.cast::<web_sys::HtmlInputElement>() {
                    let _ = input.focus();
                    input.select();
                }
            }
            copied.set(None);
        });
    }
    let on_copy = {
        let link = link.clone();
        let copied = copied.clone();
        let input = input.clone();
        Callback::from(move |_: MouseEvent| {
            let Ok(url) = (*link).clone() else {
                return;
            };
            let copied = copied.clone();
            let input = input.clone();
            spawn_local(async move {
                let ok = copy_text(&url).await;
                if !ok {
                    if let Some(input) = input.cast::<web_sys::HtmlInputElement>() {
                        let _ = input.focus();
                        input.select();
                    }
                }
                copied.set(Some(ok));
            });
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let export_trace = {
        let on_export_trace = props.on_export_trace.clone();
        Callback::from(move |_: MouseEvent| on_export_trace.emit(()))
    };
    let on_key = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    let body = match &*link {
        Ok(url) => html! {
            <>
                <p class="menu-intro">
                    { format!("Anyone who opens this link sees this run at step {}: the scenario{}, the seed, your faults and anti-patterns travel inside the link. Nothing is uploaded.",
                        props.shell.step,
                        if crate::sim::scenario::builtin(&props.shell.scenario.name).as_ref() == Some(&*props.shell.scenario) { " (by name)" } else { " (in full, as edited)" }) }
                </p>
                <div class="share-row">
                    <input ref={input} class="share-link" type="text" readonly=true value={url.clone()}
                        aria-label="Share link" spellcheck="false" />
                    <button type="button" class="control primary" onclick={on_copy}>{ "Copy" }</button>
                </div>
                <p class="share-size">{ format!("{} of at most {FRAGMENT_CHARS_MAX} characters in the fragment.", url.split_once('#').map_or(0, |(_, f)| f.len())) }</p>
                { match *copied {
                    Some(true) => html! { <p class="menu-status" role="status">{ "Copied to the clipboard." }</p> },
                    Some(false) => html! { <p class="menu-status" role="status">{ "The browser did not allow copying: the link is selected, press Ctrl+C (\u{2318}C on a Mac)." }</p> },
                    None => html! {},
                } }
            </>
        },
        Err(why) => html! {
            <>
                <p class="menu-status failed share-too-long" role="alert">{ format!("No link: {why}.") }</p>
                <button type="button" class="control primary" onclick={export_trace}>{ "Download the trace file" }</button>
            </>
        },
    };
    html! {
        <div class="popover share-panel" role="dialog" aria-label="Share this run" onkeydown={on_key}>
            <div class="menu-head">
                <strong>{ "Share this run" }</strong>
                <button type="button" class="menu-close" aria-label="Close the share panel" onclick={close}>{ "\u{2715}" }</button>
            </div>
            { body }
        </div>
    }
}
