//! The event log: one row per step that has happened, with filters.
//!
//! A run can have 100,000 steps, so the log renders only the rows in view (virtual
//! scrolling): every row has the same fixed height ([`ROW_HEIGHT_PX`], matched by the
//! CSS), so the rows in view follow from the scroll offset alone, and two spacers above
//! and below stand in for the rest. The spacers are sized with an SVG's `height`
//! attribute rather than an inline style, which the Content-Security-Policy forbids.
//!
//! The log sticks to its bottom (the latest step) while scrolled to the bottom, like a
//! terminal; scrolling up to read history stops the following.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::markup::emit_on_click;
use super::state::{LogFilters, Shell, ShellAction};
use super::topology::short_type;
use crate::sim::simulation::Simulation;
use crate::sim::trace::TraceRecord;

/// Height of one log row in CSS pixels (`.log-row` in app.css).
pub const ROW_HEIGHT_PX: u32 = 26;
/// Rows rendered at a time: more than fit on a projector-sized screen.
const WINDOW_ROWS: usize = 44;
/// Rows rendered above the first visible one, so fast scrolling shows no gap.
const OVERSCAN_ROWS: usize = 10;

/// The columns of one row, split from the trace's one-line form (see `sim::trace`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRow {
    pub step: String,
    pub time: String,
    pub verb: String,
    pub event: String,
    pub event_type: String,
    pub place: String,
    pub detail: String,
}

/// Splits the one-line form into its columns: six single-word fields, then the detail.
pub fn split_line(line: &str) -> LogRow {
    let mut rest = line.trim_start();
    let mut fields: Vec<&str> = Vec::with_capacity(6);
    while fields.len() < 6 {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    LogRow {
        step: fields[0].to_string(),
        time: fields[1].replace("ms", " ms"),
        verb: fields[2].to_string(),
        event: fields[3].to_string(),
        event_type: fields[4].to_string(),
        place: fields[5].to_string(),
        detail: rest.trim_end().to_string(),
    }
}

/// Whether a record passes the filters.
pub fn matches(sim: &Simulation, record: &TraceRecord, filters: &LogFilters) -> bool {
    let message = record.happened.message().and_then(|m| sim.message(m));
    if !filters.correlation.is_empty() {
        let correlation = message.and_then(|m| m.envelope.correlation_id.as_deref()).unwrap_or("");
        if !correlation.contains(filters.correlation.trim()) {
            return false;
        }
    }
    if !filters.event_type.is_empty() {
        let event_type = message.map_or("", |m| m.envelope.event_type.as_str());
        if !short_type(event_type).contains(filters.event_type.trim()) {
            return false;
        }
    }
    if !filters.service.is_empty() {
        let scenario = sim.scenario();
        let service_of_sub =
            record.happened.sub().and_then(|s| sim.compiled().subs.get(s.0 as usize)).map(|s| s.service);
        let emitter = message.and_then(|m| m.emitted_by);
        let named = |id: Option<crate::sim::trace::ServiceId>| {
            id.and_then(|id| scenario.services.get(id.0 as usize)).is_some_and(|s| s.name == filters.service)
        };
        let from_workload = matches!(record.happened, crate::sim::trace::Happened::Published { .. })
            && emitter.is_none()
            && message.is_some_and(|m| m.envelope.source == filters.service);
        let published_by = matches!(record.happened, crate::sim::trace::Happened::Published { .. }) && named(emitter);
        if !(named(service_of_sub) || named(record.happened.service()) || published_by || from_workload) {
            return false;
        }
    }
    true
}

#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

#[function_component(EventLog)]
pub fn event_log(props: &EventLogProps) -> Html {
    let shell = &props.shell;
    let scroll_top = use_state_eq(|| 0u32);
    let follow = use_state_eq(|| true);
    let body = use_node_ref();

    // The indices of the rows that pass the filters; `None` when nothing is filtered.
    let filtered = {
        let sim = shell.sim.clone();
        use_memo((shell.revision, shell.run_id, shell.filters.clone()), move |(_, _, filters)| {
            if filters.is_empty() {
                return None;
            }
            let sim = sim.borrow();
            Some(
                sim.trace()
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| matches(&sim, r, filters))
                    .map(|(i, _)| i as u32)
                    .collect::<Vec<u32>>(),
            )
        })
    };
    let total = filtered.as_ref().as_ref().map_or(shell.step as usize, |rows| rows.len());

    {
        // Stick to the bottom while following: the newest step stays in view. The scroll
        // waits for the next animation frame, where the browser lays the page out anyway;
        // scrolling right after rendering would force a second, synchronous layout per step.
        let body = body.clone();
        let following = *follow;
        use_effect_with((shell.revision, total, following), move |_| {
            if following {
                if let Some(element) = body.cast::<Element>() {
                    let scroll = Closure::once_into_js(move || element.set_scroll_top(i32::MAX));
                    let _ = gloo::utils::window().request_animation_frame(scroll.unchecked_ref());
                }
            }
        });
    }
    let onscroll = {
        let scroll_top = scroll_top.clone();
        let follow = follow.clone();
        Callback::from(move |event: Event| {
            let Some(element) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            let top = element.scroll_top().max(0);
            scroll_top.set(top as u32);
            follow.set(top + element.client_height() + ROW_HEIGHT_PX as i32 >= element.scroll_height());
        })
    };

    let first = if *follow { total.saturating_sub(WINDOW_ROWS) } else { (*scroll_top / ROW_HEIGHT_PX) as usize }
        .saturating_sub(if *follow { 0 } else { OVERSCAN_ROWS })
        .min(total);
    let last = (first + WINDOW_ROWS).min(total);

    let sim = shell.sim.borrow();
    let trace = sim.trace();
    let rows: Vec<Html> = (first..last)
        .filter_map(|i| {
            let index = filtered.as_ref().as_ref().map_or(i, |rows| rows[i] as usize);
            let record = trace.get(index)?;
            let row = split_line(&sim.line(record));
            let message = record.happened.message();
            let selected = message.is_some() && message == shell.selected;
            let current = record.step + 1 == shell.step;
            let onclick = {
                let dispatch = props.dispatch.clone();
                emit_on_click(&dispatch, ShellAction::Select(message))
            };
            Some(html! {
                <div key={record.step} class={classes!("log-row", format!("verb-{}", row.verb), selected.then_some("selected"), current.then_some("current"))}
                    role="row" aria-selected={selected.to_string()} {onclick}>
                    <span role="cell" class="c-step">{ row.step }</span>
                    <span role="cell" class="c-time">{ row.time }</span>
                    <span role="cell" class="c-verb">{ row.verb }</span>
                    <span role="cell" class="c-event">{ row.event }</span>
                    <span role="cell" class="c-type">{ row.event_type }</span>
                    <span role="cell" class="c-where">{ row.place }</span>
                    <span role="cell" class="c-detail" title={row.detail.clone()}>{ row.detail }</span>
                </div>
            })
        })
        .collect();
    let service_names: Vec<String> = sim.scenario().services.iter().map(|s| s.name.clone()).collect();
    drop(sim);

    let top_px = first as u32 * ROW_HEIGHT_PX;
    let bottom_px = (total - last) as u32 * ROW_HEIGHT_PX;
    let note = match filtered.as_ref() {
        Some(rows) => format!("{} of {} steps match", rows.len(), shell.step),
        None => format!("{} step{}", shell.step, if shell.step == 1 { "" } else { "s" }),
    };

    html! {
        <section class="region log" aria-labelledby="log-title">
            <div class="region-head">
                <h2 id="log-title">{ "Event log" }</h2>
                { filters(&FiltersProps { filters: shell.filters.clone(), services: service_names, dispatch: props.dispatch.clone() }) }
                <span class="region-note log-count">{ note }</span>
            </div>
            if shell.step == 0 {
                <div class="empty-state">
                    <p class="empty-what">{ "No steps yet. Each step adds a row: what was published, delivered, handled, retried or dead-lettered, and where." }</p>
                    <p class="empty-concept">{ "An event is a fact that already happened, named in the past tense (order.placed). Click a row to follow its message everywhere." }</p>
                </div>
            } else {
                <div class="log-table" role="table" aria-label="Steps of the run">
                    <div class="log-row log-header" role="row">
                        <span role="columnheader" class="c-step">{ "step" }</span>
                        <span role="columnheader" class="c-time">{ "time" }</span>
                        <span role="columnheader" class="c-verb">{ "what" }</span>
                        <span role="columnheader" class="c-event">{ "message id" }</span>
                        <span role="columnheader" class="c-type">{ "type" }</span>
                        <span role="columnheader" class="c-where">{ "where" }</span>
                        <span role="columnheader" class="c-detail">{ "outcome" }</span>
                    </div>
                    <div class="log-body" ref={body} {onscroll} role="rowgroup">
                        <svg class="log-spacer" width="1" height={top_px.to_string()} aria-hidden="true" />
                        { for rows }
                        <svg class="log-spacer" width="1" height={bottom_px.to_string()} aria-hidden="true" />
                        if total == 0 {
                            <p class="log-none">{ "No step matches these filters yet." }</p>
                        }
                    </div>
                </div>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct FiltersProps {
    filters: LogFilters,
    services: Vec<String>,
    dispatch: Callback<ShellAction>,
}

/// Filter fields: correlation id and type match a part of the text; service is exact.
fn filters(props: &FiltersProps) -> Html {
    let set = |update: fn(&mut LogFilters, String)| {
        let dispatch = props.dispatch.clone();
        let filters = props.filters.clone();
        move |value: String| {
            let mut next = filters.clone();
            update(&mut next, value);
            dispatch.emit(ShellAction::SetFilters(next));
        }
    };
    let on_correlation = {
        let set = set(|f, v| f.correlation = v);
        Callback::from(move |e: InputEvent| set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_type = {
        let set = set(|f, v| f.event_type = v);
        Callback::from(move |e: InputEvent| set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_service = {
        let set = set(|f, v| f.service = v);
        Callback::from(move |e: Event| set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let clear = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::SetFilters(LogFilters::default()))
    };
    html! {
        <div class="log-filters" role="search" aria-label="Filter the log">
            <input type="search" class="filter-input" aria-label="Filter by correlation id" placeholder="correlation id"
                title="Show only the steps of one business flow: every event of it carries the same correlation id"
                value={props.filters.correlation.clone()} oninput={on_correlation} />
            <input type="search" class="filter-input" aria-label="Filter by type" placeholder="type, e.g. payment"
                value={props.filters.event_type.clone()} oninput={on_type} />
            <select class="filter-select" aria-label="Filter by service" onchange={on_service}
                title="Show only the steps that involve one service">
                <option value="" selected={props.filters.service.is_empty()}>{ "any service" }</option>
                { for props.services.iter().map(|s| html! {
                    <option value={s.clone()} selected={*s == props.filters.service}>{ s }</option>
                }) }
            </select>
            if !props.filters.is_empty() {
                <button type="button" class="control small" onclick={clear}>{ "Clear" }</button>
            }
        </div>
    }
}
