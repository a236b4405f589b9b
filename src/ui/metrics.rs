//! Monitoring: consumer lag (messages and time), DLQ depth, processing latency and
//! end-to-end latency per correlation id, as small SVG charts over simulated time.
//!
//! Every figure is computed from the run, not sampled from a clock: lag and DLQ depth
//! from the core's `metric_samples()` (recorded after each step that changed them),
//! processing latency from the trace's deliver → handle pairs, end-to-end latency from
//! the core's per-correlation flows. The charts are linked to the timeline: a click
//! anywhere on a chart rewinds to the first step at that simulated time, and a
//! vertical line marks the current step.
//!
//! Charts stay cheap at long runs: each series is reduced to at most [`BUCKETS`]
//! points (the maximum of each bucket, so a spike never disappears), and the flows
//! chart shows at most [`FLOWS_SHOWN`] bars (the most recent).

use std::collections::BTreeMap;

use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

use super::markup::{esc, on_goto, put, raw, D0, D1};
use super::regions::empty_state;
use super::sagas::PanelProps;
use super::state::ShellAction;
use crate::sim::envelope::MessageId;
use crate::sim::simulation::Simulation;
use crate::sim::time::Millis;
use crate::sim::trace::Happened;

/// Points per series at most.
const BUCKETS: usize = 120;
const FLOWS_SHOWN: usize = 80;
/// Subscriptions drawn as their own lag line; more would be unreadable.
const LAG_SERIES_MAX: usize = 6;
const CHART_W: f64 = 400.0;
const CHART_H: f64 = 90.0;

/// One line of a chart: a name and (time, value) points in time order.
#[derive(Clone, Debug, Default, PartialEq)]
struct Series {
    name: String,
    points: Vec<(Millis, i64)>,
}

/// Reduces points to at most `BUCKETS` by keeping each time bucket's maximum.
fn bucketed(points: &[(Millis, i64)], t_max: Millis) -> Vec<(Millis, i64)> {
    if points.len() <= BUCKETS || t_max == 0 {
        return points.to_vec();
    }
    let mut out: Vec<(Millis, i64)> = Vec::with_capacity(BUCKETS + 1);
    let width = t_max.div_ceil(BUCKETS as u64).max(1);
    for &(t, v) in points {
        let bucket_t = (t / width) * width;
        match out.last_mut() {
            Some(last) if last.0 == bucket_t => last.1 = last.1.max(v),
            _ => out.push((bucket_t, v)),
        }
    }
    out
}

/// Everything the charts need, computed in one pass per render.
#[derive(Clone, Debug, Default, PartialEq)]
struct Figures {
    t_max: Millis,
    lag: Vec<Series>,
    dlq: Series,
    processing: Series,
    /// (correlation id, start, duration, step of its last handling)
    flows: Vec<(String, Millis, Millis, u64)>,
    lag_ms_now: Vec<(String, Millis, Millis)>,
}

fn figures(sim: &Simulation) -> Figures {
    let subs = sim.subscription_views();
    let t_max = sim.now_ms().max(1);
    // Lag per subscription and total DLQ depth, as step functions.
    // Plain vectors indexed by subscription rather than maps: fewer generic
    // instantiations in the wasm binary, and subscriptions are dense indices anyway.
    let mut lag: Vec<Vec<(Millis, i64)>> = vec![Vec::new(); subs.len()];
    let mut dlq_now: Vec<i64> = vec![0; subs.len()];
    let mut dlq = Vec::new();
    for s in sim.metric_samples() {
        if let Some(series) = lag.get_mut(s.sub.0 as usize) {
            series.push((s.time_ms, i64::from(s.lag)));
        }
        if let Some(d) = dlq_now.get_mut(s.sub.0 as usize) {
            if *d != i64::from(s.dlq) {
                *d = i64::from(s.dlq);
                dlq.push((s.time_ms, dlq_now.iter().sum()));
            }
        }
    }
    let lag: Vec<Series> = lag
        .into_iter()
        .enumerate()
        .filter(|(_, p)| p.iter().any(|(_, v)| *v > 0))
        .map(|(sub, points)| Series {
            name: subs.get(sub).map_or_else(String::new, |s| s.name.clone()),
            points: bucketed(&points, t_max),
        })
        .collect();
    // The busiest subscriptions, in scenario order (a threshold instead of a sort).
    let peak = |s: &Series| s.points.iter().map(|p| p.1).max().unwrap_or(0);
    let mut peaks: Vec<i64> = lag.iter().map(peak).collect();
    crate::sim::sorting::sort(&mut peaks);
    let cut = peaks.len().checked_sub(LAG_SERIES_MAX).and_then(|i| peaks.get(i)).copied().unwrap_or(0);
    let mut lag: Vec<Series> = lag.into_iter().filter(|s| peak(s) >= cut).collect();
    lag.truncate(LAG_SERIES_MAX);
    // Processing latency: from a delivery to its handling. A subscription handles one
    // message at a time, so the open delivery per subscription is enough.
    let mut delivered: Vec<Option<(MessageId, Millis)>> = vec![None; subs.len()];
    let mut processing = Vec::new();
    // End-to-end latency per correlation id: the core's flows in the order they
    // started; the chart shows the latest few, each with the step of its last handling.
    let mut flows: Vec<(String, Millis, Millis, u64)> =
        sim.flows().map(|(id, f)| (id.to_string(), f.started_ms, f.last_ms.saturating_sub(f.started_ms), 0)).collect();
    let skip = flows.len().saturating_sub(FLOWS_SHOWN);
    flows.drain(..skip);
    let shown: BTreeMap<String, usize> = flows.iter().enumerate().map(|(i, f)| (f.0.clone(), i)).collect();
    for r in sim.trace() {
        match r.happened {
            Happened::Delivered { message, sub, .. } => {
                if let Some(open) = delivered.get_mut(sub.0 as usize) {
                    *open = Some((message, r.time_ms));
                }
            }
            Happened::Handled { message, sub, .. } => {
                if let Some(Some((m, t))) = delivered.get(sub.0 as usize) {
                    if *m == message {
                        processing.push((r.time_ms, (r.time_ms - t) as i64));
                    }
                }
                let correlation = sim.message(message).and_then(|m| m.envelope.correlation_id.as_deref());
                if let Some(&i) = correlation.and_then(|c| shown.get(c)) {
                    flows[i].3 = r.step;
                }
            }
            _ => {}
        }
    }
    Figures {
        t_max,
        lag,
        dlq: Series { name: "DLQ depth".into(), points: bucketed(&dlq, t_max) },
        processing: Series { name: "processing latency".into(), points: bucketed(&processing, t_max) },
        flows,
        lag_ms_now: subs.iter().map(|s| (s.name.clone(), s.lag_ms, s.latency_ms_max)).collect(),
    }
}

/// The first step at or after simulated time `t` (the steps' times never decrease).
fn step_at(sim: &Simulation, t: Millis) -> u64 {
    let trace = sim.trace_to_horizon();
    let i = trace.partition_point(|r| r.time_ms < t);
    trace.get(i).map_or(sim.horizon(), |r| r.step + 1)
}

struct ChartProps {
    title: AttrValue,
    unit: AttrValue,
    series: Vec<Series>,
    t_max: Millis,
    now_ms: Millis,
    /// Draw steps (lag, depth) or points (latencies).
    stepped: bool,
    on_time: Callback<Millis>,
}

/// A line chart over simulated time; a click rewinds to that time.
fn chart(props: &ChartProps) -> Html {
    let v_max = props.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).max().unwrap_or(0).max(1);
    let x = |t: Millis| t as f64 / props.t_max.max(1) as f64 * CHART_W;
    let y = |v: i64| CHART_H - (v as f64 / v_max as f64) * (CHART_H - 6.0);
    let onclick = {
        let on_time = props.on_time.clone();
        let t_max = props.t_max;
        Callback::from(move |e: MouseEvent| {
            // The plot's children ignore the pointer (CSS), so the target is the <svg>.
            let width = e.target().and_then(|t| t.dyn_into::<Element>().ok()).map_or(0, |el| el.client_width());
            if width > 0 {
                let fraction = (f64::from(e.offset_x()) / f64::from(width)).clamp(0.0, 1.0);
                on_time.emit((fraction * t_max as f64) as Millis);
            }
        })
    };
    let empty = props.series.iter().all(|s| s.points.is_empty());
    let mut plot = String::with_capacity(2048);
    put(
        &mut plot,
        format_args!(
            "<svg class=\"chart-plot line-chart\" viewBox=\"0 0 {CHART_W} {CHART_H}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}: click to go to that time\">\
             <title>Click to go to this simulated time</title><line class=\"chart-axis\" x1=\"0\" y1=\"{CHART_H}\" x2=\"{CHART_W}\" y2=\"{CHART_H}\"/>",
            esc(&props.title), CHART_W = D0(CHART_W), CHART_H = D0(CHART_H)),
    );
    for (i, s) in props.series.iter().enumerate() {
        let mut last_y = CHART_H;
        put(&mut plot, format_args!("<path class=\"chart-line series-{}\" d=\"", i % 6));
        for (k, (t, v)) in s.points.iter().enumerate() {
            let (px, py) = (x(*t), y(*v));
            if k == 0 {
                put(&mut plot, format_args!("M{px} {}", D1(if props.stepped { CHART_H } else { py }), px = D1(px)));
            }
            if props.stepped {
                put(&mut plot, format_args!("L{px} {last_y}L{px} {py}", px = D1(px), last_y = D1(last_y), py = D1(py)));
            } else {
                put(&mut plot, format_args!("L{px} {py}", px = D1(px), py = D1(py)));
            }
            last_y = py;
        }
        if props.stepped && !s.points.is_empty() {
            put(&mut plot, format_args!("L{} {last_y}", D1(x(props.now_ms)), last_y = D1(last_y)));
        }
        plot.push_str("\"/>");
    }
    let now_x = x(props.now_ms);
    put(
        &mut plot,
        format_args!(
            "<line class=\"chart-now\" x1=\"{now_x}\" y1=\"0\" x2=\"{now_x}\" y2=\"{CHART_H}\"/></svg>",
            now_x = D1(now_x),
            CHART_H = D0(CHART_H)
        ),
    );
    html! {
        <figure class="chart" aria-label={props.title.clone()}>
            <figcaption>
                <strong>{ props.title.clone() }</strong>
                <span class="muted">{ format!(" (max {v_max} {})", props.unit) }</span>
            </figcaption>
            <div class="chart-click" {onclick}>{ raw(plot) }</div>
            if empty {
                <p class="chart-empty muted">{ "nothing yet" }</p>
            }
            if props.series.len() > 1 {
                <ul class="chart-legend">
                    { for props.series.iter().enumerate().map(|(i, s)| html! { <li><span class={classes!("swatch", format!("series-{}", i % 6))} />{ &s.name }</li> }) }
                </ul>
            }
        </figure>
    }
}

/// A plain function rather than a component (no hooks; see `sagas::saga_panel`).
pub fn metrics_panel(props: &PanelProps) -> Html {
    let shell = &props.shell;
    let sim = shell.sim.borrow();
    let f = figures(&sim);
    let now_ms = sim.now_ms();
    drop(sim);
    let on_time = {
        let dispatch = props.dispatch.clone();
        let sim = shell.sim.clone();
        Callback::from(move |t: Millis| {
            let step = step_at(&sim.borrow(), t);
            dispatch.emit(ShellAction::RewindTo(step));
        })
    };
    if shell.step == 0 {
        return html! {
            <div class="metrics">
                { empty_state("Charts of lag, DLQ depth and latency appear as the run advances.", "Monitoring an event-driven system means watching consumer lag (how far each consumer is behind), DLQ depth (what gave up) and latency per message and per business flow.") }
            </div>
        };
    }
    let flow_max = f.flows.iter().map(|x| x.2).max().unwrap_or(0).max(1);
    let bar_w = CHART_W / f.flows.len().max(1) as f64;
    let mut bars = String::with_capacity(4096);
    put(
        &mut bars,
        format_args!(
            "<svg class=\"chart-plot\" viewBox=\"0 0 {CHART_W} {CHART_H}\" preserveAspectRatio=\"none\" role=\"img\" \
             aria-label=\"One bar per flow, in start order; click a bar to go to its last handling\">",
            CHART_W = D0(CHART_W),
            CHART_H = D0(CHART_H)
        ),
    );
    for (i, (name, _, duration, step)) in f.flows.iter().enumerate() {
        let h = (*duration as f64 / flow_max as f64) * (CHART_H - 6.0);
        put(
            &mut bars,
            format_args!(
                "<rect class=\"flow-bar\" data-goto=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {duration} ms end to end (click: go to step {})</title></rect>",
                step + 1, D1(i as f64 * bar_w + bar_w * 0.1), D1(CHART_H - h), D1(bar_w * 0.8), D1(h.max(1.0)),
                esc(name),
                step + 1
            ),
        );
    }
    bars.push_str("</svg>");
    html! {
        <div class="metrics">
            <p class="panel-note">{ "Computed from the run over simulated time. Click a chart to go to that moment; the blue line is the current step." }</p>
            { chart(&ChartProps { title: "Consumer lag".into(), unit: "messages".into(), series: f.lag.clone(), t_max: f.t_max, now_ms, stepped: true, on_time: on_time.clone() }) }
            <table class="state-table lag-time" aria-label="Consumer lag in time">
                <thead><tr><th>{ "subscription" }</th><th>{ "lag now (age of oldest)" }</th><th>{ "slowest handling so far" }</th></tr></thead>
                <tbody>
                    { for f.lag_ms_now.iter().filter(|(_, lag, max)| *lag > 0 || *max > 0).map(|(name, lag, max)| html! {
                        <tr><td>{ name }</td><td class="num">{ format!("{lag} ms") }</td><td class="num">{ format!("{max} ms") }</td></tr>
                    }) }
                </tbody>
            </table>
            { chart(&ChartProps { title: "DLQ depth".into(), unit: "messages".into(), series: vec![f.dlq.clone()], t_max: f.t_max, now_ms, stepped: true, on_time: on_time.clone() }) }
            { chart(&ChartProps { title: "Processing latency, deliver \u{2192} handled".into(), unit: "ms".into(), series: vec![f.processing.clone()], t_max: f.t_max, now_ms, stepped: false, on_time: on_time.clone() }) }
            <figure class="chart" aria-label="End-to-end latency per correlation id">
                <figcaption>
                    <strong>{ "End-to-end latency per correlation id" }</strong>
                    <span class="muted">{ format!(" (max {} ms, {} flow(s))", if f.flows.is_empty() { 0 } else { flow_max }, f.flows.len()) }</span>
                </figcaption>
                if f.flows.is_empty() {
                    <p class="chart-empty muted">{ "no flow handled yet" }</p>
                } else {
                    <div onclick={on_goto(&props.dispatch)}>{ raw(bars) }</div>
                    <p class="panel-note">{ format!("Slowest: {}", f.flows.iter().max_by_key(|x| x.2).map(|x| format!("{} at {} ms", x.0, x.2)).unwrap_or_default()) }</p>
                }
            </figure>
        </div>
    }
}
