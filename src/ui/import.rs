//! Importing a trace file: a file picker, drag and drop onto the page, and the panel
//! that says what was wrong with a file.
//!
//! The size is checked before a byte is read (a 2 GB file dropped by mistake must not
//! freeze the tab), then the background worker ([`super::worker`]) validates and
//! replays the file with the core's importer, and the page replays the run it gives. Only a
//! file that reproduces replaces the run; a failed import leaves the current run as it
//! was and lists each problem with its JSON path in a panel the user dismisses.

use std::rc::Rc;

use web_sys::{File, HtmlInputElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::download::read_text;
use super::numbers::D1;
use super::state::{Notice, Restored, ShellAction};
use super::worker::ask;
use crate::export::jobs::{Answer, Job};
use crate::export::share::decode_payload;
use crate::export::trace_file::TRACE_BYTES_MAX;

/// What went wrong with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProblem {
    pub file: String,
    /// One sentence about the file as a whole.
    pub summary: String,
    /// Each problem: its JSON path (empty for the whole file) and what is wrong there.
    pub errors: Vec<(String, String)>,
}

/// The action that restores the worker's answer about the trace file `file`, or the
/// problems to show.
pub fn import_answer(file: &str, answer: Answer) -> Result<ShellAction, ImportProblem> {
    let unchanged = || format!("{file} was not imported: your current run is unchanged.");
    let (summary, errors) = match answer {
        Answer::Run { run, trace_hash } => match decode_payload(&run) {
            Ok(shared) => {
                let hash =
                    trace_hash.map(|h| format!(" (trace hash {h:016x}, identical to the file)")).unwrap_or_default();
                let message = format!("Imported {file}: the run is restored at step {}{hash}.", shared.step);
                return Ok(ShellAction::Restore(Box::new(Restored {
                    config: shared.config,
                    step: shared.step,
                    message,
                })));
            }
            Err(errors) => (unchanged(), errors.0.into_iter().map(|e| (e.path, e.message)).collect()),
        },
        Answer::Refused { problems, mismatch: true } => (
            format!(
                "{file} is a valid trace file, but replaying it here does not give the same run: your current \
                 run is unchanged."
            ),
            problems,
        ),
        Answer::Refused { problems, mismatch: false } => (unchanged(), problems),
        _ => (unchanged(), vec![(String::new(), "the worker's answer was not a run".to_string())]),
    };
    Err(ImportProblem { file: file.to_string(), summary, errors })
}

/// The problem of a file too large to read.
pub fn too_large(file: &str, bytes: f64) -> ImportProblem {
    ImportProblem {
        file: file.to_string(),
        summary: format!("{file} was not imported: your current run is unchanged."),
        errors: vec![(
            String::new(),
            format!(
                "the file is {} MB; the limit is {} MB (20 MiB). Trace files of this size hold about \
                 200,000 steps.",
                D1(bytes / 1e6),
                D1(TRACE_BYTES_MAX as f64 / 1e6)
            ),
        )],
    }
}

/// Imports one file: checks its size, reads it, and reports the outcome through
/// `dispatch` (a good file) or `on_problem` (anything else).
pub fn import_file(file: File, dispatch: Callback<ShellAction>, on_problem: Callback<Option<ImportProblem>>) {
    let name = file.name();
    if file.size() > TRACE_BYTES_MAX as f64 {
        on_problem.emit(Some(too_large(&name, file.size())));
        return;
    }
    spawn_local(async move {
        let text = match read_text(&file).await {
            Ok(text) => text,
            Err(why) => {
                on_problem.emit(Some(ImportProblem {
                    file: name.clone(),
                    summary: format!("{name} was not imported: your current run is unchanged."),
                    errors: vec![(String::new(), why)],
                }));
                return;
            }
        };
        dispatch.emit(ShellAction::Notify(Notice::Rebuilt(format!("Replaying {name}\u{2026}"))));
        ask(&Job::Import { text }, move |answer| match import_answer(&name, answer) {
            Ok(action) => {
                on_problem.emit(None);
                dispatch.emit(action);
            }
            Err(problem) => {
                dispatch.emit(ShellAction::Notify(Notice::Refused(problem.summary.clone())));
                on_problem.emit(Some(problem));
            }
        });
    });
}

#[derive(Properties, PartialEq)]
pub struct ImportButtonProps {
    pub on_file: Callback<File>,
}

/// The Import button: a visible button in front of a hidden file input.
#[function_component(ImportButton)]
pub fn import_button(props: &ImportButtonProps) -> Html {
    let input = use_node_ref();
    let onclick = {
        let input = input.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                input.click();
            }
        })
    };
    let onchange = {
        let on_file = props.on_file.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                on_file.emit(file);
            }
            // Choosing the same file again must fire `change` again.
            input.set_value("");
        })
    };
    html! {
        <>
            <button type="button" class="control" {onclick}
                title="Open a trace file (.eventscope.json) exported from Eventscope; you can also drop it on the page">
                <span class="control-text">{ "Import" }</span>
            </button>
            <input ref={input} type="file" class="file-input" accept=".json,application/json"
                aria-label="Import a trace file" {onchange} />
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct ImportProblemProps {
    pub problem: Rc<ImportProblem>,
    pub on_dismiss: Callback<()>,
}

/// The problem panel as a node (see [`ImportProblemPanel`]).
pub fn import_problem_panel(props: &ImportProblemProps) -> Html {
    html! { <ImportProblemPanel problem={props.problem.clone()} on_dismiss={props.on_dismiss.clone()} /> }
}

/// The dismissible panel listing what is wrong with a file, each problem at its path.
#[function_component(ImportProblemPanel)]
pub fn import_problem_view(props: &ImportProblemProps) -> Html {
    let dismiss = {
        let on_dismiss = props.on_dismiss.clone();
        Callback::from(move |_: MouseEvent| on_dismiss.emit(()))
    };
    html! {
        <div class="popover import-problem" role="alert" aria-label="Import failed">
            <div class="menu-head">
                <strong>{ "The file could not be imported" }</strong>
                <button type="button" class="menu-close" aria-label="Dismiss" onclick={dismiss}>{ "\u{2715}" }</button>
            </div>
            <p class="menu-intro">{ props.problem.summary.clone() }</p>
            <ul class="problem-list">
                { for props.problem.errors.iter().map(|(path, message)| html! {
                    <li>
                        if path.is_empty() {
                            <span class="problem-path whole">{ "the file" }</span>
                        } else {
                            <code class="problem-path">{ path.clone() }</code>
                        }
                        <span class="problem-message">{ message.clone() }</span>
                    </li>
                }) }
            </ul>
        </div>
    }
}
