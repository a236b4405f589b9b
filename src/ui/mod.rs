//! The Yew app: the only part of the crate that knows about the browser.
//!
//! It is an adapter around the core. Components turn plain state into HTML and user
//! gestures into [`state::ShellAction`]s; the reducer in [`state`] does no I/O; timers,
//! key listeners and the DOM stay in the components. Only this module may name yew,
//! web_sys, gloo, js_sys or wasm_bindgen.

pub mod antipatterns;
pub mod app;
pub mod checklist;
pub mod compare;
pub mod details;
pub mod dlq;
pub mod download;
pub mod editor;
pub mod export_menu;
pub mod guide;
pub mod help;
pub mod icons;
pub mod import;
pub mod layout;
pub mod lesson_player;
pub mod lessons_index;
pub mod log;
pub mod menu;
pub mod metrics;
pub mod numbers;
pub mod panic;
pub mod perfetto_open;
pub mod progress;
pub mod projections;
pub mod regions;
pub mod replay;
pub mod route;
pub mod sagas;
pub mod sequence;
pub mod share;
pub mod state;
pub mod store;
pub mod toolbar;
pub mod topology;
pub mod transfer;
pub mod worker;

/// Id of the element the app mounts into (see `index.html`).
pub const ROOT_ID: &str = "app";

/// Start the app: install the panic banner, then mount [`app::App`] into `#app`
/// (or the body when a page has no such element).
pub fn start() {
    panic::install_hook();
    let root = gloo::utils::document().get_element_by_id(ROOT_ID);
    match root {
        Some(root) => {
            yew::Renderer::<app::App>::with_root(root).render();
        }
        None => {
            yew::Renderer::<app::App>::new().render();
        }
    }
}
