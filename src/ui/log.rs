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

use super::details::emit_on_click;
use super::menu::focus;
use super::state::{menu_move, opens_menu, LogFilters, MenuMove, MenuTarget, Shell, ShellAction};
use crate::sim::envelope::MessageId;
use crate::sim::scenario::Scenario;
use crate::sim::simulation::Simulation;
use crate::sim::trace::TraceColumns;
use crate::sim::trace::TraceRecord;

/// Height of one log row in CSS pixels (`.log-row` in app.css).
pub const ROW_HEIGHT_PX: u32 = 26;
/// Rows rendered at a time: more than fit on a projector-sized screen.
const WINDOW_ROWS: usize = 44;
/// Rows rendered above the first visible one, so fast scrolling shows no gap.
const OVERSCAN_ROWS: usize = 10;

/// The columns of one row, from the trace record's typed columns (see `sim::trace`).
///
/// Never parsed back from the one-line text: an event type or a place may hold spaces
/// (a scenario's author chose it), and splitting on them would shift every column.
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

impl From<TraceColumns> for LogRow {
    fn from(c: TraceColumns) -> Self {
        LogRow {
            step: c.step.to_string(),
            time: format!("{} ms", c.time_ms),
            verb: c.verb,
            event: c.event,
            event_type: c.event_type,
            place: c.place,
            detail: c.detail,
        }
    }
}

/// Every event type the scenario can publish or record: the workload's, the handlers'
/// emits and recorded events, and the saga coordinators' commands and outcomes.
pub fn scenario_event_types(scenario: &Scenario) -> Vec<&str> {
    let mut types: Vec<&str> = scenario.workload.iter().map(|w| w.event_type.as_str()).collect();
    for service in &scenario.services {
        for handler in &service.handlers {
            types.extend(handler.emit.iter().chain(&handler.otherwise).map(|e| e.event_type.as_str()));
            types.extend(handler.record.iter().map(|r| r.event_type.as_str()));
        }
    }
    for saga in &scenario.sagas {
        let steps = saga.steps.iter().flat_map(|step| std::iter::once(&step.action).chain(&step.compensation));
        types.extend(steps.chain(&saga.on_completed).chain(&saga.on_aborted).map(|e| e.event_type.as_str()));
    }
    types
}

/// The length in bytes of the longest prefix, ending with a dot, that all `types`
/// share and that leaves every one of them a name after it: `io.example.card.` for
/// `io.example.card.charged` and `io.example.card.declined`. Zero when they share none.
///
/// The log drops this prefix rather than cutting long types at the right, where the
/// part that tells `charge` from `charged` from `declined` is.
pub fn shared_prefix_len<'a>(types: impl IntoIterator<Item = &'a str>) -> usize {
    let mut types = types.into_iter();
    let Some(first) = types.next() else { return 0 };
    // Just past the last dot among the first `limit` bytes. Bytes, not characters: a
    // common prefix may end inside a multi-byte character, but a dot is one byte, so
    // the length returned is always a character boundary.
    let past_dot = |limit: usize| first.as_bytes()[..limit].iter().rposition(|&b| b == b'.').map_or(0, |dot| dot + 1);
    // The last byte is never part of the prefix, so every type keeps a name after it.
    let mut len = past_dot(first.len().saturating_sub(1));
    for t in types {
        let common = first.bytes().zip(t.bytes()).take(len).take_while(|(a, b)| a == b).count();
        len = past_dot(common.min(t.len().saturating_sub(1)));
        if len == 0 {
            break;
        }
    }
    len
}

/// Widest type column of the log, in characters of its monospace font: a type longer
/// than this after its prefix is dropped (a rare scenario) shows its end, after an
/// ellipsis, so it is cut from the left.
pub const TYPE_CHARS_MAX: usize = 32;

/// The type as the log shows it: without the scenario's shared prefix, and cut from the
/// left when longer than [`TYPE_CHARS_MAX`].
pub fn shown_type(full: &str, prefix_len: usize) -> String {
    let rest = full.get(prefix_len..).filter(|rest| !rest.is_empty()).unwrap_or(full);
    let chars = rest.chars().count();
    if chars <= TYPE_CHARS_MAX {
        rest.to_string()
    } else {
        let tail: String = rest.chars().skip(chars - (TYPE_CHARS_MAX - 1)).collect();
        format!("\u{2026}{tail}")
    }
}

/// The class that sizes the type column for `chars` characters (`.type-w-N` in
/// app.css: the grid's column takes N characters of the monospace font).
pub fn type_width_class(chars: usize) -> &'static str {
    match chars {
        0..=12 => "type-w-12",
        13..=16 => "type-w-16",
        17..=20 => "type-w-20",
        21..=24 => "type-w-24",
        25..=28 => "type-w-28",
        _ => "type-w-32",
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
        if !event_type.contains(filters.event_type.trim()) {
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

    // The scenario's shared type prefix, and the width its shortened types need.
    let (prefix_len, type_width) = {
        let scenario = shell.scenario.clone();
        let memo = use_memo(scenario, |scenario| {
            let types = scenario_event_types(scenario);
            let prefix_len = shared_prefix_len(types.iter().copied());
            let widest = types.iter().map(|t| shown_type(t, prefix_len).chars().count()).max().unwrap_or(0);
            (
                prefix_len,
                type_width_class(widest),
                types.first().map(|t| t[..prefix_len].to_string()).unwrap_or_default(),
            )
        });
        let (len, class, prefix) = (*memo).clone();
        (len, (class, prefix))
    };
    let roving = use_state_eq(|| None::<u64>);
    let on_select = use_callback(props.dispatch.clone(), |message: Option<MessageId>, dispatch| {
        dispatch.emit(ShellAction::Select(message))
    });
    let on_open = use_callback(props.dispatch.clone(), |target: MenuTarget, dispatch| {
        dispatch.emit(ShellAction::OpenMenu(target))
    });
    let on_focus = {
        let roving = roving.clone();
        use_callback((), move |step: u64, _| roving.set(Some(step)))
    };
    // Up and down move the focus between the rows (the rows around the window are
    // rendered too, so the next one exists until the scroll moves the window on).
    let on_rows_key = Callback::from(|event: KeyboardEvent| {
        let Some(step) = menu_move(&event.key()) else { return };
        let Some(row) = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest(".log-row").ok().flatten())
        else {
            return;
        };
        let next = match step {
            MenuMove::Next => row.next_element_sibling(),
            MenuMove::Previous => row.previous_element_sibling(),
            MenuMove::First | MenuMove::Last => return,
        };
        if let Some(next) = next.filter(|n| n.matches(".log-row").unwrap_or(false)) {
            event.prevent_default();
            focus(&next);
        }
    });

    let first = if *follow { total.saturating_sub(WINDOW_ROWS) } else { (*scroll_top / ROW_HEIGHT_PX) as usize }
        .saturating_sub(if *follow { 0 } else { OVERSCAN_ROWS })
        .min(total);
    let last = (first + WINDOW_ROWS).min(total);

    let sim = shell.sim.borrow();
    let trace = sim.trace();
    // The steps of the rows on screen, then the one that takes the Tab stop: the row
    // that had the focus last, else the selected one, else the newest on screen.
    let window: Vec<(usize, &TraceRecord)> = (first..last)
        .filter_map(|i| {
            let index = filtered.as_ref().as_ref().map_or(i, |rows| rows[i] as usize);
            trace.get(index).map(|record| (index, record))
        })
        .collect();
    let has = |step: Option<u64>| step.filter(|s| window.iter().any(|(_, r)| r.step == *s));
    let selected_step = window
        .iter()
        .find(|(_, r)| r.happened.message().is_some() && r.happened.message() == shell.selected)
        .map(|(_, r)| r.step);
    let tab_stop = has(*roving).or(selected_step).or(window.last().map(|(_, r)| r.step));
    let rows: Vec<Html> = window
        .iter()
        .map(|&(_, record)| {
            let row = LogRow::from(sim.fields(record));
            let message = record.happened.message();
            let full_type = message.and_then(|m| sim.message(m)).map(|m| m.envelope.event_type.clone());
            let target = match message {
                Some(message) => Some(MenuTarget::Message { message, sub: record.happened.sub() }),
                None => record.happened.service().map(MenuTarget::Service),
            };
            html! {
                <LogRowNode key={record.step} step={record.step}
                    shown_type={full_type.as_deref().map_or_else(|| row.event_type.clone(), |t| shown_type(t, prefix_len))}
                    full_type={full_type.clone()}
                    selected={message.is_some() && message == shell.selected}
                    current={record.step + 1 == shell.step}
                    tab_stop={tab_stop == Some(record.step)}
                    {message} {target} {row}
                    on_select={on_select.clone()} on_open={on_open.clone()} on_focus={on_focus.clone()} />
            }
        })
        .collect();
    let service_names: Vec<String> = sim.scenario().services.iter().map(|s| s.name.clone()).collect();
    drop(sim);

    let top_px = first as u32 * ROW_HEIGHT_PX;
    let bottom_px = (total - last) as u32 * ROW_HEIGHT_PX;
    // The body is one list in which every child has a key, spacers included: Yew then
    // keeps the rows that stay on screen instead of rebuilding them, so a focused row
    // keeps the focus while the run steps on (a list of keyed rows between unkeyed
    // spacers is compared by position, and every step shifts the positions).
    let mut body_children: Vec<Html> = Vec::with_capacity(rows.len() + 3);
    body_children.push(
        html! { <svg key="spacer-top" class="log-spacer" width="1" height={top_px.to_string()} aria-hidden="true" /> },
    );
    body_children.extend(rows);
    body_children.push(html! { <svg key="spacer-bottom" class="log-spacer" width="1" height={bottom_px.to_string()} aria-hidden="true" /> });
    if total == 0 {
        body_children.push(html! { <p key="none" class="log-none">{ "No step matches these filters yet." }</p> });
    }
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
                    <p class="empty-concept">{ "An event is a fact that already happened, named in the past tense (order.placed). Click a row to follow its message everywhere; press Enter on it for its faults." }</p>
                </div>
            } else {
                <div class={classes!("log-table", type_width.0)} role="table" aria-label="Steps of the run">
                    <div class="log-row log-header" role="row">
                        <span role="columnheader" class="c-step">{ "step" }</span>
                        <span role="columnheader" class="c-time">{ "time" }</span>
                        <span role="columnheader" class="c-verb">{ "what" }</span>
                        <span role="columnheader" class="c-event">{ "message id" }</span>
                        <span role="columnheader" class="c-type" title={(!type_width.1.is_empty()).then(|| format!("Event types without the prefix all of this scenario's types share: {}", type_width.1))}>{ "type" }</span>
                        <span role="columnheader" class="c-where">{ "where" }</span>
                        <span role="columnheader" class="c-detail">{ "outcome" }</span>
                    </div>
                    <div class="log-body" ref={body} {onscroll} onkeydown={on_rows_key} role="rowgroup">
                        { for body_children }
                    </div>
                </div>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct LogRowProps {
    step: u64,
    row: LogRow,
    /// The type as shown (see [`shown_type`]) and in full, for the tooltip.
    shown_type: String,
    full_type: Option<String>,
    message: Option<MessageId>,
    /// What Enter opens the fault menu of: the row's message, or its service.
    target: Option<MenuTarget>,
    selected: bool,
    current: bool,
    /// Whether this row is the log's one stop in the Tab order.
    tab_stop: bool,
    on_select: Callback<Option<MessageId>>,
    on_open: Callback<MenuTarget>,
    on_focus: Callback<u64>,
}

/// One step of the log: a click selects its message; Enter opens its fault menu.
#[function_component(LogRowNode)]
fn log_row(props: &LogRowProps) -> Html {
    let row = &props.row;
    let onclick = {
        let (on_select, message) = (props.on_select.clone(), props.message);
        Callback::from(move |_: MouseEvent| on_select.emit(message))
    };
    let onkeydown = {
        let (on_open, target) = (props.on_open.clone(), props.target.clone());
        Callback::from(move |event: KeyboardEvent| {
            if let Some(target) = target.clone().filter(|_| opens_menu(&event.key())) {
                event.prevent_default();
                on_open.emit(target);
            }
        })
    };
    let onfocus = {
        let (on_focus, step) = (props.on_focus.clone(), props.step);
        Callback::from(move |_: FocusEvent| on_focus.emit(step))
    };
    html! {
        <div class={classes!("log-row", format!("verb-{}", row.verb), props.selected.then_some("selected"), props.current.then_some("current"))}
            role="row" aria-selected={props.selected.to_string()} tabindex={if props.tab_stop { "0" } else { "-1" }}
            aria-haspopup={props.target.is_some().then_some("menu")}
            {onclick} {onkeydown} {onfocus}>
            <span role="cell" class="c-step">{ row.step.clone() }</span>
            <span role="cell" class="c-time">{ row.time.clone() }</span>
            <span role="cell" class="c-verb">{ row.verb.clone() }</span>
            <span role="cell" class="c-event">{ row.event.clone() }</span>
            <span role="cell" class="c-type" title={props.full_type.clone()}>{ props.shown_type.clone() }</span>
            <span role="cell" class="c-where">{ row.place.clone() }</span>
            <span role="cell" class="c-detail" title={row.detail.clone()}>{ row.detail.clone() }</span>
        </div>
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
