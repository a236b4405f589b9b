//! The topology view: services, topics, subscription queues and their DLQs in SVG,
//! with every message in the system drawn as a token where it currently is.
//!
//! Tokens are keyed by (message, subscription, copy), so between two renders Yew keeps
//! the same `<g>` element and only changes its `transform`; a CSS transition on the
//! transform makes it glide along the edge. The transition is switched on only for
//! single steps at a moderate play speed (the `glide-*` classes) and off for jumps, so
//! scrubbing or fast play never lags behind the state.
//!
//! The four event kinds differ in colour *and* shape (colour-blind readable): domain
//! events are circles, integration events diamonds, change-data-capture events squares
//! and commands arrows pointing at the one service they address. Clicking a service or
//! a token opens a menu of faults to inject there.

use std::collections::BTreeMap;

use yew::prelude::*;

use super::layout::{Layout, NodeBox, DLQ_W, SLOTS_SHOWN, SLOT_W};
use super::markup::{emit_on_click, esc, put, raw, D0, D1};
use super::state::{MenuTarget, Motion, Shell, ShellAction, DELAY_MS, FAIL_PER_MILLE, PARTITION_MS, SLOW_EXTRA_MS};
use crate::sim::envelope::EventKind;
use crate::sim::fault::Fault;
use crate::sim::view::{ServiceStatus, SubscriptionView, TokenPlace, TokenView};

/// The CSS class of an event kind (colour) and whether it is a command.
pub fn kind_class(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Domain => "kind-domain",
        EventKind::Integration => "kind-integration",
        EventKind::Command => "kind-command",
        EventKind::ChangeDataCapture => "kind-cdc",
    }
}

/// How each kind is named in the legend, with what it means.
pub const KIND_LEGEND: [(EventKind, &str, &str); 4] = [
    (EventKind::Domain, "domain event", "a fact inside one business domain"),
    (EventKind::Integration, "integration event", "a fact announced to other services"),
    (EventKind::Command, "command", "a request addressed to one service"),
    (EventKind::ChangeDataCapture, "change data capture", "a row changed in a database"),
];

/// The token's shape, centred on the origin, about 14 units across, as markup text
/// (views written as text draw it too; see `markup`).
pub fn kind_shape_markup(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Domain => r#"<circle class="token-shape" r="7"/>"#,
        EventKind::Integration => r#"<path class="token-shape" d="M0 -8.5L8.5 0L0 8.5L-8.5 0Z"/>"#,
        EventKind::Command => r#"<path class="token-shape" d="M-7 -7L8 0L-7 7L-3 0Z"/>"#,
        EventKind::ChangeDataCapture => r#"<rect class="token-shape" x="-6.5" y="-6.5" width="13" height="13"/>"#,
    }
}

/// The token's shape as a node: the same markup, which Yew parses in the SVG namespace
/// of the `<g>` or `<svg>` it is drawn in, and compares as one string between renders.
pub fn kind_shape(kind: EventKind) -> Html {
    Html::from_html_unchecked(AttrValue::Static(kind_shape_markup(kind)))
}

/// Where a token is drawn.
fn token_position(layout: &Layout, subs: &[SubscriptionView], token: &TokenView, stack: u32) -> Option<(f64, f64)> {
    let offset = f64::from(stack);
    match token.place {
        TokenPlace::Publishing { topic, .. } => {
            let t = layout.topics.get(topic.0 as usize)?;
            Some((t.left() - 16.0 - offset * SLOT_W, t.y))
        }
        TokenPlace::Queued { sub, position } => {
            let b = layout.subs.get(sub.0 as usize)?;
            let queue_right = b.right() - DLQ_W - 12.0;
            // The head of the queue (position 0) sits nearest the consumer.
            let shown = position.min(SLOTS_SHOWN);
            Some((queue_right - f64::from(shown) * SLOT_W, b.y + 3.0))
        }
        TokenPlace::Handling { sub, .. } => {
            let service = subs.get(sub.0 as usize)?.service;
            let s = layout.services.get(service.0 as usize)?;
            Some((s.left() - 14.0, s.y - 10.0 + offset * 16.0))
        }
        TokenPlace::Waiting { sub, .. } => {
            let b = layout.subs.get(sub.0 as usize)?;
            Some((b.left() + 14.0 + offset * SLOT_W, b.top() - 11.0))
        }
    }
}

fn place_key(place: &TokenPlace) -> (u8, u32) {
    match place {
        TokenPlace::Publishing { topic, .. } => (0, topic.0),
        TokenPlace::Queued { sub, .. } => (1, sub.0),
        TokenPlace::Handling { sub, .. } => (1, sub.0),
        TokenPlace::Waiting { sub, .. } => (1, sub.0),
    }
}

fn place_text(place: &TokenPlace, subs: &[SubscriptionView]) -> String {
    let sub_name = |id: u32| subs.get(id as usize).map_or("?", |s| s.name.as_str()).to_string();
    match place {
        TokenPlace::Publishing { due_ms, .. } => format!("on its way to the topic (arrives at {due_ms} ms)"),
        TokenPlace::Queued { sub, position } => format!("queued in {} at position {}", sub_name(sub.0), position + 1),
        TokenPlace::Handling { sub, done_ms, .. } => {
            format!("being handled from {} (done at {done_ms} ms)", sub_name(sub.0))
        }
        TokenPlace::Waiting { sub, due_ms } => format!("waiting to return to {} at {due_ms} ms", sub_name(sub.0)),
    }
}

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

/// The topology canvas with its legend and fault menu.
#[function_component(Topology)]
pub fn topology(props: &TopologyProps) -> Html {
    let shell = &props.shell;
    let layout = use_memo(shell.scenario.clone(), |scenario| Layout::of(scenario));
    let sim = shell.sim.borrow();
    let empty = sim.scenario().services.is_empty();
    let services = sim.service_views();
    let subs = sim.subscription_views();
    let tokens = sim.token_views();
    // Compensation messages in flight: their tokens and the route they travel are drawn
    // in the compensation colour, so the undo path stands out against the forward flow.
    let compensating: Vec<u32> =
        tokens.iter().filter(|t| sim.message(t.message).is_some_and(|m| m.compensation)).map(|t| t.message.0).collect();
    let compensation_routes: Vec<(Option<usize>, usize, Option<usize>)> = tokens
        .iter()
        .filter(|t| compensating.contains(&t.message.0))
        .filter_map(|t| {
            let m = sim.message(t.message)?;
            let sub = match t.place {
                TokenPlace::Publishing { .. } => None,
                TokenPlace::Queued { sub, .. } | TokenPlace::Handling { sub, .. } | TokenPlace::Waiting { sub, .. } => {
                    Some(sub.0 as usize)
                }
            };
            Some((m.emitted_by.map(|s| s.0 as usize), m.topic.0 as usize, sub))
        })
        .collect();
    drop(sim);

    let glide = match (shell.motion, shell.playing, shell.speed_steps_per_second) {
        (Motion::Jump, _, _) => None,
        (Motion::Glide, true, sps) if sps > 8 => None,
        (Motion::Glide, true, sps) if sps > 2 => Some("glide-fast"),
        _ => Some("glide"),
    };
    let height = layout.height;
    let view_box = format!("0 0 {} {}", D0(super::layout::WIDTH), D0(height));
    let open = |target: MenuTarget| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: MouseEvent| {
            event.stop_propagation();
            dispatch.emit(ShellAction::OpenMenu(target.clone()));
        })
    };

    // Edges: publications, topic → subscription, subscription → service. These and the
    // topics and queues below only display data, so they are markup text (one raw node
    // each, see `super::markup`); services and tokens stay elements with listeners.
    let mut edges = String::from("<g class=\"edges\">");
    for e in &layout.publish_edges {
        let back = if layout.services[e.service].x > layout.topics[e.topic].x { " edge-back" } else { "" };
        put(
            &mut edges,
            format_args!(
                "<path class=\"edge edge-publish{back}\" d=\"{}\" marker-end=\"url(#arrow)\"></path>",
                layout.publish_path(e)
            ),
        );
    }
    for s in &subs {
        put(
            &mut edges,
            format_args!(
                "<path class=\"edge\" d=\"{}\" marker-end=\"url(#arrow)\"></path>",
                delivery_path(&layout, s, true)
            ),
        );
        put(
            &mut edges,
            format_args!(
                "<path class=\"edge\" d=\"{}\" marker-end=\"url(#arrow)\"></path>",
                delivery_path(&layout, s, false)
            ),
        );
    }
    for (service, topic, sub) in &compensation_routes {
        let publish = service
            .and_then(|s| layout.publish_edges.iter().find(|e| e.service == s && e.topic == *topic))
            .map(|e| layout.publish_path(e));
        let delivery = sub
            .and_then(|i| subs.get(i))
            .map(|s| format!("{} {}", delivery_path(&layout, s, true), delivery_path(&layout, s, false)));
        for d in [publish, delivery].into_iter().flatten() {
            put(&mut edges, format_args!("<path class=\"edge edge-compensation\" d=\"{d}\"></path>"));
        }
    }
    edges.push_str("</g>");

    let topic_nodes = scenario_topics(&layout, shell);
    let service_nodes = html! {
        <g class="services">
            { for services.iter().map(|s| {
                let b: NodeBox = layout.services[s.id.0 as usize];
                let (status_class, status_text) = match s.status {
                    ServiceStatus::Up => (None, None),
                    ServiceStatus::Crashed => (Some("down"), Some("\u{2715} crashed")),
                    ServiceStatus::Partitioned => (Some("partitioned"), Some("\u{2702} cut off from the bus")),
                };
                let mut notes = Vec::new();
                if s.extra_ms > 0 { notes.push(format!("+{} ms", s.extra_ms)); }
                if s.fail_per_mille > 0 { notes.push(format!("fails {}%", s.fail_per_mille / 10)); }
                let menu_open = shell.menu == Some(MenuTarget::Service(s.id));
                html! {
                    <g class={classes!("service", status_class, menu_open.then_some("menu-open"))}
                        role="button" tabindex="0" aria-label={format!("Service {}", s.name)}
                        data-service={s.name.clone()}
                        onclick={open(MenuTarget::Service(s.id))}>
                        <title>{ format!("{} — {}. Click for faults to inject.", s.name, s.description) }</title>
                        <rect class="service-box" x={fmt(b.left())} y={fmt(b.top())} width={fmt(b.w)} height={fmt(b.h)} rx="8" />
                        <text class="node-name" x={fmt(b.x)} y={fmt(b.y - 1.0)}>{ &s.name }</text>
                        <text class="node-note" x={fmt(b.x)} y={fmt(b.y + 15.0)}>
                            { status_text.map(str::to_string).unwrap_or_else(|| if notes.is_empty() { "service".to_string() } else { notes.join(" · ") }) }
                        </text>
                    </g>
                }
            }) }
        </g>
    };

    let mut sub_nodes = String::from("<g class=\"subscriptions\">");
    for s in &subs {
        let b = layout.subs[s.id.0 as usize];
        let dlq_x = b.right() - DLQ_W;
        let name = esc(&s.name);
        put(
            &mut sub_nodes,
            format_args!(
                "<g class=\"subscription\" data-sub=\"{name}\"><title>{}</title>\
                 <rect class=\"queue-box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\"></rect>\
                 <text class=\"queue-name\" x=\"{}\" y=\"{}\">{name}<tspan class=\"queue-mode\"> \u{b7} {}</tspan></text>\
                 <rect class=\"dlq-box{}{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\"></rect>\
                 <text class=\"dlq-label\" x=\"{}\" y=\"{}\">DLQ</text>\
                 <text class=\"dlq-count\" data-dlq=\"{name}\" x=\"{}\" y=\"{}\">{}</text>\
                 <g class=\"depth-badge{}\"><circle cx=\"{}\" cy=\"{}\" r=\"12\"></circle>\
                 <text class=\"depth-count\" data-depth=\"{name}\" x=\"{}\" y=\"{}\">{}</text></g>",
                esc(&format!(
                    "Subscription {} ({}): its own queue of the topic's events for {}. {} queued, {} waiting to retry, {} in the DLQ.",
                    s.name,
                    delivery_text(s),
                    service_name(&services, s),
                    s.queue_depth,
                    s.waiting,
                    s.dlq_depth
                )),
                D1(b.left()),
                D1(b.top()),
                D1(b.w),
                D1(b.h),
                D1(b.left() + 16.0),
                D1(b.top() - 4.0),
                delivery_text(s),
                if s.dlq_enabled { "" } else { " dlq-off" },
                if s.dlq_depth > 0 { " dlq-full" } else { "" },
                D1(dlq_x),
                D1(b.top()),
                D1(DLQ_W),
                D1(b.h),
                D1(dlq_x + DLQ_W / 2.0),
                D1(b.y - 3.0),
                D1(dlq_x + DLQ_W / 2.0),
                D1(b.y + 13.0),
                if s.dlq_enabled { s.dlq_depth.to_string() } else { "off".to_string() },
                if s.queue_depth > 0 { " busy" } else { "" },
                D1(b.left()),
                D1(b.top()),
                D1(b.left()),
                D1(b.top() + 4.5),
                s.queue_depth,
            ),
        );
        if s.duplicates_skipped > 0 {
            put(
                &mut sub_nodes,
                format_args!(
                    "<text class=\"queue-note\" x=\"{}\" y=\"{}\">{} duplicate(s) skipped</text>",
                    D1(b.left() + 8.0),
                    D1(b.y + 5.0),
                    s.duplicates_skipped
                ),
            );
        }
        sub_nodes.push_str("</g>");
    }
    sub_nodes.push_str("</g>");

    // Tokens: several copies of one message in one place get distinct keys.
    let mut copies: BTreeMap<(u32, u8, u32), u32> = BTreeMap::new();
    let mut stacks: BTreeMap<(u8, u32, u8), u32> = BTreeMap::new();
    let token_nodes = html! {
        <g class="tokens">
            { for tokens.iter().filter_map(|t| {
                let (kind_of_place, where_id) = place_key(&t.place);
                let copy = copies.entry((t.message.0, kind_of_place, where_id)).or_insert(0);
                let key = format!("{}-{}-{}-{}", t.message.0, kind_of_place, where_id, *copy);
                *copy += 1;
                let stack_kind = match t.place { TokenPlace::Publishing { .. } => 0, TokenPlace::Handling { .. } => 1, TokenPlace::Waiting { .. } => 2, TokenPlace::Queued { .. } => 3 };
                let stack_id = match t.place { TokenPlace::Handling { sub, .. } => subs.get(sub.0 as usize).map_or(0, |s| s.service.0), _ => where_id };
                let stack = stacks.entry((kind_of_place, stack_id, stack_kind)).or_insert(0);
                let position = token_position(&layout, &subs, t, *stack);
                *stack += 1;
                if let TokenPlace::Queued { position, .. } = t.place { if position > SLOTS_SHOWN { return None; } }
                let (x, y) = position?;
                let sub = match t.place { TokenPlace::Publishing { .. } => None, TokenPlace::Queued { sub, .. } | TokenPlace::Handling { sub, .. } | TokenPlace::Waiting { sub, .. } => Some(sub) };
                let selected = shell.selected == Some(t.message);
                let state_class = match t.place { TokenPlace::Handling { .. } => "handling", TokenPlace::Waiting { .. } => "waiting", TokenPlace::Queued { .. } => "queued", TokenPlace::Publishing { .. } => "publishing" };
                Some(html! {
                    <g key={key} class={classes!("token", kind_class(t.kind), state_class, selected.then_some("selected"), compensating.contains(&t.message.0).then_some("compensation"))}
                        transform={format!("translate({x} {y})", x = D1(x), y = D1(y))}
                        role="button" tabindex="0"
                        aria-label={format!("Message {} ({})", t.event_id, short_type(&t.event_type))}
                        data-message={t.event_id.clone()} data-place={state_class}
                        onclick={open(MenuTarget::Message { message: t.message, sub })}>
                        <title>{ format!("{} {} (attempt {}), {}. Click to inspect it or inject a fault.", short_type(&t.event_type), t.event_id, t.attempt, place_text(&t.place, &subs)) }</title>
                        <circle class="token-hit" r="11" />
                        { kind_shape(t.kind) }
                    </g>
                })
            }) }
        </g>
    };

    let on_background = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::CloseMenu)
    };
    html! {
        <div class="canvas-body" onclick={on_background}>
            <svg class={classes!("topology", glide)} viewBox={view_box} preserveAspectRatio="xMidYMid meet"
                role="group" aria-label="Topology of the scenario: services, topics and queues">
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M0 0L10 5L0 10z" class="arrow-head" />
                    </marker>
                </defs>
                <text class="column-head" x="95" y="14">{ "producers" }</text>
                <text class="column-head" x="330" y="14">{ "topics" }</text>
                <text class="column-head" x="590" y="14">{ "subscriptions: queue · DLQ" }</text>
                <text class="column-head" x="880" y="14">{ "consumers" }</text>
                { raw(edges) }
                { raw(topic_nodes) }
                { raw(sub_nodes) }
                { service_nodes }
                { token_nodes }
            </svg>
            { legend() }
            if empty {
                <div class="empty-state">
                    <p class="empty-what">{ "This scenario has no services to draw." }</p>
                    <p class="empty-concept">{ "A topic is a named channel: publishers send to it, and every subscription gets its own queue with its own copy of each event." }</p>
                </div>
            } else if shell.step == 0 && tokens.is_empty() {
                <p class="canvas-hint">{ "Press Play or \u{2192} to send the first message. Click a service or a moving token to inject a fault." }</p>
            }
            if let Some(target) = &shell.menu {
                { fault_menu(&FaultMenuProps { target: target.clone(), shell: shell.clone(), dispatch: props.dispatch.clone() }) }
            }
        </div>
    }
}

fn fmt(value: f64) -> String {
    D1(value).to_string()
}

pub fn short_type(t: &str) -> &str {
    t.strip_prefix("io.eventscope.").unwrap_or(t)
}

fn service_name(services: &[crate::sim::view::ServiceView], sub: &SubscriptionView) -> String {
    services.get(sub.service.0 as usize).map_or_else(String::new, |s| s.name.clone())
}

pub fn delivery_text(sub: &SubscriptionView) -> &'static str {
    delivery_label(sub.delivery)
}

pub fn delivery_label(delivery: crate::sim::scenario::Delivery) -> &'static str {
    use crate::sim::scenario::Delivery;
    match delivery {
        Delivery::AtMostOnce => "at-most-once",
        Delivery::AtLeastOnce => "at-least-once",
        Delivery::ExactlyOnceEffect => "exactly-once effect",
    }
}

fn scenario_topics(layout: &Layout, shell: &Shell) -> String {
    let mut out = String::from("<g class=\"topics\">");
    for (i, t) in shell.scenario.topics.iter().enumerate() {
        let b = layout.topics[i];
        put(
            &mut out,
            format_args!(
                "<g class=\"topic\"><title>{}</title>\
                 <rect class=\"topic-box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"22\"></rect>\
                 <text class=\"node-name\" x=\"{}\" y=\"{}\">{}</text>\
                 <text class=\"node-note\" x=\"{}\" y=\"{}\">topic</text></g>",
                esc(&format!("Topic {}: {}", t.name, t.description)),
                D1(b.left()),
                D1(b.top()),
                D1(b.w),
                D1(b.h),
                D1(b.x),
                D1(b.y + 1.0),
                esc(&t.name),
                D1(b.x),
                D1(b.y + 16.0),
            ),
        );
    }
    out.push_str("</g>");
    out
}

/// The path of a delivery edge: topic → queue (`first`) or queue → service.
fn delivery_path(layout: &Layout, s: &SubscriptionView, first: bool) -> String {
    let t = layout.topics[s.topic.0 as usize];
    let b = layout.subs[s.id.0 as usize];
    let c = layout.services[s.service.0 as usize];
    if first {
        format!("M{} {} L{} {}", D1(t.right()), D1(t.y), D1(b.left()), D1(b.y))
    } else {
        format!("M{} {} L{} {}", D1(b.right()), D1(b.y), D1(c.left()), D1(c.y))
    }
}

/// The legend: event kinds by shape and colour, and what the boxes are.
fn legend() -> Html {
    html! {
        <ul class="legend" aria-label="Legend">
            { for KIND_LEGEND.iter().map(|(kind, name, meaning)| html! {
                <li title={*meaning}>
                    <svg class={classes!("legend-token", kind_class(*kind))} viewBox="-10 -10 20 20" aria-hidden="true">{ kind_shape(*kind) }</svg>
                    { *name }
                </li>
            }) }
            <li title="How many messages wait in the subscription's queue"><span class="legend-badge">{ "3" }</span>{ "queued" }</li>
            <li title="A crashed service handles nothing until it restarts"><span class="legend-down" />{ "crashed" }</li>
            <li title="A compensation undoes an earlier saga step; its route is drawn dashed purple"><span class="legend-compensation" />{ "compensation" }</li>
        </ul>
    }
}

#[derive(Properties, PartialEq)]
struct FaultMenuProps {
    target: MenuTarget,
    shell: Shell,
    dispatch: Callback<ShellAction>,
}

/// The menu of faults for the clicked service or message copy.
fn fault_menu(props: &FaultMenuProps) -> Html {
    let sim = props.shell.sim.borrow();
    let item = |label: String, explain: &'static str, fault: Fault| {
        let dispatch = props.dispatch.clone();
        let onclick = Callback::from(move |event: MouseEvent| {
            event.stop_propagation();
            dispatch.emit(ShellAction::Inject(fault.clone()));
        });
        html! {
            <li><button type="button" class="menu-item" role="menuitem" {onclick} title={explain}>
                <span class="menu-label">{ label }</span>
                <span class="menu-explain">{ explain }</span>
            </button></li>
        }
    };
    let close = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: MouseEvent| {
            event.stop_propagation();
            dispatch.emit(ShellAction::CloseMenu);
        })
    };
    let keep = Callback::from(|event: MouseEvent| event.stop_propagation());
    let (title, intro, items) = match &props.target {
        MenuTarget::Service(id) => {
            let Some(spec) = sim.scenario().services.get(id.0 as usize) else { return html! {} };
            let name = spec.name.clone();
            let up = sim.service_state(*id).up;
            let items = vec![
                if up {
                    item(
                        "Crash".into(),
                        "stops handling; in-flight work is lost or redelivered by its delivery mode",
                        Fault::CrashService { service: name.clone(), restart_after_ms: None },
                    )
                } else {
                    item(
                        "Restart".into(),
                        "comes back and resumes from its queues",
                        Fault::RestartService { service: name.clone() },
                    )
                },
                item(
                    format!("Slow down (+{SLOW_EXTRA_MS} ms)"),
                    "every handling takes longer: queues grow",
                    Fault::SlowService { service: name.clone(), extra_ms: SLOW_EXTRA_MS },
                ),
                item(
                    format!("Fail {}% of handlings", FAIL_PER_MILLE / 10),
                    "handlers fail at random (seeded): retries, then the DLQ",
                    Fault::FailHandlers { service: name.clone(), per_mille: FAIL_PER_MILLE },
                ),
                item(
                    format!("Partition from the bus ({PARTITION_MS} ms)"),
                    "nothing reaches it; its acks and publications wait for the heal",
                    Fault::PartitionService { service: name.clone(), duration_ms: PARTITION_MS },
                ),
            ];
            (
                format!("Service {name}"),
                "Inject a fault now. It is recorded in the fault script, so the run replays exactly.",
                items,
            )
        }
        MenuTarget::Message { message, sub } => {
            let Some(m) = sim.message(*message) else { return html! {} };
            let id = m.envelope.id.clone();
            let sub_name = sub.and_then(|s| sim.compiled().subs.get(s.0 as usize)).map(|s| s.name.clone());
            let queued = sub.is_some_and(|s| {
                let state = sim.sub_state(s);
                state.queue.iter().any(|d| d.message == *message)
            });
            let mut items = Vec::new();
            if queued {
                items.push(item(
                    "Drop".into(),
                    "the broker loses this copy",
                    Fault::DropMessage { message: id.clone(), subscription: sub_name.clone() },
                ));
                items.push(item(
                    "Duplicate".into(),
                    "a second copy is delivered: will the consumer apply it twice?",
                    Fault::DuplicateMessage { message: id.clone(), subscription: sub_name.clone() },
                ));
                items.push(item(
                    format!("Delay ({DELAY_MS} ms)"),
                    "this copy leaves the queue and comes back later",
                    Fault::DelayMessage { message: id.clone(), subscription: sub_name.clone(), delay_ms: DELAY_MS },
                ));
            }
            items.push(item(
                "Mark as poison".into(),
                "every handling of it fails from now on: retries, then the DLQ",
                Fault::PoisonMessage { message: id.clone() },
            ));
            let intro = if queued {
                "This copy waits in its queue. Inject a fault on it now."
            } else {
                "This copy is not in a queue right now: only poisoning applies. Queued copies also offer drop, duplicate and delay."
            };
            (
                format!("Message {} ({})", id, short_type(&m.envelope.event_type))
                    + &sub_name.map(|s| format!(" in {s}")).unwrap_or_default(),
                intro,
                items,
            )
        }
    };
    drop(sim);
    html! {
        <div class="fault-menu" role="menu" aria-label={title.clone()} onclick={keep}>
            <div class="menu-head">
                <strong>{ title }</strong>
                <button type="button" class="menu-close" aria-label="Close the menu" title="Close (Esc)" onclick={close}>{ "\u{2715}" }</button>
            </div>
            <p class="menu-intro">{ intro }</p>
            <ul>{ for items }</ul>
        </div>
    }
}
