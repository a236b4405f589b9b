//! A Mermaid `sequenceDiagram` of a run, in the Mermaid 11 syntax GitHub renders.
//!
//! Participants are the services (and the workload's external sources), declared
//! with safe ids and their names as aliases (`participant s3 as payment`), because
//! names may hold characters that Mermaid reads as syntax. Each handled delivery is
//! one arrow from the publisher to the consuming service, labelled with the short
//! event type:
//!
//! | arrow / note | meaning |
//! |---|---|
//! | `->>` | handled (declined or ignored say so) |
//! | `-x` + note | the attempt failed; the note says why and what next (`retry in 200 ms`, `dead-lettered (delivery_limit)`) |
//! | `-->>` | a duplicate recognised and skipped |
//! | inside `rect`, `↩ compensate …` | a compensation: undoing an earlier step |
//! | notes | dead-lettering, losses, drops, crashes, partitions, redrives |
//!
//! A diagram of one correlation id shows only that flow's messages (and leaves out
//! service-wide faults, which belong to the whole run). Text from the scenario is
//! sanitised: Mermaid reads `;` and `#` as syntax and a newline ends a statement. The
//! output is bounded to [`ARROWS_MAX`] arrows; a final note says what was left out.

use std::fmt::Write as _;

use super::short_type;
use crate::sim::simulation::{Message, Simulation};
use crate::sim::trace::{AfterFailure, FailureCause, HandleOutcome, Happened, ServiceId, SubId};

/// Most arrows drawn; a longer run ends with a note saying it was truncated.
pub const ARROWS_MAX: u32 = 2_000;
/// Most notes drawn (failures come with notes, so this is a multiple of the arrows).
pub const NOTES_MAX: u32 = 4_000;
/// Longest label, in characters, before it is shortened.
const LABEL_CHARS_MAX: usize = 120;

/// Who sent a message, as a diagram participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Participant {
    /// An external workload source (index into the sources seen).
    Source(u32),
    Service(ServiceId),
}

impl Participant {
    fn id(self) -> String {
        match self {
            Self::Source(i) => format!("c{i}"),
            Self::Service(s) => format!("s{}", s.0),
        }
    }
}

struct Diagram<'a> {
    sim: &'a Simulation,
    /// Workload sources that are not services, in order of first appearance.
    sources: Vec<String>,
    /// Participants with an arrow or a note, each once (a list: a set type would bring
    /// its own copy of the B-tree code for this one use).
    used: Vec<Participant>,
    body: Vec<String>,
    in_rect: bool,
    arrows: u32,
    notes: u32,
}

/// The sequence diagram of the run up to its current step, or of one correlation id.
pub fn sequence_diagram(sim: &Simulation, correlation_id: Option<&str>) -> String {
    let mut d =
        Diagram { sim, sources: Vec::new(), used: Vec::new(), body: Vec::new(), in_rect: false, arrows: 0, notes: 0 };
    let in_flow = |m: &Message| correlation_id.is_none_or(|c| m.envelope.correlation_id.as_deref() == Some(c));
    let trace = sim.trace();
    let mut truncated_at = None;
    for record in trace {
        if d.arrows >= ARROWS_MAX || d.notes >= NOTES_MAX {
            truncated_at = Some(record.step);
            break;
        }
        let h = &record.happened;
        if let Some(m) = h.message() {
            let Some(message) = sim.message(m) else { continue };
            if in_flow(message) {
                d.message_step(message, h);
            }
        } else if correlation_id.is_none() {
            d.service_step(h);
        }
    }
    d.close_rect();
    if let Some(step) = truncated_at {
        let anchor = d.used.iter().min().copied().unwrap_or(Participant::Service(ServiceId(0)));
        d.body.push(format!(
            "    Note over {}: truncated at step {step} of {} (a diagram shows at most {ARROWS_MAX} arrows and {NOTES_MAX} notes)",
            anchor.id(),
            trace.len()
        ));
        d.mark_used(anchor);
    }
    if d.body.is_empty() {
        let anchor = Participant::Service(ServiceId(0));
        let what = match correlation_id {
            Some(c) => format!("no deliveries with correlation id {}", text(c)),
            None => "no deliveries yet".to_string(),
        };
        d.body.push(format!("    Note over {}: {what}", anchor.id()));
        d.mark_used(anchor);
    }
    d.finish(correlation_id)
}

impl Diagram<'_> {
    fn mark_used(&mut self, p: Participant) {
        if !self.used.contains(&p) {
            self.used.push(p);
        }
    }

    fn publisher(&mut self, message: &Message) -> Participant {
        if let Some(s) = message.emitted_by {
            return Participant::Service(s);
        }
        let source = &message.envelope.source;
        if let Some(s) = self.sim.compiled().service_by_name(source) {
            return Participant::Service(s);
        }
        let index = match self.sources.iter().position(|s| s == source) {
            Some(i) => i,
            None => {
                self.sources.push(source.clone());
                self.sources.len() - 1
            }
        };
        Participant::Source(index as u32)
    }

    fn consumer(&self, sub: SubId) -> Participant {
        let service = self.sim.compiled().subs.get(sub.0 as usize).map_or(ServiceId(0), |s| s.service);
        Participant::Service(service)
    }

    fn arrow(&mut self, from: Participant, to: Participant, arrow: &str, label: &str, compensation: bool) {
        if compensation && !self.in_rect {
            // A light red band: compensations run the business flow backwards.
            self.body.push("    rect rgb(255, 236, 230)".to_string());
            self.in_rect = true;
        } else if !compensation {
            self.close_rect();
        }
        self.mark_used(from);
        self.mark_used(to);
        self.body.push(format!("    {}{arrow}{}: {}", from.id(), to.id(), text(label)));
        self.arrows += 1;
    }

    fn note(&mut self, over: Participant, what: &str) {
        self.mark_used(over);
        self.body.push(format!("    Note over {}: {}", over.id(), text(what)));
        self.notes += 1;
    }

    fn close_rect(&mut self) {
        if self.in_rect {
            self.body.push("    end".to_string());
            self.in_rect = false;
        }
    }

    fn message_step(&mut self, message: &Message, h: &Happened) {
        let etype = short_type(&message.envelope.event_type);
        let label = |suffix: &str| {
            let base = if message.compensation { format!("↩ compensate {etype}") } else { etype.to_string() };
            format!("{base}{suffix}")
        };
        let comp = message.compensation;
        match h {
            Happened::Handled { sub, outcome, .. } => {
                let from = self.publisher(message);
                let to = self.consumer(*sub);
                let suffix = match outcome {
                    HandleOutcome::Applied => "",
                    HandleOutcome::Declined => " (declined)",
                    HandleOutcome::Ignored => " (ignored)",
                };
                self.arrow(from, to, "->>", &label(suffix), comp);
            }
            Happened::HandlingFailed { sub, attempt, cause, then, .. } => {
                let from = self.publisher(message);
                let to = self.consumer(*sub);
                self.arrow(from, to, "-x", &label(&format!(" (attempt {attempt})")), comp);
                let next = match then {
                    AfterFailure::RetryInMs(ms) => format!("retry in {ms} ms"),
                    AfterFailure::DeadLettered(reason) => format!("dead-lettered ({})", reason.name()),
                    AfterFailure::Lost => "lost".to_string(),
                    AfterFailure::LoopsWithoutDlq(ms) => format!("no DLQ: again in {ms} ms"),
                };
                self.note(to, &format!("{}: {next}", cause_text(cause)));
            }
            Happened::DuplicateSkipped { sub, .. } => {
                let from = self.publisher(message);
                let to = self.consumer(*sub);
                self.arrow(from, to, "-->>", &label(" (duplicate skipped)"), comp);
            }
            Happened::DeadLettered { sub, reason, .. } => {
                let to = self.consumer(*sub);
                self.note(to, &format!("{etype} dead-lettered ({})", reason.name()));
            }
            Happened::Lost { sub, .. } => {
                let to = self.consumer(*sub);
                self.note(to, &format!("{etype} lost"));
            }
            Happened::Dropped { sub, lost, .. } => {
                let to = self.consumer(*sub);
                let what = if *lost { "dropped and lost" } else { "dropped: redelivered after the ack timeout" };
                self.note(to, &format!("{etype} {what}"));
            }
            Happened::Redriven { sub, .. } => {
                let to = self.consumer(*sub);
                self.note(to, &format!("{etype} redriven from the DLQ"));
            }
            Happened::Discarded { sub, .. } => {
                let to = self.consumer(*sub);
                self.note(to, &format!("{etype} discarded from the DLQ"));
            }
            _ => {}
        }
    }

    fn service_step(&mut self, h: &Happened) {
        let what = match h {
            Happened::Crashed { lost, requeued, .. } => format!("crashed ({lost} lost, {requeued} requeued)"),
            Happened::Restarted { .. } => "restarted".to_string(),
            Happened::Partitioned { duration_ms, .. } => format!("partitioned for {duration_ms} ms"),
            Happened::Healed { .. } => "partition healed".to_string(),
            _ => return,
        };
        if let Some(service) = h.service() {
            self.note(Participant::Service(service), &what);
        }
    }

    fn finish(mut self, correlation_id: Option<&str>) -> String {
        // Declared in a fixed order (sources first, then services by index).
        crate::sim::sorting::sort(&mut self.used);
        let mut out = String::from("sequenceDiagram\n");
        let scenario = &self.sim.config().scenario;
        let _ = write!(out, "    title {} (seed {}", text(&scenario.title), self.sim.seed());
        if let Some(c) = correlation_id {
            let _ = write!(out, ", correlation id {}", text(c));
        }
        out.push_str(")\n");
        for p in &self.used {
            let name = match p {
                Participant::Source(i) => self.sources.get(*i as usize).map_or("source", String::as_str),
                Participant::Service(s) => {
                    self.sim.compiled().services.get(s.0 as usize).map_or("?", |s| s.name.as_str())
                }
            };
            let _ = writeln!(out, "    participant {} as {}", p.id(), alias(name));
        }
        for line in self.body {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

fn cause_text(cause: &FailureCause) -> String {
    match cause {
        FailureCause::Malformed { field } => format!("malformed (no data.{field})"),
        FailureCause::Poisoned => "poison message".to_string(),
        FailureCause::Injected => "injected failure".to_string(),
        FailureCause::FailureRate => "failure rate".to_string(),
        FailureCause::UnreadableHistory { position, field } => {
            format!("cannot fold stored event {position} (no data.{field})")
        }
        FailureCause::Conflict { stream, expected, actual } => {
            format!("conflict on {stream} (read v{expected}, now v{actual})")
        }
    }
}

/// Message and note text: one line, with Mermaid's syntax characters written as the
/// entity codes Mermaid decodes (`#59;` is `;`), and bounded in length.
pub fn text(raw: &str) -> String {
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        if i == LABEL_CHARS_MAX {
            out.push('…');
            break;
        }
        match c {
            ';' => out.push_str("#59;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '%' => out.push_str("#37;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// A participant's alias: names are validated to letters, digits, `-`, `_` and `.`,
/// but workload sources are free text, so anything else becomes `_`.
fn alias(name: &str) -> String {
    let cleaned: String =
        name.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if cleaned.is_empty() {
        "_".to_string()
    } else {
        cleaned
    }
}
