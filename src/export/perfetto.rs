//! A run as Chrome trace-event JSON, the format Perfetto (ui.perfetto.dev) and
//! `chrome://tracing` open: `{"traceEvents":[…],"displayTimeUnit":"ms"}`.
//!
//! Layout: one process per service (`pid` = service index + 1) with one thread per
//! subscription (`tid` = subscription index + 1, unique across processes), plus a
//! `bus` process with one thread per topic. Simulated milliseconds become
//! microseconds (`ts`, `dur`), the format's unit.
//!
//! * `X` slices: each handling on its subscription's thread, from `deliver` to
//!   `handle` / `fail` / `skip-dup` (or to a crash, or the end of the run), and a
//!   1 µs `publish` slice on the topic's thread.
//! * Flows (`s` → `f` with `"bp":"e"`): an arrow from each publication to each
//!   handling of it, with an integer id per arrow.
//! * Counters (`C`): each subscription's queue depth and DLQ depth. They are sampled
//!   by replaying the run from its configuration and recording every change, at most
//!   [`COUNTER_SAMPLES_MAX`] samples.
//! * Async slices (`b` / `e`, cat `saga`): each saga instance from its first recorded
//!   event to its completion or abort (or the end of the run).
//!
//! A consumer handles one message at a time, so handlings on one thread never
//! overlap; a per-thread cursor also keeps zero-length steps apart. [`check`] states
//! the structural rules the output must satisfy; tests run it on every export.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::short_type;
use crate::sim::compiled::saga_stream;
use crate::sim::saga;
use crate::sim::simulation::Simulation;
use crate::sim::trace::{Happened, SubId, TraceLine};

/// Most counter samples; a longer run stops sampling with an instant event saying so.
pub const COUNTER_SAMPLES_MAX: u32 = 20_000;
/// Most trace steps turned into slices and flows.
pub const STEPS_MAX: u64 = 200_000;

/// Sort rank at equal `ts`: a slice must exist before a flow binds to it, and a
/// slice's end comes last.
fn rank(ph: &str) -> u8 {
    match ph {
        "M" => 0,
        "X" | "b" => 1,
        "s" | "f" => 2,
        "C" | "i" => 3,
        _ => 4,
    }
}

struct Open {
    message: u32,
    start_us: u64,
    attempt: u32,
}

struct Builder<'a> {
    sim: &'a Simulation,
    events: Vec<Value>,
    /// End of the last slice per thread, so the next one starts no earlier. Indexed by
    /// tid (thread ids are small and dense), like `published` by message id: vectors
    /// rather than maps, whose B-tree code would be compiled for each key type.
    cursor: Vec<u64>,
    open: Vec<Option<Open>>,
    /// Where each message's publish slice is: (tid, ts).
    published: Vec<Option<(u64, u64)>>,
    next_flow: u64,
}

fn us(ms: u64) -> u64 {
    ms.saturating_mul(1000)
}

/// The trace-event document of the run up to its current step.
pub fn trace_events(sim: &Simulation) -> Value {
    let compiled = sim.compiled();
    let services = compiled.services.len() as u64;
    let subs = compiled.subs.len() as u64;
    let topics = compiled.topics.len() as u64;
    let bus_pid = services + 1;
    let topic_tid = |t: u32| subs + 1 + u64::from(t);
    let saga_tid = |g: u32| subs + topics + 1 + u64::from(g);

    let mut meta = Vec::new();
    for (i, s) in compiled.services.iter().enumerate() {
        let pid = i as u64 + 1;
        meta.push(json!({"name":"process_name","ph":"M","pid":pid,"tid":0,"args":{"name":s.name}}));
        meta.push(json!({"name":"process_sort_index","ph":"M","pid":pid,"tid":0,"args":{"sort_index":pid}}));
    }
    meta.push(json!({"name":"process_name","ph":"M","pid":bus_pid,"tid":0,"args":{"name":"bus"}}));
    meta.push(json!({"name":"process_sort_index","ph":"M","pid":bus_pid,"tid":0,"args":{"sort_index":bus_pid}}));
    for (i, s) in compiled.subs.iter().enumerate() {
        let pid = u64::from(s.service.0) + 1;
        meta.push(json!({"name":"thread_name","ph":"M","pid":pid,"tid":i as u64 + 1,"args":{"name":s.name}}));
    }
    for (i, t) in compiled.topics.iter().enumerate() {
        let name = format!("topic {}", t.name);
        meta.push(json!({"name":"thread_name","ph":"M","pid":bus_pid,"tid":topic_tid(i as u32),"args":{"name":name}}));
    }
    for (g, s) in compiled.sagas.iter().enumerate() {
        let pid = u64::from(s.coordinator.0) + 1;
        let name = format!("saga {}", s.name);
        meta.push(json!({"name":"thread_name","ph":"M","pid":pid,"tid":saga_tid(g as u32),"args":{"name":name}}));
    }

    let mut b = Builder {
        sim,
        events: Vec::new(),
        cursor: Vec::new(),
        open: (0..subs).map(|_| None).collect(),
        published: Vec::new(),
        next_flow: 1,
    };
    let trace = sim.trace();
    for record in trace.iter().take(STEPS_MAX as usize) {
        let now = us(record.time_ms);
        match &record.happened {
            Happened::Published { message, topic, .. } => {
                let tid = topic_tid(topic.0);
                let ts = b.start_on(tid, now);
                b.set_cursor(tid, ts + 1);
                let at = message.0 as usize;
                if b.published.len() <= at {
                    b.published.resize(at + 1, None);
                }
                b.published[at] = Some((tid, ts));
                let name = b.type_of(message.0);
                b.events.push(json!({"name":format!("publish {name}"),"cat":"publish","ph":"X","pid":bus_pid,"tid":tid,"ts":ts,"dur":1,
                    "args":{"event":b.event_id(message.0)}}));
            }
            Happened::Delivered { message, sub, attempt, .. } => {
                b.close(*sub, now, "interrupted by a redelivery");
                let tid = u64::from(sub.0) + 1;
                let start = b.start_on(tid, now);
                if let Some(&Some((pub_tid, pub_ts))) = b.published.get(message.0 as usize) {
                    let id = b.next_flow;
                    b.next_flow += 1;
                    let pid = b.pid_of(*sub);
                    let name = b.type_of(message.0);
                    b.events.push(
                        json!({"name":name,"cat":"flow","ph":"s","id":id,"pid":bus_pid,"tid":pub_tid,"ts":pub_ts}),
                    );
                    b.events.push(
                        json!({"name":name,"cat":"flow","ph":"f","bp":"e","id":id,"pid":pid,"tid":tid,"ts":start}),
                    );
                }
                if let Some(slot) = b.open.get_mut(sub.0 as usize) {
                    *slot = Some(Open { message: message.0, start_us: start, attempt: *attempt });
                }
            }
            Happened::Handled { sub, .. } | Happened::HandlingFailed { sub, .. } => {
                let what = TraceLine { record, names: sim }.columns().detail;
                b.close(*sub, now, &what);
            }
            Happened::DuplicateSkipped { sub, .. } => b.close(*sub, now, "duplicate skipped"),
            Happened::Crashed { service, .. } => {
                for (i, s) in compiled.subs.iter().enumerate() {
                    if s.service == *service {
                        b.close(SubId(i as u32), now, "lost in a crash");
                    }
                }
            }
            _ => {}
        }
    }
    let end = us(sim.now_ms());
    for i in 0..subs {
        b.close(SubId(i as u32), end, "still in flight at the end of the trace");
    }
    if trace.len() as u64 > STEPS_MAX {
        b.events.push(json!({"name":format!("trace truncated after {STEPS_MAX} steps"),"ph":"i","s":"g","pid":bus_pid,"tid":0,"ts":end}));
    }

    let mut saga_id = 1u64;
    for (g, instance_id, _) in sim.saga_instances() {
        let Some(spec) = compiled.sagas.get(g as usize) else { continue };
        let store = sim.store(spec.coordinator);
        let events: Vec<_> = store.read_stream(&saga_stream(&instance_id)).collect();
        let Some(first) = events.first() else { continue };
        let finished = events.iter().find(|e| e.event_type == saga::COMPLETED || e.event_type == saga::ABORTED);
        let (end_ms, status) = match finished {
            Some(e) => (e.time_ms, short_type(&e.event_type).trim_start_matches("saga.").to_string()),
            None => (sim.now_ms(), "unfinished".to_string()),
        };
        let pid = u64::from(spec.coordinator.0) + 1;
        let name = format!("{} {}", spec.name, instance_id);
        let tid = saga_tid(g);
        b.events
            .push(json!({"name":name,"cat":"saga","ph":"b","id":saga_id,"pid":pid,"tid":tid,"ts":us(first.time_ms)}));
        b.events.push(json!({"name":name,"cat":"saga","ph":"e","id":saga_id,"pid":pid,"tid":tid,"ts":us(end_ms.max(first.time_ms)),"args":{"status":status}}));
        saga_id += 1;
    }

    b.events.extend(counters(sim, bus_pid));

    let mut keyed: Vec<(u64, u8, usize, Value)> = b
        .events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let ts = e.get("ts").and_then(Value::as_u64).unwrap_or(0);
            let r = rank(e.get("ph").and_then(Value::as_str).unwrap_or(""));
            (ts, r, i, e)
        })
        .collect();
    crate::sim::sorting::sort_by_key(&mut keyed, |(ts, r, i, _)| (*ts, *r, *i));
    meta.extend(keyed.into_iter().map(|(_, _, _, e)| e));

    let config = sim.config();
    json!({
        "traceEvents": meta,
        "displayTimeUnit": "ms",
        "otherData": {
            "generator": "eventscope",
            "scenario": config.scenario.name,
            "seed": config.seed.to_string(),
            "steps": sim.step_index(),
        }
    })
}

/// The document as text, one event per line.
pub fn to_json(sim: &Simulation) -> String {
    let doc = trace_events(sim);
    let mut out = String::from("{\"traceEvents\":[");
    if let Some(events) = doc.get("traceEvents").and_then(Value::as_array) {
        for (i, e) in events.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
        }
    }
    out.push_str("\n],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":");
    out.push_str(&serde_json::to_string(&doc["otherData"]).unwrap_or_default());
    out.push_str("}\n");
    out
}

impl Builder<'_> {
    fn start_on(&self, tid: u64, now: u64) -> u64 {
        now.max(self.cursor.get(tid as usize).copied().unwrap_or(0))
    }

    fn set_cursor(&mut self, tid: u64, end: u64) {
        let at = tid as usize;
        if self.cursor.len() <= at {
            self.cursor.resize(at + 1, 0);
        }
        self.cursor[at] = end;
    }

    fn pid_of(&self, sub: SubId) -> u64 {
        self.sim.compiled().subs.get(sub.0 as usize).map_or(0, |s| u64::from(s.service.0)) + 1
    }

    fn type_of(&self, message: u32) -> String {
        self.sim
            .message(crate::sim::envelope::MessageId(message))
            .map_or("?".to_string(), |m| short_type(&m.envelope.event_type).to_string())
    }

    fn event_id(&self, message: u32) -> String {
        self.sim.message(crate::sim::envelope::MessageId(message)).map_or(String::new(), |m| m.envelope.id.clone())
    }

    /// Ends the handling open on `sub`, if any, as an `X` slice.
    fn close(&mut self, sub: SubId, now: u64, outcome: &str) {
        let Some(open) = self.open.get_mut(sub.0 as usize).and_then(Option::take) else { return };
        let tid = u64::from(sub.0) + 1;
        let end = now.max(open.start_us + 1);
        self.set_cursor(tid, end);
        let message = crate::sim::envelope::MessageId(open.message);
        let compensation = self.sim.message(message).is_some_and(|m| m.compensation);
        let mut args = Map::new();
        args.insert("event".into(), self.event_id(open.message).into());
        args.insert("attempt".into(), open.attempt.into());
        args.insert("outcome".into(), outcome.into());
        self.events.push(json!({
            "name": self.type_of(open.message),
            "cat": if compensation { "compensation" } else { "handling" },
            "ph": "X",
            "pid": self.pid_of(sub),
            "tid": tid,
            "ts": open.start_us,
            "dur": end - open.start_us,
            "args": args,
        }));
    }
}

/// Queue and DLQ depth per subscription, sampled whenever they change, by replaying
/// the run from its configuration (the simulation keeps no history of its queues).
fn counters(sim: &Simulation, bus_pid: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(mut replay) = Simulation::new(sim.config().clone()) else { return out };
    let subs = replay.compiled().subs.clone();
    let mut last: Vec<Option<(u64, u64)>> = vec![None; subs.len()];
    let mut samples = 0u32;
    let target = sim.step_index();
    let mut time_ms = 0;
    loop {
        for (i, s) in subs.iter().enumerate() {
            let state = replay.sub_state(SubId(i as u32));
            let depth = (state.queue.len() as u64, state.dlq.len() as u64);
            if last[i] != Some(depth) {
                last[i] = Some(depth);
                out.push(json!({"name":s.name,"ph":"C","pid":u64::from(s.service.0) + 1,"ts":us(time_ms),
                    "args":{"queue":depth.0,"dlq":depth.1}}));
                samples += 1;
            }
        }
        if samples >= COUNTER_SAMPLES_MAX {
            out.push(json!({"name":format!("counter sampling stopped at step {}", replay.step_index()),
                "ph":"i","s":"g","pid":bus_pid,"tid":0,"ts":us(time_ms)}));
            break;
        }
        if replay.step_index() >= target {
            break;
        }
        match replay.step() {
            Some(record) => time_ms = record.time_ms,
            None => break,
        }
    }
    out
}

/// One end of a flow arrow: (event index, (pid, tid), ts).
type FlowEnd = (usize, (u64, u64), f64);

/// Checks the structural rules of a trace-event document, as a trace viewer relies
/// on them. Returns every problem found (at most 50), each naming the event.
pub fn check(doc: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let mut problem = |p: String| {
        if problems.len() < 50 {
            problems.push(p);
        }
    };
    let Some(events) = doc.get("traceEvents").and_then(Value::as_array) else {
        return Err(vec!["traceEvents: missing or not an array".into()]);
    };
    if let Some(unit) = doc.get("displayTimeUnit") {
        if !matches!(unit.as_str(), Some("ms" | "ns")) {
            problem("displayTimeUnit: must be \"ms\" or \"ns\"".into());
        }
    }
    let mut process_names = BTreeMap::new();
    let mut thread_names = BTreeMap::new();
    // Per thread: the last X start and the stack of open slices (ends).
    let mut threads: BTreeMap<(u64, u64), (f64, Vec<f64>)> = BTreeMap::new();
    let mut slices: BTreeMap<(u64, u64), Vec<(f64, f64)>> = BTreeMap::new();
    // Per flow id: its starts and its ends.
    let mut flows: BTreeMap<u64, (Vec<FlowEnd>, Vec<FlowEnd>)> = BTreeMap::new();
    let mut asyncs: BTreeMap<(String, u64), (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut used_pids = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let at = format!("traceEvents[{i}]");
        let Some(o) = e.as_object() else {
            problem(format!("{at}: not an object"));
            continue;
        };
        let Some(ph) = o.get("ph").and_then(Value::as_str) else {
            problem(format!("{at}: ph missing"));
            continue;
        };
        let Some(pid) = o.get("pid").and_then(Value::as_u64) else {
            problem(format!("{at}: pid must be a non-negative integer"));
            continue;
        };
        let tid = o.get("tid").and_then(Value::as_u64);
        let ts = o.get("ts").and_then(Value::as_f64);
        if ph != "M" {
            used_pids.insert(pid, i);
            if !ts.is_some_and(|t| t >= 0.0) {
                problem(format!("{at}: ts must be a non-negative number"));
                continue;
            }
        }
        let ts = ts.unwrap_or(0.0);
        let name_arg = || o.get("args").and_then(|a| a.get("name")).and_then(Value::as_str).map(str::to_string);
        match ph {
            "M" => match o.get("name").and_then(Value::as_str) {
                Some("process_name") => match name_arg() {
                    Some(n) => {
                        process_names.insert(pid, n);
                    }
                    None => problem(format!("{at}: process_name needs args.name")),
                },
                Some("thread_name") => match (tid, name_arg()) {
                    (Some(t), Some(n)) => {
                        thread_names.insert((pid, t), n);
                    }
                    _ => problem(format!("{at}: thread_name needs an integer tid and args.name")),
                },
                Some("process_sort_index" | "thread_sort_index") => {}
                other => problem(format!("{at}: unknown metadata {other:?}")),
            },
            "X" => {
                let Some(tid) = tid else {
                    problem(format!("{at}: X slice needs an integer tid"));
                    continue;
                };
                let Some(dur) = o.get("dur").and_then(Value::as_f64).filter(|d| *d >= 0.0) else {
                    problem(format!("{at}: X slice needs a non-negative dur"));
                    continue;
                };
                if o.get("name").and_then(Value::as_str).is_none() {
                    problem(format!("{at}: X slice needs a name"));
                }
                let (last_ts, stack) = threads.entry((pid, tid)).or_insert((0.0, Vec::new()));
                if ts < *last_ts {
                    problem(format!("{at}: ts {ts} goes back in time on thread {pid}/{tid} (after {last_ts})"));
                }
                *last_ts = ts;
                while stack.last().is_some_and(|end| *end <= ts) {
                    stack.pop();
                }
                if let Some(end) = stack.last() {
                    if ts + dur > *end {
                        problem(format!(
                            "{at}: slice overlaps the enclosing slice on thread {pid}/{tid} without nesting"
                        ));
                    }
                }
                stack.push(ts + dur);
                slices.entry((pid, tid)).or_default().push((ts, ts + dur));
            }
            "s" | "f" => {
                let Some(id) = o.get("id") else {
                    problem(format!("{at}: flow event needs an id"));
                    continue;
                };
                let Some(id) = id.as_u64() else {
                    problem(format!("{at}: flow id must be an integer, got {id}"));
                    continue;
                };
                let Some(tid) = tid else {
                    problem(format!("{at}: flow event needs an integer tid"));
                    continue;
                };
                let entry = flows.entry(id).or_default();
                if ph == "s" {
                    entry.0.push((i, (pid, tid), ts));
                } else {
                    if o.get("bp").and_then(Value::as_str) != Some("e") {
                        problem(format!("{at}: flow end needs \"bp\":\"e\" to bind to its enclosing slice"));
                    }
                    entry.1.push((i, (pid, tid), ts));
                }
            }
            "C" => match o.get("args").and_then(Value::as_object) {
                Some(a) if !a.is_empty() && a.values().all(Value::is_number) => {}
                _ => problem(format!("{at}: counter needs numeric args")),
            },
            "b" | "e" => {
                let cat = o.get("cat").and_then(Value::as_str).unwrap_or_default().to_string();
                let Some(id) = o.get("id").and_then(Value::as_u64) else {
                    problem(format!("{at}: async event id must be an integer"));
                    continue;
                };
                let entry = asyncs.entry((cat, id)).or_default();
                if ph == "b" {
                    entry.0.push(ts);
                } else {
                    entry.1.push(ts);
                }
            }
            "i" => {}
            other => problem(format!("{at}: unexpected ph {other:?}")),
        }
    }
    let inside = |thread: (u64, u64), ts: f64| {
        slices.get(&thread).is_some_and(|list| list.iter().any(|(start, end)| *start <= ts && ts <= *end))
    };
    for (id, (starts, ends)) in &flows {
        match (starts.as_slice(), ends.as_slice()) {
            ([(si, st, sts)], [(fi, ft, fts)]) => {
                if fts < sts {
                    problem(format!("traceEvents[{fi}]: flow {id} ends before it starts"));
                }
                if !inside(*st, *sts) {
                    problem(format!("traceEvents[{si}]: flow {id} starts outside any slice of its thread"));
                }
                if !inside(*ft, *fts) {
                    problem(format!("traceEvents[{fi}]: flow {id} ends outside any slice of its thread"));
                }
            }
            _ => problem(format!("flow {id}: has {} start(s) and {} end(s); needs one each", starts.len(), ends.len())),
        }
    }
    for ((cat, id), (begins, ends)) in &asyncs {
        match (begins.as_slice(), ends.as_slice()) {
            ([b], [e]) if e >= b => {}
            _ => problem(format!("async {cat}/{id}: needs one b and one later e")),
        }
    }
    for (pid, i) in used_pids {
        if !process_names.contains_key(&pid) {
            problem(format!("traceEvents[{i}]: process {pid} has no process_name"));
        }
    }
    for thread in slices.keys() {
        if !thread_names.contains_key(thread) {
            problem(format!("thread {}/{} has slices but no thread_name", thread.0, thread.1));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
