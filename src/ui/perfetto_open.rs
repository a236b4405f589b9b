//! "Open in Perfetto": hands a trace to https://ui.perfetto.dev in a new window.
//!
//! Perfetto's documented protocol for opening a trace from another page: open the UI
//! with `window.open`, post `'PING'` to it until it answers `'PONG'` (its page takes a
//! moment to load and listen), then post `{perfetto: {buffer, title}}` with the trace as
//! an `ArrayBuffer`. The window opens at the click, while the background worker writes
//! the trace; the trace goes over once both are ready. Nothing is uploaded: the trace goes from this window to that one,
//! and the CSP's `connect-src 'self'` does not apply to `window.open` or `postMessage`.
//! Both directions are pinned to Perfetto's origin: pings are posted only to it and
//! only its answer counts. The handover gives up after [`HANDOVER_TIMEOUT_MS`] (a popup
//! blocker, no network) and says so.

use std::cell::RefCell;

use gloo::events::EventListener;
use gloo::timers::callback::{Interval, Timeout};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Window};
use yew::Callback;

/// The Perfetto UI.
pub const PERFETTO_URL: &str = "https://ui.perfetto.dev";
/// The origin its answers come from and our messages go to.
pub const PERFETTO_ORIGIN: &str = "https://ui.perfetto.dev";
/// How often to ping while the Perfetto page loads.
const PING_PERIOD_MS: u32 = 50;
/// How long to wait for its first answer.
pub const HANDOVER_TIMEOUT_MS: u32 = 30_000;

/// How the handover is going, for the menu to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handover {
    Waiting,
    Sent,
    Failed(String),
}

/// One handover: its timers and listener (dropping them ends it), the Perfetto window,
/// and the two things it waits for, in either order: Perfetto's first answer and the
/// trace, which the background worker is still writing when the window opens.
struct Pending {
    _ping: Interval,
    _answer: EventListener,
    _give_up: Timeout,
    target: Window,
    title: String,
    status: Callback<Handover>,
    answered: bool,
    trace: Option<String>,
    /// Which click this handover answers (see [`hand_over`]).
    generation: u32,
}

thread_local! {
    /// At most one handover at a time: starting another drops the previous one.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
    /// Counts handovers, so a trace written for an earlier click is not sent to a
    /// later click's window.
    static GENERATION: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Opens Perfetto for a trace titled `title`, which [`hand_over`] delivers once it is
/// written, reporting progress on `status`. Must run in the click's handler: browsers
/// open windows only in answer to a click. Returns the handover's number for
/// [`hand_over`].
pub fn open_in_perfetto(title: String, status: Callback<Handover>) -> u32 {
    let generation = GENERATION.with(|g| {
        g.set(g.get().wrapping_add(1));
        g.get()
    });
    let window = gloo::utils::window();
    // No "noopener": the protocol needs the window handle to post to.
    let opened = match window.open_with_url_and_target(PERFETTO_URL, "_blank") {
        Ok(Some(opened)) => opened,
        _ => {
            PENDING.with(|pending| pending.borrow_mut().take());
            status.emit(Handover::Failed(
                "The browser did not open a window for Perfetto (a popup blocker?). Allow popups for this page, \
                 or download the Perfetto file and open it at ui.perfetto.dev."
                    .into(),
            ));
            return generation;
        }
    };
    status.emit(Handover::Waiting);
    let ping = {
        let target = opened.clone();
        Interval::new(PING_PERIOD_MS, move || {
            let _ = target.post_message(&JsValue::from_str("PING"), PERFETTO_ORIGIN);
        })
    };
    let answer = EventListener::new(&window, "message", move |event| {
        let Some(event) = event.dyn_ref::<MessageEvent>() else {
            return;
        };
        if event.origin() != PERFETTO_ORIGIN || event.data().as_string().as_deref() != Some("PONG") {
            return;
        }
        PENDING.with(|pending| {
            if let Some(pending) = pending.borrow_mut().as_mut() {
                pending.answered = true;
            }
        });
        finish_if_ready();
    });
    let give_up = Timeout::new(HANDOVER_TIMEOUT_MS, move || {
        if let Some(pending) = PENDING.with(|pending| pending.borrow_mut().take()) {
            pending.status.emit(Handover::Failed(
                "Perfetto did not answer (no network?). Download the Perfetto file instead and open it at \
                 ui.perfetto.dev."
                    .into(),
            ));
        }
    });
    PENDING.with(|pending| {
        *pending.borrow_mut() = Some(Pending {
            _ping: ping,
            _answer: answer,
            _give_up: give_up,
            target: opened,
            title,
            status,
            answered: false,
            trace: None,
            generation,
        })
    });
    generation
}

/// The trace for handover number `generation`, or why there is none (which ends it).
/// A trace for a handover that has ended or been replaced is dropped.
pub fn hand_over(generation: u32, trace: Result<String, String>) {
    let current = PENDING.with(|pending| pending.borrow().as_ref().is_some_and(|p| p.generation == generation));
    if !current {
        return;
    }
    match trace {
        Ok(trace) => {
            PENDING.with(|pending| {
                if let Some(pending) = pending.borrow_mut().as_mut() {
                    pending.trace = Some(trace);
                }
            });
            finish_if_ready();
        }
        Err(why) => {
            if let Some(pending) = PENDING.with(|pending| pending.borrow_mut().take()) {
                pending.status.emit(Handover::Failed(why));
            }
        }
    }
}

/// Sends the trace once Perfetto listens and the trace is written, then stops pinging
/// and listening and reports.
fn finish_if_ready() {
    let ready = PENDING.with(|pending| {
        let mut pending = pending.borrow_mut();
        let done = pending.as_ref().is_some_and(|p| p.answered && p.trace.is_some());
        if done {
            pending.take()
        } else {
            None
        }
    });
    if let Some(pending) = ready {
        let outcome = send(&pending.target, pending.trace.as_deref().unwrap_or_default(), &pending.title);
        pending.status.emit(outcome);
    }
}

/// Posts the trace itself: `{perfetto: {buffer: ArrayBuffer, title}}`.
fn send(target: &Window, trace: &str, title: &str) -> Handover {
    let bytes = Uint8Array::from(trace.as_bytes());
    let inner = Object::new();
    let outer = Object::new();
    let built = Reflect::set(&inner, &"buffer".into(), &bytes.buffer())
        .and_then(|_| Reflect::set(&inner, &"title".into(), &JsValue::from_str(title)))
        .and_then(|_| Reflect::set(&outer, &"perfetto".into(), &inner));
    match built.and_then(|_| target.post_message(&outer, PERFETTO_ORIGIN)) {
        Ok(()) => Handover::Sent,
        Err(error) => {
            Handover::Failed(format!("The trace could not be sent to Perfetto: {}", super::download::describe(error)))
        }
    }
}
