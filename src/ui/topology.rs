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
//! a token, or pressing Enter on it once Tab has reached it, opens a menu of faults to
//! inject there.
//!
//! Every part is a typed element with narrow props (a node gets its box and its view,
//! not the whole run), so a step re-renders only the nodes whose view changed, and a
//! focused service keeps its focus across steps.

use std::collections::BTreeMap;
use std::rc::Rc;

use yew::prelude::*;

use super::layout::{Layout, NodeBox, DLQ_W, SLOTS_SHOWN, SLOT_W};
use super::menu::{on_menu_keydown, use_menu_focus};
use super::numbers::{D0, D1};
use super::state::{
    opens_menu, MenuTarget, Motion, Shell, ShellAction, DELAY_MS, FAIL_PER_MILLE, PARTITION_MS, SLOW_EXTRA_MS,
};
use crate::sim::envelope::{EventKind, MessageId};
use crate::sim::fault::Fault;
use crate::sim::simulation::Simulation;
use crate::sim::trace::SubId;
use crate::sim::view::{ServiceStatus, ServiceView, SubscriptionView, TokenPlace, TokenView};

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

/// The token's shape as elements (created in the SVG namespace of the `<g>` or `<svg>`
/// they are drawn in).
pub fn kind_shape(kind: EventKind) -> Html {
    match kind {
        EventKind::Domain => html! { <circle class="token-shape" r="7" /> },
        EventKind::Integration => html! { <path class="token-shape" d="M0 -8.5L8.5 0L0 8.5L-8.5 0Z" /> },
        EventKind::Command => html! { <path class="token-shape" d="M-7 -7L8 0L-7 7L-3 0Z" /> },
        EventKind::ChangeDataCapture => {
            html! { <rect class="token-shape" x="-6.5" y="-6.5" width="13" height="13" /> }
        }
    }
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

/// Click and key handlers of a node that opens a fault menu: a click anywhere on it, or
/// Enter (or Space, as on any button) while it has the focus.
fn menu_opener(target: MenuTarget, on_open: &Callback<MenuTarget>) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let onclick = {
        let on_open = on_open.clone();
        let target = target.clone();
        Callback::from(move |event: MouseEvent| {
            // The canvas behind closes menus on click.
            event.stop_propagation();
            on_open.emit(target.clone());
        })
    };
    let onkeydown = {
        let on_open = on_open.clone();
        Callback::from(move |event: KeyboardEvent| {
            if opens_menu(&event.key()) {
                // Marked handled: Space must not also play the run.
                event.prevent_default();
                on_open.emit(target.clone());
            }
        })
    };
    (onclick, onkeydown)
}

/// The topology canvas with its legend.
#[function_component(Topology)]
pub fn topology(props: &TopologyProps) -> Html {
    let shell = &props.shell;
    let layout = use_memo(shell.scenario.clone(), |scenario| Layout::of(scenario));
    let topics = use_memo(shell.scenario.clone(), |scenario| {
        scenario.topics.iter().map(|t| (t.name.clone(), t.description.clone())).collect::<Vec<_>>()
    });
    let on_open = use_callback(props.dispatch.clone(), |target: MenuTarget, dispatch| {
        dispatch.emit(ShellAction::OpenMenu(target))
    });
    let sim = shell.sim.borrow();
    let empty = sim.scenario().services.is_empty();
    let services = sim.service_views();
    let subs = sim.subscription_views();
    let tokens = sim.token_views();
    // Compensation messages in flight: their tokens and the route they travel are drawn
    // in the compensation colour, so the undo path stands out against the forward flow.
    let compensating: Vec<u32> =
        tokens.iter().filter(|t| sim.message(t.message).is_some_and(|m| m.compensation)).map(|t| t.message.0).collect();
    let mut compensation_paths: Vec<String> = Vec::new();
    for t in tokens.iter().filter(|t| compensating.contains(&t.message.0)) {
        let Some(m) = sim.message(t.message) else { continue };
        let publish = m
            .emitted_by
            .and_then(|s| {
                layout.publish_edges.iter().find(|e| e.service == s.0 as usize && e.topic == m.topic.0 as usize)
            })
            .map(|e| layout.publish_path(e));
        let delivery = match t.place {
            TokenPlace::Publishing { .. } => None,
            TokenPlace::Queued { sub, .. } | TokenPlace::Handling { sub, .. } | TokenPlace::Waiting { sub, .. } => subs
                .get(sub.0 as usize)
                .map(|s| format!("{} {}", delivery_path(&layout, s, true), delivery_path(&layout, s, false))),
        };
        for d in [publish, delivery].into_iter().flatten() {
            if !compensation_paths.contains(&d) {
                compensation_paths.push(d);
            }
        }
    }
    drop(sim);

    let glide = match (shell.motion, shell.playing, shell.speed_steps_per_second) {
        (Motion::Jump, _, _) => None,
        (Motion::Glide, true, sps) if sps > 8 => None,
        (Motion::Glide, true, sps) if sps > 2 => Some("glide-fast"),
        _ => Some("glide"),
    };
    let view_box = format!("0 0 {} {}", D0(super::layout::WIDTH), D0(layout.height));
    let deliveries: Vec<(u32, u32, u32)> = subs.iter().map(|s| (s.topic.0, s.id.0, s.service.0)).collect();
    let service_names: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
    let menu_service = match &shell.menu {
        Some(MenuTarget::Service(id)) => Some(*id),
        _ => None,
    };

    // Tokens: several copies of one message in one place get distinct keys.
    let mut copies: BTreeMap<(u32, u8, u32), u32> = BTreeMap::new();
    let mut stacks: BTreeMap<(u8, u32, u8), u32> = BTreeMap::new();
    let token_nodes: Vec<Html> = tokens
        .iter()
        .filter_map(|t| {
            let (kind_of_place, where_id) = place_key(&t.place);
            let copy = copies.entry((t.message.0, kind_of_place, where_id)).or_insert(0);
            let key = format!("{}-{}-{}-{}", t.message.0, kind_of_place, where_id, *copy);
            *copy += 1;
            let stack_kind = match t.place {
                TokenPlace::Publishing { .. } => 0,
                TokenPlace::Handling { .. } => 1,
                TokenPlace::Waiting { .. } => 2,
                TokenPlace::Queued { .. } => 3,
            };
            let stack_id = match t.place {
                TokenPlace::Handling { sub, .. } => subs.get(sub.0 as usize).map_or(0, |s| s.service.0),
                _ => where_id,
            };
            let stack = stacks.entry((kind_of_place, stack_id, stack_kind)).or_insert(0);
            let position = token_position(&layout, &subs, t, *stack);
            *stack += 1;
            if let TokenPlace::Queued { position, .. } = t.place {
                if position > SLOTS_SHOWN {
                    return None;
                }
            }
            let (x, y) = position?;
            let sub = match t.place {
                TokenPlace::Publishing { .. } => None,
                TokenPlace::Queued { sub, .. } | TokenPlace::Handling { sub, .. } | TokenPlace::Waiting { sub, .. } => {
                    Some(sub)
                }
            };
            Some(html! {
                <TokenNode key={key} token={t.clone()} x={x} y={y} sub={sub}
                    where_text={place_text(&t.place, &subs)}
                    selected={shell.selected == Some(t.message)}
                    compensation={compensating.contains(&t.message.0)}
                    on_open={on_open.clone()} />
            })
        })
        .collect();

    let on_background = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(ShellAction::CloseMenu))
    };
    html! {
        <div class="canvas-body" onclick={on_background}>
            if !empty && shell.step == 0 && tokens.is_empty() {
                <p class="canvas-hint">{ "Press Play or \u{2192} to send the first message. Click a service or a moving token (or Tab to it and press Enter) to inject a fault." }</p>
            }
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
                <Edges layout={layout.clone()} deliveries={deliveries} compensation={compensation_paths} />
                <TopicNodes layout={layout.clone()} topics={topics} />
                <g class="subscriptions">
                    { for subs.iter().map(|s| html! {
                        <SubNode key={s.id.0} b={layout.subs[s.id.0 as usize]}
                            service={service_names.get(s.service.0 as usize).cloned().unwrap_or_default()}
                            view={s.clone()} />
                    }) }
                </g>
                <g class="services">
                    { for services.iter().map(|s| html! {
                        <ServiceNode key={s.id.0} b={layout.services[s.id.0 as usize]} view={s.clone()}
                            menu_open={menu_service == Some(s.id)} on_open={on_open.clone()} />
                    }) }
                </g>
                <g class="tokens">{ for token_nodes }</g>
            </svg>
            { legend() }
            if empty {
                <div class="empty-state">
                    <p class="empty-what">{ "This scenario has no services to draw." }</p>
                    <p class="empty-concept">{ "A topic is a named channel: publishers send to it, and every subscription gets its own queue with its own copy of each event." }</p>
                </div>
            }
        </div>
    }
}

fn fmt(value: f64) -> String {
    D1(value).to_string()
}

#[derive(Properties, PartialEq)]
struct EdgesProps {
    layout: Rc<Layout>,
    /// (topic, subscription, service) of every subscription.
    deliveries: Vec<(u32, u32, u32)>,
    /// Paths a compensation travels right now, drawn over the others.
    compensation: Vec<String>,
}

/// Edges: publications, topic → subscription, subscription → service.
#[function_component(Edges)]
fn edges(props: &EdgesProps) -> Html {
    let layout = &props.layout;
    let line = |from: (f64, f64), to: (f64, f64)| {
        html! {
            <path class="edge" d={format!("M{} {} L{} {}", D1(from.0), D1(from.1), D1(to.0), D1(to.1))} marker-end="url(#arrow)" />
        }
    };
    html! {
        <g class="edges">
            { for layout.publish_edges.iter().map(|e| {
                let back = layout.services[e.service].x > layout.topics[e.topic].x;
                html! { <path class={classes!("edge", "edge-publish", back.then_some("edge-back"))} d={layout.publish_path(e)} marker-end="url(#arrow)" /> }
            }) }
            { for props.deliveries.iter().filter_map(|&(topic, sub, service)| {
                let t = layout.topics.get(topic as usize)?;
                let b = layout.subs.get(sub as usize)?;
                let c = layout.services.get(service as usize)?;
                Some(html! { <>{ line((t.right(), t.y), (b.left(), b.y)) }{ line((b.right(), b.y), (c.left(), c.y)) }</> })
            }) }
            { for props.compensation.iter().map(|d| html! { <path class="edge edge-compensation" d={d.clone()} /> }) }
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct TopicNodesProps {
    layout: Rc<Layout>,
    /// Name and description of every topic.
    topics: Rc<Vec<(String, String)>>,
}

#[function_component(TopicNodes)]
fn topic_nodes(props: &TopicNodesProps) -> Html {
    html! {
        <g class="topics">
            { for props.topics.iter().zip(&props.layout.topics).map(|((name, description), b)| html! {
                <g class="topic">
                    <title>{ format!("Topic {name}: {description}") }</title>
                    <rect class="topic-box" x={fmt(b.left())} y={fmt(b.top())} width={fmt(b.w)} height={fmt(b.h)} rx="22" />
                    <text class="node-name" x={fmt(b.x)} y={fmt(b.y + 1.0)}>{ name.clone() }</text>
                    <text class="node-note" x={fmt(b.x)} y={fmt(b.y + 16.0)}>{ "topic" }</text>
                </g>
            }) }
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct SubNodeProps {
    b: NodeBox,
    view: SubscriptionView,
    /// Name of the consuming service.
    service: String,
}

/// A subscription: its queue with the depth badge, and its DLQ compartment.
#[function_component(SubNode)]
fn sub_node(props: &SubNodeProps) -> Html {
    let (b, s) = (props.b, &props.view);
    let dlq_x = b.right() - DLQ_W;
    let title = format!(
        "Subscription {} ({}): its own queue of the topic's events for {}. {} queued, {} waiting to retry, {} in the DLQ.",
        s.name,
        delivery_text(s),
        props.service,
        s.queue_depth,
        s.waiting,
        s.dlq_depth
    );
    html! {
        <g class="subscription" data-sub={s.name.clone()}>
            <title>{ title }</title>
            <rect class="queue-box" x={fmt(b.left())} y={fmt(b.top())} width={fmt(b.w)} height={fmt(b.h)} rx="6" />
            <text class="queue-name" x={fmt(b.left() + 16.0)} y={fmt(b.top() - 4.0)}>
                { s.name.clone() }<tspan class="queue-mode">{ format!(" \u{b7} {}", delivery_text(s)) }</tspan>
            </text>
            <rect class={classes!("dlq-box", (!s.dlq_enabled).then_some("dlq-off"), (s.dlq_depth > 0).then_some("dlq-full"))}
                x={fmt(dlq_x)} y={fmt(b.top())} width={fmt(DLQ_W)} height={fmt(b.h)} rx="6" />
            <text class="dlq-label" x={fmt(dlq_x + DLQ_W / 2.0)} y={fmt(b.y - 3.0)}>{ "DLQ" }</text>
            <text class="dlq-count" data-dlq={s.name.clone()} x={fmt(dlq_x + DLQ_W / 2.0)} y={fmt(b.y + 13.0)}>
                { if s.dlq_enabled { s.dlq_depth.to_string() } else { "off".to_string() } }
            </text>
            <g class={classes!("depth-badge", (s.queue_depth > 0).then_some("busy"))}>
                <circle cx={fmt(b.left())} cy={fmt(b.top())} r="12" />
                <text class="depth-count" data-depth={s.name.clone()} x={fmt(b.left())} y={fmt(b.top() + 4.5)}>{ s.queue_depth }</text>
            </g>
            if s.duplicates_skipped > 0 {
                <text class="queue-note" x={fmt(b.left() + 8.0)} y={fmt(b.y + 5.0)}>{ format!("{} duplicate(s) skipped", s.duplicates_skipped) }</text>
            }
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct ServiceNodeProps {
    b: NodeBox,
    view: ServiceView,
    menu_open: bool,
    on_open: Callback<MenuTarget>,
}

/// A service box: focusable, and the opener of its fault menu.
#[function_component(ServiceNode)]
fn service_node(props: &ServiceNodeProps) -> Html {
    let (b, s) = (props.b, &props.view);
    let (status_class, status_text) = match s.status {
        ServiceStatus::Up => (None, None),
        ServiceStatus::Crashed => (Some("down"), Some("\u{2715} crashed")),
        ServiceStatus::Partitioned => (Some("partitioned"), Some("\u{2702} cut off from the bus")),
    };
    let mut notes = Vec::new();
    if s.extra_ms > 0 {
        notes.push(format!("+{} ms", s.extra_ms));
    }
    if s.fail_per_mille > 0 {
        notes.push(format!("fails {}%", s.fail_per_mille / 10));
    }
    let note = status_text.map(str::to_string).unwrap_or_else(|| {
        if notes.is_empty() {
            "service".to_string()
        } else {
            notes.join(" \u{b7} ")
        }
    });
    let (onclick, onkeydown) = menu_opener(MenuTarget::Service(s.id), &props.on_open);
    html! {
        // The accessible name is the visible text, name then note, so what is read out
        // is what is seen (and says "crashed" when it is).
        <g class={classes!("service", status_class, props.menu_open.then_some("menu-open"))}
            role="button" tabindex="0" aria-label={format!("{} {}", s.name, note)} aria-haspopup="menu"
            aria-expanded={props.menu_open.to_string()}
            data-service={s.name.clone()} {onclick} {onkeydown}>
            <title>{ format!("{} \u{2014} {}. Click, or press Enter, for faults to inject.", s.name, s.description) }</title>
            <rect class="service-box" x={fmt(b.left())} y={fmt(b.top())} width={fmt(b.w)} height={fmt(b.h)} rx="8" />
            // One text element with a line per tspan and a space between them, so
            // its text reads "payment service", the same words as the name.
            <text class="node-name" x={fmt(b.x)} y={fmt(b.y - 1.0)}>
                <tspan class="service-name">{ s.name.clone() }</tspan>{ " " }
                <tspan class="node-note" x={fmt(b.x)} dy="16">{ note }</tspan>
            </text>
        </g>
    }
}

#[derive(Properties, PartialEq)]
struct TokenNodeProps {
    token: TokenView,
    x: f64,
    y: f64,
    /// The subscription whose copy this is (none while publishing).
    sub: Option<SubId>,
    /// Where it is, in words, for the tooltip.
    where_text: String,
    selected: bool,
    compensation: bool,
    on_open: Callback<MenuTarget>,
}

/// One copy of a message where it is now: focusable, and the opener of its fault menu.
#[function_component(TokenNode)]
fn token_node(props: &TokenNodeProps) -> Html {
    let t = &props.token;
    let state_class = match t.place {
        TokenPlace::Handling { .. } => "handling",
        TokenPlace::Waiting { .. } => "waiting",
        TokenPlace::Queued { .. } => "queued",
        TokenPlace::Publishing { .. } => "publishing",
    };
    let (onclick, onkeydown) = menu_opener(MenuTarget::Message { message: t.message, sub: props.sub }, &props.on_open);
    html! {
        <g class={classes!("token", kind_class(t.kind), state_class, props.selected.then_some("selected"), props.compensation.then_some("compensation"))}
            transform={format!("translate({} {})", D1(props.x), D1(props.y))}
            role="button" tabindex="0" aria-haspopup="menu"
            aria-label={format!("Message {} ({}), {}", t.event_id, short_type(&t.event_type), state_class)}
            data-message={t.event_id.clone()} data-place={state_class} {onclick} {onkeydown}>
            <title>{ format!("{} {} (attempt {}), {}. Click, or press Enter, to inspect it or inject a fault.", short_type(&t.event_type), t.event_id, t.attempt, props.where_text) }</title>
            <circle class="token-hit" r="11" />
            { kind_shape(t.kind) }
        </g>
    }
}

pub fn short_type(t: &str) -> &str {
    t.strip_prefix("io.eventscope.").unwrap_or(t)
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

// ---------------------------------------------------------------------------------
// The fault menu
// ---------------------------------------------------------------------------------

/// One fault the menu offers.
#[derive(Clone, Debug, PartialEq)]
pub struct MenuItem {
    pub label: String,
    pub explain: &'static str,
    pub fault: Fault,
}

/// What the fault menu of a target shows: computed from the run by [`fault_menu_model`],
/// so the menu component compares plain data.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultMenuModel {
    pub title: String,
    pub intro: &'static str,
    pub items: Vec<MenuItem>,
}

fn menu_item(label: impl Into<String>, explain: &'static str, fault: Fault) -> MenuItem {
    MenuItem { label: label.into(), explain, fault }
}

/// Where a copy of `message` waits in a queue: in `sub` when it holds one, else in the
/// first subscription that does (a log row names the step's subscription, which may
/// have handled its copy while another still waits). Returns the subscription, the
/// copy's position and the queue's length.
fn queued_copy(sim: &Simulation, message: MessageId, sub: Option<SubId>) -> Option<(SubId, usize, usize)> {
    let all = (0..sim.compiled().subs.len() as u32).map(SubId);
    sub.into_iter().chain(all).find_map(|s| {
        let queue = &sim.sub_state(s).queue;
        queue.iter().position(|d| d.message == message).map(|position| (s, position, queue.len()))
    })
}

/// The faults that can be injected on a target now, or `None` if it no longer exists.
pub fn fault_menu_model(sim: &Simulation, target: &MenuTarget) -> Option<FaultMenuModel> {
    match target {
        MenuTarget::Service(id) => {
            let name = sim.scenario().services.get(id.0 as usize)?.name.clone();
            let first = if sim.service_state(*id).up {
                menu_item(
                    "Crash",
                    "stops handling; in-flight work is lost or redelivered by its delivery mode",
                    Fault::CrashService { service: name.clone(), restart_after_ms: None },
                )
            } else {
                menu_item(
                    "Restart",
                    "comes back and resumes from its queues",
                    Fault::RestartService { service: name.clone() },
                )
            };
            let items = vec![
                first,
                menu_item(
                    format!("Slow down (+{SLOW_EXTRA_MS} ms)"),
                    "every handling takes longer: queues grow",
                    Fault::SlowService { service: name.clone(), extra_ms: SLOW_EXTRA_MS },
                ),
                menu_item(
                    format!("Fail {}% of handlings", FAIL_PER_MILLE / 10),
                    "handlers fail at random (seeded): retries, then the DLQ",
                    Fault::FailHandlers { service: name.clone(), per_mille: FAIL_PER_MILLE },
                ),
                menu_item(
                    format!("Partition from the bus ({PARTITION_MS} ms)"),
                    "nothing reaches it; its acks and publications wait for the heal",
                    Fault::PartitionService { service: name.clone(), duration_ms: PARTITION_MS },
                ),
            ];
            Some(FaultMenuModel {
                title: format!("Service {name}"),
                intro: "Inject a fault now. It is recorded in the fault script, so the run replays exactly.",
                items,
            })
        }
        MenuTarget::Message { message, sub } => {
            let m = sim.message(*message)?;
            let id = m.envelope.id.clone();
            let queued = queued_copy(sim, *message, *sub);
            let sub_name = queued
                .map(|(s, _, _)| s)
                .or(*sub)
                .and_then(|s| sim.compiled().subs.get(s.0 as usize))
                .map(|s| s.name.clone());
            let mut items = Vec::new();
            if let Some((_, position, length)) = queued {
                items.push(menu_item(
                    "Drop",
                    "the broker loses this copy",
                    Fault::DropMessage { message: id.clone(), subscription: sub_name.clone() },
                ));
                items.push(menu_item(
                    "Duplicate",
                    "a second copy is delivered: will the consumer apply it twice?",
                    Fault::DuplicateMessage { message: id.clone(), subscription: sub_name.clone() },
                ));
                items.push(menu_item(
                    format!("Delay ({DELAY_MS} ms)"),
                    "this copy leaves the queue and comes back later",
                    Fault::DelayMessage { message: id.clone(), subscription: sub_name.clone(), delay_ms: DELAY_MS },
                ));
                if position + 1 < length {
                    items.push(menu_item(
                        "Reorder",
                        "this copy moves behind the next one in its queue",
                        Fault::ReorderMessage { message: id.clone(), subscription: sub_name.clone() },
                    ));
                }
            }
            items.push(menu_item(
                "Mark as poison",
                "every handling of it fails from now on: retries, then the DLQ",
                Fault::PoisonMessage { message: id.clone() },
            ));
            let intro = if queued.is_some() {
                "This copy waits in its queue. Inject a fault on it now."
            } else {
                "This message is not in a queue right now: only poisoning applies. Queued copies also offer drop, duplicate, delay and reorder."
            };
            Some(FaultMenuModel {
                title: format!("Message {} ({})", id, short_type(&m.envelope.event_type))
                    + &sub_name.map(|s| format!(" in {s}")).unwrap_or_default(),
                intro,
                items,
            })
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct FaultMenuProps {
    pub model: FaultMenuModel,
    pub dispatch: Callback<ShellAction>,
}

/// The menu of faults for a service or a message copy. It takes the focus when it
/// opens and gives it back to its opener when it closes (see `menu`).
#[function_component(FaultMenu)]
pub fn fault_menu(props: &FaultMenuProps) -> Html {
    let list = use_node_ref();
    use_menu_focus(list.clone());
    let model = &props.model;
    let close = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: MouseEvent| {
            event.stop_propagation();
            dispatch.emit(ShellAction::CloseMenu);
        })
    };
    let keep = Callback::from(|event: MouseEvent| event.stop_propagation());
    html! {
        // The title and the intro are part of the menu, as presentation, so the menu
        // reads as one unit; the Close button sits beside it (a menu holds only items).
        <div class="fault-menu" onclick={keep}>
            <button type="button" class="menu-close" aria-label="Close the menu" title="Close (Esc)" onclick={close}>{ "\u{2715}" }</button>
            <ul role="menu" aria-labelledby="fault-menu-title" ref={list} onkeydown={on_menu_keydown()}>
                <li role="none" class="menu-head"><strong id="fault-menu-title">{ model.title.clone() }</strong></li>
                <li role="none" class="menu-intro">{ model.intro }</li>
                { for model.items.iter().map(|item| {
                    let dispatch = props.dispatch.clone();
                    let fault = item.fault.clone();
                    let onclick = Callback::from(move |event: MouseEvent| {
                        event.stop_propagation();
                        dispatch.emit(ShellAction::Inject(fault.clone()));
                    });
                    html! {
                        <li role="none"><button type="button" class="menu-item" role="menuitem" {onclick} title={item.explain}>
                            <span class="menu-label">{ item.label.clone() }</span>
                            <span class="menu-explain">{ item.explain }</span>
                        </button></li>
                    }
                }) }
            </ul>
        </div>
    }
}

/// The fault menu of the shell's open target, if any, wherever the canvas shows it.
pub fn open_fault_menu(shell: &Shell, dispatch: &Callback<ShellAction>) -> Html {
    let Some(target) = &shell.menu else { return html! {} };
    let Some(model) = fault_menu_model(&shell.sim.borrow(), target) else { return html! {} };
    // Keyed by target: another target is another menu, which takes the focus afresh.
    html! { <FaultMenu key={format!("{target:?}")} model={model} dispatch={dispatch.clone()} /> }
}
