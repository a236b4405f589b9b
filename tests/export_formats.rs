//! The exports' structure, checked natively on every built-in scenario: Perfetto's
//! trace-event rules (with deliberately broken documents the checker must reject),
//! Mermaid's bounded, escaped diagram, CloudEvents' attribute rules, and AsyncAPI
//! references that resolve. The real tools check the same files in
//! `e2e/exports.test.mjs`; these tests run without Node and pin the details.

mod common;

use common::builtin;
use eventscope::export::{asyncapi, cloudevents, mermaid, perfetto, trace_file};
use eventscope::sim::scenario::builtin_names;
use eventscope::sim::{Fault, FaultScript, RunConfig, Simulation};
use serde_json::{json, Value};

fn finished(name: &str, seed: u64, faults: FaultScript) -> Simulation {
    let mut sim =
        Simulation::new(RunConfig { scenario: builtin(name), seed, faults, anti_patterns: Vec::new() }).unwrap();
    sim.run_to_end();
    sim
}

/// Every built-in with random faults, plus checkout with its shipping out of trucks
/// (so the compensation chain runs) and a crash injected by hand.
fn runs() -> Vec<(String, Simulation)> {
    let mut out = Vec::new();
    for name in builtin_names() {
        for seed in [1, 7] {
            out.push((format!("{name} seed {seed}"), finished(name, seed, FaultScript::random(100))));
        }
    }
    out.push(("checkout without trucks".into(), checkout_without_trucks()));
    out
}

fn checkout_without_trucks() -> Simulation {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout"), 1)).unwrap();
    sim.inject(Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 }).unwrap();
    sim.run(40);
    sim.inject(Fault::CrashService { service: "payment".into(), restart_after_ms: Some(30) }).unwrap();
    sim.run_to_end();
    sim
}

// ---------------------------------------------------------------------------------
// Perfetto
// ---------------------------------------------------------------------------------

#[test]
fn perfetto_exports_follow_the_trace_event_rules() {
    for (what, sim) in runs() {
        let doc = perfetto::trace_events(&sim);
        if let Err(problems) = perfetto::check(&doc) {
            panic!("{what}:\n{}", problems.join("\n"));
        }
        let events = doc["traceEvents"].as_array().unwrap();
        let count = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
        let services = sim.compiled().services.len();
        let names = events.iter().filter(|e| e["name"] == "process_name").count();
        assert_eq!(names, services + 1, "{what}: a process per service, plus the bus");
        assert!(count("X") > 0 && count("s") > 0 && count("s") == count("f"), "{what}");
        assert!(count("C") > 0, "{what}: queue counters");
        assert_eq!(doc["displayTimeUnit"], "ms");
        // The text form is the same document.
        let text: Value = serde_json::from_str(&perfetto::to_json(&sim)).unwrap();
        assert_eq!(text["traceEvents"], doc["traceEvents"], "{what}");
    }
}

#[test]
fn perfetto_shows_each_saga_instance_as_an_async_slice() {
    let sim = finished("checkout-orchestration", 1, FaultScript::default());
    let doc = perfetto::trace_events(&sim);
    let begins: Vec<&Value> = doc["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "b").collect();
    assert_eq!(begins.len(), sim.saga_instances().len());
    assert!(begins.iter().all(|b| b["cat"] == "saga" && b["id"].is_u64()));
}

/// A valid export with one thing broken must be rejected with a message about it.
fn rejects(what: &str, expect: &str, doc: &Value) {
    match perfetto::check(doc) {
        Ok(()) => panic!("the checker accepted a document with {what}"),
        Err(problems) => {
            assert!(problems.iter().any(|p| p.contains(expect)), "{what}: expected '{expect}' in {problems:?}")
        }
    }
}

fn edit(doc: &Value, pick: impl Fn(&Value) -> bool, change: impl Fn(&mut Value)) -> Value {
    let mut doc = doc.clone();
    let event = doc["traceEvents"].as_array_mut().unwrap().iter_mut().find(|e| pick(e)).expect("an event to edit");
    change(event);
    doc
}

#[test]
fn the_perfetto_checker_rejects_broken_exports() {
    // The orchestrated checkout has every kind of event, saga slices included.
    let doc = perfetto::trace_events(&finished("checkout-orchestration", 1, FaultScript::default()));
    assert!(perfetto::check(&doc).is_ok());

    rejects(
        "a string flow id",
        "flow id must be an integer",
        &edit(&doc, |e| e["ph"] == "s", |e| e["id"] = json!("7")),
    );
    rejects("a flow without its end", "needs one each", &edit(&doc, |e| e["ph"] == "f", |e| e["id"] = json!(999_999)));
    rejects(
        "a flow end that does not bind",
        "bp",
        &edit(
            &doc,
            |e| e["ph"] == "f",
            |e| {
                e.as_object_mut().unwrap().remove("bp");
            },
        ),
    );
    rejects(
        "a missing thread name",
        "no thread_name",
        &edit(&doc, |e| e["name"] == "thread_name", |e| e["tid"] = json!(4242)),
    );
    rejects(
        "a missing process name",
        "no process_name",
        &edit(&doc, |e| e["name"] == "process_name" && e["args"]["name"] == "bus", |e| e["pid"] = json!(4242)),
    );
    rejects("a negative duration", "dur", &edit(&doc, |e| e["ph"] == "X", |e| e["dur"] = json!(-5)));
    rejects("an unmatched async begin", "needs one b", &edit(&doc, |e| e["ph"] == "e", |e| e["id"] = json!(31337)));

    // Two slices on one thread that overlap without nesting.
    let mut overlapping = doc.clone();
    let events = overlapping["traceEvents"].as_array_mut().unwrap();
    let first =
        events.iter().position(|e| e["ph"] == "X" && e["cat"] == "handling" && e["ts"].as_u64() > Some(0)).unwrap();
    let (pid, tid, ts, dur) = {
        let e = &events[first];
        (e["pid"].clone(), e["tid"].clone(), e["ts"].as_u64().unwrap(), e["dur"].as_u64().unwrap())
    };
    let mut clash = events[first].clone();
    clash["ts"] = json!(ts + dur / 2);
    clash["dur"] = json!(dur);
    clash["pid"] = pid;
    clash["tid"] = tid;
    events.insert(first + 1, clash);
    rejects("overlapping slices", "without nesting", &overlapping);

    // A slice that goes back in time on its thread.
    let mut backwards = overlapping.clone();
    backwards["traceEvents"][first + 1]["ts"] = json!(ts.saturating_sub(1));
    rejects("a slice out of order", "goes back in time", &backwards);

    rejects("no traceEvents", "traceEvents", &json!({"displayTimeUnit": "ms"}));
}

// ---------------------------------------------------------------------------------
// Mermaid
// ---------------------------------------------------------------------------------

fn arrows(diagram: &str) -> usize {
    diagram.lines().filter(|l| l.contains("->>") || l.contains("-x")).count()
}

#[test]
fn mermaid_diagrams_are_well_formed_for_every_scenario() {
    for (what, sim) in runs() {
        let d = mermaid::sequence_diagram(&sim, None);
        assert!(d.starts_with("sequenceDiagram\n"), "{what}");
        assert_eq!(d.matches("\n    rect ").count(), d.matches("\n    end\n").count(), "{what}: rect blocks close");
        for line in d.lines().skip(1) {
            let body = line.trim_start();
            let known = ["title ", "participant ", "Note over ", "rect ", "end"].iter().any(|k| body.starts_with(k))
                || body.split_once(':').is_some_and(|(head, _)| head.starts_with('s') || head.starts_with('c'));
            assert!(known, "{what}: unexpected line {line:?}");
            let text = body.split_once(": ").map_or("", |(_, t)| t);
            assert!(!text.contains(';') || text.contains("#59;"), "{what}: raw ';' in {line:?}");
        }
        assert!(arrows(&d) as u32 <= mermaid::ARROWS_MAX, "{what}");
        assert_eq!(mermaid::sequence_diagram(&sim, None), d, "{what}: deterministic");
    }
}

#[test]
fn mermaid_marks_failures_retries_dead_letters_and_compensations() {
    let poison = mermaid::sequence_diagram(&finished("poison-message", 1, FaultScript::default()), None);
    assert!(poison.contains("-x"), "failed attempts are crossed arrows:\n{poison}");
    assert!(poison.contains(": retry in ") && poison.contains(" ms"), "{poison}");
    assert!(
        poison.contains("dead-lettered (delivery_limit)") || poison.contains("dead-lettered (rejected)"),
        "{poison}"
    );

    let checkout = mermaid::sequence_diagram(&checkout_without_trucks(), None);
    assert!(checkout.contains("    rect rgb("), "compensations are banded:\n{checkout}");
    assert!(checkout.contains("↩ compensate "), "{checkout}");
    assert!(checkout.contains("crashed ("), "{checkout}");
    assert!(checkout.contains("participant s0 as storefront"), "{checkout}");
}

#[test]
fn mermaid_can_show_one_correlation_id() {
    let sim = checkout_without_trucks();
    let first = sim.messages().first().unwrap().envelope.correlation_id.clone().unwrap();
    let whole = mermaid::sequence_diagram(&sim, None);
    let one = mermaid::sequence_diagram(&sim, Some(&first));
    assert!(arrows(&one) > 3 && arrows(&one) < arrows(&whole), "{one}");
    assert!(one.lines().next_back().is_some());
    let none = mermaid::sequence_diagram(&sim, Some("no-such-flow"));
    assert!(none.contains("no deliveries with correlation id no-such-flow"), "{none}");
}

#[test]
fn mermaid_output_is_bounded() {
    let mut scenario = builtin("pubsub");
    scenario.workload[0].repeat.as_mut().unwrap().count = 2_000;
    let mut sim = Simulation::new(RunConfig::new(scenario, 1)).unwrap();
    sim.run_to_end();
    let d = mermaid::sequence_diagram(&sim, None);
    assert_eq!(arrows(&d) as u32, mermaid::ARROWS_MAX);
    assert!(d.trim_end().lines().last().unwrap().contains("truncated at step"), "{}", &d[d.len() - 200..]);
}

#[test]
fn mermaid_text_is_escaped() {
    assert_eq!(mermaid::text("a;b#c\nd<e>"), "a#59;b#35;c d#60;e#62;");
    assert_eq!(mermaid::text(&"x".repeat(500)).chars().count(), 121);
}

// ---------------------------------------------------------------------------------
// CloudEvents
// ---------------------------------------------------------------------------------

fn is_rfc3339_ms(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn cloudevents_follow_the_spec_rules() {
    for (what, sim) in runs() {
        let events = cloudevents::published_events(&sim);
        assert!(!events.is_empty(), "{what}");
        let mut ids = std::collections::BTreeSet::new();
        for e in &events {
            assert!(cloudevents::invalid_attribute_names(e).is_empty(), "{what}: {e}");
            for required in ["specversion", "id", "source", "type"] {
                assert!(e[required].as_str().is_some_and(|s| !s.is_empty()), "{what}: {required} in {e}");
            }
            assert_eq!(e["specversion"], "1.0");
            assert!(is_rfc3339_ms(e["time"].as_str().unwrap()), "{what}: {}", e["time"]);
            assert!(e["correlationid"].is_string(), "{what}: every event belongs to a flow: {e}");
            assert!(ids.insert(e["id"].as_str().unwrap().to_string()), "{what}: each event once");
        }
        let batch: Value = serde_json::from_str(&cloudevents::to_batch(&sim)).unwrap();
        assert_eq!(batch.as_array().unwrap(), &events, "{what}");
        let lines = cloudevents::to_json_lines(&sim);
        assert_eq!(lines.lines().count(), events.len(), "{what}");
        for (line, e) in lines.lines().zip(&events) {
            assert_eq!(&serde_json::from_str::<Value>(line).unwrap(), e);
        }
    }
}

#[test]
fn events_caused_by_other_events_name_their_cause() {
    let sim = finished("checkout", 1, FaultScript::default());
    let events = cloudevents::published_events(&sim);
    let caused: Vec<&Value> = events.iter().filter(|e| e["source"] != "storefront").collect();
    assert!(!caused.is_empty());
    for e in caused {
        let cause = e["causationid"].as_str().expect("causationid");
        assert!(events.iter().any(|c| c["id"] == cause), "the cause {cause} was published too");
    }
    let bad = json!({"specversion": "1.0", "CorrelationId": "x", "averyveryverylongattributename": 1});
    assert_eq!(cloudevents::invalid_attribute_names(&bad).len(), 2);
}

// ---------------------------------------------------------------------------------
// AsyncAPI
// ---------------------------------------------------------------------------------

/// Every `$ref` in the document resolves to a node of the document.
fn unresolved_refs(doc: &Value) -> Vec<String> {
    let mut refs = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    walk(doc, &mut refs);
    refs.into_iter().filter(|r| r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_none()).collect()
}

#[test]
fn asyncapi_documents_describe_the_topology() {
    for name in builtin_names() {
        let scenario = builtin(name);
        let doc = asyncapi::document(&scenario);
        assert_eq!(doc["asyncapi"], "3.0.0");
        assert_eq!(doc["info"]["title"], scenario.title.as_str());
        assert!(unresolved_refs(&doc).is_empty(), "{name}: {:?}", unresolved_refs(&doc));
        let operations = doc["operations"].as_object().unwrap();
        for sub in &scenario.subscriptions {
            let op = &operations[&format!("{}.receive", sub.name)];
            assert_eq!(op["action"], "receive", "{name}");
            assert_eq!(doc["channels"][&sub.topic]["address"], sub.topic.as_str(), "{name}");
        }
        assert!(operations.values().any(|o| o["action"] == "send"), "{name}");
        for message in doc["components"]["messages"].as_object().unwrap().values() {
            assert_eq!(message["contentType"], "application/json");
            assert_eq!(message["payload"]["type"], "object");
        }
        for service in &scenario.services {
            let one = asyncapi::service_document(&scenario, &service.name).unwrap();
            assert!(unresolved_refs(&one).is_empty(), "{name}/{}", service.name);
        }
        assert!(asyncapi::service_document(&scenario, "nobody").is_none());
        assert_eq!(asyncapi::to_json(&scenario), asyncapi::to_json(&scenario), "deterministic");
    }
}

#[test]
fn asyncapi_payloads_list_the_fields_the_scenario_writes() {
    let doc = asyncapi::document(&builtin("checkout"));
    let placed = &doc["components"]["messages"]["order.placed"]["payload"]["properties"];
    assert_eq!(placed["amount"]["type"], "integer", "{placed}");
    assert!(placed["customer"].is_object());
    assert_eq!(doc["channels"]["orders"]["messages"]["order.placed"]["$ref"], "#/components/messages/order.placed");
}

// ---------------------------------------------------------------------------------
// The canonical trace file
// ---------------------------------------------------------------------------------

#[test]
fn the_trace_file_records_the_one_line_columns() {
    let sim = finished("checkout", 1, FaultScript::default());
    let doc: Value = serde_json::from_str(&trace_file::export_trace(&sim)).unwrap();
    assert_eq!(doc["format"], "eventscope-trace");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["step"], sim.step_index());
    assert_eq!(doc["trace_hash"], format!("{:016x}", sim.trace_hash()));
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len() as u64, sim.step_index());
    let first = &steps[0];
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["detail", "event", "step", "time_ms", "type", "verb", "where"]);
    // The columns are exactly the one-line form's.
    let line = sim.line(&sim.trace()[0]);
    for column in ["verb", "event", "type", "where", "detail"] {
        assert!(line.contains(first[column].as_str().unwrap()), "{column} in {line}");
    }
}
