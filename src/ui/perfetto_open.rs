//! "Open in Perfetto": hands a trace to https://ui.perfetto.dev in a new window.
//!
//! Perfetto's documented protocol for opening a trace from another page: open the UI
//! with `window.open`, post `'PING'` to it until it answers `'PONG'` (its page takes a
//! moment to load and listen), then post `{perfetto: {buffer, title}}` with the trace as
//! an `ArrayBuffer`. Nothing is uploaded: the trace goes from this window to that one,
//! and the CSP's `connect-src 'self'` does not apply to `window.open` or `postMessage`.
//! Both directions are pinned to Perfetto's origin: pings are posted only to it and
//! only its answer counts. The handover gives up after [`HANDOVER_TIMEOUT_MS`] (a popup
//! blocker, no network) and says so.

use std::cell::RefCell;
use std::rc::Rc;

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

/// The timers and the listener of one handover; dropping them ends it.
struct Pending {
    _ping: Interval,
    _answer: EventListener,
    _give_up: Timeout,
}

thread_local! {
    /// At most one handover at a time: starting another drops the previous one.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Opens Perfetto and hands it `trace` (Chrome trace JSON) under `title`, reporting
/// progress on `status`.
pub fn open_in_perfetto(trace: String, title: String, status: Callback<Handover>) {
    let window = gloo::utils::window();
    // No "noopener": the protocol needs the window handle to post to.
    let opened = match window.open_with_url_and_target(PERFETTO_URL, "_blank") {
        Ok(Some(opened)) => opened,
        _ => {
            status.emit(Handover::Failed(
                "The browser did not open a window for Perfetto (a popup blocker?). Allow popups for this page, \
                 or download the Perfetto file and open it at ui.perfetto.dev."
                    .into(),
            ));
            return;
        }
    };
    status.emit(Handover::Waiting);
    let target = Rc::new(opened);
    let ping = {
        let target = target.clone();
        Interval::new(PING_PERIOD_MS, move || {
            let _ = target.post_message(&JsValue::from_str("PING"), PERFETTO_ORIGIN);
        })
    };
    let answer = {
        let target = target.clone();
        let status = status.clone();
        EventListener::new(&window, "message", move |event| {
            let Some(event) = event.dyn_ref::<MessageEvent>() else {
                return;
            };
            if event.origin() != PERFETTO_ORIGIN || event.data().as_string().as_deref() != Some("PONG") {
                return;
            }
            let outcome = send(&target, &trace, &title);
            // Stop pinging and listening, then report.
            PENDING.with(|pending| pending.borrow_mut().take());
            status.emit(outcome);
        })
    };
    let give_up = Timeout::new(HANDOVER_TIMEOUT_MS, move || {
        PENDING.with(|pending| pending.borrow_mut().take());
        status.emit(Handover::Failed(
            "Perfetto did not answer (no network?). Download the Perfetto file instead and open it at \
             ui.perfetto.dev."
                .into(),
        ));
    });
    PENDING.with(|pending| *pending.borrow_mut() = Some(Pending { _ping: ping, _answer: answer, _give_up: give_up }));
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
