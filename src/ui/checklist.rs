//! The curriculum's verification checklist, live for the run on screen.
//!
//! `lessons::checklist::evaluate` judges each item from what the run is configured to
//! do and what it did so far; this module only draws the verdicts. Two forms share the
//! same data: a strip of seven chips for free play (one row, so the simulator keeps its
//! room) with a "Why?" list of reasons, and the full list inside a lesson. Every item
//! links to the lesson that explains it. Colour is never the only signal: each verdict
//! also has its own symbol and word.

use std::rc::Rc;

use yew::prelude::*;

use super::route::{format, Route};
use super::state::RunRef;
use crate::lessons::checklist::{evaluate, Item, Status, Verdict};
use crate::lessons::lesson;

/// A short name for the strip; the full wording is in the tooltip and the list.
pub fn short_name(item: Item) -> &'static str {
    match item {
        Item::EventsImmutableAndVersioned => "Versioned",
        Item::ConsumersIdempotent => "Idempotent",
        Item::DlqForEveryConsumer => "DLQs",
        Item::CorrelationIdsFlow => "Correlation ids",
        Item::CompensationsDefined => "Compensations",
        Item::SchemaEvolution => "Schema evolution",
        Item::Monitoring => "Monitoring",
    }
}

/// A stable name for tests and styles.
pub fn item_key(item: Item) -> &'static str {
    match item {
        Item::EventsImmutableAndVersioned => "versioned",
        Item::ConsumersIdempotent => "idempotent",
        Item::DlqForEveryConsumer => "dlq",
        Item::CorrelationIdsFlow => "correlation",
        Item::CompensationsDefined => "compensations",
        Item::SchemaEvolution => "schema",
        Item::Monitoring => "monitoring",
    }
}

/// Class, symbol and word of a verdict.
pub fn verdict_look(verdict: Verdict) -> (&'static str, &'static str, &'static str) {
    match verdict {
        Verdict::Pass => ("pass", "\u{2713}", "met"),
        Verdict::Fail => ("fail", "\u{2717}", "not met"),
        Verdict::NotApplicable => ("na", "\u{2013}", "does not apply"),
    }
}

/// The checklist of the run, computed once per revision of it.
#[hook]
pub fn use_checklist(run: &RunRef) -> Rc<Vec<Status>> {
    use_memo(run.clone(), |run| evaluate(&run.sim.borrow()))
}

fn lesson_link(item: Item) -> Html {
    match lesson(item.lesson()) {
        Some(l) => html! {
            <a class="check-lesson" href={format(&Route::Lesson(l.slug))}>
                { format!("Lesson {}: {}", l.number, l.title) }
            </a>
        },
        None => Html::default(),
    }
}

#[derive(Properties, PartialEq)]
pub struct ItemRowProps {
    pub status: Status,
    /// The item the open lesson proves: drawn emphasised.
    #[prop_or_default]
    pub highlight: bool,
}

/// One item with its verdict, reason and lesson link.
#[function_component(ItemRow)]
pub fn item_row(props: &ItemRowProps) -> Html {
    let (status, highlight) = (&props.status, props.highlight);
    let (class, symbol, word) = verdict_look(status.verdict);
    html! {
        <li class={classes!("check-item", class, highlight.then_some("proven"))}
            data-item={item_key(status.item)} data-verdict={class}>
            <span class="check-mark" aria-hidden="true">{ symbol }</span>
            <div class="check-body">
                <p class="check-text">
                    { status.item.text() }
                    <span class="visually-hidden">{ format!(" ({word})") }</span>
                </p>
                <p class="check-reason">{ status.reason.clone() }</p>
                { lesson_link(status.item) }
            </div>
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct ChecklistProps {
    pub run: RunRef,
}

/// The strip for free play: seven chips and a "Why?" button that lists the reasons.
#[function_component(ChecklistStrip)]
pub fn checklist_strip(props: &ChecklistProps) -> Html {
    let statuses = use_checklist(&props.run);
    let open = use_state(|| false);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let failing = statuses.iter().filter(|s| s.verdict == Verdict::Fail).count();
    html! {
        <div class="checklist-strip" role="group" aria-label="Verification checklist">
            <span class="checklist-title" title="The curriculum's verification checklist, judged from this run">
                { "Checklist" }
            </span>
            <ul class="check-chips">
                { for statuses.iter().map(|status| {
                    let (class, symbol, word) = verdict_look(status.verdict);
                    html! {
                        <li class={classes!("check-chip", class)} data-item={item_key(status.item)} data-verdict={class}
                            title={format!("{} \u{2014} {word}: {}", status.item.text(), status.reason)}>
                            <span class="check-mark" aria-hidden="true">{ symbol }</span>
                            { short_name(status.item) }
                            <span class="visually-hidden">{ format!(" ({word})") }</span>
                        </li>
                    }
                }) }
            </ul>
            <button type="button" class="control why-button" aria-expanded={open.to_string()} onclick={toggle.clone()}
                title="Show why each item is met or not, with the lesson that explains it">
                { if *open { "Hide reasons" } else if failing > 0 { "Why red?" } else { "Why?" } }
            </button>
            if *open {
                <div class="checklist-popover" role="dialog" aria-label="Checklist reasons">
                    <div class="menu-head">
                        <p class="menu-intro">{ "Each item is judged from this run: its settings and what happened so far." }</p>
                        <button type="button" class="menu-close" aria-label="Close the reasons" onclick={toggle}>{ "\u{2715}" }</button>
                    </div>
                    <ul class="check-list">{ for statuses.iter().map(|s| html! { <ItemRow status={s.clone()} /> }) }</ul>
                </div>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ChecklistListProps {
    /// The verdicts of the run (see [`use_checklist`]).
    pub statuses: Rc<Vec<Status>>,
    /// The item the open lesson proves, drawn first and emphasised.
    pub proven: Option<Item>,
}

/// The full list, as a lesson shows it.
#[function_component(ChecklistList)]
pub fn checklist_list(props: &ChecklistListProps) -> Html {
    let statuses = &props.statuses;
    let ordered = statuses
        .iter()
        .filter(|s| Some(s.item) == props.proven)
        .chain(statuses.iter().filter(|s| Some(s.item) != props.proven));
    html! {
        <ul class="check-list">{ for ordered.map(|s| html! { <ItemRow status={s.clone()} highlight={Some(s.item) == props.proven} /> }) }</ul>
    }
}
