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
//! What only displays (the progress, the numbers, the query's answers) is markup text
//! (see `markup.rs`); the query box and the rebuild buttons stay Yew elements, so they
//! keep the focus and the typed text across renders.
//!
//! Cost: one fold of the store per projection per render, only while this tab is open.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::markup::{esc, inject_on_click, put, raw};
use super::regions::empty_state;
use super::sagas::PanelProps;
use crate::sim::fault::Fault;
use crate::sim::view::ProjectionView;

/// Keys of a read model listed at most.
const KEYS_SHOWN: usize = 40;

const INTRO: &str = "<p class=\"panel-note\">CQRS: commands change the write side (the event store); read models are projections built from its events, each with its own checkpoint. A query answers from the read model, which may lag: a stale read.</p>";

/// A read model's heading, progress against its store's head and stall, as markup.
fn progress_markup(v: &ProjectionView, store: &str) -> String {
    let percent = (v.checkpoint * 100).checked_div(v.head).unwrap_or(100);
    let behind = v.lag_events > 0;
    let mut out = String::new();
    put(
        &mut out,
        format_args!(
            "<h3>{}<span class=\"muted\"> from the {} store</span></h3><div class=\"projection-progress\" aria-label=\"Checkpoint against the store head\">\
             <svg class=\"progress\" viewBox=\"0 0 100 8\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><rect class=\"progress-track\" x=\"0\" y=\"0\" width=\"100\" height=\"8\"/>\
             <rect class=\"progress-fill{}\" x=\"0\" y=\"0\" width=\"{percent}\" height=\"8\"/></svg><span class=\"projection-numbers\">checkpoint {} of {} \u{b7} \
             <strong class=\"lag{}\" data-lag=\"{}\">lag {} event(s), {} ms</strong>",
            esc(&v.name),
            esc(store),
            if behind { " lagging" } else { "" },
            v.checkpoint,
            v.head,
            if behind { " behind" } else { "" },
            v.lag_events,
            v.lag_events,
            v.lag_ms
        ),
    );
    if v.rebuilds > 0 {
        put(&mut out, format_args!(" \u{b7} rebuilt {} time(s)", v.rebuilds));
    }
    out.push_str("</span></div>");
    if let Some((position, field)) = &v.stalled {
        put(
            &mut out,
            format_args!(
                "<p class=\"invariant-detail\">Stalled at position {position}: the event lacks \u{201c}{}\u{201d}. It will not move until the schema problem is fixed.</p>",
                esc(field)
            ),
        );
    }
    out
}

/// The query's answer from one read model next to the write side's, as markup.
fn answer_markup(v: &ProjectionView, truth: &std::collections::BTreeMap<String, i64>, needle: &str) -> String {
    // The write side's keys are a superset of the read model's (it has applied every
    // event), and both are in key order.
    let mut keys: Vec<&String> = truth.keys().collect();
    for (k, _) in &v.state {
        if !truth.contains_key(k) {
            keys.push(k);
        }
    }
    let matching: Vec<&String> = keys.into_iter().filter(|k| needle.is_empty() || k.contains(needle)).collect();
    let mut out = String::new();
    if matching.is_empty() {
        if needle.is_empty() {
            out.push_str("<p class=\"panel-note\">The read model is empty so far.</p>");
        } else {
            put(&mut out, format_args!("<p class=\"panel-note\">No key contains \u{201c}{}\u{201d}.</p>", esc(needle)));
        }
        return out;
    }
    // A counter the read model has not seen yet reads as 0, as a query would answer.
    let read = |k: &str| v.state.iter().find(|(key, _)| key == k).map_or(0, |(_, x)| *x);
    let stale = matching.iter().filter(|k| read(k) != truth.get(k.as_str()).copied().unwrap_or(0)).count();
    put(
        &mut out,
        format_args!(
            "<table class=\"state-table query-result\" aria-label=\"Query result of {}\"><thead><tr><th>key</th><th>read model says</th>\
             <th>write side says</th><th></th></tr></thead><tbody>",
            esc(&v.name)
        ),
    );
    for k in matching.iter().take(KEYS_SHOWN) {
        let (r, t) = (read(k), truth.get(k.as_str()).copied().unwrap_or(0));
        let (class, answer) = if r == t { ("", "up to date") } else { (" class=\"stale\"", "stale read") };
        let k = esc(k);
        put(
            &mut out,
            format_args!("<tr{class} data-key=\"{k}\"><td class=\"mono\">{k}</td><td class=\"num\">{r}</td><td class=\"num\">{t}</td><td>{answer}</td></tr>"),
        );
    }
    out.push_str("</tbody></table>");
    if stale > 0 {
        put(
            &mut out,
            format_args!(
                "<p class=\"panel-note stale-note\">{stale} answer(s) are stale: the read model has not applied the last {} event(s) yet.</p>",
                v.lag_events
            ),
        );
    }
    out
}

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
    if views.is_empty() {
        return html! {
            <div class="read-models">
                { raw(INTRO.to_string()) }
                { empty_state("This scenario has no read models.", "Pick order-read-model, bank-account or schema-versioning: their projections fold the event store into tables a query can read.") }
            </div>
        };
    }
    let needle = query.trim().to_string();
    html! {
        <div class="read-models">
            { raw(INTRO.to_string()) }
            <label class="query-box">
                <span class="number-label">{ "Query the read models" }</span>
                <input type="text" placeholder="a key, e.g. placed or revenue" value={(*query).clone()} oninput={on_query}
                    aria-label="Query the read models" />
            </label>
            { for views.iter().zip(caught_up).zip(store_names).map(|((v, truth), store)| {
                let truth = truth.and_then(Result::ok).unwrap_or_default();
                let rebuild = inject_on_click(&props.dispatch, Fault::RebuildProjection { projection: v.name.clone() });
                html! {
                    <section class="sub-settings projection" data-projection={v.name.clone()} aria-label={format!("Read model {}", v.name)}>
                        { raw(progress_markup(v, &store)) }
                        <button type="button" class="control small" onclick={rebuild}
                            title="Clear the read model and replay the store from the first event: watch it catch up">{ "Rebuild from zero" }</button>
                        { raw(answer_markup(v, &truth, &needle)) }
                    </section>
                }
            }) }
        </div>
    }
}
