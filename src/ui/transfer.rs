//! The file actions beside the header: Export, Import, Share and the scenario editor,
//! with drag and drop of trace files onto the page.
//!
//! One component owns which of these panels is open (one at a time) and the last import
//! problem: view state that no other part of the app reads, so it stays out of the
//! reducer. Everything that changes the run goes through the reducer as an action
//! (`Restore`, `ApplyScenario`, `Notify`); the browser effects live in
//! [`super::download`] and are called from these event handlers only.

use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File};
use yew::prelude::*;

use super::download::location_hash;
use super::editor::ScenarioEditor;
use super::export_menu::{export_and_download, export_job, ExportMenu};
use super::import::{import_file, import_problem_panel, ImportButton, ImportProblem, ImportProblemProps};
use super::share::{open_link, SharePanel};
use super::state::{Notice, Shell, ShellAction};
use crate::export::jobs::Format;

/// Which panel is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Panel {
    Export,
    Share,
    Editor,
}

#[derive(Properties, PartialEq)]
pub struct FileActionsProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

/// The buttons and the panels they open.
#[function_component(FileActions)]
pub fn file_actions(props: &FileActionsProps) -> Html {
    let open = use_state(|| None::<Panel>);
    let problem = use_state(|| None::<Rc<ImportProblem>>);
    let dragging = use_state(|| false);

    let on_problem = {
        let problem = problem.clone();
        Callback::from(move |found: Option<ImportProblem>| problem.set(found.map(Rc::new)))
    };
    let on_file = {
        let dispatch = props.dispatch.clone();
        let on_problem = on_problem.clone();
        Callback::from(move |file: File| import_file(file, dispatch.clone(), on_problem.clone()))
    };

    // Drop a file anywhere on the page; a pasted share link in the address bar.
    {
        let on_file = on_file.clone();
        let dragging = dragging.clone();
        let dispatch = props.dispatch.clone();
        use_effect_with((), move |_| {
            let window = gloo::utils::window();
            let options = EventListenerOptions::enable_prevent_default();
            let over = {
                let dragging = dragging.clone();
                EventListener::new_with_options(&window, "dragover", options, move |event| {
                    if carries_files(event) {
                        // Without this the browser would open the file itself.
                        event.prevent_default();
                        dragging.set(true);
                    }
                })
            };
            let leave = {
                let dragging = dragging.clone();
                EventListener::new(&window, "dragleave", move |event| {
                    // Only leaving the window counts, not moving between elements.
                    let left = event.dyn_ref::<DragEvent>().is_some_and(|e| e.related_target().is_none());
                    if left {
                        dragging.set(false);
                    }
                })
            };
            let drop = EventListener::new_with_options(&window, "drop", options, move |event| {
                dragging.set(false);
                let file = event
                    .dyn_ref::<DragEvent>()
                    .and_then(DragEvent::data_transfer)
                    .and_then(|data| data.files())
                    .and_then(|files| files.get(0));
                if let Some(file) = file {
                    event.prevent_default();
                    on_file.emit(file);
                }
            });
            let hash = EventListener::new(&window, "hashchange", move |_| {
                open_link(&location_hash(), dispatch.clone());
            });
            move || drop_all((over, leave, drop, hash))
        });
    }

    let toggle = |panel: Panel| {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(if *open == Some(panel) { None } else { Some(panel) }))
    };
    let close = {
        let open = open.clone();
        Callback::from(move |_: ()| open.set(None))
    };
    let dismiss_problem = {
        let problem = problem.clone();
        Callback::from(move |_: ()| problem.set(None))
    };
    let export_trace = {
        let sim = props.shell.sim.clone();
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: ()| {
            let dispatch = dispatch.clone();
            export_and_download(export_job(&sim.borrow(), Format::Trace, None), move |ok, text| {
                if !ok {
                    dispatch.emit(ShellAction::Notify(Notice::Refused(text)));
                }
            });
        })
    };
    let pressed = |panel: Panel| (*open == Some(panel)).to_string();

    html! {
        <div class="file-actions" role="group" aria-label="Export, import and share">
            <button type="button" class="control" aria-haspopup="menu" aria-expanded={pressed(Panel::Export)}
                onclick={toggle(Panel::Export)} title="Save the run as a trace file, CloudEvents, Mermaid, Perfetto or AsyncAPI">
                <span class="control-text">{ "Export \u{25be}" }</span>
            </button>
            <ImportButton on_file={on_file} />
            <button type="button" class="control" aria-expanded={pressed(Panel::Share)}
                onclick={toggle(Panel::Share)} title="A link that opens this exact run at this step">
                <span class="control-text">{ "Share" }</span>
            </button>
            <button type="button" class="control" aria-expanded={pressed(Panel::Editor)}
                onclick={toggle(Panel::Editor)} title="Edit the scenario as JSON, or make your own copy of it">
                <span class="control-text">{ "Edit scenario" }</span>
            </button>
            { match *open {
                Some(Panel::Export) => html! { <ExportMenu shell={props.shell.clone()} on_close={close.clone()} /> },
                Some(Panel::Share) => html! {
                    <SharePanel shell={props.shell.clone()} on_close={close.clone()} on_export_trace={export_trace} />
                },
                Some(Panel::Editor) => html! {
                    <ScenarioEditor scenario={props.shell.scenario.clone()} dispatch={props.dispatch.clone()} on_close={close.clone()} />
                },
                None => html! {},
            } }
            if let Some(found) = &*problem {
                { import_problem_panel(&ImportProblemProps { problem: found.clone(), on_dismiss: dismiss_problem }) }
            }
            if *dragging {
                <div class="drop-overlay" aria-hidden="true">
                    <p>{ "Drop a trace file (.eventscope.json) to open its run" }</p>
                </div>
            }
        </div>
    }
}

/// Whether a drag event carries files (not text or a link dragged from the page).
fn carries_files(event: &web_sys::Event) -> bool {
    event
        .dyn_ref::<DragEvent>()
        .and_then(DragEvent::data_transfer)
        .is_some_and(|data| data.types().iter().any(|t| t.as_string().as_deref() == Some("Files")))
}

fn drop_all<T>(listeners: T) {
    drop(listeners);
}
