//! The background worker that exports, imports and codes share links
//! ([`crate::export::jobs`]): the page's side ([`ask`]) and the worker's ([`serve`]).
//!
//! The worker is a second program of this crate (`src/bin/eventscope-worker.rs`), which
//! Trunk builds next to the app and names without a content hash. The page starts it on
//! the first job, so its code is downloaded only by people who export, import or
//! share. Messages are arrays of strings: the page posts `[id, job JSON]`, the worker
//! answers `[id, ...Answer::to_strings()]`, and says `"ready"` once it listens. Until then
//! the page keeps its jobs, since a worker drops messages that arrive before its
//! handler is set. Should the worker fail to load or stop on an error, every waiting
//! job is answered with a sentence saying so and the next job starts a fresh worker.

use std::cell::RefCell;

use gloo::events::EventListener;
use js_sys::Array;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, ErrorEvent, MessageEvent, Worker};

use crate::export::jobs::{answer_text, Answer, Job};

/// The worker's start-up script, which Trunk writes beside the app's own files.
pub const WORKER_SCRIPT: &str = "eventscope-worker_loader.js";

type Reply = Box<dyn FnOnce(Answer)>;

/// The running worker and the jobs it owes an answer.
struct Client {
    worker: Worker,
    ready: bool,
    /// Jobs posted before the worker said it listens.
    queued: Vec<JsValue>,
    waiting: Vec<(u32, Reply)>,
    next_id: u32,
    _listeners: [EventListener; 2],
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// Hands `job` to the worker (starting it if need be); `reply` gets its answer later,
/// never during this call.
pub fn ask(job: &Job, reply: impl FnOnce(Answer) + 'static) {
    let text = serde_json::to_string(job).unwrap_or_default();
    let reply: Reply = Box::new(reply);
    let failed = CLIENT.with(|cell| {
        let mut cell = cell.borrow_mut();
        let client = match cell.as_mut() {
            Some(client) => client,
            None => match start() {
                Ok(client) => cell.insert(client),
                Err(why) => return Some((reply, why)),
            },
        };
        client.next_id = client.next_id.wrapping_add(1);
        let id = client.next_id;
        client.waiting.push((id, reply));
        let message: JsValue = Array::of2(&JsValue::from(id), &JsValue::from_str(&text)).into();
        if !client.ready {
            client.queued.push(message);
            return None;
        }
        let posted = client.worker.post_message(&message).map_err(super::download::describe);
        let at = client.waiting.len() - 1;
        posted.err().map(|why| (client.waiting.remove(at).1, why))
    });
    if let Some((reply, why)) = failed {
        // Answered asynchronously all the same, so callers see one order of events.
        let answer = refusal(format!("the background worker could not start ({why}); reload the page"));
        yew::platform::spawn_local(async move { reply(answer) });
    }
}

fn refusal(why: String) -> Answer {
    Answer::Refused { problems: vec![(String::new(), why)], mismatch: false }
}

/// Starts the worker and listens to it.
fn start() -> Result<Client, String> {
    let url = worker_url()?;
    let worker = Worker::new(&url).map_err(super::download::describe)?;
    let on_message = EventListener::new(&worker, "message", |event| {
        let Some(event) = event.dyn_ref::<MessageEvent>() else {
            return;
        };
        on_message(event.data());
    });
    let on_error = EventListener::new(&worker, "error", |event| {
        let detail = event.dyn_ref::<ErrorEvent>().map(ErrorEvent::message).filter(|m| !m.is_empty());
        fail_all(&format!(
            "the background worker stopped ({}); try again, or reload the page",
            detail.as_deref().unwrap_or("it could not be loaded")
        ));
    });
    Ok(Client {
        worker,
        ready: false,
        queued: Vec::new(),
        waiting: Vec::new(),
        next_id: 0,
        _listeners: [on_message, on_error],
    })
}

/// The worker script's address: beside the app's own script, wherever the app is
/// hosted (the site's root or a sub-path).
fn worker_url() -> Result<String, String> {
    let document = gloo::utils::document();
    let base = document
        .query_selector("link[rel=modulepreload]")
        .ok()
        .flatten()
        .and_then(|link| link.get_attribute("href"))
        .and_then(|href| web_sys::Url::new_with_base(&href, &document.url().ok()?).ok())
        .map(|url| url.href())
        .or_else(|| document.base_uri().ok().flatten())
        .ok_or("the page has no address")?;
    web_sys::Url::new_with_base(WORKER_SCRIPT, &base).map(|url| url.href()).map_err(super::download::describe)
}

fn on_message(data: JsValue) {
    if data.as_string().as_deref() == Some("ready") {
        CLIENT.with(|client| {
            if let Some(client) = client.borrow_mut().as_mut() {
                client.ready = true;
                for message in client.queued.drain(..) {
                    let _ = client.worker.post_message(&message);
                }
            }
        });
        return;
    }
    let Some(pair) = data.dyn_ref::<Array>() else {
        return;
    };
    let id = pair.get(0).as_f64().map_or(0, |id| id as u32);
    let parts: Vec<String> = pair.iter().skip(1).map(|part| part.as_string().unwrap_or_default()).collect();
    let answer = Answer::from_strings(parts).unwrap_or_else(|| {
        refusal("the background worker gave an answer this page cannot read; reload the page".into())
    });
    // Take the reply out before calling it: it may ask for more.
    let reply = CLIENT.with(|client| {
        let mut client = client.borrow_mut();
        let waiting = &mut client.as_mut()?.waiting;
        let at = waiting.iter().position(|(waiting_id, _)| *waiting_id == id)?;
        Some(waiting.remove(at).1)
    });
    if let Some(reply) = reply {
        reply(answer);
    }
}

/// Answers every waiting job with `why` and drops the worker, so the next job starts a
/// fresh one.
fn fail_all(why: &str) {
    let waiting = CLIENT.with(|client| {
        let stopped = client.borrow_mut().take();
        stopped.map(|c| {
            c.worker.terminate();
            c.waiting
        })
    });
    for (_, reply) in waiting.unwrap_or_default() {
        reply(refusal(why.to_string()));
    }
}

/// The worker's side: answers every job posted to it, in order.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = {
        let scope = scope.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let Some(pair) = data.dyn_ref::<Array>() else {
                return;
            };
            let text = pair.get(1).as_string().unwrap_or_default();
            let reply = Array::of1(&pair.get(0));
            for part in answer_text(&text).to_strings() {
                reply.push(&JsValue::from_str(&part));
            }
            let _ = scope.post_message(&reply);
        })
    };
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    handler.forget();
    let _ = scope.post_message(&JsValue::from_str("ready"));
}
