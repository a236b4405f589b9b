//! Eventscope: an event-driven-architecture simulator.
//!
//! The crate has two halves with a hard wall between them:
//!
//! * [`sim`] is the deterministic core. It is pure Rust with no I/O, no clock and no
//!   web crates: inputs go in (a scenario, a seed, a fault script, "step"), a trace
//!   comes out. It runs the same natively (tests, CLI, benches) and in the browser.
//! * [`lessons`] is the curriculum as plain data: scenario, narration tied to trace
//!   events, predictions, "try this" actions, meters, the live verification checklist.
//! * [`export`] turns a run into files (canonical trace, CloudEvents, Mermaid,
//!   Perfetto, AsyncAPI) and share links, and reads trace files and links back. It is
//!   as pure as the core: strings in, strings out.
//! * `ui` (wasm32 only) is the Yew app, an adapter that turns the core's plain view
//!   models into pixels and user gestures into core inputs.

pub mod export;
pub mod lessons;
pub mod sim;

#[cfg(target_arch = "wasm32")]
pub mod ui;
