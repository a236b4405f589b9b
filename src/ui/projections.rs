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
//! Cost: one fold of the store per projection per render, only while this tab is open.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::markup::inject_on_click;
use super::regions::empty_state;
use super::sagas::PanelProps;
use crate::sim::fault::Fault;

/// Keys of a read model listed at most.
const KEYS_SHOWN: usize = 40;

#[function_component(ReadModelsPanel)]
pub fn read_models_panel(props: &PanelProps) -> Html {
    let shell = &props.shell;
    let query = use_state(String::new);
    let sim = shell.sim.borrow();
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
    let intro = html! {
        <p class="panel-note">{ "CQRS: commands change the write side (the event store); read models are projections built from its events, each with its own checkpoint. A query answers from the read model, which may lag: a stale read." }</p>
    };
    if views.is_empty() {
        return html! {
            <div class="read-models">
                { intro }
                { empty_state("This scenario has no read models.", "Pick order-read-model, bank-account or schema-versioning: their projections fold the event store into tables a query can read.") }
            </div>
        };
    }
    let needle = query.trim().to_string();
    html! {
        <div class="read-models">
            { intro }
            <label class="query-box">
                <span class="number-label">{ "Query the read models" }</span>
                <input type="text" placeholder="a key, e.g. placed or revenue" value={(*query).clone()} oninput={on_query}
                    aria-label="Query the read models" />
            </label>
            { for views.iter().zip(caught_up).zip(store_names).map(|((v, truth), store)| {
                let truth = truth.and_then(Result::ok).unwrap_or_default();
                let rebuild = inject_on_click(&props.dispatch, Fault::RebuildProjection { projection: v.name.clone() });
                let percent = (v.checkpoint * 100).checked_div(v.head).unwrap_or(100);
                // The write side's keys are a superset of the read model's (it has applied
                // every event), and both are in key order.
                let mut keys: Vec<&String> = truth.keys().collect();
                for (k, _) in &v.state {
                    if !truth.contains_key(k) {
                        keys.push(k);
                    }
                }
                let matching: Vec<&String> = keys.into_iter().filter(|k| needle.is_empty() || k.contains(&needle)).collect();
                // A counter the read model has not seen yet reads as 0, as a query would answer.
                let read = |k: &str| v.state.iter().find(|(key, _)| key == k).map_or(0, |(_, x)| *x);
                let stale = matching.iter().filter(|k| read(k) != truth.get(k.as_str()).copied().unwrap_or(0)).count();
                html! {
                    <section class="sub-settings projection" data-projection={v.name.clone()} aria-label={format!("Read model {}", v.name)}>
                        <h3>{ &v.name }<span class="muted">{ format!(" from the {store} store") }</span></h3>
                        <div class="projection-progress" aria-label="Checkpoint against the store head">
                            <svg class="progress" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
                                <rect class="progress-track" x="0" y="0" width="100" height="8" />
                                <rect class={classes!("progress-fill", (v.lag_events > 0).then_some("lagging"))} x="0" y="0" width={percent.to_string()} height="8" />
                            </svg>
                            <span class="projection-numbers">
                                { format!("checkpoint {} of {} \u{b7} ", v.checkpoint, v.head) }
                                <strong class={classes!("lag", (v.lag_events > 0).then_some("behind"))} data-lag={v.lag_events.to_string()}>
                                    { format!("lag {} event(s), {} ms", v.lag_events, v.lag_ms) }
                                </strong>
                                if v.rebuilds > 0 { { format!(" \u{b7} rebuilt {} time(s)", v.rebuilds) } }
                            </span>
                        </div>
                        if let Some((position, field)) = &v.stalled {
                            <p class="invariant-detail">{ format!("Stalled at position {position}: the event lacks \u{201c}{field}\u{201d}. It will not move until the schema problem is fixed.") }</p>
                        }
                        <button type="button" class="control small" onclick={rebuild}
                            title="Clear the read model and replay the store from the first event: watch it catch up">{ "Rebuild from zero" }</button>
                        if matching.is_empty() {
                            <p class="panel-note">{ if needle.is_empty() { "The read model is empty so far.".to_string() } else { format!("No key contains \u{201c}{needle}\u{201d}.") } }</p>
                        } else {
                            <table class="state-table query-result" aria-label={format!("Query result of {}", v.name)}>
                                <thead><tr><th>{ "key" }</th><th>{ "read model says" }</th><th>{ "write side says" }</th><th></th></tr></thead>
                                <tbody>
                                    { for matching.iter().take(KEYS_SHOWN).map(|k| {
                                        let r = read(k);
                                        let t = truth.get(k.as_str()).copied().unwrap_or(0);
                                        let fresh = r == t;
                                        html! {
                                            <tr class={classes!((!fresh).then_some("stale"))} data-key={(*k).clone()}>
                                                <td class="mono">{ k }</td>
                                                <td class="num">{ r }</td>
                                                <td class="num">{ t }</td>
                                                <td>{ if fresh { "up to date" } else { "stale read" } }</td>
                                            </tr>
                                        }
                                    }) }
                                </tbody>
                            </table>
                            if stale > 0 {
                                <p class="panel-note stale-note">{ format!("{stale} answer(s) are stale: the read model has not applied the last {} event(s) yet.", v.lag_events) }</p>
                            }
                        }
                    </section>
                }
            }) }
        </div>
    }
}
