//! The details column: envelope inspector, invariants, fault script and delivery
//! settings, as tabs, plus the tabs of the other views (sagas, event store, read
//! models, DLQ, metrics, anti-patterns), each in its own module.
//!
//! Only the open tab's panel is rendered, so a hidden view costs nothing per step.
//! Tabs keep dense panels readable at 1280×800 next to the topology; each tab
//! button carries a live summary (a red count of broken invariants, the number of
//! faults) so a change in a hidden tab is still noticed. Every panel opens with a
//! short explanation of its concept, and shows an empty state until it has content.
//!
//! The inspector, the invariants and the fault script mostly display data, so they are
//! written as markup text (see `markup`) rather than `html!` trees, whose construction
//! code cost kilobytes of the binary; their buttons say what they do in data
//! attributes, read by one listener per panel. The delivery settings are forms, and
//! stay components.

use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::markup::{emit_on_click, esc, on_goto, on_number, put, raw};
use super::regions::empty_state;
use super::state::{MenuTarget, Shell, ShellAction, SubscriptionEdit, Tab};
use super::topology::{delivery_label, kind_class, kind_shape_markup, short_type};
use crate::sim::envelope::{EventKind, MessageId};
use crate::sim::fault::{Fault, ScriptedFault, Trigger};
use crate::sim::scenario::{Delivery, Scenario, ATTEMPTS_MAX_LIMIT, DURATION_MS_MAX, WORKLOAD_MESSAGES_MAX};
use crate::sim::simulation::Simulation;
use crate::sim::view::TokenPlace;

#[derive(Properties, PartialEq)]
pub struct DetailsProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

pub fn details(props: &DetailsProps) -> Html {
    let shell = &props.shell;
    let sim = shell.sim.borrow();
    let broken = sim.checkers().counts.iter().filter(|c| **c > 0).count();
    let scenario_faults = sim.scenario().faults.scripted.len();
    // Badges of the saga and DLQ tabs: cheap counters, so a change in a hidden tab shows.
    let dead_letters: usize =
        (0..sim.compiled().subs.len()).map(|i| sim.sub_state(crate::sim::trace::SubId(i as u32)).dlq.len()).sum();
    let compensating = if sim.compiled().sagas.is_empty() {
        0
    } else {
        sim.saga_instances().iter().filter(|(_, _, i)| i.status.name() == "compensating").count()
    };
    drop(sim);
    let tab = |tab: Tab, label: String, badge: Option<(String, &'static str)>| {
        let dispatch = props.dispatch.clone();
        let onclick = emit_on_click(&dispatch, ShellAction::ShowTab(tab));
        let active = shell.tab == tab;
        html! {
            <button type="button" role="tab" class={classes!("tab", active.then_some("active"))}
                aria-selected={active.to_string()} {onclick}>
                { label }
                if let Some((text, class)) = badge {
                    <span class={classes!("tab-badge", class)}>{ text }</span>
                }
            </button>
        }
    };
    let fault_count = shell.faults.scripted.len() + scenario_faults;
    html! {
        <aside class="region details" aria-label="Details of the run">
            <div class="tabs" role="tablist">
                { tab(Tab::Inspector, "Inspector".into(), None) }
                { tab(Tab::Invariants, "Invariants".into(), Some(if broken > 0 { (format!("{broken} \u{2717}"), "bad") } else { ("\u{2713}".into(), "good") })) }
                { tab(Tab::Faults, "Faults".into(), (fault_count > 0).then(|| (fault_count.to_string(), "count"))) }
                { tab(Tab::Delivery, "Delivery".into(), None) }
                { tab(Tab::Sagas, "Sagas".into(), (compensating > 0).then(|| (format!("{compensating} \u{21b6}"), "bad"))) }
                { tab(Tab::Store, "Store".into(), None) }
                { tab(Tab::ReadModels, "Read models".into(), None) }
                { tab(Tab::Dlq, "DLQ".into(), (dead_letters > 0).then(|| (dead_letters.to_string(), "bad"))) }
                { tab(Tab::Metrics, "Metrics".into(), None) }
                { tab(Tab::AntiPatterns, "Anti-patterns".into(), (!shell.anti_patterns.is_empty()).then(|| (shell.anti_patterns.len().to_string(), "count"))) }
            </div>
            <div class="tab-panel" role="tabpanel">
                { match shell.tab {
                    Tab::Inspector => html! { { inspector(&DetailsProps { shell: shell.clone(), dispatch: props.dispatch.clone() }) } },
                    Tab::Invariants => html! { { invariants(&DetailsProps { shell: shell.clone(), dispatch: props.dispatch.clone() }) } },
                    Tab::Faults => html! { { fault_script_panel(&DetailsProps { shell: shell.clone(), dispatch: props.dispatch.clone() }) } },
                    Tab::Delivery => html! { { delivery_panel(&DetailsProps { shell: shell.clone(), dispatch: props.dispatch.clone() }) } },
                    Tab::Sagas => super::sagas::saga_panel(&super::sagas::PanelProps { shell: shell.clone(), dispatch: props.dispatch.clone() }),
                    Tab::Store => html! { <super::store::StorePanel shell={shell.clone()} dispatch={props.dispatch.clone()} /> },
                    Tab::ReadModels => html! { <super::projections::ReadModelsPanel shell={shell.clone()} dispatch={props.dispatch.clone()} /> },
                    Tab::Dlq => super::dlq::dlq_panel(&super::sagas::PanelProps { shell: shell.clone(), dispatch: props.dispatch.clone() }),
                    Tab::Metrics => super::metrics::metrics_panel(&super::sagas::PanelProps { shell: shell.clone(), dispatch: props.dispatch.clone() }),
                    Tab::AntiPatterns => html! { <super::antipatterns::AntiPatternsPanel shell={shell.clone()} dispatch={props.dispatch.clone()} /> },
                } }
            </div>
        </aside>
    }
}

// ---------------------------------------------------------------------------------
// Inspector
// ---------------------------------------------------------------------------------

/// An event kind's token (its shape in its colour) as markup.
fn token(out: &mut String, kind: EventKind) {
    put(
        out,
        format_args!(
            "<svg class=\"legend-token {}\" viewBox=\"-10 -10 20 20\" aria-hidden=\"true\">{}</svg>",
            kind_class(kind),
            kind_shape_markup(kind)
        ),
    );
}

/// A reference to a message, as markup: a button naming it in `data-message`, which the
/// inspector's listener selects.
fn message_link(out: &mut String, sim: &Simulation, id: MessageId) {
    let Some(m) = sim.message(id) else { return };
    let service = m
        .emitted_by
        .and_then(|s| sim.scenario().services.get(s.0 as usize))
        .map_or(m.envelope.source.as_str(), |s| s.name.as_str());
    put(
        out,
        format_args!(
            "<button type=\"button\" class=\"message-link\" title=\"Inspect this message\" data-message=\"{}\">",
            id.0
        ),
    );
    token(out, m.envelope.kind);
    put(
        out,
        format_args!(
            "<span class=\"link-type\">{}</span><span class=\"link-from\">from {}</span></button>",
            esc(short_type(&m.envelope.event_type)),
            esc(service)
        ),
    );
}

/// The messages caused by `id`, recursively, as nested lists of markup (bounded in
/// depth and size).
fn caused_tree(out: &mut String, sim: &Simulation, id: MessageId, depth: u32, budget: &mut u32) {
    let (_, caused) = sim.causal_links(id);
    if caused.is_empty() || depth >= 6 || *budget == 0 {
        return;
    }
    out.push_str("<ul class=\"tree\">");
    for child in caused {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        out.push_str("<li>");
        message_link(out, sim, child);
        caused_tree(out, sim, child, depth + 1, budget);
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

fn inspector(props: &DetailsProps) -> Html {
    let shell = &props.shell;
    let dispatch = &props.dispatch;
    let sim = shell.sim.borrow();
    let Some(id) = shell.selected.filter(|id| sim.message(*id).is_some()) else {
        return empty_state(
            "Click a row of the event log or a token on the topology to inspect that message: its envelope, its delivery attempts and what it caused.",
            "The envelope is the metadata every message carries, here in CloudEvents form: id, source, type, time, subject, and the correlation and causation ids that tie a flow together.",
        );
    };
    let Some(m) = sim.message(id) else { return html! {} };
    let json = serde_json::to_string_pretty(&m.envelope.to_cloudevent()).unwrap_or_default();
    let attempts = sim.attempts_of(id);
    let places: Vec<(TokenPlace, u32)> =
        sim.token_views().into_iter().filter(|t| t.message == id).map(|t| (t.place, t.attempt)).collect();
    let queued_sub = places.iter().find_map(|(p, _)| match p {
        TokenPlace::Queued { sub, .. } => Some(*sub),
        _ => None,
    });
    let sub_name =
        |sub: crate::sim::trace::SubId| sim.compiled().subs.get(sub.0 as usize).map_or("?", |s| s.name.as_str());
    let now: Vec<String> = places
        .iter()
        .map(|(p, attempt)| match p {
            TokenPlace::Publishing { .. } => "on its way to its topic".to_string(),
            TokenPlace::Queued { sub, position } => {
                format!("queued in {} (position {}, attempt {attempt})", sub_name(*sub), position + 1)
            }
            TokenPlace::Handling { sub, .. } => format!("being handled from {} (attempt {attempt})", sub_name(*sub)),
            TokenPlace::Waiting { sub, due_ms } => format!("waiting to retry in {} until {due_ms} ms", sub_name(*sub)),
        })
        .collect();
    let dead_in: Vec<&str> = sim
        .compiled()
        .subs
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            sim.sub_state(crate::sim::trace::SubId(*i as u32)).dlq.iter().any(|l| l.delivery.message == id)
        })
        .map(|(_, s)| s.name.as_str())
        .collect();
    let (cause, _) = sim.causal_links(id);
    let mut ancestors = Vec::new();
    let mut cursor = cause;
    while let Some(c) = cursor {
        if ancestors.len() >= 12 {
            break;
        }
        ancestors.push(c);
        cursor = sim.message(c).and_then(|m| m.cause);
    }
    ancestors.reverse();
    let correlation = m.envelope.correlation_id.clone();
    let filter_flow = correlation.clone().map(|c| {
        let dispatch = dispatch.clone();
        let filters = shell.filters.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = filters.clone();
            next.correlation = c.clone();
            dispatch.emit(ShellAction::SetFilters(next));
        })
    });
    let open_menu = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(ShellAction::OpenMenu(MenuTarget::Message { message: id, sub: queued_sub }))
        })
    };
    let status = match (now.is_empty(), dead_in.is_empty()) {
        (_, false) => format!(
            "In the dead-letter queue of {}{}.",
            dead_in.join(", "),
            if now.is_empty() { String::new() } else { format!("; also {}", now.join("; ")) }
        ),
        (true, true) => "Not in flight at this step: handled everywhere, lost, or not yet published.".to_string(),
        (false, true) => format!("Now: {}.", now.join("; ")),
    };
    // The read-only parts are markup text (see `markup`); the two action buttons between
    // them stay elements, each with its own listener. Links to messages and attempts name
    // what they lead to in data attributes, read by the one listener of the inspector.
    let mut head = String::with_capacity(512);
    head.push_str("<h2 class=\"panel-title\">");
    token(&mut head, m.envelope.kind);
    put(
        &mut head,
        format_args!(
            "{} {}</h2><p class=\"panel-note\">{}</p>",
            esc(short_type(&m.envelope.event_type)),
            esc(&m.envelope.id),
            esc(&status)
        ),
    );
    let mut body = String::with_capacity(4096);
    body.push_str(
        "<h3>Causal tree</h3><p class=\"panel-note\">Caused by (causationid) above, caused below: each handler's emits name the event that triggered them.</p><ul class=\"tree causal\">",
    );
    for a in &ancestors {
        body.push_str("<li class=\"ancestor\">");
        message_link(&mut body, &sim, *a);
        body.push_str("</li>");
    }
    body.push_str("<li class=\"this\"><strong>this message</strong>");
    let mut budget = 40;
    caused_tree(&mut body, &sim, id, 0, &mut budget);
    put(&mut body, format_args!("</li></ul><h3>Delivery attempts ({})</h3>", attempts.len()));
    if attempts.is_empty() {
        body.push_str("<p class=\"panel-note\">No subscription has received it yet.</p>");
    } else {
        body.push_str("<ol class=\"attempts\">");
        for a in &attempts {
            let row = super::log::split_line(&a.what);
            put(
                &mut body,
                format_args!(
                    "<li><button type=\"button\" class=\"attempt\" title=\"Rewind to this step\" data-goto=\"{}\"><span class=\"c-step\">step {}</span>\
                     <span class=\"c-verb\">{}</span><span class=\"c-where\">{}</span><span class=\"c-detail\">{}</span></button></li>",
                    a.step + 1,
                    a.step,
                    esc(&row.verb),
                    esc(&row.place),
                    esc(&row.detail)
                ),
            );
        }
        body.push_str("</ol>");
    }
    put(
        &mut body,
        format_args!(
            "<h3>Envelope (CloudEvents 1.0)</h3><pre class=\"json\" aria-label=\"The envelope as CloudEvents JSON\">{}</pre>",
            esc(&json)
        ),
    );
    drop(sim);
    html! {
        <div class="inspector" onclick={on_goto(dispatch)}>
            { raw(head) }
            <div class="inspector-actions">
                if let Some(on_filter) = filter_flow {
                    <button type="button" class="control small" onclick={on_filter} title="Show only this business flow in the event log">{ "Filter log by its correlation id" }</button>
                }
                if !places.is_empty() {
                    <button type="button" class="control small" onclick={open_menu}>{ "Inject a fault on it\u{2026}" }</button>
                }
            </div>
            { raw(body) }
        </div>
    }
}

// ---------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------

fn invariants(props: &DetailsProps) -> Html {
    let sim = props.shell.sim.borrow();
    let mut out = String::with_capacity(2048);
    out.push_str(
        "<p class=\"panel-note\">Promises checked after every step. A broken one turns red and links to the step that broke it.</p><ul class=\"invariant-list\">",
    );
    for v in sim.invariant_views() {
        let ok = v.violations == 0;
        let (class, mark, state) = if ok { ("ok", "\u{2713}", "holds") } else { ("broken", "\u{2717}", "broken") };
        let name = v.invariant.name();
        put(
            &mut out,
            format_args!(
                "<li class=\"invariant {class}\" data-invariant=\"{name}\"><span class=\"invariant-mark\" aria-hidden=\"true\">{mark}</span><div>\
                 <p class=\"invariant-name\">{name}<span class=\"invariant-state\"> {state}</span></p><p class=\"invariant-promise\">{}</p>",
                esc(v.invariant.promise()),
                name = esc(name)
            ),
        );
        if !ok {
            let first = sim.checkers().violations.iter().find(|f| f.invariant == v.invariant);
            put(
                &mut out,
                format_args!(
                    "<p class=\"invariant-detail\">{} violation(s). First: {}</p>",
                    v.violations,
                    esc(first.map_or("", |f| f.detail.as_str()))
                ),
            );
            if let Some(step) = v.first_step {
                put(
                    &mut out,
                    format_args!(
                        "<button type=\"button\" class=\"control small danger\" data-goto=\"{}\">Broken at step {step}: go there</button>",
                        step + 1
                    ),
                );
            }
        }
        out.push_str("</div></li>");
    }
    out.push_str("</ul>");
    html! { <div class="invariants" onclick={on_goto(&props.dispatch)}>{ raw(out) }</div> }
}

// ---------------------------------------------------------------------------------
// Fault script
// ---------------------------------------------------------------------------------

fn when(entry: &ScriptedFault) -> String {
    match entry.at {
        Trigger::Step(step) => format!("step {step}"),
        Trigger::TimeMs(ms) => format!("at {ms} ms"),
    }
}

fn fault_where(fault: &Fault) -> String {
    match fault {
        Fault::DropMessage { message, subscription: Some(s) }
        | Fault::DuplicateMessage { message, subscription: Some(s) }
        | Fault::DelayMessage { message, subscription: Some(s), .. }
        | Fault::ReorderMessage { message, subscription: Some(s) } => format!("{message} in {s}"),
        other => other.target().to_string(),
    }
}

fn fault_what(fault: &Fault) -> String {
    match fault {
        Fault::CrashService { restart_after_ms: Some(ms), .. } => format!("crash (restarts after {ms} ms)"),
        Fault::SlowService { extra_ms, .. } => format!("slow down +{extra_ms} ms"),
        Fault::FailHandlers { per_mille, .. } => format!("fail {}% of handlings", per_mille / 10),
        Fault::PartitionService { duration_ms, .. } => format!("partition for {duration_ms} ms"),
        Fault::DelayMessage { delay_ms, .. } => format!("delay {delay_ms} ms"),
        other => other.label().to_string(),
    }
}

fn fault_script_panel(props: &DetailsProps) -> Html {
    let shell = &props.shell;
    let sim = shell.sim.borrow();
    let builtin = &sim.scenario().faults.scripted;
    // The panel is markup text (its empty state is the markup of `regions::empty_state`);
    // a Remove button names its fault's index in `data-remove-fault`, read by the one
    // listener of the panel.
    let mut out = String::with_capacity(1024);
    out.push_str("<p class=\"panel-note\">Every fault is recorded with the step it happened at, so the run replays exactly from its seed. Click a service or a token on the topology to inject one; removing one rebuilds the run without it.</p>");
    if shell.faults.scripted.is_empty() && builtin.is_empty() {
        out.push_str("<div class=\"empty-state\"><p class=\"empty-what\">No faults yet.</p><p class=\"empty-concept\">A fault is something going wrong on purpose: a crash, a lost or duplicated message, a poison message. Injecting one while rewound forks the run: the future is recomputed.</p></div>");
    } else {
        out.push_str(
            "<table class=\"fault-table\"><thead><tr><th>when</th><th>what</th><th>where</th><th></th></tr></thead><tbody>",
        );
        let rows = builtin
            .iter()
            .map(|e| (e, None))
            .chain(shell.faults.scripted.iter().enumerate().map(|(i, e)| (e, Some(i))));
        for (entry, remove) in rows {
            put(
                &mut out,
                format_args!(
                    "<tr><td class=\"c-when\">{}</td><td>{}</td><td class=\"c-target\">{}</td><td>",
                    when(entry),
                    esc(&fault_what(&entry.fault)),
                    esc(&fault_where(&entry.fault))
                ),
            );
            match remove {
                Some(index) => put(
                    &mut out,
                    format_args!(
                        "<button type=\"button\" class=\"control small\" title=\"Rebuild the run without this fault and return to the same step\" data-remove-fault=\"{index}\">Remove</button>"
                    ),
                ),
                None => out.push_str("<span class=\"muted\">scenario</span>"),
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</tbody></table>");
    }
    drop(sim);
    html! {
        <div class="fault-script" onclick={on_number(&props.dispatch, "data-remove-fault", |i| ShellAction::RemoveFault(i as usize))}>
            { raw(out) }
        </div>
    }
}

// ---------------------------------------------------------------------------------
// Delivery settings, dead letters, workload and anti-patterns
// ---------------------------------------------------------------------------------

fn delivery_explained(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::AtMostOnce => "Acks before handling: a crash or failure loses the event.",
        Delivery::AtLeastOnce => "Acks after handling: a crash redelivers, so a duplicate can be applied twice.",
        Delivery::ExactlyOnceEffect => {
            "At-least-once plus an idempotent consumer: processed ids are stored with the effect, so duplicates are skipped."
        }
    }
}

#[derive(Properties, PartialEq)]
struct NumberFieldProps {
    label: AttrValue,
    value: u64,
    max: u64,
    #[prop_or_default]
    min: u64,
    #[prop_or_default]
    hint: Option<AttrValue>,
    on_commit: Callback<u64>,
}

/// A whole-number field: the typed text stays while invalid, with the reason next to it;
/// only a number within range is committed (on Enter or leaving the field).
#[function_component(NumberField)]
fn number_field(props: &NumberFieldProps) -> Html {
    let error = use_state(|| None::<String>);
    let onchange = {
        let error = error.clone();
        let (min, max) = (props.min, props.max);
        let on_commit = props.on_commit.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            match input.value().trim().parse::<u64>() {
                Ok(value) if (min..=max).contains(&value) => {
                    error.set(None);
                    on_commit.emit(value);
                }
                _ => error.set(Some(format!("a whole number from {min} to {max}"))),
            }
        })
    };
    html! {
        <label class={classes!("number-field", error.is_some().then_some("invalid"))} title={props.hint.clone()}>
            <span class="number-label">{ props.label.clone() }</span>
            <input type="text" inputmode="numeric" value={props.value.to_string()} {onchange}
                aria-label={props.label.clone()} aria-invalid={error.is_some().to_string()} />
            if let Some(message) = &*error {
                <span class="field-error" role="alert">{ message.clone() }</span>
            }
        </label>
    }
}

fn delivery_panel(props: &DetailsProps) -> Html {
    let shell = &props.shell;
    let sim = shell.sim.borrow();
    let dead_letters: usize =
        (0..sim.compiled().subs.len()).map(|i| sim.sub_state(crate::sim::trace::SubId(i as u32)).dlq.len()).sum();
    drop(sim);
    let show = |tab: Tab| {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::ShowTab(tab))
    };
    html! {
        <div class="delivery">
            <p class="panel-note">{ "Delivery guarantees, retries and dead-letter queues of each subscription. Changing one restarts the run from step 0 with the same seed and fault script, so you can compare." }</p>
            if dead_letters > 0 {
                <p class="panel-note dlq-pointer">{ format!("{dead_letters} dead letter(s) at this step: inspect, redrive or discard them in the ") }
                    <button type="button" class="control small" onclick={show(Tab::Dlq)}>{ "DLQ tab" }</button></p>
            }
            <SubscriptionSettings scenario={shell.scenario.clone()} dispatch={props.dispatch.clone()} />
            <WorkloadSettings scenario={shell.scenario.clone()} steps_max={shell.steps_max} dispatch={props.dispatch.clone()} />
            <p class="panel-note">{ "Anti-pattern switches, with a meter of the damage each does, are in the " }
                <button type="button" class="control small" onclick={show(Tab::AntiPatterns)}>{ "Anti-patterns tab" }</button></p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct SettingsProps {
    scenario: Rc<Scenario>,
    #[prop_or_default]
    steps_max: u64,
    dispatch: Callback<ShellAction>,
}

/// The editable settings of every subscription. Depends on the scenario only, so it
/// does not re-render at every step of the run.
#[function_component(SubscriptionSettings)]
fn subscription_settings(props: &SettingsProps) -> Html {
    let edit = |index: usize, make: fn(u64) -> SubscriptionEdit| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |value: u64| dispatch.emit(ShellAction::EditSubscription(index, make(value))))
    };
    html! {
        <>
            { for props.scenario.subscriptions.iter().enumerate().map(|(i, sub)| {
                let on_delivery = {
                    let dispatch = props.dispatch.clone();
                    Callback::from(move |e: Event| {
                        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                        if let Some(d) = Delivery::ALL.into_iter().find(|d| d.name() == value) {
                            dispatch.emit(ShellAction::EditSubscription(i, SubscriptionEdit::Delivery(d)));
                        }
                    })
                };
                let on_dlq = {
                    let dispatch = props.dispatch.clone();
                    Callback::from(move |e: Event| {
                        let on = e.target_unchecked_into::<HtmlInputElement>().checked();
                        dispatch.emit(ShellAction::EditSubscription(i, SubscriptionEdit::Dlq(on)));
                    })
                };
                let r = &sub.retry;
                html! {
                    <section class="sub-settings" data-sub={sub.name.clone()} aria-label={format!("Settings of {}", sub.name)}>
                        <h3>{ &sub.name }<span class="muted">{ format!(" {} \u{2192} {}", sub.topic, sub.service) }</span></h3>
                        <label class="select-field">
                            <span class="number-label">{ "Delivery" }</span>
                            <select aria-label={format!("Delivery mode of {}", sub.name)} onchange={on_delivery}>
                                { for Delivery::ALL.iter().map(|d| html! {
                                    <option value={d.name()} selected={*d == sub.delivery}>{ delivery_label(*d) }</option>
                                }) }
                            </select>
                        </label>
                        <p class="panel-note">{ delivery_explained(sub.delivery) }</p>
                        <div class="retry-grid">
                            <NumberField label="Attempts max" value={u64::from(r.attempts_max)} min={1} max={u64::from(ATTEMPTS_MAX_LIMIT)}
                                hint="Counts the first attempt: 3 means one try and two retries (as SQS and Temporal count; Step Functions counts retries only)"
                                on_commit={edit(i, |v| SubscriptionEdit::AttemptsMax(v as u32))} />
                            <NumberField label="Backoff first (ms)" value={r.backoff_initial_ms} max={DURATION_MS_MAX}
                                hint="Wait before the first retry" on_commit={edit(i, SubscriptionEdit::BackoffInitialMs)} />
                            <NumberField label="Multiplier (%)" value={u64::from(r.backoff_multiplier_percent)} min={100} max={1000}
                                hint="Growth of the wait per attempt: 200 doubles it" on_commit={edit(i, |v| SubscriptionEdit::BackoffMultiplierPercent(v as u32))} />
                            <NumberField label="Backoff max (ms)" value={r.backoff_max_ms} max={DURATION_MS_MAX}
                                hint="The wait never grows beyond this" on_commit={edit(i, SubscriptionEdit::BackoffMaxMs)} />
                            <NumberField label="Jitter (‰)" value={u64::from(r.jitter_per_mille)} max={1000}
                                hint="Random spread of each wait, from the seeded generator: 200 = up to 20% shorter or longer"
                                on_commit={edit(i, |v| SubscriptionEdit::JitterPerMille(v as u32))} />
                        </div>
                        <p class="panel-note">{ format!("Attempts max counts the first attempt: {} = 1 try + {} retr{}.", r.attempts_max, r.attempts_max.saturating_sub(1), if r.attempts_max == 2 { "y" } else { "ies" }) }</p>
                        <label class="check-field">
                            <input type="checkbox" checked={sub.dlq} onchange={on_dlq} aria-label={format!("Dead-letter queue for {}", sub.name)} />
                            { " Dead-letter queue" }
                            <span class="muted">{ if sub.dlq { " \u{2014} after the last attempt a message is parked here with its death history" } else { " off (anti-pattern): a poison message loops or blocks its queue" } }</span>
                        </label>
                    </section>
                }
            }) }
        </>
    }
}

/// How much work the scenario's clients send: the repeat count of each repeated item.
#[function_component(WorkloadSettings)]
fn workload_settings(props: &SettingsProps) -> Html {
    let items: Vec<Html> = props
        .scenario
        .workload
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let repeat = w.repeat.as_ref()?;
            let dispatch = props.dispatch.clone();
            let on_commit = Callback::from(move |v: u64| dispatch.emit(ShellAction::SetWorkloadCount(i, v as u32)));
            Some(html! {
                <div class="workload-item">
                    <NumberField label={format!("{} from {} (every {} ms)", short_type(&w.event_type), w.source, repeat.every_ms)}
                        value={u64::from(repeat.count)} min={1} max={WORKLOAD_MESSAGES_MAX.min(u64::from(u32::MAX))}
                        hint="How many of these the client sends; more makes a longer run (up to the step limit)" {on_commit} />
                </div>
            })
        })
        .collect();
    if items.is_empty() {
        return html! {};
    }
    html! {
        <section class="sub-settings">
            <h3>{ "Workload" }</h3>
            <p class="panel-note">{ format!("How many messages the clients send. The run stops at its step limit of {} steps.", props.steps_max) }</p>
            { for items }
        </section>
    }
}
