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
//! Cost: the stream list is bounded ([`STREAMS_SHOWN`]), the events of one stream are
//! bounded ([`EVENTS_SHOWN`], newest kept), and conflicts come from one pass over the
//! trace.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::markup::{emit_on_click, esc, raw, table};
use super::regions::empty_state;
use super::sagas::PanelProps;
use super::state::ShellAction;
use super::topology::short_type;
use crate::sim::trace::{FailureCause, Happened, ServiceId};

const STREAMS_SHOWN: usize = 60;
const EVENTS_SHOWN: usize = 80;
const CONFLICTS_SHOWN: usize = 5;

/// A concurrency conflict seen in the trace: (step, stream, expected, actual).
type ConflictRow = (u64, String, u64, u64);

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
    let intro = html! {
        <p class="panel-note">{ "Event sourcing: a service stores the events that changed its state, one stream per aggregate, and rebuilds the state by folding them. Appends carry the version they expect; a concurrent append is a conflict and the handler retries." }</p>
    };
    let Some((service, service_name)) =
        stores.iter().find(|(id, _)| Some(id.0) == *chosen_store).or(stores.first()).cloned()
    else {
        drop(sim);
        return html! {
            <div class="store-panel">
                { intro }
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

    let pick_store = |id: u32| {
        let chosen_store = chosen_store.clone();
        let chosen_stream = chosen_stream.clone();
        let as_of = as_of.clone();
        Callback::from(move |_: MouseEvent| {
            chosen_store.set(Some(id));
            chosen_stream.set(None);
            as_of.set(None);
        })
    };
    let pick_stream = |name: String| {
        let chosen_stream = chosen_stream.clone();
        let as_of = as_of.clone();
        Callback::from(move |_: MouseEvent| {
            chosen_stream.set(Some(name.clone()));
            as_of.set(None);
        })
    };
    let store_tabs = (stores.len() > 1).then(|| {
        html! {
            <div class="store-picker" role="group" aria-label="Event stores">
                { for stores.iter().map(|(id, name)| html! {
                    <button type="button" class={classes!("control", "small", (*id == service).then_some("primary"))} onclick={pick_store(id.0)}>{ name }</button>
                }) }
            </div>
        }
    });
    let stream_list = html! {
        <ul class="stream-list" aria-label={format!("Streams of {service_name}")}>
            { for streams.iter().take(STREAMS_SHOWN).map(|(name, version)| {
                let conflicted = conflicts.iter().filter(|c| &c.1 == name).count();
                let snapshots = store.snapshots(name).len();
                html! {
                    <li>
                        <button type="button" class={classes!("stream", (Some(name) == stream.as_ref()).then_some("active"))}
                            data-stream={name.clone()} onclick={pick_stream(name.clone())}>
                            <span class="mono">{ name }</span>
                            <span class="stream-version">{ format!("v{version}") }</span>
                            if snapshots > 0 { <span class="stream-badge snapshot" title="snapshots taken">{ format!("\u{25a3} {snapshots}") }</span> }
                            if conflicted > 0 { <span class="stream-badge conflict" title="concurrency conflicts caught">{ format!("\u{26a1} {conflicted}") }</span> }
                        </button>
                    </li>
                }
            }) }
        </ul>
    };
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
        let event_table = table("event-table", &format!("Events of {name}"), &["v", "pos", "type", "schema", "time", ""], &event_rows);
        let stream_conflicts: Vec<&ConflictRow> = conflicts.iter().filter(|c| &c.1 == name).collect();
        html! {
            <section class="stream-detail" aria-label={format!("Stream {name}")}>
                <h3>{ format!("{name} \u{2014} version {version}") }</h3>
                <label class="version-slider">
                    <span class="number-label">{ format!("State as of version {as_of_version}") }</span>
                    <input type="range" min="0" max={version.to_string()} value={as_of_version.to_string()}
                        aria-label="State as of stream version" oninput={on_slide} disabled={version == 0} />
                </label>
                <p class="panel-note">{ match from_snapshot {
                    Some(v) if v > 0 => format!("Rebuilt from the snapshot at version {v}, then {} event(s) folded on top.", as_of_version - v),
                    _ => format!("Rebuilt by folding {as_of_version} event(s) from zero."),
                } }</p>
                { match state {
                    Ok(state) if state.is_empty() => html! { <p class="panel-note">{ "Empty state." }</p> },
                    Ok(state) => html! {
                        <table class="state-table" aria-label="Aggregate state">
                            <tbody>{ for state.iter().map(|(k, v)| html! { <tr><td class="mono">{ k }</td><td class="num">{ v }</td></tr> }) }</tbody>
                        </table>
                    },
                    Err(e) => html! { <p class="invariant-detail">{ format!("Unreadable: the event at position {} lacks the field \u{201c}{}\u{201d} (an old schema nothing upcast).", e.position, e.field) }</p> },
                } }
                if !stream_conflicts.is_empty() {
                    <ul class="conflicts" aria-label="Concurrency conflicts">
                        { for stream_conflicts.iter().take(CONFLICTS_SHOWN).map(|(step, _, expected, actual)| {
                            let step = *step;
                            let dispatch = props.dispatch.clone();
                            let onclick = emit_on_click(&dispatch, ShellAction::RewindTo(step + 1));
                            html! {
                                <li class="conflict"><button type="button" class="attempt" {onclick} title="Go to this step">
                                    { format!("\u{26a1} step {step}: conflict \u{2014} expected version {expected}, the stream was at {actual}; the handler retries with a fresh read") }
                                </button></li>
                            }
                        }) }
                    </ul>
                    if stream_conflicts.len() > CONFLICTS_SHOWN {
                        <p class="panel-note">{ format!("{} more conflict(s) on this stream.", stream_conflicts.len() - CONFLICTS_SHOWN) }</p>
                    }
                }
                { raw(event_table) }
                if skip > 0 { <p class="panel-note">{ format!("The first {skip} events are not listed.") }</p> }
            </section>
        }
    });
    let total_events = store.head();
    drop(sim);
    html! {
        <div class="store-panel">
            { intro }
            { for store_tabs }
            <p class="store-summary">{ format!("{service_name}: {} stream(s), {total_events} event(s) at this step{}.", streams.len(),
                if conflicts.is_empty() { String::new() } else { format!(", {} concurrency conflict(s) caught", conflicts.len()) }) }</p>
            if streams.is_empty() {
                { empty_state("Nothing stored yet at this step.", "Each handled command appends events to its aggregate's stream; step the run forward.") }
            } else {
                <div class="store-columns">
                    { stream_list }
                    { for detail }
                </div>
            }
        </div>
    }
}
