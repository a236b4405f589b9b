//! The sequence (Lamport) diagram: time flows down, one lifeline per service, one
//! arrow per handled delivery from the service that published the message to the one
//! that handled it. Failures end in a red cross with what happened next (retry, DLQ),
//! duplicates skipped by an idempotent consumer are grey, compensations are dashed
//! purple arrows, and crashes and restarts are notes on their lifeline.
//!
//! It shows the whole run or one business flow: the flow filter is the event log's
//! correlation filter, so the log and the diagram always show the same flow. The
//! diagram follows the current step: it draws the last [`ROWS_SHOWN`] rows up to it,
//! and the "earlier" button pages back through history. Only those rows are rendered,
//! so its cost does not grow with the run; picking the rows is one pass over the
//! trace, memoized per run position and filter. The diagram is SVG written with
//! `html!`: each row is a component with its row as props, and a click on a row is a
//! typed callback naming its step and message.

use std::cell::RefCell;
use std::rc::Rc;

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::numbers::{D0, D1};
use super::state::{LogFilters, RunRef, ShellAction};
use super::topology::short_type;
use crate::sim::envelope::MessageId;
use crate::sim::simulation::Simulation;
use crate::sim::trace::{AfterFailure, Happened};

/// Rows drawn at a time.
pub const ROWS_SHOWN: usize = 26;
const ROWS_SHOWN_COMPACT: usize = 14;
const ROW_H: f64 = 24.0;
const HEAD_H: f64 = 34.0;
const WIDTH: f64 = 1000.0;
/// Half-width diagrams (side by side) use a narrower drawing so text stays readable.
const WIDTH_COMPACT: f64 = 620.0;
/// Flows offered in the flow picker.
const FLOWS_OFFERED: usize = 60;

/// What one row of the diagram is.
#[derive(Clone, Debug, PartialEq)]
enum RowKind {
    Handled { compensation: bool },
    Failed { then: String },
    Skipped,
    Note(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Row {
    step: u64,
    time_ms: u64,
    from: usize,
    to: usize,
    label: String,
    message: Option<MessageId>,
    kind: RowKind,
}

/// The lifelines: services in scenario order, then any workload source that is not a
/// service (a client outside the system).
fn lifelines(sim: &Simulation) -> Vec<String> {
    let mut names: Vec<String> = sim.scenario().services.iter().map(|s| s.name.clone()).collect();
    for w in &sim.scenario().workload {
        if !names.contains(&w.source) {
            names.push(w.source.clone());
        }
    }
    names
}

fn rows(sim: &Simulation, correlation: &str, lanes: &[String]) -> Vec<Row> {
    let lane = |name: &str| lanes.iter().position(|l| l == name).unwrap_or(0);
    let sender = |message: MessageId| -> usize {
        sim.message(message).map_or(0, |m| match m.emitted_by {
            Some(s) => s.0 as usize,
            None => lane(&m.envelope.source),
        })
    };
    let consumer = |sub: crate::sim::trace::SubId| -> usize {
        sim.compiled().subs.get(sub.0 as usize).map_or(0, |s| s.service.0 as usize)
    };
    let in_flow = |message: MessageId| {
        correlation.is_empty()
            || sim
                .message(message)
                .and_then(|m| m.envelope.correlation_id.as_deref())
                .is_some_and(|c| c.contains(correlation))
    };
    sim.trace()
        .iter()
        .filter_map(|r| {
            let (from, to, message, kind) = match &r.happened {
                Happened::Handled { message, sub, .. } => {
                    let compensation = sim.message(*message).is_some_and(|m| m.compensation);
                    (sender(*message), consumer(*sub), Some(*message), RowKind::Handled { compensation })
                }
                Happened::HandlingFailed { message, sub, then, .. } => {
                    let then = match then {
                        AfterFailure::RetryInMs(ms) => format!("retry in {ms} ms"),
                        AfterFailure::DeadLettered(reason) => format!("dead-lettered ({})", reason.name()),
                        AfterFailure::Lost => "lost".to_string(),
                        AfterFailure::LoopsWithoutDlq(ms) => format!("no DLQ: back in {ms} ms"),
                    };
                    (sender(*message), consumer(*sub), Some(*message), RowKind::Failed { then })
                }
                Happened::DuplicateSkipped { message, sub } => {
                    (sender(*message), consumer(*sub), Some(*message), RowKind::Skipped)
                }
                Happened::Crashed { service, .. } if correlation.is_empty() => {
                    let s = service.0 as usize;
                    (s, s, None, RowKind::Note("crashed".into()))
                }
                Happened::Restarted { service } if correlation.is_empty() => {
                    let s = service.0 as usize;
                    (s, s, None, RowKind::Note("restarted".into()))
                }
                _ => return None,
            };
            if let Some(m) = message {
                if !in_flow(m) {
                    return None;
                }
            }
            Some(Row {
                step: r.step,
                time_ms: r.time_ms,
                from,
                to,
                // Filled in for the shown rows only: formatting every row of a long
                // run at every step would dominate the cost of a step.
                label: String::new(),
                message,
                kind,
            })
        })
        .collect()
}

/// The geometry of one drawing: its width and lanes, and which arrowhead it uses (the
/// compact drawing has its own, so two diagrams on one page do not share an id).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Geometry {
    width: f64,
    lane_w: f64,
    marker: &'static str,
}

impl Geometry {
    fn x(&self, lane: usize) -> f64 {
        self.lane_w * (lane as f64 + 0.5)
    }
}

#[derive(Properties, PartialEq)]
struct SeqRowProps {
    row: Row,
    /// Position from the top of the drawing.
    index: usize,
    selected: bool,
    geometry: Geometry,
    on_pick: Callback<(u64, Option<MessageId>)>,
}

/// One row of the diagram: an arrow (or a note) with its label; a click goes to its step.
#[function_component(SeqRow)]
fn seq_row(props: &SeqRowProps) -> Html {
    let (row, g) = (&props.row, props.geometry);
    let y = HEAD_H + ROW_H * props.index as f64 + ROW_H * 0.6;
    let (x1, x2) = (g.x(row.from), g.x(row.to));
    let class = match &row.kind {
        RowKind::Handled { compensation: true } => "seq-compensation",
        RowKind::Handled { .. } => "seq-handled",
        RowKind::Failed { .. } => "seq-failed",
        RowKind::Skipped => "seq-skipped",
        RowKind::Note(_) => "seq-note",
    };
    let onclick = {
        let (on_pick, step, message) = (props.on_pick.clone(), row.step + 1, row.message);
        Callback::from(move |_: MouseEvent| on_pick.emit((step, message)))
    };
    let drawing = match &row.kind {
        RowKind::Note(text) => html! {
            <>
                <rect class="seq-note-box" x={D1(x1 - 50.0).to_string()} y={D1(y - 9.0).to_string()} width="100" height="16" rx="3" />
                <text class="seq-label" x={D1(x1).to_string()} y={D1(y + 3.0).to_string()}>{ text.clone() }</text>
            </>
        },
        kind => {
            let self_call = row.from == row.to;
            let failed = matches!(kind, RowKind::Failed { .. });
            let label = match kind {
                RowKind::Failed { then } => format!("\u{2717} {} \u{2014} {then}", row.label),
                RowKind::Skipped => format!("{} (duplicate skipped)", row.label),
                RowKind::Handled { compensation: true } => format!("\u{21b6} {}", row.label),
                _ => row.label.clone(),
            };
            let d = if self_call {
                format!("M{} {} h30 v10 h-28", D1(x1), D1(y - 6.0))
            } else {
                format!("M{x1} {y} L{x2} {y}", x1 = D1(x1), y = D1(y), x2 = D1(x2))
            };
            let label_x = D1(if self_call { x1 + 36.0 } else { (x1 + x2) / 2.0 }).to_string();
            html! {
                <>
                    if failed {
                        <path class="seq-line" {d} />
                        <text class="seq-cross" x={D1(x2).to_string()} y={D1(y + 5.0).to_string()}>{ "\u{2717}" }</text>
                    } else {
                        <path class="seq-line" {d} marker-end={format!("url(#{})", g.marker)} />
                    }
                    <text class="seq-label" x={label_x} y={D1(y - 4.0).to_string()}>{ label }</text>
                </>
            }
        }
    };
    html! {
        <g class={classes!("seq-row", class, props.selected.then_some("selected"))} {onclick}>
            <title>{ format!("step {} at {} ms: {} \u{2014} click to go there", row.step, row.time_ms, row.label) }</title>
            <rect class="seq-hit" x="0" y={D1(y - ROW_H * 0.6).to_string()} width={D0(g.width).to_string()} height={D0(ROW_H).to_string()} />
            <text class="seq-time" x="4" y={D1(y + 4.0).to_string()}>{ format!("{} ms", row.time_ms) }</text>
            { drawing }
        </g>
    }
}

/// The lifelines of the drawing: a head with the service's name and a line down.
fn lifelines_view(lanes: &[String], g: Geometry, height: f64) -> Html {
    html! {
        { for lanes.iter().enumerate().map(|(i, name)| {
            let (cx, w) = (D1(g.x(i)).to_string(), g.lane_w * 0.9);
            html! {
                <g class="lifeline">
                    <rect class="lifeline-head" x={D1(g.x(i) - w / 2.0).to_string()} y="2" width={D1(w).to_string()} height="24" rx="5" />
                    <text class="lifeline-name" x={cx.clone()} y="19">{ name.clone() }</text>
                    <line class="lifeline-line" x1={cx.clone()} y1="26" x2={cx} y2={D0(height).to_string()} />
                </g>
            }
        }) }
    }
}

#[derive(Properties)]
pub struct SequenceProps {
    pub sim: Rc<RefCell<Simulation>>,
    /// Changes whenever the run moves (the shell's revision): the memo key.
    pub revision: u64,
    /// The flow to show (a correlation id or part of one); empty = the whole run.
    #[prop_or_default]
    pub correlation: AttrValue,
    /// Shown in the diagram's title (`Choreography`); also hides the flow picker.
    #[prop_or_default]
    pub compact: bool,
    #[prop_or_default]
    pub selected: Option<MessageId>,
    /// Rewind to a step (the row's step + 1) and select its message.
    pub on_pick: Callback<(u64, Option<MessageId>)>,
}

impl PartialEq for SequenceProps {
    /// The run is compared by identity; `revision` says whether it moved.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.sim, &other.sim)
            && self.revision == other.revision
            && self.correlation == other.correlation
            && self.compact == other.compact
            && self.selected == other.selected
            && self.on_pick == other.on_pick
    }
}

/// The diagram itself, for one run.
#[function_component(SequenceDiagram)]
pub fn sequence_diagram(props: &SequenceProps) -> Html {
    let back = use_state_eq(|| 0usize);
    let data = {
        let sim = props.sim.clone();
        use_memo((props.revision, props.correlation.clone()), move |(_, correlation)| {
            let sim = sim.borrow();
            let lanes = lifelines(&sim);
            let rows = rows(&sim, correlation, &lanes);
            (lanes, rows)
        })
    };
    let (lanes, rows) = &*data;
    let total = rows.len();
    let end = total.saturating_sub(*back);
    let rows_shown = if props.compact { ROWS_SHOWN_COMPACT } else { ROWS_SHOWN };
    let start = end.saturating_sub(rows_shown);
    let shown: Vec<Row> = {
        let sim = props.sim.borrow();
        rows[start..end]
            .iter()
            .map(|row| {
                let mut row = row.clone();
                if let Some(m) = row.message.and_then(|id| sim.message(id)) {
                    row.label = format!("{} {}", short_type(&m.envelope.event_type), m.envelope.id);
                }
                row
            })
            .collect()
    };
    let height = HEAD_H + ROW_H * rows_shown as f64 + 8.0;
    let page = |delta: isize| {
        let back = back.clone();
        let current = *back;
        Callback::from(move |_: MouseEvent| {
            let next = if delta < 0 { current + rows_shown } else { current.saturating_sub(rows_shown) };
            back.set(next.min(total.saturating_sub(1)));
        })
    };
    let width = if props.compact { WIDTH_COMPACT } else { WIDTH };
    let geometry = Geometry {
        width,
        lane_w: width / lanes.len().max(1) as f64,
        marker: if props.compact { "seq-arrow-c" } else { "seq-arrow" },
    };
    html! {
        <div class={classes!("sequence", props.compact.then_some("compact"))}>
            <div class="sequence-nav">
                <span class="muted">{ if total == 0 { "No message handled yet.".to_string() } else { format!("rows {}\u{2013}{} of {total}{}", start + 1, end, if *back == 0 { " (following the current step)" } else { "" }) } }</span>
                <button type="button" class="control small" disabled={start == 0} onclick={page(-1)} title="Page back in time">{ "\u{2191} earlier" }</button>
                <button type="button" class="control small" disabled={*back == 0} onclick={page(1)} title="Page forward; the last page follows the current step">{ "\u{2193} later" }</button>
            </div>
            <div class="sequence-body">
                <svg class="sequence-svg" viewBox={format!("0 0 {} {}", D0(width), D0(height))} preserveAspectRatio="xMidYMin meet" role="img"
                    aria-label="Sequence diagram: time flows down, one lifeline per service">
                    <defs>
                        <marker id={geometry.marker} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
                            <path d="M0 0L10 5L0 10z" class="seq-arrow-head" />
                        </marker>
                    </defs>
                    { lifelines_view(lanes, geometry, height) }
                    { for shown.into_iter().enumerate().map(|(index, row)| {
                        let selected = row.message.is_some() && row.message == props.selected;
                        html! { <SeqRow {row} {index} {selected} {geometry} on_pick={props.on_pick.clone()} /> }
                    }) }
                </svg>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SequenceViewProps {
    pub shell: super::state::Shell,
    pub dispatch: Callback<ShellAction>,
}

/// The sequence view of a shell (see [`SequenceCanvas`]).
pub fn sequence_view(props: &SequenceViewProps) -> Html {
    let shell = &props.shell;
    html! {
        <SequenceCanvas run={shell.run()} filters={shell.filters.clone()} selected={shell.selected} dispatch={props.dispatch.clone()} />
    }
}

#[derive(Properties, PartialEq)]
pub struct SequenceCanvasProps {
    pub run: RunRef,
    /// The event log's filters: the diagram shows the flow of their correlation id.
    pub filters: LogFilters,
    pub selected: Option<MessageId>,
    pub dispatch: Callback<ShellAction>,
}

/// The sequence view of the main canvas: the diagram plus the flow picker, which
/// shares the event log's correlation filter.
#[function_component(SequenceCanvas)]
pub fn sequence_canvas(props: &SequenceCanvasProps) -> Html {
    let flows: Vec<String> = {
        let sim = props.run.sim.borrow();
        let mut flows: Vec<String> = Vec::new();
        for c in sim.messages().iter().filter(|m| m.cause.is_none()).filter_map(|m| m.envelope.correlation_id.as_ref())
        {
            if flows.len() >= FLOWS_OFFERED {
                break;
            }
            if !flows.contains(c) {
                flows.push(c.clone());
            }
        }
        flows
    };
    let on_flow = {
        let dispatch = props.dispatch.clone();
        let filters = props.filters.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            dispatch.emit(ShellAction::SetFilters(LogFilters { correlation: select.value(), ..filters.clone() }));
        })
    };
    let on_pick = use_callback(props.dispatch.clone(), |(step, message): (u64, Option<MessageId>), dispatch| {
        dispatch.emit(ShellAction::RewindTo(step));
        if message.is_some() {
            dispatch.emit(ShellAction::Select(message));
        }
    });
    let current = props.filters.correlation.clone();
    html! {
        <div class="sequence-view">
            <div class="sequence-head">
                <p class="panel-note">{ "Time flows down; one lifeline per service; an arrow per handled message, from the service that published it. \u{2717} a failed attempt, dashed purple \u{21b6} a compensation, grey a duplicate skipped." }</p>
                <label class="select-field">
                    <span class="number-label">{ "Show" }</span>
                    <select aria-label="Flow shown in the sequence diagram" onchange={on_flow}>
                        <option value="" selected={current.is_empty()}>{ "the whole run" }</option>
                        { for flows.iter().map(|c| html! { <option value={c.clone()} selected={*c == current}>{ format!("flow {c}") }</option> }) }
                        if !current.is_empty() && !flows.contains(&current) {
                            <option value={current.clone()} selected={true}>{ format!("log filter: {current}") }</option>
                        }
                    </select>
                </label>
            </div>
            <SequenceDiagram sim={props.run.sim.clone()} revision={props.run.revision} correlation={AttrValue::from(current)}
                selected={props.selected} {on_pick} />
        </div>
    }
}
