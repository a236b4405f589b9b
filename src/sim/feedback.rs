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

use std::collections::BTreeMap;

use serde_json::Value;

use super::scenario::{EmitSpec, Part, Placeholders, Scenario, ScenarioError, Template};

/// The node of the field graph for the event's subject (data fields use their names).
const SUBJECT: &str = "{subject}";

/// Warnings (handlers that feed their own input) and errors (templates that grow on
/// such a loop), each with the JSON path of the emit or field.
pub fn check(s: &Scenario) -> (Vec<ScenarioError>, Vec<ScenarioError>) {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for (i, svc) in s.services.iter().enumerate() {
        let topics: Vec<&str> =
            s.subscriptions.iter().filter(|x| x.service == svc.name).map(|x| x.topic.as_str()).collect();
        for (j, h) in svc.handlers.iter().enumerate() {
            let lists = [("emit", &h.emit), ("otherwise", &h.otherwise)];
            for (list, emits) in lists {
                for (k, e) in emits.iter().enumerate() {
                    if e.event_type != h.on || !topics.contains(&e.topic.as_str()) {
                        continue;
                    }
                    let path = format!("services[{i}].handlers[{j}].{list}[{k}]");
                    warnings.push(ScenarioError {
                        path: path.clone(),
                        message: format!(
                            "emits '{}' to '{}', which '{}' subscribes to: the handler feeds its own input, so it \
                             loops until a guard (a \"require\") stops it or the run reaches a limit",
                            e.event_type, e.topic, svc.name
                        ),
                    });
                    if let Some(error) = growth(&path, e) {
                        errors.push(error);
                    }
                }
            }
            for (k, r) in h.record.iter().enumerate() {
                let feeds = r.topic.as_deref().is_some_and(|t| topics.contains(&t)) && r.event_type == h.on;
                if feeds {
                    warnings.push(ScenarioError {
                        path: format!("services[{i}].handlers[{j}].record[{k}]"),
                        message: format!(
                            "records '{}' and publishes it to a topic '{}' subscribes to: the handler feeds its own input",
                            r.event_type, svc.name
                        ),
                    });
                }
            }
        }
    }
    (warnings, errors)
}

/// The field graph of one emit that routes back to its handler: for each output field
/// (and the subject), how many copies of each input field its template takes.
fn field_graph(e: &EmitSpec) -> BTreeMap<String, BTreeMap<String, u32>> {
    let mut graph: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let data = e.data.as_ref();
    let known = |f: &str| f == SUBJECT || data.is_none_or(|d| d.contains_key(f));
    let mut add = |to: &str, template: &Template| {
        for p in &template.parts {
            let from = match p {
                Part::Subject => SUBJECT,
                Part::Field(f) => f.as_str(),
                Part::Text(_) | Part::Repetition => continue,
            };
            // A field the output does not carry is absent on the next hop: the chain ends.
            if known(from) {
                *graph.entry(to.to_string()).or_default().entry(from.to_string()).or_insert(0) += 1;
            }
        }
    };
    match &e.subject {
        Some(t) => {
            if let Ok(t) = Template::parse(t, Placeholders::EVENT) {
                add(SUBJECT, &t);
            }
        }
        None => add(SUBJECT, &Template { parts: vec![Part::Subject] }),
    }
    // Without `data` the payload is copied as it is: one copy of each field, no growth.
    for (key, value) in data.into_iter().flatten() {
        if let Value::String(text) = value {
            if let Ok(t) = Template::parse(text, Placeholders::EVENT) {
                add(key, &t);
            }
        }
    }
    graph
}

/// The refusal of an emit whose loop grows some field, or `None`.
fn growth(path: &str, e: &EmitSpec) -> Option<ScenarioError> {
    let graph = field_graph(e);
    for group in strongly_connected(&graph) {
        let copies: u32 = group
            .iter()
            .flat_map(|to| graph.get(to).into_iter().flatten())
            .filter(|(from, _)| group.contains(from))
            .map(|(_, n)| n)
            .sum();
        let fields = group.len() as u32;
        let looped = copies > 0 && (fields > 1 || graph.get(&group[0]).is_some_and(|g| g.contains_key(&group[0])));
        if !looped || copies <= fields {
            continue;
        }
        let first = &group[0];
        let at = if first == SUBJECT { format!("{path}.subject") } else { format!("{path}.data.{first}") };
        let names: Vec<String> = group.iter().map(|g| format!("'{g}'")).collect();
        return Some(ScenarioError {
            path: at,
            message: format!(
                "grows without bound: this emit feeds its own handler through '{}', and each hop builds {} from {copies} \
                 copies of {}; use each input field at most once in a loop",
                e.topic,
                names.join(", "),
                if fields == 1 { "itself" } else { "each other" },
            ),
        });
    }
    None
}

/// The strongly connected groups of the graph (edges from input field to output
/// field), each sorted, in a deterministic order (Tarjan's algorithm over sorted names).
fn strongly_connected(graph: &BTreeMap<String, BTreeMap<String, u32>>) -> Vec<Vec<String>> {
    // Nodes: every name that appears; edges: from -> to.
    let mut names: Vec<&str> = Vec::new();
    for (to, froms) in graph {
        names.push(to);
        names.extend(froms.keys().map(String::as_str));
    }
    super::sorting::sort(&mut names);
    names.dedup();
    let index = |n: &str| names.binary_search(&n).unwrap_or(0);
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    for (to, froms) in graph {
        for from in froms.keys() {
            out_edges[index(from)].push(index(to));
        }
    }
    struct Tarjan<'a> {
        edges: &'a [Vec<usize>],
        order: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        groups: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.order[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for i in 0..self.edges[v].len() {
                let w = self.edges[v][i];
                match self.order[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(o) if self.on_stack[w] => self.low[v] = self.low[v].min(o),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.order[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                self.groups.push(group);
            }
        }
    }
    // Depth is at most the number of fields (64 and the subject), so recursion is safe.
    let n = names.len();
    let mut t = Tarjan {
        edges: &out_edges,
        order: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        groups: Vec::new(),
    };
    for v in 0..n {
        if t.order[v].is_none() {
            t.visit(v);
        }
    }
    t.groups
        .into_iter()
        .map(|g| {
            let mut group: Vec<String> = g.into_iter().map(|i| names[i].to_string()).collect();
            super::sorting::sort(&mut group);
            group
        })
        .collect()
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
