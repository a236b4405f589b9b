//! Automatic layout of a scenario's topology, in SVG user units.
//!
//! Four columns, left to right, in the order a message travels: producers (services
//! that only publish) → topics → subscriptions (each one a queue with its DLQ) →
//! consuming services. A service that both consumes and publishes (payment in the
//! checkout) stays in the consumer column, and its publications are drawn as a curve
//! back to the topic: one box per service, so a crashed service is down in one place.
//!
//! Rows are spread evenly over the tallest column; subscriptions are grouped by topic,
//! and consumers are ordered by the mean height of their subscriptions, which keeps
//! most edges short and uncrossed for the built-in scenarios. Pure computation over the
//! scenario, recomputed only when the scenario changes.

use super::numbers::D1;
use crate::sim::scenario::Scenario;
use crate::sim::sorting;

/// Width of the drawing; the height depends on the number of rows.
pub const WIDTH: f64 = 1000.0;
/// Vertical room per row of the tallest column.
pub const ROW_HEIGHT: f64 = 60.0;
const MARGIN_Y: f64 = 26.0;
const COLUMN_X: [f64; 4] = [95.0, 330.0, 590.0, 880.0];

pub const SERVICE_W: f64 = 150.0;
pub const SERVICE_H: f64 = 46.0;
pub const TOPIC_W: f64 = 150.0;
pub const TOPIC_H: f64 = 42.0;
pub const SUB_W: f64 = 200.0;
pub const SUB_H: f64 = 34.0;
/// Width of the DLQ compartment at the right end of a subscription's box.
pub const DLQ_W: f64 = 46.0;
/// Distance between two queued tokens.
pub const SLOT_W: f64 = 17.0;
/// Queued tokens drawn per queue; the depth badge counts the rest.
pub const SLOTS_SHOWN: u32 = 7;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeBox {
    /// Centre.
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl NodeBox {
    pub fn left(&self) -> f64 {
        self.x - self.w / 2.0
    }
    pub fn right(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn top(&self) -> f64 {
        self.y - self.h / 2.0
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

/// A publication route from a service to a topic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublishEdge {
    pub service: usize,
    pub topic: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub height: f64,
    /// Indexed like the scenario's services, topics and subscriptions.
    pub services: Vec<NodeBox>,
    pub topics: Vec<NodeBox>,
    pub subs: Vec<NodeBox>,
    pub publish_edges: Vec<PublishEdge>,
}

/// `count` centres spread evenly over `height` below the top margin.
fn spread(count: usize, height: f64) -> impl Iterator<Item = f64> {
    let band = height / count.max(1) as f64;
    (0..count).map(move |i| MARGIN_Y + band * (i as f64 + 0.5))
}

impl Layout {
    pub fn of(scenario: &Scenario) -> Layout {
        let topic_index = |name: &str| scenario.topics.iter().position(|t| t.name == name);
        let service_index = |name: &str| scenario.services.iter().position(|s| s.name == name);

        // Subscriptions grouped by topic, in scenario order within a topic.
        let mut sub_order: Vec<usize> = (0..scenario.subscriptions.len()).collect();
        sorting::sort_by_key(&mut sub_order, |&i| {
            (topic_index(&scenario.subscriptions[i].topic).unwrap_or(usize::MAX), i)
        });

        let consumers: Vec<bool> =
            scenario.services.iter().map(|s| scenario.subscriptions.iter().any(|sub| sub.service == s.name)).collect();
        let producer_count = consumers.iter().filter(|c| !**c).count();
        let consumer_count = consumers.len() - producer_count;
        let rows =
            [producer_count, scenario.topics.len(), sub_order.len(), consumer_count].into_iter().max().unwrap_or(0);
        let band_height = ROW_HEIGHT * rows.max(3) as f64;
        let height = band_height + 2.0 * MARGIN_Y;

        let mut subs = vec![NodeBox { x: COLUMN_X[2], y: 0.0, w: SUB_W, h: SUB_H }; scenario.subscriptions.len()];
        for (&i, y) in sub_order.iter().zip(spread(sub_order.len(), band_height)) {
            subs[i].y = y;
        }
        let topics: Vec<NodeBox> = spread(scenario.topics.len(), band_height)
            .map(|y| NodeBox { x: COLUMN_X[1], y, w: TOPIC_W, h: TOPIC_H })
            .collect();

        let mut services = vec![NodeBox { x: 0.0, y: 0.0, w: SERVICE_W, h: SERVICE_H }; scenario.services.len()];
        // Consumers in the order of the mean height of their subscriptions.
        let mut consumer_order: Vec<(f64, usize)> = (0..scenario.services.len())
            .filter(|&i| consumers[i])
            .map(|i| {
                let ys: Vec<f64> = scenario
                    .subscriptions
                    .iter()
                    .enumerate()
                    .filter(|(_, sub)| sub.service == scenario.services[i].name)
                    .map(|(j, _)| subs[j].y)
                    .collect();
                (ys.iter().sum::<f64>() / ys.len().max(1) as f64, i)
            })
            .collect();
        sorting::sort_by(&mut consumer_order, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (&(_, i), y) in consumer_order.iter().zip(spread(consumer_count, band_height)) {
            services[i].x = COLUMN_X[3];
            services[i].y = y;
        }
        let producers: Vec<usize> = (0..scenario.services.len()).filter(|&i| !consumers[i]).collect();
        for (&i, y) in producers.iter().zip(spread(producers.len(), band_height)) {
            services[i].x = COLUMN_X[0];
            services[i].y = y;
        }

        // Who publishes where: workload sources and every handler's emits.
        let mut publish_edges: Vec<PublishEdge> = Vec::new();
        let mut add = |service: Option<usize>, topic: Option<usize>| {
            if let (Some(service), Some(topic)) = (service, topic) {
                let edge = PublishEdge { service, topic };
                if !publish_edges.contains(&edge) {
                    publish_edges.push(edge);
                }
            }
        };
        for w in &scenario.workload {
            add(service_index(&w.source), topic_index(&w.topic));
        }
        for (i, s) in scenario.services.iter().enumerate() {
            for h in &s.handlers {
                for e in h.emit.iter().chain(&h.otherwise) {
                    add(Some(i), topic_index(&e.topic));
                }
            }
        }
        Layout { height, services, topics, subs, publish_edges }
    }

    /// The SVG path of a publication edge: straight when the service is left of the
    /// topic, otherwise a curve looping back under the boxes.
    pub fn publish_path(&self, edge: &PublishEdge) -> String {
        let s = self.services[edge.service];
        let t = self.topics[edge.topic];
        if s.x < t.x {
            format!("M{} {} L{} {}", D1(s.right()), D1(s.y), D1(t.left()), D1(t.y))
        } else {
            let (sx, sy) = (s.x - s.w * 0.25, s.bottom());
            let (tx, ty) = (t.x + t.w * 0.25, t.bottom());
            let dip = 46.0;
            format!(
                "M{sx} {sy} C{sx} {} {tx} {} {tx} {ty}",
                D1(sy + dip),
                D1(ty + dip),
                sx = D1(sx),
                sy = D1(sy),
                tx = D1(tx),
                ty = D1(ty)
            )
        }
    }
}
