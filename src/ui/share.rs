//! Share links: the run in the page's address, and opening one.
//!
//! The link is the page's address with the run's configuration and step in the
//! fragment (`#s=…`, or `#/play?s=…` when the page routes by fragment; see
//! [`crate::export::share`]). The background worker ([`super::worker`]) compresses and
//! decodes links. Writing one replaces the fragment without a navigation; opening one
//! happens when the page starts and whenever the fragment changes under an open page.
//! A link that cannot be opened says what is wrong and leaves the default (or current)
//! run on screen: never a blank page.

use yew::platform::spawn_local;
use yew::prelude::*;

use super::download::{copy_text, page_address, replace_fragment};
use super::export_menu::sentences;
use super::state::{Notice, Restored, Shell, ShellAction};
use super::worker::ask;
use crate::export::jobs::{Answer, Job};
use crate::export::share::{decode_payload, fragment_with, payload_json, share_param, FRAGMENT_CHARS_MAX};
use crate::export::SharedRun;

/// Opens the run of the share link in `fragment`, if it has one: the worker decodes the
/// link and the answer becomes a restore, or a notice of what is wrong. Until then the
/// page says it is opening the link. False when the fragment holds no link.
pub fn open_link(fragment: &str, dispatch: Callback<ShellAction>) -> bool {
    if share_param(fragment).is_none() {
        return false;
    }
    dispatch.emit(ShellAction::Notify(Notice::Rebuilt("Opening the shared run\u{2026}".into())));
    ask(&Job::OpenLink { link: fragment.to_string() }, move |answer| dispatch.emit(action_for_link(answer)));
    true
}

/// What the worker's answer about a share link asks for: a restore, or a notice of the
/// problem (the run on screen stays).
pub fn action_for_link(answer: Answer) -> ShellAction {
    let problem = match answer {
        Answer::Run { run, .. } => match decode_payload(&run) {
            Ok(shared) => return restore_action(shared),
            Err(errors) => errors.to_string(),
        },
        Answer::Refused { problems, .. } => sentences(&problems),
        _ => "the worker's answer was not a run".to_string(),
    };
    ShellAction::Notify(Notice::Refused(format!(
        "This share link could not be opened: {problem}. Showing the default run instead."
    )))
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

/// The link for `param` (`s=…`) in this page's address.
fn link_for(param: &str) -> String {
    let fragment = fragment_with(&super::download::location_hash(), param);
    format!("{}#{fragment}", page_address())
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
    // The link of the run as it stands, or why there can be none; `None` while the
    // worker compresses it.
    let link = use_state(|| None::<Result<String, String>>);
    {
        let link = link.clone();
        let sim = props.shell.sim.clone();
        use_effect_with((props.shell.run_id, props.shell.revision), move |_| {
            let run = {
                let sim = sim.borrow();
                payload_json(sim.config(), sim.step_index())
            };
            ask(&Job::Share { run }, move |answer| {
                link.set(Some(match answer {
                    Answer::Param { param } => Ok(link_for(&param)),
                    Answer::Refused { problems, .. } => Err(sentences(&problems)),
                    _ => Err("the worker's answer was not a link".to_string()),
                }))
            });
        });
    }
    let copied = use_state(|| None::<bool>);
    let input = use_node_ref();
    {
        // Put the link in the address bar and select it, ready for Ctrl+C.
        let link = link.clone();
        let input = input.clone();
        let copied = copied.clone();
        use_effect_with(link.clone(), move |_| {
            if let Some(Ok(url)) = &*link {
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
            let Some(Ok(url)) = (*link).clone() else {
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
        None => html! { <p class="menu-intro" role="status">{ "Making the link\u{2026}" }</p> },
        Some(Ok(url)) => html! {
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
        Some(Err(why)) => html! {
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
