//! Loops in a scenario: handlers that feed their own input, and templates that make
//! a payload grow on every trip around such a loop.
//!
//! A handler that emits the very event type it handles, to a topic its own service
//! subscribes to, handles its own output. That can be legitimate (a countdown with a
//! `require` guard, a retry loop), so it is a *warning*: the run will be bounded by
//! the step limit and the limits of `limits`, but probably not what was meant.
//!
//! A loop whose templates copy a field more than once per hop is another matter: with
//! `"p": "{data.p}{data.p}"` the payload doubles every hop, and nothing in the run can
//! make that converge, so validation refuses it. The size of each output field is a
//! sum of input field sizes, a linear map with non-negative integer weights (how often
//! `{data.f}` appears in the template of field `k`). Sizes stay bounded along the loop
//! exactly when every strongly connected group of fields is a plain cycle of single
//! copies (a permutation, spectral radius 1); any group whose internal copies outnumber
//! its fields grows geometrically. That is decided here for a handler's own loop (an
//! emit that routes straight back to it). Longer cycles through several handlers are
//! left to the run-time limits, which stop them within a few hops.

use serde_json::Value;

use super::limits::{indexed, joined};
use super::scenario::{EmitSpec, Part, Placeholders, Scenario, ScenarioError, Template};

/// The node of the field graph for the event's subject (data fields use their names).
const SUBJECT: &str = "{subject}";

/// A handler's output that comes back to it: an emit (or a published record) of the
/// type it handles, to a topic its own service subscribes to.
enum Feedback<'a> {
    Emit { path: String, service: &'a str, emit: &'a EmitSpec },
    Record { path: String, service: &'a str, event_type: &'a str },
}

/// Calls `each` for every output of a handler that feeds its own input.
fn feedbacks<'a>(s: &'a Scenario, mut each: impl FnMut(Feedback<'a>)) {
    for (i, svc) in s.services.iter().enumerate() {
        let topics: Vec<&str> =
            s.subscriptions.iter().filter(|x| x.service == svc.name).map(|x| x.topic.as_str()).collect();
        for (j, h) in svc.handlers.iter().enumerate() {
            let handler = joined(&indexed("services", i as u64), &indexed("handlers", j as u64));
            for (list, emits) in [("emit", &h.emit), ("otherwise", &h.otherwise)] {
                for (k, e) in emits.iter().enumerate() {
                    if e.event_type == h.on && topics.contains(&e.topic.as_str()) {
                        let path = joined(&handler, &indexed(list, k as u64));
                        each(Feedback::Emit { path, service: &svc.name, emit: e });
                    }
                }
            }
            for (k, r) in h.record.iter().enumerate() {
                if r.event_type == h.on && r.topic.as_deref().is_some_and(|t| topics.contains(&t)) {
                    let path = joined(&handler, &indexed("record", k as u64));
                    each(Feedback::Record { path, service: &svc.name, event_type: &r.event_type });
                }
            }
        }
    }
}

/// Handlers that feed their own input, each with the JSON path of the emit or record.
pub fn warnings(s: &Scenario) -> Vec<ScenarioError> {
    let mut warnings = Vec::new();
    feedbacks(s, |f| {
        let (path, message) = match f {
            Feedback::Emit { path, service, emit } => (
                path,
                format!(
                    "emits '{}' to '{}', which '{service}' subscribes to: the handler feeds its own input, so it \
                     loops until a guard (a \"require\") stops it or the run reaches a limit",
                    emit.event_type, emit.topic
                ),
            ),
            Feedback::Record { path, service, event_type } => (
                path,
                format!("records '{event_type}' and publishes it to a topic '{service}' subscribes to: the handler feeds its own input"),
            ),
        };
        warnings.push(ScenarioError { path, message });
    });
    warnings
}

/// Templates that grow on a handler's own loop, each with the JSON path of the field.
pub fn refusals(s: &Scenario) -> Vec<ScenarioError> {
    let mut errors = Vec::new();
    feedbacks(s, |f| {
        if let Feedback::Emit { path, emit, .. } = f {
            errors.extend(growth(&path, emit));
        }
    });
    errors
}

/// The field graph of one emit that routes back to its handler: node 0 is the
/// subject, the others are payload fields; each edge says how many copies of an input
/// field (`from`) the template of an output field (`to`) takes.
struct FieldGraph<'a> {
    names: Vec<&'a str>,
    /// (from, to, copies)
    edges: Vec<(usize, usize, u32)>,
}

impl<'a> FieldGraph<'a> {
    fn of(e: &'a EmitSpec, templates: &'a [(String, Template)]) -> Self {
        let mut g = FieldGraph { names: vec![SUBJECT], edges: Vec::new() };
        let data = e.data.as_ref();
        if let Some(d) = data {
            g.names.extend(d.keys().map(String::as_str));
        }
        for (to, template) in templates {
            let to = g.node(to);
            for p in &template.parts {
                let from = match p {
                    Part::Subject => SUBJECT,
                    Part::Field(f) => f.as_str(),
                    Part::Text(_) | Part::Repetition => continue,
                };
                // A field the output does not carry is absent on the next hop: the
                // chain ends there.
                if from != SUBJECT && data.is_some_and(|d| !d.contains_key(from)) {
                    continue;
                }
                let from = g.node(from);
                match g.edges.iter_mut().find(|(f, t, _)| (*f, *t) == (from, to)) {
                    Some(edge) => edge.2 += 1,
                    None => g.edges.push((from, to, 1)),
                }
            }
        }
        g
    }

    fn node(&mut self, name: &'a str) -> usize {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                self.names.push(name);
                self.names.len() - 1
            }
        }
    }

    /// Which nodes each node reaches by one or more edges: `reach[from * n + to]`.
    fn reach(&self) -> Vec<bool> {
        let n = self.names.len();
        let mut reach = vec![false; n * n];
        for start in 0..n {
            let mut stack = vec![start];
            while let Some(v) = stack.pop() {
                for &(from, to, _) in &self.edges {
                    if from == v && !reach[start * n + to] {
                        reach[start * n + to] = true;
                        stack.push(to);
                    }
                }
            }
        }
        reach
    }
}

/// The templates an emit writes, by output name: the subject (node 0) and each
/// payload field that is a template. Without `subject` it is copied (one copy of
/// itself); without `data` the payload is copied as it is, which cannot grow.
fn templates(e: &EmitSpec) -> Vec<(String, Template)> {
    let subject = match &e.subject {
        Some(t) => Template::parse(t, Placeholders::EVENT).ok(),
        None => Some(Template { parts: vec![Part::Subject] }),
    };
    let mut out: Vec<(String, Template)> = subject.into_iter().map(|t| (SUBJECT.to_string(), t)).collect();
    for (key, value) in e.data.iter().flatten() {
        if let Value::String(text) = value {
            if let Ok(t) = Template::parse(text, Placeholders::EVENT) {
                out.push((key.clone(), t));
            }
        }
    }
    out
}

/// The refusal of an emit whose loop grows some field, or `None`.
fn growth(path: &str, e: &EmitSpec) -> Option<ScenarioError> {
    let templates = templates(e);
    let g = FieldGraph::of(e, &templates);
    let reach = g.reach();
    let n = g.names.len();
    let mut seen = vec![false; n];
    for i in 0..n {
        if seen[i] || !reach[i * n + i] {
            continue;
        }
        // The strongly connected group of `i`: the nodes it reaches that reach it back.
        let group: Vec<usize> = (0..n).filter(|&j| reach[i * n + j] && reach[j * n + i]).collect();
        for &j in &group {
            seen[j] = true;
        }
        let copies: u32 =
            g.edges.iter().filter(|(f, t, _)| group.contains(f) && group.contains(t)).map(|(_, _, c)| c).sum();
        if copies <= group.len() as u32 {
            continue;
        }
        let first = g.names[group[0]];
        let at = if first == SUBJECT { joined(path, "subject") } else { joined(&joined(path, "data"), first) };
        return Some(ScenarioError {
            path: at,
            message: format!(
                "grows without bound: this emit feeds its own handler through '{}', and each hop builds its {} \
                 looping field(s) from {copies} copies of them; use each input field at most once in a loop",
                e.topic,
                group.len(),
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn emit(subject: Option<&str>, data: Value) -> EmitSpec {
        let Value::Object(data) = data else { panic!("data is an object") };
        EmitSpec {
            topic: "t".into(),
            event_type: "x".into(),
            kind: super::super::EventKind::Domain,
            subject: subject.map(str::to_string),
            data: Some(data.into_iter().collect()),
            compensation: false,
        }
    }

    fn grows(subject: Option<&str>, data: Value) -> Option<String> {
        growth("e", &emit(subject, data)).map(|e| e.path)
    }

    #[test]
    fn repeating_a_field_on_its_own_loop_grows() {
        assert_eq!(grows(None, json!({ "p": "{data.p}{data.p}" })), Some("e.data.p".into()));
        assert_eq!(grows(Some("{subject}-{subject}"), json!({})), Some("e.subject".into()));
        // Two fields that feed each other with one extra copy: Fibonacci growth.
        assert_eq!(grows(None, json!({ "p": "{data.p}{data.q}", "q": "{data.p}" })), Some("e.data.p".into()));
    }

    #[test]
    fn single_copies_and_permutations_do_not_grow() {
        for data in [
            json!({ "p": "{data.p}" }),
            json!({ "p": "{data.p}-suffix", "n": 3 }),
            json!({ "p": "{data.q}", "q": "{data.p}" }),
            json!({ "p": "{data.q}{data.q}" }),
            json!({ "p": "{data.gone}{data.gone}" }),
            json!({ "p": "{subject}{subject}" }),
        ] {
            assert_eq!(grows(None, data.clone()), None, "{data}");
        }
        assert_eq!(grows(Some("order-{data.id}"), json!({ "id": "{data.id}" })), None);
    }
}
