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
//! The store and stream buttons are components keyed by name, so a step that appends
//! to a stream updates its version in place: the focused button stays the same element
//! and keeps the keyboard focus.
//!
//! Cost: the stream list is bounded ([`STREAMS_SHOWN`]), the events of one stream are
//! bounded ([`EVENTS_SHOWN`], newest kept), and conflicts come from one pass over the
//! trace.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::details::RunProps;
use super::regions::empty_state;
use super::state::ShellAction;
use super::topology::short_type;
use crate::sim::trace::{FailureCause, Happened, ServiceId};
use serde_json::{Map, Value};

/// One payload as `{ "field": value, ... }`, a field per line, with the fields the
/// other side lacks marked: that is where an upcaster renamed or added something.
fn payload(label: String, data: &Map<String, Value>, other: &Map<String, Value>, changed: &'static str) -> Html {
    html! {
        <figure class="upcast-side">
            <figcaption>{ label }</figcaption>
            <pre class="mono upcast-json">
                { "{\n" }
                { for data.iter().map(|(k, v)| html! {
                    <span class={classes!("upcast-field", (!other.contains_key(k)).then_some(changed))}>
                        { format!("  \"{k}\": {v}\n") }
                    </span>
                }) }
                { "}" }
            </pre>
        </figure>
    }
}

const STREAMS_SHOWN: usize = 60;
const EVENTS_SHOWN: usize = 80;
const CONFLICTS_SHOWN: usize = 5;
/// Upcast events shown before and after, oldest first: one is enough to see the rule.
const UPCASTS_SHOWN: usize = 3;

/// A concurrency conflict seen in the trace: (step, stream, expected, actual).
type ConflictRow = (u64, String, u64, u64);

fn intro() -> Html {
    html! {
        <p class="panel-note">{ "Event sourcing: a service stores the events that changed its state, one stream per aggregate, and rebuilds the state by folding them. Appends carry the version they expect; a concurrent append is a conflict and the handler retries." }</p>
    }
}

/// One stream of the list, with its version and its snapshot and conflict badges.
#[derive(Clone, Debug, PartialEq)]
struct StreamRow {
    name: String,
    version: u64,
    snapshots: usize,
    conflicts: usize,
}

#[derive(Properties, PartialEq)]
struct StreamButtonProps {
    row: StreamRow,
    active: bool,
    on_pick: Callback<String>,
}

#[function_component(StreamButton)]
fn stream_button(props: &StreamButtonProps) -> Html {
    let row = &props.row;
    let onclick = {
        let (on_pick, name) = (props.on_pick.clone(), row.name.clone());
        Callback::from(move |_: MouseEvent| on_pick.emit(name.clone()))
    };
    html! {
        <button type="button" class={classes!("stream", props.active.then_some("active"))} {onclick}>
            <span class="mono">{ row.name.clone() }</span>
            <span class="stream-version">{ format!("v{}", row.version) }</span>
            if row.snapshots > 0 {
                <span class="stream-badge snapshot" title="snapshots taken">{ format!("\u{25a3} {}", row.snapshots) }</span>
            }
            if row.conflicts > 0 {
                <span class="stream-badge conflict" title="concurrency conflicts caught">{ format!("\u{26a1} {}", row.conflicts) }</span>
            }
        </button>
    }
}

#[function_component(StorePanel)]
pub fn store_panel(props: &RunProps) -> Html {
    let chosen_store = use_state(|| None::<u32>);
    let chosen_stream = use_state(|| None::<String>);
    let as_of = use_state(|| None::<u64>);
    let on_pick_stream = {
        let (chosen_stream, as_of) = (chosen_stream.clone(), as_of.clone());
        use_callback((), move |name: String, _| {
            chosen_stream.set(Some(name));
            as_of.set(None);
        })
    };
    let on_goto = use_callback(props.dispatch.clone(), |step: u64, d| d.emit(ShellAction::RewindTo(step)));
    let sim = props.run.sim.borrow();
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
                { intro() }
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

    let pick_store = |id: ServiceId| {
        let (chosen_store, chosen_stream, as_of) = (chosen_store.clone(), chosen_stream.clone(), as_of.clone());
        Callback::from(move |_: MouseEvent| {
            chosen_store.set(Some(id.0));
            chosen_stream.set(None);
            as_of.set(None);
        })
    };
    let rows: Vec<StreamRow> = streams
        .iter()
        .take(STREAMS_SHOWN)
        .map(|(name, version)| StreamRow {
            name: name.clone(),
            version: *version,
            snapshots: store.snapshots(name).len(),
            conflicts: conflicts.iter().filter(|c| &c.1 == name).count(),
        })
        .collect();

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
        let rebuilt = match from_snapshot {
            Some(v) if v > 0 => {
                format!("Rebuilt from the snapshot at version {v}, then {} event(s) folded on top.", as_of_version - v)
            }
            _ => format!("Rebuilt by folding {as_of_version} event(s) from zero."),
        };
        let state = match state {
            Ok(state) if state.is_empty() => html! { <p class="panel-note">{ "Empty state." }</p> },
            Ok(state) => html! {
                <table class="state-table" aria-label="Aggregate state">
                    <tbody>
                        { for state.iter().map(|(k, v)| html! {
                            <tr><td class="mono">{ k.clone() }</td><td class="num">{ v.to_string() }</td></tr>
                        }) }
                    </tbody>
                </table>
            },
            Err(e) => html! {
                <p class="invariant-detail">{ format!("Unreadable: the event at position {} lacks the field \u{201c}{}\u{201d} (an old schema nothing upcast).", e.position, e.field) }</p>
            },
        };
        // The stored form is kept as written; readers get it through the upcasters.
        // Showing both is the point of the schema-versioning lesson.
        let upcasts: Vec<Html> = events
            .iter()
            .filter_map(|e| {
                let (read, read_version) = sim.read_as(service, e);
                (read_version != e.schema_version || read != e.data).then(|| {
                    html! {
                        <div class="upcast-pair" data-position={e.position.to_string()}>
                            <p class="panel-note">{ format!("Version {} ({}): stored as schema v{}, read as v{read_version}.", e.version, short_type(&e.event_type), e.schema_version) }</p>
                            <div class="upcast-sides">
                                { payload(format!("stored (v{})", e.schema_version), &e.data, &read, "upcast-gone") }
                                <span class="upcast-arrow" aria-hidden="true">{ "\u{2192}" }</span>
                                { payload(format!("read as (v{read_version})"), &read, &e.data, "upcast-new") }
                            </div>
                        </div>
                    }
                })
            })
            .take(UPCASTS_SHOWN)
            .collect();
        let stream_conflicts: Vec<&ConflictRow> = conflicts.iter().filter(|c| &c.1 == name).collect();
        let events = events.iter().skip(skip).map(|e| {
            let snap = snapshots.contains(&e.version);
            html! {
                <tr class={classes!((e.version > as_of_version).then_some("after"), snap.then_some("snap"))}>
                    <td>{ e.version.to_string() }</td>
                    <td>{ e.position.to_string() }</td>
                    <td title={e.event_type.clone()}>{ short_type(&e.event_type) }</td>
                    <td>{ format!("v{}", e.schema_version) }</td>
                    <td>{ format!("{} ms", e.time_ms) }</td>
                    <td>{ if snap { "\u{25a3} snapshot" } else { "" } }</td>
                </tr>
            }
        });
        html! {
            <section class="stream-detail" aria-label={format!("Stream {name}")}>
                <h3>{ format!("{name} \u{2014} version {version}") }</h3>
                <label class="version-slider">
                    <span class="number-label">{ format!("State as of version {as_of_version}") }</span>
                    <input type="range" min="0" max={version.to_string()} value={as_of_version.to_string()}
                        aria-label="State as of stream version" oninput={on_slide} disabled={version == 0} />
                </label>
                <p class="panel-note">{ rebuilt }</p>
                { state }
                if !stream_conflicts.is_empty() {
                    <ul class="conflicts" aria-label="Concurrency conflicts">
                        { for stream_conflicts.iter().take(CONFLICTS_SHOWN).map(|(step, _, expected, actual)| {
                            let (on_goto, to) = (on_goto.clone(), step + 1);
                            let onclick = Callback::from(move |_: MouseEvent| on_goto.emit(to));
                            html! {
                                <li class="conflict"><button type="button" class="attempt" title="Go to this step" {onclick}>
                                    { format!("\u{26a1} step {step}: conflict \u{2014} expected version {expected}, the stream was at {actual}; the handler retries with a fresh read") }
                                </button></li>
                            }
                        }) }
                    </ul>
                    if stream_conflicts.len() > CONFLICTS_SHOWN {
                        <p class="panel-note">{ format!("{} more conflict(s) on this stream.", stream_conflicts.len() - CONFLICTS_SHOWN) }</p>
                    }
                }
                <table class="event-table" aria-label={format!("Events of {name}")}>
                    <thead><tr><th>{ "v" }</th><th>{ "pos" }</th><th>{ "type" }</th><th>{ "schema" }</th><th>{ "time" }</th><th></th></tr></thead>
                    <tbody>{ for events }</tbody>
                </table>
                if skip > 0 {
                    <p class="panel-note">{ format!("The first {skip} events are not listed.") }</p>
                }
                if !upcasts.is_empty() {
                    <section class="upcasts" aria-label="Upcast on read">
                        <h4>{ "Upcast on read" }</h4>
                        <p class="panel-note">{ "Stored events are never rewritten: the upcaster turns the old schema into the new one each time a handler or projection reads it. Marked fields are the ones it renamed or added." }</p>
                        { for upcasts }
                    </section>
                }
            </section>
        }
    });
    let summary = format!(
        "{service_name}: {} stream(s), {} event(s) at this step{}.",
        streams.len(),
        store.head(),
        if conflicts.is_empty() {
            String::new()
        } else {
            format!(", {} concurrency conflict(s) caught", conflicts.len())
        }
    );
    drop(sim);
    html! {
        <div class="store-panel">
            { intro() }
            if stores.len() > 1 {
                <div class="store-picker" role="group" aria-label="Event stores">
                    { for stores.iter().map(|(id, name)| html! {
                        <button type="button" key={name.clone()} class={classes!("control", "small", (*id == service).then_some("primary"))}
                            onclick={pick_store(*id)}>{ name.clone() }</button>
                    }) }
                </div>
            }
            <p class="store-summary">{ summary }</p>
            if streams.is_empty() {
                { empty_state("Nothing stored yet at this step.", "Each handled command appends events to its aggregate's stream; step the run forward.") }
            } else {
                <div class="store-columns">
                    <ul class="stream-list" aria-label={format!("Streams of {service_name}")}>
                        { for rows.into_iter().map(|row| {
                            let active = Some(&row.name) == stream.as_ref();
                            html! { <li key={row.name.clone()}><StreamButton {row} {active} on_pick={on_pick_stream.clone()} /></li> }
                        }) }
                    </ul>
                    { for detail }
                </div>
            }
        </div>
    }
}
