//! The event store browser: the streams of each event-sourced service with their
//! versions, the events of the chosen stream, and the aggregate's state folded as of
//! any version of that stream, with snapshots and concurrency conflicts marked.
//!
//! Two clocks meet here. The timeline sets the *step*: the store shows only what was
//! appended up to it, so dragging the timeline shows the store as of any step. The
//! version slider folds the chosen stream up to a *version*, using the nearest
//! snapshot at or below it, which is how an event-sourced service rebuilds state. The
//! selection is local UI state (which store, which stream, which version): it changes
//! nothing about the run, so it stays out of the reducer.
//!
//! Everything but the version slider and the shared empty state is markup text (see
//! `markup.rs`): the store buttons, the stream list and the conflicts carry
//! `data-store`, `data-stream` and `data-goto`, and one listener on the panel reads
//! them. A raw node is replaced whole when its text changes, which would drop the
//! keyboard focus from a stream button the moment it is pressed; [`keep_focus`] puts
//! it back.
//!
//! Cost: the stream list is bounded ([`STREAMS_SHOWN`]), the events of one stream are
//! bounded ([`EVENTS_SHOWN`], newest kept), and conflicts come from one pass over the
//! trace.

use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement};
use yew::prelude::*;

use super::markup::{esc, put, raw, table};
use super::regions::empty_state;
use super::sagas::PanelProps;
use super::state::ShellAction;
use super::topology::short_type;
use crate::sim::trace::{FailureCause, Happened, ServiceId};

const STREAMS_SHOWN: usize = 60;
const EVENTS_SHOWN: usize = 80;
const CONFLICTS_SHOWN: usize = 5;

const INTRO: &str = "<p class=\"panel-note\">Event sourcing: a service stores the events that changed its state, one stream per aggregate, and rebuilds the state by folding them. Appends carry the version they expect; a concurrent append is a conflict and the handler retries.</p>";

/// The attributes that name a button of the panel's markup, with their selectors.
const MARKS: [(&str, &str); 3] =
    [("data-goto", "[data-goto]"), ("data-stream", "[data-stream]"), ("data-store", "[data-store]")];

/// A concurrency conflict seen in the trace: (step, stream, expected, actual).
type ConflictRow = (u64, String, u64, u64);

/// The clicked button of the markup (the clicked element or its nearest marked
/// ancestor), with the attribute that marks it and its value.
fn clicked(event: &MouseEvent) -> Option<(Element, &'static str, String)> {
    let target: Element = event.target()?.dyn_into().ok()?;
    MARKS.iter().find_map(|(attr, selector)| {
        let button = target.closest(selector).ok()??;
        let value = button.get_attribute(attr)?;
        Some((button, *attr, value))
    })
}

/// Gives the focus back to the button marked `attr="value"` once the click has been
/// rendered. Yew renders in a microtask, before any timer fires; the render replaces
/// the markup that held the focused button, which drops the focus to the document,
/// where a Yew element would have kept it. A keyboard user who pressed Enter on a
/// stream stays on it, and Tab goes on from there.
fn keep_focus(attr: &'static str, value: String) {
    Timeout::new(0, move || {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        if document.active_element().is_some_and(|a| a.has_attribute(attr)) {
            return;
        }
        // Inside a CSS string only the quote and the backslash need escaping.
        let value = value.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(Some(button)) = document.query_selector(&format!(".store-panel [{attr}=\"{value}\"]")) {
            if let Ok(button) = button.dyn_into::<HtmlElement>() {
                let _ = button.focus();
            }
        }
    })
    .forget();
}

#[function_component(StorePanel)]
pub fn store_panel(props: &PanelProps) -> Html {
    let shell = &props.shell;
    let chosen_store = use_state(|| None::<u32>);
    let chosen_stream = use_state(|| None::<String>);
    let as_of = use_state(|| None::<u64>);
    let sim = shell.sim.borrow();
    let stores: Vec<(ServiceId, String)> = sim
        .compiled()
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.store.is_some())
        .map(|(i, s)| (ServiceId(i as u32), s.name.clone()))
        .collect();
    let Some((service, service_name)) =
        stores.iter().find(|(id, _)| Some(id.0) == *chosen_store).or(stores.first()).cloned()
    else {
        drop(sim);
        return html! {
            <div class="store-panel">
                { raw(INTRO.to_string()) }
                { empty_state("No service of this scenario keeps an event store.", "Pick bank-account, order-read-model, schema-versioning or checkout-orchestration (whose coordinator stores each saga instance as events) to browse streams.") }
            </div>
        };
    };
    let store = sim.store(service);
    let streams: Vec<(String, u64)> = store.streams().map(|(s, v)| (s.to_string(), v)).collect();
    let conflicts: Vec<ConflictRow> = sim
        .trace()
        .iter()
        .filter_map(|r| match &r.happened {
            Happened::HandlingFailed { cause: FailureCause::Conflict { stream, expected, actual }, sub, .. }
                if sim.compiled().subs.get(sub.0 as usize).is_some_and(|s| s.service == service) =>
            {
                Some((r.step, stream.clone(), *expected, *actual))
            }
            _ => None,
        })
        .collect();
    let stream = chosen_stream
        .as_ref()
        .filter(|name| streams.iter().any(|(s, _)| s == *name))
        .cloned()
        .or_else(|| streams.first().map(|(s, _)| s.clone()));

    // One listener for every button of the markup: a conflict rewinds the run to its
    // step, a stream or a store is picked (and the version slider goes back to the head).
    let on_click = {
        let chosen_store = chosen_store.clone();
        let chosen_stream = chosen_stream.clone();
        let as_of = as_of.clone();
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: MouseEvent| {
            let Some((button, attr, value)) = clicked(&event) else { return };
            match attr {
                "data-goto" => {
                    if let Ok(step) = value.parse() {
                        dispatch.emit(ShellAction::RewindTo(step));
                    }
                }
                "data-stream" => {
                    chosen_stream.set(Some(value.clone()));
                    as_of.set(None);
                }
                _ => {
                    chosen_store.set(value.parse().ok());
                    chosen_stream.set(None);
                    as_of.set(None);
                }
            }
            let focused = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
            if focused.as_ref() == Some(&button) {
                keep_focus(attr, value);
            }
        })
    };

    let mut head = String::from(INTRO);
    if stores.len() > 1 {
        head.push_str("<div class=\"store-picker\" role=\"group\" aria-label=\"Event stores\">");
        for (id, name) in &stores {
            let primary = if *id == service { " primary" } else { "" };
            put(
                &mut head,
                format_args!(
                    "<button type=\"button\" class=\"control small{primary}\" data-store=\"{}\">{}</button>",
                    id.0,
                    esc(name)
                ),
            );
        }
        head.push_str("</div>");
    }
    put(
        &mut head,
        format_args!(
            "<p class=\"store-summary\">{}: {} stream(s), {} event(s) at this step",
            esc(&service_name),
            streams.len(),
            store.head()
        ),
    );
    if !conflicts.is_empty() {
        put(&mut head, format_args!(", {} concurrency conflict(s) caught", conflicts.len()));
    }
    head.push_str(".</p>");

    let mut list = String::new();
    put(&mut list, format_args!("<ul class=\"stream-list\" aria-label=\"Streams of {}\">", esc(&service_name)));
    for (name, version) in streams.iter().take(STREAMS_SHOWN) {
        let conflicted = conflicts.iter().filter(|c| &c.1 == name).count();
        let snapshots = store.snapshots(name).len();
        let active = if Some(name) == stream.as_ref() { " active" } else { "" };
        let name = esc(name);
        put(
            &mut list,
            format_args!(
                "<li><button type=\"button\" class=\"stream{active}\" data-stream=\"{name}\"><span class=\"mono\">{name}</span><span class=\"stream-version\">v{version}</span>"
            ),
        );
        if snapshots > 0 {
            put(
                &mut list,
                format_args!(
                    "<span class=\"stream-badge snapshot\" title=\"snapshots taken\">\u{25a3} {snapshots}</span>"
                ),
            );
        }
        if conflicted > 0 {
            put(
                &mut list,
                format_args!("<span class=\"stream-badge conflict\" title=\"concurrency conflicts caught\">\u{26a1} {conflicted}</span>"),
            );
        }
        list.push_str("</button></li>");
    }
    list.push_str("</ul>");

    let detail = stream.as_ref().map(|name| {
        let version = store.version(name);
        let as_of_version = as_of.map_or(version, |v| v.min(version));
        let snapshots: Vec<u64> = store.snapshots(name).iter().map(|s| s.version).collect();
        let from_snapshot = snapshots.iter().rev().find(|v| **v <= as_of_version).copied();
        let state = sim.aggregate_state(service, name, Some(as_of_version), true);
        let events: Vec<_> = store.read_stream(name).collect();
        let skip = events.len().saturating_sub(EVENTS_SHOWN);
        let on_slide = {
            let as_of = as_of.clone();
            Callback::from(move |e: InputEvent| {
                let input: HtmlInputElement = e.target_unchecked_into();
                as_of.set(input.value().parse().ok());
            })
        };
        let title = format!("<h3>{} \u{2014} version {version}</h3>", esc(name));
        let mut body = String::new();
        match from_snapshot {
            Some(v) if v > 0 => put(
                &mut body,
                format_args!(
                    "<p class=\"panel-note\">Rebuilt from the snapshot at version {v}, then {} event(s) folded on top.</p>",
                    as_of_version - v
                ),
            ),
            _ => put(&mut body, format_args!("<p class=\"panel-note\">Rebuilt by folding {as_of_version} event(s) from zero.</p>")),
        }
        match state {
            Ok(state) if state.is_empty() => body.push_str("<p class=\"panel-note\">Empty state.</p>"),
            Ok(state) => {
                body.push_str("<table class=\"state-table\" aria-label=\"Aggregate state\"><tbody>");
                for (k, v) in &state {
                    put(&mut body, format_args!("<tr><td class=\"mono\">{}</td><td class=\"num\">{v}</td></tr>", esc(k)));
                }
                body.push_str("</tbody></table>");
            }
            Err(e) => put(
                &mut body,
                format_args!(
                    "<p class=\"invariant-detail\">Unreadable: the event at position {} lacks the field \u{201c}{}\u{201d} (an old schema nothing upcast).</p>",
                    e.position,
                    esc(&e.field)
                ),
            ),
        }
        let stream_conflicts: Vec<&ConflictRow> = conflicts.iter().filter(|c| &c.1 == name).collect();
        if !stream_conflicts.is_empty() {
            body.push_str("<ul class=\"conflicts\" aria-label=\"Concurrency conflicts\">");
            for (step, _, expected, actual) in stream_conflicts.iter().take(CONFLICTS_SHOWN) {
                put(
                    &mut body,
                    format_args!(
                        "<li class=\"conflict\"><button type=\"button\" class=\"attempt\" data-goto=\"{}\" title=\"Go to this step\">\u{26a1} step {step}: conflict \u{2014} expected version {expected}, the stream was at {actual}; the handler retries with a fresh read</button></li>",
                        step + 1
                    ),
                );
            }
            body.push_str("</ul>");
            if stream_conflicts.len() > CONFLICTS_SHOWN {
                put(
                    &mut body,
                    format_args!("<p class=\"panel-note\">{} more conflict(s) on this stream.</p>", stream_conflicts.len() - CONFLICTS_SHOWN),
                );
            }
        }
        let event_rows: Vec<(String, Vec<String>)> = events
            .iter()
            .skip(skip)
            .map(|e| {
                let snap = snapshots.contains(&e.version);
                let class = match (e.version > as_of_version, snap) {
                    (true, true) => "after snap",
                    (true, false) => "after",
                    (false, true) => "snap",
                    (false, false) => "",
                };
                (
                    class.to_string(),
                    vec![
                        e.version.to_string(),
                        e.position.to_string(),
                        esc(short_type(&e.event_type)),
                        format!("v{}", e.schema_version),
                        format!("{} ms", e.time_ms),
                        if snap { "\u{25a3} snapshot".into() } else { String::new() },
                    ],
                )
            })
            .collect();
        body.push_str(&table("event-table", &format!("Events of {name}"), &["v", "pos", "type", "schema", "time", ""], &event_rows));
        if skip > 0 {
            put(&mut body, format_args!("<p class=\"panel-note\">The first {skip} events are not listed.</p>"));
        }
        html! {
            <section class="stream-detail" aria-label={format!("Stream {name}")}>
                { raw(title) }
                <label class="version-slider">
                    <span class="number-label">{ format!("State as of version {as_of_version}") }</span>
                    <input type="range" min="0" max={version.to_string()} value={as_of_version.to_string()}
                        aria-label="State as of stream version" oninput={on_slide} disabled={version == 0} />
                </label>
                { raw(body) }
            </section>
        }
    });
    drop(sim);
    html! {
        <div class="store-panel" onclick={on_click}>
            { raw(head) }
            if streams.is_empty() {
                { empty_state("Nothing stored yet at this step.", "Each handled command appends events to its aggregate's stream; step the run forward.") }
            } else {
                <div class="store-columns">
                    { raw(list) }
                    { for detail }
                </div>
            }
        </div>
    }
}
