//! The read models (CQRS projections): each one's checkpoint against its store's head,
//! its lag in events and in time, a query box, and a "rebuild from zero" button.
//!
//! The query answers from the read model, as a real query would, and puts the write
//! side's answer next to it: the same fold over every stored event up to the head
//! (`Simulation::projection_caught_up`). When the two differ the read is stale, which
//! is the eventual consistency people have to design for; the panel says so in words
//! rather than leaving the reader to compare numbers. Rebuilding is an operator fault
//! (`RebuildProjection`), so it is recorded and replays; the progress bar then shows
//! the projection catching up, one event per step.
//!
//! Each read model is a component with its view, its write-side answer and the query
//! as props, so a step that moves one projection re-renders only that one; the query
//! box and the rebuild buttons keep the focus and the typed text across renders.
//!
//! Cost: one fold of the store per projection per render, only while this tab is open.

use std::collections::BTreeMap;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::details::{emit_on_click, RunProps};
use super::regions::empty_state;
use super::state::ShellAction;
use crate::sim::fault::Fault;
use crate::sim::view::ProjectionView;

/// Keys of a read model listed at most.
const KEYS_SHOWN: usize = 40;

fn intro() -> Html {
    html! {
        <p class="panel-note">{ "CQRS: commands change the write side (the event store); read models are projections built from its events, each with its own checkpoint. A query answers from the read model, which may lag: a stale read." }</p>
    }
}

/// A read model's heading, progress against its store's head and stall.
fn progress(v: &ProjectionView, store: &str) -> Html {
    let percent = (v.checkpoint * 100).checked_div(v.head).unwrap_or(100);
    let behind = v.lag_events > 0;
    html! {
        <>
            <h3>{ v.name.clone() }<span class="muted">{ format!(" from the {store} store") }</span></h3>
            <div class="projection-progress" aria-label="Checkpoint against the store head">
                <svg class="progress" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
                    <rect class="progress-track" x="0" y="0" width="100" height="8" />
                    <rect class={classes!("progress-fill", behind.then_some("lagging"))} x="0" y="0" width={percent.to_string()} height="8" />
                </svg>
                <span class="projection-numbers">
                    { format!("checkpoint {} of {} \u{b7} ", v.checkpoint, v.head) }
                    <strong class={classes!("lag", behind.then_some("behind"))} data-lag={v.lag_events.to_string()}>
                        { format!("lag {} event(s), {} ms", v.lag_events, v.lag_ms) }
                    </strong>
                    if v.rebuilds > 0 { { format!(" \u{b7} rebuilt {} time(s)", v.rebuilds) } }
                </span>
            </div>
            if let Some((position, field)) = &v.stalled {
                <p class="invariant-detail">{ format!("Stalled at position {position}: the event lacks \u{201c}{field}\u{201d}. It will not move until the schema problem is fixed.") }</p>
            }
        </>
    }
}

/// The query's answer from one read model next to the write side's.
fn answer(v: &ProjectionView, truth: &BTreeMap<String, i64>, needle: &str) -> Html {
    // The write side's keys are a superset of the read model's (it has applied every
    // event), and both are in key order.
    let mut keys: Vec<&String> = truth.keys().collect();
    for (k, _) in &v.state {
        if !truth.contains_key(k) {
            keys.push(k);
        }
    }
    let matching: Vec<&String> = keys.into_iter().filter(|k| needle.is_empty() || k.contains(needle)).collect();
    if matching.is_empty() {
        let text = if needle.is_empty() {
            "The read model is empty so far.".to_string()
        } else {
            format!("No key contains \u{201c}{needle}\u{201d}.")
        };
        return html! { <p class="panel-note">{ text }</p> };
    }
    // A counter the read model has not seen yet reads as 0, as a query would answer.
    let read = |k: &str| v.state.iter().find(|(key, _)| key == k).map_or(0, |(_, x)| *x);
    let stale = matching.iter().filter(|k| read(k) != truth.get(k.as_str()).copied().unwrap_or(0)).count();
    html! {
        <>
            <table class="state-table query-result" aria-label={format!("Query result of {}", v.name)}>
                <thead><tr><th>{ "key" }</th><th>{ "read model says" }</th><th>{ "write side says" }</th><th></th></tr></thead>
                <tbody>
                    { for matching.iter().take(KEYS_SHOWN).map(|k| {
                        let (r, t) = (read(k), truth.get(k.as_str()).copied().unwrap_or(0));
                        html! {
                            <tr class={(r != t).then_some("stale")} data-key={(*k).clone()}>
                                <td class="mono">{ (*k).clone() }</td>
                                <td class="num">{ r.to_string() }</td>
                                <td class="num">{ t.to_string() }</td>
                                <td>{ if r == t { "up to date" } else { "stale read" } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            if stale > 0 {
                <p class="panel-note stale-note">{ format!("{stale} answer(s) are stale: the read model has not applied the last {} event(s) yet.", v.lag_events) }</p>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ReadModelProps {
    view: ProjectionView,
    /// The write side's answer: the same fold over every stored event.
    truth: BTreeMap<String, i64>,
    store: String,
    needle: String,
    dispatch: Callback<ShellAction>,
}

#[function_component(ReadModel)]
fn read_model(props: &ReadModelProps) -> Html {
    let v = &props.view;
    let rebuild =
        emit_on_click(&props.dispatch, ShellAction::Inject(Fault::RebuildProjection { projection: v.name.clone() }));
    html! {
        <section class="sub-settings projection" data-projection={v.name.clone()} aria-label={format!("Read model {}", v.name)}>
            { progress(v, &props.store) }
            <button type="button" class="control small" onclick={rebuild}
                title="Clear the read model and replay the store from the first event: watch it catch up">{ "Rebuild from zero" }</button>
            { answer(v, &props.truth, &props.needle) }
        </section>
    }
}

#[function_component(ReadModelsPanel)]
pub fn read_models_panel(props: &RunProps) -> Html {
    let query = use_state(String::new);
    let sim = props.run.sim.borrow();
    let views = sim.projection_views();
    let caught_up: Vec<_> = views.iter().map(|v| sim.projection_caught_up(v.index)).collect();
    let store_names: Vec<String> = views
        .iter()
        .map(|v| sim.scenario().services.get(v.store.0 as usize).map(|s| s.name.clone()).unwrap_or_default())
        .collect();
    drop(sim);
    let on_query = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            query.set(input.value());
        })
    };
    if views.is_empty() {
        return html! {
            <div class="read-models">
                { intro() }
                { empty_state("This scenario has no read models.", "Pick order-read-model, bank-account or schema-versioning: their projections fold the event store into tables a query can read.") }
            </div>
        };
    }
    let needle = query.trim().to_string();
    html! {
        <div class="read-models">
            { intro() }
            <label class="query-box">
                <span class="number-label">{ "Query the read models" }</span>
                <input type="text" placeholder="a key, e.g. placed or revenue" value={(*query).clone()} oninput={on_query}
                    aria-label="Query the read models" />
            </label>
            { for views.into_iter().zip(caught_up).zip(store_names).map(|((view, truth), store)| {
                let key = view.name.clone();
                html! {
                    <ReadModel {key} truth={truth.and_then(Result::ok).unwrap_or_default()} {view} {store}
                        needle={needle.clone()} dispatch={props.dispatch.clone()} />
                }
            }) }
        </div>
    }
}
