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

use super::regions::EmptyState;
use super::sagas::PanelProps;
use super::state::ShellAction;
use crate::sim::envelope::MessageId;
use crate::sim::simulation::{correlation_key, Simulation};
use crate::sim::time::Millis;
use crate::sim::trace::{Happened, SubId};

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
    let mut lag: BTreeMap<u32, Vec<(Millis, i64)>> = BTreeMap::new();
    let mut dlq_now: Vec<i64> = vec![0; subs.len()];
    let mut dlq = Vec::new();
    for s in sim.metric_samples() {
        lag.entry(s.sub.0).or_default().push((s.time_ms, i64::from(s.lag)));
        if let Some(d) = dlq_now.get_mut(s.sub.0 as usize) {
            if *d != i64::from(s.dlq) {
                *d = i64::from(s.dlq);
                dlq.push((s.time_ms, dlq_now.iter().sum()));
            }
        }
    }
    let mut lag: Vec<Series> = lag
        .into_iter()
        .filter(|(_, p)| p.iter().any(|(_, v)| *v > 0))
        .map(|(sub, points)| Series {
            name: subs.get(sub as usize).map_or_else(String::new, |s| s.name.clone()),
            points: bucketed(&points, t_max),
        })
        .collect();
    lag.sort_by_key(|s| std::cmp::Reverse(s.points.iter().map(|p| p.1).max().unwrap_or(0)));
    lag.truncate(LAG_SERIES_MAX);
    // Processing latency: from a delivery to its handling, per (message, subscription).
    let mut delivered: BTreeMap<(MessageId, SubId), Millis> = BTreeMap::new();
    let mut processing = Vec::new();
    let mut last_step: BTreeMap<u64, u64> = BTreeMap::new();
    for r in sim.trace() {
        match r.happened {
            Happened::Delivered { message, sub, .. } => {
                delivered.insert((message, sub), r.time_ms);
            }
            Happened::Handled { message, sub, .. } => {
                if let Some(t) = delivered.remove(&(message, sub)) {
                    processing.push((r.time_ms, (r.time_ms - t) as i64));
                }
                if let Some(c) = sim.message(message).and_then(|m| m.envelope.correlation_id.as_deref()) {
                    last_step.insert(correlation_key(c), r.step);
                }
            }
            _ => {}
        }
    }
    // End-to-end latency per correlation id, named by the flow's first message.
    let mut names: BTreeMap<u64, String> = BTreeMap::new();
    for m in sim.messages() {
        if let Some(c) = &m.envelope.correlation_id {
            names.entry(correlation_key(c)).or_insert_with(|| c.clone());
        }
    }
    let mut flows: Vec<(String, Millis, Millis, u64)> = sim
        .flows()
        .filter_map(|(key, f)| {
            let name = names.get(key)?.clone();
            Some((name, f.started_ms, f.last_ms.saturating_sub(f.started_ms), last_step.get(key).copied().unwrap_or(0)))
        })
        .collect();
    flows.sort_by_key(|f| f.1);
    let skip = flows.len().saturating_sub(FLOWS_SHOWN);
    flows.drain(..skip);
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

#[derive(Properties, PartialEq)]
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
#[function_component(Chart)]
fn chart(props: &ChartProps) -> Html {
    let v_max = props.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).max().unwrap_or(0).max(1);
    let x = |t: Millis| t as f64 / props.t_max.max(1) as f64 * CHART_W;
    let y = |v: i64| CHART_H - (v as f64 / v_max as f64) * (CHART_H - 6.0);
    let onclick = {
        let on_time = props.on_time.clone();
        let t_max = props.t_max;
        Callback::from(move |e: MouseEvent| {
            let width = e.current_target().and_then(|t| t.dyn_into::<Element>().ok()).map_or(0, |el| el.client_width());
            if width > 0 {
                let fraction = (f64::from(e.offset_x()) / f64::from(width)).clamp(0.0, 1.0);
                on_time.emit((fraction * t_max as f64) as Millis);
            }
        })
    };
    let empty = props.series.iter().all(|s| s.points.is_empty());
    html! {
        <figure class="chart" aria-label={props.title.clone()}>
            <figcaption>
                <strong>{ props.title.clone() }</strong>
                <span class="muted">{ format!(" (max {v_max} {})", props.unit) }</span>
            </figcaption>
            <svg class="chart-plot" viewBox={format!("0 0 {CHART_W} {CHART_H}")} preserveAspectRatio="none" {onclick}
                role="img" aria-label={format!("{}: click to go to that time", props.title)}>
                <title>{ "Click to go to this simulated time" }</title>
                <line class="chart-axis" x1="0" y1={CHART_H.to_string()} x2={CHART_W.to_string()} y2={CHART_H.to_string()} />
                { for props.series.iter().enumerate().map(|(i, s)| {
                    let mut d = String::new();
                    let mut last_y = CHART_H;
                    for (k, (t, v)) in s.points.iter().enumerate() {
                        let (px, py) = (x(*t), y(*v));
                        if k == 0 {
                            d.push_str(&format!("M{px:.1} {:.1}", if props.stepped { CHART_H } else { py }));
                        }
                        if props.stepped {
                            d.push_str(&format!("L{px:.1} {last_y:.1}L{px:.1} {py:.1}"));
                        } else {
                            d.push_str(&format!("L{px:.1} {py:.1}"));
                        }
                        last_y = py;
                    }
                    if props.stepped && !s.points.is_empty() {
                        d.push_str(&format!("L{:.1} {last_y:.1}", x(props.now_ms)));
                    }
                    html! { <path class={classes!("chart-line", format!("series-{}", i % 6))} d={d} /> }
                }) }
                <line class="chart-now" x1={format!("{:.1}", x(props.now_ms))} y1="0" x2={format!("{:.1}", x(props.now_ms))} y2={CHART_H.to_string()} />
            </svg>
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

#[function_component(MetricsPanel)]
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
                <EmptyState what="Charts of lag, DLQ depth and latency appear as the run advances."
                    concept="Monitoring an event-driven system means watching consumer lag (how far each consumer is behind), DLQ depth (what gave up) and latency per message and per business flow." />
            </div>
        };
    }
    let flow_max = f.flows.iter().map(|x| x.2).max().unwrap_or(0).max(1);
    let bar_w = CHART_W / f.flows.len().max(1) as f64;
    html! {
        <div class="metrics">
            <p class="panel-note">{ "Computed from the run over simulated time. Click a chart to go to that moment; the blue line is the current step." }</p>
            <Chart title="Consumer lag" unit="messages" series={f.lag.clone()} t_max={f.t_max} {now_ms} stepped={true} on_time={on_time.clone()} />
            <table class="state-table lag-time" aria-label="Consumer lag in time">
                <thead><tr><th>{ "subscription" }</th><th>{ "lag now (age of oldest)" }</th><th>{ "slowest handling so far" }</th></tr></thead>
                <tbody>
                    { for f.lag_ms_now.iter().filter(|(_, lag, max)| *lag > 0 || *max > 0).map(|(name, lag, max)| html! {
                        <tr><td>{ name }</td><td class="num">{ format!("{lag} ms") }</td><td class="num">{ format!("{max} ms") }</td></tr>
                    }) }
                </tbody>
            </table>
            <Chart title="DLQ depth" unit="messages" series={vec![f.dlq.clone()]} t_max={f.t_max} {now_ms} stepped={true} on_time={on_time.clone()} />
            <Chart title="Processing latency, deliver \u{2192} handled" unit="ms" series={vec![f.processing.clone()]} t_max={f.t_max} {now_ms} stepped={false} on_time={on_time.clone()} />
            <figure class="chart" aria-label="End-to-end latency per correlation id">
                <figcaption>
                    <strong>{ "End-to-end latency per correlation id" }</strong>
                    <span class="muted">{ format!(" (max {} ms, {} flow(s))", if f.flows.is_empty() { 0 } else { flow_max }, f.flows.len()) }</span>
                </figcaption>
                if f.flows.is_empty() {
                    <p class="chart-empty muted">{ "no flow handled yet" }</p>
                } else {
                    <svg class="chart-plot" viewBox={format!("0 0 {CHART_W} {CHART_H}")} preserveAspectRatio="none" role="img"
                        aria-label="One bar per flow, in start order; click a bar to go to its last handling">
                        { for f.flows.iter().enumerate().map(|(i, (name, _, duration, step))| {
                            let h = (*duration as f64 / flow_max as f64) * (CHART_H - 6.0);
                            let step = *step;
                            let dispatch = props.dispatch.clone();
                            let onclick = Callback::from(move |_: MouseEvent| dispatch.emit(ShellAction::RewindTo(step + 1)));
                            html! {
                                <rect class="flow-bar" x={format!("{:.1}", i as f64 * bar_w + bar_w * 0.1)} y={format!("{:.1}", CHART_H - h)}
                                    width={format!("{:.1}", bar_w * 0.8)} height={format!("{:.1}", h.max(1.0))} {onclick}>
                                    <title>{ format!("{name}: {duration} ms end to end (click: go to step {})", step + 1) }</title>
                                </rect>
                            }
                        }) }
                    </svg>
                    <p class="panel-note">{ format!("Slowest: {}", f.flows.iter().max_by_key(|x| x.2).map(|x| format!("{} at {} ms", x.0, x.2)).unwrap_or_default()) }</p>
                }
            </figure>
        </div>
    }
}
