//! Scenarios: the data that describes a system to simulate.

/// A one-line description of a built-in scenario, for pickers and listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioSummary {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
}

/// The built-in scenarios, in the order a newcomer meets them.
pub fn catalog() -> Vec<ScenarioSummary> {
    vec![
        ScenarioSummary {
            name: "pubsub",
            title: "Envelope and pub/sub",
            summary: "One order event fans out to three subscribers; each gets its own copy.",
        },
        ScenarioSummary {
            name: "delivery-guarantees",
            title: "Delivery guarantees",
            summary: "The same payments consumed at-most-once, at-least-once and exactly-once-effect.",
        },
        ScenarioSummary {
            name: "poison-message",
            title: "Poison message, retries and DLQ",
            summary: "A message that always fails is retried with backoff, then dead-lettered.",
        },
        ScenarioSummary {
            name: "checkout",
            title: "Checkout flow",
            summary: "Order, payment, inventory and shipping services react to each other's events.",
        },
    ]
}
