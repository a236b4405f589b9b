//! The twelve lessons. Text is written for people new to the topic: plain words, and
//! every term explained the first time it appears.

use super::checklist::Item;
use super::when::{Need, When, WHILE_RUNNING};
use super::{Cue, Lesson, Meter, Narration, Prediction, Reading, TryAction, TryThis};
use crate::sim::health::SagaState;
use crate::sim::trace::{FailureCause, Happened};
use crate::sim::{AntiPattern, Fault, Invariant, Simulation};

/// All lessons, in order.
pub fn lessons() -> &'static [Lesson] {
    &LESSONS
}

// ---------------------------------------------------------------------------------
// Meter helpers: read numbers out of a run
// ---------------------------------------------------------------------------------

fn state(sim: &Simulation, service: &str, key: &str) -> i64 {
    sim.compiled().service_by_name(service).and_then(|id| sim.service_state(id).state.get(key).copied()).unwrap_or(0)
}

fn state_sum(sim: &Simulation, service: &str, prefix: &str) -> i64 {
    sim.compiled()
        .service_by_name(service)
        .map(|id| sim.service_state(id).state.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| *v).sum())
        .unwrap_or(0)
}

fn handled(sim: &Simulation, sub: &str) -> i64 {
    sim.compiled().sub_by_name(sub).map_or(0, |id| sim.sub_state(id).stats.handled as i64)
}

fn dlq(sim: &Simulation, sub: &str) -> i64 {
    sim.compiled().sub_by_name(sub).map_or(0, |id| sim.sub_state(id).dlq.len() as i64)
}

fn published(sim: &Simulation, type_suffix: &str) -> i64 {
    sim.messages().iter().filter(|m| m.envelope.event_type.ends_with(type_suffix)).count() as i64
}

fn workload_total(sim: &Simulation) -> i64 {
    sim.scenario().workload.iter().map(|w| w.repeat.as_ref().map_or(1, |r| i64::from(r.count))).sum()
}

fn violations(sim: &Simulation, invariant: Invariant) -> i64 {
    sim.checkers().count(invariant) as i64
}

/// Readings for the saga lessons. The promise of a saga is all or nothing: every paid
/// order ends shipped or refunded. An order that does not ship is not a failure of the
/// design as long as its payment comes back, so shipped and refunded are counted
/// together against the paid orders, and shown apart for context.
fn saga_outcome(sim: &Simulation) -> Vec<Reading> {
    let paid = published(sim, "payment.completed") + published(sim, "payment.processed");
    let shipped = published(sim, "shipment.scheduled");
    let refunded = published(sim, "payment.refunded");
    let total =
        state_sum(sim, "payment", "balance.") + state(sim, "payment", "captured") + state(sim, "accounting", "revenue");
    vec![
        Reading::new("paid orders shipped or refunded", paid, shipped + refunded),
        Reading::info("orders shipped", shipped),
        Reading::info("payments refunded", refunded),
        Reading::new("money in the system", 420, total),
    ]
}

/// The saga readings hold in every run of the choreography lesson: compensations
/// always finish there.
const SAGA_AS_EXPECTED: &[(&str, When)] =
    &[("paid orders shipped or refunded", When::Always), ("money in the system", When::Always)];

// ---------------------------------------------------------------------------------
// The lessons
// ---------------------------------------------------------------------------------

static LESSONS: [Lesson; 12] = [
    Lesson {
        slug: "envelope-pubsub",
        number: 1,
        title: "The event envelope and pub/sub",
        idea: "A publisher states a fact once; every subscriber gets its own copy, and the publisher knows none of them.",
        scenario: "pubsub",
        seed: 1,
        compare_with: None,
        intro: "An event is a fact that has happened, such as \"order 1 was placed\". It travels in an envelope: an id for \
                deduplication, a type, a source, a time, a subject (what it is about) and the data. The shop publishes each \
                OrderPlaced to the orders topic. Three services subscribe. Each subscription has its own queue, so each \
                service gets its own copy, at its own pace.",
        narration: &[
            Narration {
                cue: Cue::of("publish", "order.placed"),
                text: "The shop publishes OrderPlaced to the orders topic. Click the row to see its envelope: id, source, type, \
                       time, subject, and the data.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("deliver", "order.placed", "email-orders"),
                text: "The broker hands a copy of OrderPlaced to the email service's subscription.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("deliver", "order.placed", "warehouse-orders"),
                text: "The analytics and warehouse subscriptions got their own copies of the same event: one publication, \
                       one copy per subscription.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("handle", "order.placed", "warehouse-orders"),
                text: "The warehouse is the slowest, and that is fine: nobody waits for it. Each subscriber works at its own pace.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::verb("crash"),
                text: "The warehouse is down. The shop keeps publishing and email and analytics keep working: that is loose \
                       coupling. The warehouse's copies wait in its queue; nothing restarts it in this run, so the verdict \
                       \"no event lost\" is pending, not held: the copies are parked, not lost.",
                after_try: Some(0),
                when: When::All(&[When::ServiceDown("warehouse"), When::Not(&When::Held(Invariant::NoEventLost))]),
            },
            Narration {
                cue: Cue::verb("crash"),
                text: "The warehouse is down. The shop keeps publishing and email and analytics keep working: that is loose \
                       coupling. No copy is waiting for the warehouse right now; the next ones will wait in its queue.",
                after_try: Some(0),
                when: When::All(&[When::ServiceDown("warehouse"), When::Held(Invariant::NoEventLost)]),
            },
        ],
        prediction: Prediction {
            question: "The shop publishes one OrderPlaced. How many copies are delivered?",
            choices: &["One: the first subscriber takes it", "Three: one per subscription", "It depends on who asks first"],
            answer: 1,
            explanation: "Pub/sub gives every subscription its own copy. (Competing consumers inside one subscription would \
                          share the work instead.)",
            reveal: Cue::at("deliver", "order.placed", "warehouse-orders"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Crash the warehouse",
            explain: "Take one subscriber down and watch the others carry on while its queue grows.",
            action: TryAction::Inject(|| Fault::CrashService { service: "warehouse".into(), restart_after_ms: None }),
            needs: &[WHILE_RUNNING],
        }],
        meter: Meter {
            title: "Copies handled per subscriber",
            explain: "Every subscriber should handle every order.",
            as_expected: &[
                ("email-orders", When::Always),
                ("analytics-orders", When::Always),
                ("warehouse-orders", When::Not(&When::Tried(0))),
            ],
            read: |sim| {
                let n = workload_total(sim);
                ["email-orders", "analytics-orders", "warehouse-orders"]
                    .iter()
                    .map(|s| Reading::new(*s, n, handled(sim, s)))
                    .collect()
            },
        },
        checklist: Some(Item::EventsImmutableAndVersioned),
        remember: &[
            "An event is an immutable fact with an id, a type, a source, a time and a subject.",
            "Pub/sub: one publication, one copy per subscription.",
            "The publisher does not know its subscribers; a slow or broken one does not slow the others.",
        ],
    },
    Lesson {
        slug: "delivery-guarantees",
        number: 2,
        title: "Delivery guarantees",
        idea: "Whether an event can be lost or duplicated depends on when the consumer acknowledges it.",
        scenario: "delivery-guarantees",
        seed: 1,
        compare_with: None,
        intro: "Three ledgers book the same twenty payments. At-most-once acknowledges a message as soon as it arrives, \
                before booking it. At-least-once acknowledges after booking. Exactly-once effect is at-least-once plus an \
                idempotent consumer: it stores the ids it has processed in the same transaction as the booking, so it can \
                recognise a message it has seen before. At 260 ms all three ledgers crash; at 600 ms they are cut off from \
                the bus for a while.",
        narration: &[
            Narration {
                cue: Cue::at("deliver", "payment.requested", "amo-payments"),
                text: "At-most-once: the ledger acknowledged the payment before booking it (\"acked first\"). The broker now \
                       considers it done.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::in_place("crash", "ledger-amo"),
                text: "All three ledgers crash in the middle of a booking. The at-most-once ledger had already acknowledged \
                       its payment: it is lost. The other two had not, so the broker will deliver theirs again.",
                after_try: None,
                when: When::Not(&When::AntiPattern(AntiPattern::FireAndForget)),
            },
            Narration {
                cue: Cue::in_place("crash", "ledger-amo"),
                text: "All three ledgers crash in the middle of a booking. Every one of them acknowledged its payment on \
                       arrival, so the broker will not deliver any of them again: each ledger loses a payment.",
                after_try: Some(1),
                when: When::AntiPattern(AntiPattern::FireAndForget),
            },
            Narration {
                cue: Cue::at("handle", "payment.requested", "alo-payments").saying("ack pending"),
                text: "The ledgers are cut off from the bus: they book the payment, but the acknowledgement cannot reach \
                       the broker. The broker will redeliver it.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("skip-dup", "payment.requested", "eoe-payments"),
                text: "The redelivered payment arrives again. The exactly-once-effect ledger finds its id in its processed-ids \
                       table and skips it. The at-least-once ledger has no such table and books it a second time.",
                after_try: None,
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "After the crash and the network cut, which ledger has booked exactly 20 payments?",
            choices: &["At-most-once", "At-least-once", "Exactly-once effect", "All three"],
            answer: 2,
            explanation: "At-most-once lost one payment (19), at-least-once booked a redelivery twice (21), and only the \
                          idempotent consumer booked each payment once.",
            reveal: Cue::at("skip-dup", "payment.requested", "eoe-payments"),
            after_try: None,
        },
        try_this: &[
            TryThis {
                label: "Turn off idempotency",
                explain: "The exactly-once ledger stops recording processed ids. Watch it double-book too.",
                action: TryAction::Toggle(AntiPattern::NoIdempotency),
                needs: &[Need {
                    when: When::Any(&[
                        When::AntiPattern(AntiPattern::NoIdempotency),
                        When::Not(&When::AntiPattern(AntiPattern::FireAndForget)),
                    ]),
                    otherwise: "Every ledger acknowledges first now, so nothing is delivered twice and idempotency has \
                                nothing to catch. Switch \"Acknowledge everything first\" off before trying this.",
                }],
            },
            TryThis {
                label: "Acknowledge everything first",
                explain: "Every ledger acknowledges before booking: the crash now loses a payment in all three.",
                action: TryAction::Toggle(AntiPattern::FireAndForget),
                needs: &[],
            },
        ],
        meter: Meter {
            title: "Payments booked per ledger",
            explain: "Twenty payments were sent; each ledger should book exactly twenty.",
            // The scenario's crash and network cut always cost the first two ledgers;
            // only the idempotent one keeps its promise, and only while it is idempotent
            // and acknowledges after booking.
            as_expected: &[
                ("ledger-amo", When::Never),
                ("ledger-alo", When::Never),
                (
                    "ledger-eoe",
                    When::Not(&When::Any(&[
                        When::AntiPattern(AntiPattern::NoIdempotency),
                        When::AntiPattern(AntiPattern::FireAndForget),
                    ])),
                ),
            ],
            read: |sim| {
                let n = workload_total(sim);
                ["ledger-amo", "ledger-alo", "ledger-eoe"].iter().map(|s| Reading::new(*s, n, state(sim, s, "count"))).collect()
            },
        },
        checklist: Some(Item::ConsumersIdempotent),
        remember: &[
            "At-most-once: ack before handling; a crash loses the event.",
            "At-least-once: ack after handling; a crash or lost ack redelivers it, so duplicates happen.",
            "Exactly-once effect = at-least-once + an idempotent consumer that stores processed ids with its effect.",
        ],
    },
    Lesson {
        slug: "poison-messages",
        number: 3,
        title: "Poison messages, retries, DLQ and redrive",
        idea: "A message that can never succeed must be moved aside after a few attempts, or it blocks everything behind it.",
        scenario: "poison-message",
        seed: 1,
        compare_with: None,
        intro: "Billing turns orders into invoices. One order arrives without an amount: billing fails on it every time. \
                Such a message is called a poison message. The subscription retries it with exponential backoff (longer \
                waits each time, with a little random jitter), and after its fourth attempt (attempts_max counts the first \
                one) moves it to the dead-letter queue (DLQ) with its death history. Billing keeps each account's orders in \
                order, so account-a's later orders wait behind the poison message.",
        narration: &[
            Narration {
                cue: Cue::at("fail", "order.placed", "billing-orders"),
                text: "Billing fails: the payload has no amount. The message is not lost; it will be tried again after a backoff.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("requeue", "order.placed", "billing-orders"),
                text: "The backoff is over and the message is back at the head of the queue. Meanwhile account-b's orders went \
                       ahead, but account-a's later orders wait: per-key order.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("fail", "order.placed", "billing-orders").saying("dead-lettered"),
                text: "Fourth failure: the message goes to the DLQ with its reason (delivery_limit) and death history. \
                       Account-a's waiting orders can finally proceed. The verdict \"no event lost\" turns pending: the \
                       message is parked, waiting for someone to fix the cause and redrive it.",
                after_try: None,
                when: When::DeadLetters("billing-orders"),
            },
            Narration {
                cue: Cue::at("redrive", "order.placed", "billing-orders"),
                text: "Redriven: the dead letter goes back to the queue with its history kept. Nothing fixed the payload, so it \
                       will fail again; in real life you redrive after fixing the cause.",
                after_try: Some(0),
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "The poison message keeps failing. What happens to account-a's orders behind it?",
            choices: &["They are processed anyway", "They wait until the poison message is moved aside", "They are lost"],
            answer: 1,
            explanation: "With per-key ordering, later orders of the same account must wait. The DLQ is what unblocks them.",
            reveal: Cue::at("fail", "order.placed", "billing-orders").saying("dead-lettered"),
            after_try: None,
        },
        try_this: &[
            TryThis {
                label: "Redrive the dead letter",
                explain: "Send it back from the DLQ. Its history is kept and its count goes up when it fails again.",
                action: TryAction::Inject(|| Fault::RedriveDeadLetters { subscription: "billing-orders".into(), message: None }),
                needs: &[Need {
                    when: When::DeadLetters("billing-orders"),
                    otherwise: "Nothing to redrive: the DLQ of billing-orders is empty. Play on until the poison message \
                                is dead-lettered.",
                }],
            },
            TryThis {
                label: "Remove the DLQ",
                explain: "Without a DLQ the poison message is retried forever and account-a never moves again.",
                action: TryAction::Toggle(AntiPattern::NoDlq),
                needs: &[],
            },
        ],
        meter: Meter {
            title: "Invoices and dead letters",
            explain: "Nine valid orders should be invoiced; the one poison message should sit in the DLQ.",
            as_expected: &[
                ("orders invoiced", When::Not(&When::AntiPattern(AntiPattern::NoDlq))),
                ("messages in the DLQ", When::Not(&When::AntiPattern(AntiPattern::NoDlq))),
            ],
            read: |sim| {
                vec![
                    Reading::new("orders invoiced", 9, state(sim, "billing", "invoices")),
                    Reading::new("messages in the DLQ", 1, dlq(sim, "billing-orders")),
                ]
            },
        },
        checklist: Some(Item::DlqForEveryConsumer),
        remember: &[
            "Retry with exponential backoff and jitter; attempts_max here counts the first attempt.",
            "After the last attempt, dead-letter the message with its reason and history instead of blocking the queue.",
            "Inspect the DLQ, fix the cause, then redrive or discard.",
        ],
    },
    Lesson {
        slug: "choreography",
        number: 4,
        title: "A choreography saga",
        idea: "Without a coordinator, each service reacts to events, and a failure event makes the others undo their steps.",
        scenario: "checkout",
        seed: 1,
        compare_with: None,
        intro: "A checkout spans four services and no database transaction can cover them all. A saga is a sequence of local \
                transactions, each with a compensating action that undoes it. In a choreography nobody is in charge: payment \
                reacts to OrderPlaced, inventory to PaymentCompleted, shipping to InventoryReserved. If shipping fails, its \
                ShipmentFailed event starts a chain of compensations through the services that already acted, until the \
                order service cancels the order.",
        narration: &[
            Narration {
                cue: Cue::of("publish", "payment.completed"),
                text: "Payment charged the customer and announced it. It does not know who listens: inventory and accounting do.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "shipment.scheduled"),
                text: "The last step succeeded: the order ships. Each service did its local transaction and told the others.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "payment.failed"),
                text: "Customer c-5 cannot pay. PaymentFailed is the end of this order: nothing was done yet, so nothing needs undoing.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "shipment.failed"),
                text: "No truck! ShipmentFailed starts the compensation chain: the services that already acted must undo \
                       their steps.",
                after_try: Some(0),
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "payment.refunded"),
                text: "Inventory released the stock, and now payment refunded the customer: the reverse path, step by step.",
                after_try: Some(0),
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "Shipping has no trucks. In which order are the steps undone?",
            choices: &["Payment, then inventory", "Inventory, then payment", "Both at once"],
            answer: 1,
            explanation: "Compensations run in reverse order: the last completed step (inventory) is undone first, then payment.",
            reveal: Cue::of("publish", "inventory.released"),
            after_try: Some(0),
        },
        try_this: &[TryThis {
            label: "Take away shipping's trucks",
            explain: "Set shipping's trucks to 0: every shipment fails and the compensations run.",
            action: TryAction::Inject(|| Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 }),
            needs: &[WHILE_RUNNING],
        }],
        meter: Meter {
            title: "Paid, shipped, refunded",
            explain: "Every paid order ships, or its money goes back. Money is never created or lost.",
            read: saga_outcome,
            as_expected: SAGA_AS_EXPECTED,
        },
        checklist: Some(Item::CompensationsDefined),
        remember: &[
            "A saga is a chain of local transactions, each with a compensating action.",
            "Choreography: services react to each other's events; nobody holds the whole picture.",
            "Failure events trigger compensations in reverse order.",
        ],
    },
    Lesson {
        slug: "orchestration",
        number: 5,
        title: "An orchestration saga",
        idea: "A coordinator sends each step's command and, on a failure, the compensations in reverse order.",
        scenario: "checkout-orchestration",
        seed: 1,
        compare_with: None,
        intro: "The same checkout, but run by an orchestrator. It starts a saga instance for each order and sends one command \
                at a time (ProcessPayment, ReserveInventory, ScheduleShipment, NotifyCustomer), waiting for each reply. The \
                orchestrator stores each instance's progress as events in its own stream. Scheduling the shipment is the \
                pivot: once it succeeds, the saga can only go forward.",
        narration: &[
            Narration {
                cue: Cue::of("publish", "payment.process"),
                text: "The orchestrator sends ProcessPayment, a command addressed to payment. Commands are requests; events are facts.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("handle", "payment.processed", "orchestrator-replies"),
                text: "The reply arrived. The orchestrator recorded \"step pay succeeded\" in the saga's stream and sent the \
                       next command itself: payment never talks to inventory.",
                after_try: None,
                // This is the answer to the question, which the run asks just after.
                when: When::Revealed,
            },
            Narration {
                cue: Cue::of("publish", "order.approved"),
                text: "All steps done: the saga is complete and the order approved.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "inventory.release"),
                text: "Shipping failed before the pivot. The orchestrator sends the compensations, newest first: release the stock...",
                after_try: Some(0),
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "payment.refund"),
                text: "...then refund the payment. If a compensation fails, it is retried; if it keeps failing it waits in a DLQ \
                       and the saga stays visibly \"compensating\".",
                after_try: Some(0),
                when: When::Always,
            },
            Narration {
                cue: Cue::at("fail", "payment.process", "payment-commands").saying("dead-lettered"),
                text: "Payment failed on every attempt and its command went to the DLQ. The saga waiting for it is not \
                       running any more but stuck: the Sagas tab names the step and why. Nothing was paid, so nothing \
                       needs undoing; redriving the command once payment works would let it go on.",
                after_try: Some(1),
                when: When::SagaStuck { compensating: false },
            },
            Narration {
                cue: Cue::at("fail", "payment.refund", "payment-commands").saying("dead-lettered"),
                text: "A refund failed on every attempt and went to the DLQ: that saga is stuck compensating. Its customer \
                       has paid for an order that will not ship, until an operator redrives the refund.",
                after_try: Some(1),
                when: When::SagaStuck { compensating: true },
            },
        ],
        prediction: Prediction {
            question: "Who decides what happens after payment succeeds?",
            choices: &["Inventory, when it hears about the payment", "The orchestrator", "The storefront"],
            answer: 1,
            explanation: "Participants only answer their own commands; the orchestrator knows the whole sequence.",
            reveal: Cue::of("publish", "inventory.reserve"),
            after_try: None,
        },
        try_this: &[
            TryThis {
                label: "Take away shipping's trucks",
                explain: "Every shipment fails before the pivot: the orchestrator compensates the completed steps.",
                action: TryAction::Inject(|| Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 }),
                needs: &[
                    WHILE_RUNNING,
                    Need {
                        when: When::Not(&When::Tried(1)),
                        otherwise: "Payment fails everything now, so no order gets as far as shipping. Rewind before \
                                    \"Make payment fail\" to try this first.",
                    },
                ],
            },
            TryThis {
                label: "Make payment fail",
                explain: "From now on payment fails every handling: its commands end in the DLQ and the sagas waiting \
                          for it are stuck. Take the trucks away first to see a compensation (a refund) that keeps failing.",
                action: TryAction::Inject(|| Fault::FailHandlers { service: "payment".into(), per_mille: 1000 }),
                needs: &[WHILE_RUNNING],
            },
        ],
        meter: Meter {
            title: "Sagas settled",
            explain: "Every saga ends completed or fully compensated, and every paid order ships or is refunded.",
            read: |sim| {
                let health = sim.health();
                let settled = health.sagas.iter().filter(|s| matches!(s.state, SagaState::Completed | SagaState::Compensated));
                let mut r = vec![Reading::new("sagas completed or compensated", workload_total(sim), settled.count() as i64)];
                r.extend(saga_outcome(sim));
                r
            },
            // A payment that always fails leaves sagas stuck; once it fails a refund, a
            // paid order is neither shipped nor refunded. No truck is no damage: the
            // compensations give everything back.
            as_expected: &[
                ("sagas completed or compensated", When::Not(&When::Tried(1))),
                ("paid orders shipped or refunded", When::Not(&When::SagaStuck { compensating: true })),
                ("money in the system", When::Always),
            ],
        },
        checklist: Some(Item::CompensationsDefined),
        remember: &[
            "Orchestration: one coordinator sends commands and knows the whole flow.",
            "The coordinator's state is itself stored as events, so it survives restarts.",
            "The pivot step is the point of no return; before it, failures are compensated in reverse order.",
        ],
    },
    Lesson {
        slug: "choreography-vs-orchestration",
        number: 6,
        title: "Choreography vs orchestration",
        idea: "The same workflow can be distributed across services or centralised in one coordinator; each has a cost.",
        scenario: "checkout",
        seed: 1,
        compare_with: Some("checkout-orchestration"),
        intro: "Both runs process the same five orders with the same seed and faults. Compare how many messages each sends, \
                how many other services each service must know about (coupling), where a failure shows up, and how it is \
                compensated.",
        narration: &[
            Narration {
                cue: Cue::of("publish", "order.placed"),
                text: "Same order, two designs. In the choreography, payment reacts to OrderPlaced itself; in the orchestration, \
                       the orchestrator receives it and commands payment.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "shipment.scheduled"),
                text: "An order ships. Count the messages in the log: the orchestration sends a command and a reply per \
                       step; the choreography publishes one event per step, but its flow is spread over every service.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "shipment.failed"),
                text: "The failure: in the choreography every service must know which events to react to; in the orchestration \
                       only the orchestrator knows.",
                after_try: Some(0),
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "Which design sends more messages for the same orders?",
            choices: &["Choreography", "Orchestration", "The same number"],
            answer: 1,
            explanation: "Orchestration sends a command and a reply per step; choreography publishes one event per step.",
            reveal: Cue::of("publish", "shipment.scheduled"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Take away shipping's trucks (both)",
            explain: "Watch the compensation run as a chain of events on one side and as commands from the orchestrator on the other.",
            action: TryAction::Inject(|| Fault::SetState { service: "shipping".into(), key: "trucks".into(), value: 0 }),
            needs: &[WHILE_RUNNING],
        }],
        meter: Meter {
            title: "Paid, shipped, refunded",
            explain: "Both designs must ship every paid order or refund it.",
            read: saga_outcome,
            as_expected: SAGA_AS_EXPECTED,
        },
        checklist: Some(Item::CompensationsDefined),
        remember: &[
            "Choreography: loose coupling, fewer messages, but the flow is implicit and spread out.",
            "Orchestration: the flow is explicit in one place, at the cost of a central coordinator and more messages.",
            "Both need compensations for every step that can be undone.",
        ],
    },
    Lesson {
        slug: "event-sourcing",
        number: 7,
        title: "Event sourcing",
        idea: "Store what happened, not the current state; the state is the fold of the events.",
        scenario: "bank-account",
        seed: 1,
        compare_with: None,
        intro: "The accounts service stores no balance. Each account is a stream of events (AccountOpened, MoneyDeposited, \
                MoneyWithdrawn) and its balance is computed by folding them, one after the other. You can rebuild the state \
                as of any version. Every few events a snapshot stores the state so the fold does not start from zero. Two \
                handlings of the same account can overlap; each append says which version it read, and the second one is \
                refused with a concurrency conflict instead of silently overwriting the first.",
        narration: &[
            Narration {
                cue: Cue::at("handle", "account.deposit", "accounts-teller"),
                text: "The deposit command was checked against the account's state and MoneyDeposited was appended to the stream.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::verb("fail").saying("conflict"),
                text: "Concurrency conflict: the ATM read the account at one version, but the teller appended first. The ATM's \
                       append is refused and retried on the new state. Nothing is overwritten.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("project", "money.deposited", "balances"),
                text: "The balances read model applies the stored events in order, a little behind the writes.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("fail", "account.withdraw", "accounts-atm").saying("dead-lettered"),
                text: "This withdrawal conflicted on every attempt and went to the DLQ. It was refused, not lost: it waits \
                       there, visible, until an operator redrives it, and \"no event lost\" is pending until then.",
                after_try: Some(0),
                when: When::DeadLetters("accounts-atm"),
            },
        ],
        prediction: Prediction {
            question: "The teller and the ATM change the same account at the same time. What happens?",
            choices: &["The last write wins", "One append is refused and retried", "The balance becomes wrong"],
            answer: 1,
            explanation: "Appending with an expected version turns a lost update into a visible conflict.",
            reveal: Cue::verb("fail").saying("conflict"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Slow the accounts service down",
            explain: "Slower handling means more overlap and more conflicts. Each one is visible and retried; a command \
                      that conflicts on every attempt ends in the DLQ instead of overwriting anything.",
            action: TryAction::Inject(|| Fault::SlowService { service: "accounts".into(), extra_ms: 30 }),
            needs: &[WHILE_RUNNING],
        }],
        meter: Meter {
            title: "Commands applied",
            explain: "Every deposit and every withdrawal decision ends up in the stream, conflicts or not.",
            // Only a command that ran out of attempts misses the stream, and it is in a DLQ.
            as_expected: &[
                ("deposits recorded", When::Not(&When::DeadLetters("accounts-teller"))),
                ("withdrawals decided", When::Not(&When::DeadLetters("accounts-atm"))),
            ],
            read: |sim| {
                let id = sim.compiled().service_by_name("accounts");
                let state = id.and_then(|id| sim.aggregate_state(id, "acct-1", None, true).ok()).unwrap_or_default();
                let deposits = state.get("deposits").copied().unwrap_or(0);
                let withdrawals = state.get("withdrawals").copied().unwrap_or(0);
                let conflicts = sim
                    .trace()
                    .iter()
                    .filter(|r| matches!(&r.happened, Happened::HandlingFailed { cause: FailureCause::Conflict { .. }, .. }))
                    .count() as i64;
                vec![
                    Reading::new("deposits recorded", 12, deposits),
                    Reading::new("withdrawals decided", 8, withdrawals + published(sim, "withdrawal.rejected")),
                    Reading::info("conflicts caught and retried", conflicts),
                ]
            },
        },
        checklist: Some(Item::EventsImmutableAndVersioned),
        remember: &[
            "Events are the source of truth; state is rebuilt by folding them.",
            "State as of any version is a fold up to that version; snapshots make it fast.",
            "Append with an expected version: concurrent writers get a conflict, not a lost update.",
        ],
    },
    Lesson {
        slug: "cqrs",
        number: 8,
        title: "CQRS and eventual consistency",
        idea: "Reads come from read models built from the events; they lag behind the writes, and can be rebuilt from zero.",
        scenario: "order-read-model",
        seed: 1,
        compare_with: None,
        intro: "Command Query Responsibility Segregation: commands change the write side (the orders service's event store), \
                queries read read models (projections) built from the stored events. Each projection has a checkpoint, the \
                last event it applied. The orders-by-status projection is slow, so a query may return an answer that is a \
                little old: eventually consistent.",
        narration: &[
            Narration {
                cue: Cue::at("project", "order.placed", "revenue-by-customer"),
                text: "The fast projection applied an event almost as soon as it was written.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("project", "order.placed", "orders-by-status"),
                text: "The slow projection is catching up. Compare its checkpoint with the store's head: the difference is its lag.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("project", "order.shipped", "orders-by-status"),
                text: "Shipments start to show in the read model, well after they were written.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::verb("rebuild"),
                text: "Rebuild: the read model is cleared and replays every stored event from position 1. Queries see a \
                       growing answer until it catches up.",
                after_try: Some(0),
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "Right after an order is placed, what does orders-by-status report?",
            choices: &["The new order, immediately", "The count before it, for a while", "An error"],
            answer: 1,
            explanation: "The projection applies events after they are written; until then a query sees the older state.",
            reveal: Cue::at("project", "order.placed", "orders-by-status"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Rebuild orders-by-status",
            explain: "Clear the read model and replay it from the first event; watch the lag fall back to zero.",
            action: TryAction::Inject(|| Fault::RebuildProjection { projection: "orders-by-status".into() }),
            needs: &[Need {
                when: When::ProjectionApplied("orders-by-status"),
                otherwise: "Nothing to rebuild: orders-by-status holds no event yet (it has not started, or is \
                            rebuilding from the first event). Play on a little first.",
            }],
        }],
        meter: Meter {
            title: "Read model vs write side",
            explain: "Orders placed according to the write side and according to the read model: equal once caught up.",
            as_expected: &[("orders placed (read model)", When::Always)],
            read: |sim| {
                let written = sim
                    .compiled()
                    .service_by_name("orders")
                    .map(|id| sim.store(id).read_all(0).iter().filter(|e| e.event_type.ends_with("order.placed")).count() as i64)
                    .unwrap_or(0);
                let projection = sim.projection_state(0);
                let read = projection.and_then(|p| p.state.get("placed").copied()).unwrap_or(0);
                let lag_max = projection.map_or(0, |p| p.lag_max as i64);
                vec![
                    Reading::new("orders placed (read model)", written, read),
                    Reading::info("events behind the write side, at worst", lag_max),
                ]
            },
        },
        checklist: Some(Item::Monitoring),
        remember: &[
            "Write side and read side are separate; read models are built from events.",
            "A projection keeps a checkpoint; head minus checkpoint is its lag.",
            "Read models can be thrown away and rebuilt from the events.",
        ],
    },
    Lesson {
        slug: "schema-versioning",
        number: 9,
        title: "Schema versioning and upcasting",
        idea: "Old events are never rewritten; they are upgraded to the current schema as they are read.",
        scenario: "schema-versioning",
        seed: 1,
        compare_with: None,
        intro: "The wallet's first deposits were stored with schema version 1, where the amount was called amt and there was \
                no currency. Version 2 renamed it to amount and added a currency. Each stored event keeps the version it was \
                written with. An upcaster converts v1 events to v2 when they are read, so every reader sees only v2.",
        narration: &[
            Narration {
                cue: Cue::at("project", "money.deposited", "totals-by-currency"),
                text: "The projection reads a v1 event. The upcaster renamed amt to amount and filled in currency EUR on the way.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::at("handle", "wallet.deposit", "wallet-commands"),
                text: "A new deposit is written as v2, next to the v1 history in the same stream.",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::verb("stall"),
                text: "Without versioning, the projection expects a currency and the old event has none: it stops.",
                after_try: Some(0),
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "Without the upcaster, what happens when a reader meets an old v1 event?",
            choices: &["It reads it fine", "It fails: the field it needs is missing", "The event is rewritten"],
            answer: 1,
            explanation: "Readers written for v2 break on v1 data; that is why events carry their version and get upcast.",
            reveal: Cue::at("project", "money.deposited", "totals-by-currency"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Forget schema versioning",
            explain: "Readers assume every event is v2. Watch the projection stall and deposits end in the DLQ.",
            action: TryAction::Toggle(AntiPattern::NoSchemaVersioning),
            needs: &[],
        }],
        meter: Meter {
            title: "Stored events readable",
            explain: "The totals read model should be able to read every stored event.",
            as_expected: &[
                ("events read by totals-by-currency", When::Not(&When::AntiPattern(AntiPattern::NoSchemaVersioning))),
                ("unreadable events", When::Not(&When::AntiPattern(AntiPattern::NoSchemaVersioning))),
            ],
            read: |sim| {
                let head = sim.compiled().service_by_name("wallet").map_or(0, |id| sim.store(id).head() as i64);
                let checkpoint = sim.projection_state(0).map_or(0, |p| p.checkpoint as i64);
                vec![
                    Reading::new("events read by totals-by-currency", head, checkpoint),
                    Reading::new("unreadable events", 0, violations(sim, Invariant::ReadableHistory)),
                ]
            },
        },
        checklist: Some(Item::SchemaEvolution),
        remember: &[
            "Every event carries its schema version (here in dataschema).",
            "Never rewrite stored events; upcast old versions on read.",
            "Compatible evolution: add fields with defaults, rename with an upcaster.",
        ],
    },
    Lesson {
        slug: "correlation-ids",
        number: 10,
        title: "Correlation ids and tracing",
        idea: "Every event carries the id of the business flow it belongs to, so the flow can be followed across services.",
        scenario: "checkout",
        seed: 1,
        compare_with: None,
        intro: "Each order starts a flow. Its OrderPlaced event's id becomes the correlation id, and every event caused by it \
                (directly or not) copies that correlation id; the causation id names the direct cause. Filter the event log \
                by a correlation id to see one order's whole journey.",
        narration: &[
            Narration {
                cue: Cue::of("publish", "order.placed"),
                text: "A new flow begins with this OrderPlaced. Click its row: the envelope carries its own id, a \
                       correlation id and a causation id. Which one will the next events share?",
                after_try: None,
                when: When::Always,
            },
            Narration {
                cue: Cue::of("publish", "inventory.reserved"),
                text: "Two hops later, InventoryReserved still carries the order's correlation id, and its causation id points \
                       at PaymentCompleted.",
                after_try: None,
                when: When::Not(&When::AntiPattern(AntiPattern::NoCorrelationId)),
            },
            Narration {
                cue: Cue::of("publish", "inventory.reserved"),
                text: "Two hops later, InventoryReserved no longer carries the order's correlation id: payment did not copy \
                       it. Filtering the log by the order's correlation id now misses the rest of its journey.",
                after_try: Some(0),
                when: When::AntiPattern(AntiPattern::NoCorrelationId),
            },
        ],
        prediction: Prediction {
            question: "Which id lets you find every event of one order across all services?",
            choices: &["The event id", "The correlation id", "The causation id"],
            answer: 1,
            explanation: "The event id is unique per event and the causation id points one hop back; the correlation id is \
                          shared by the whole flow.",
            reveal: Cue::of("publish", "payment.completed"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Drop correlation ids",
            explain: "Services stop copying the correlation id: the flow can no longer be followed end to end.",
            action: TryAction::Toggle(AntiPattern::NoCorrelationId),
            needs: &[],
        }],
        meter: Meter {
            title: "Events traceable to their flow",
            explain: "Every event caused by another should carry its correlation id.",
            as_expected: &[(
                "emitted events with the flow's correlation id",
                When::Not(&When::AntiPattern(AntiPattern::NoCorrelationId)),
            )],
            read: |sim| {
                let caused = sim.messages().iter().filter(|m| m.cause.is_some()).count() as i64;
                let broken = violations(sim, Invariant::CorrelationFlows);
                vec![Reading::new("emitted events with the flow's correlation id", caused, caused - broken)]
            },
        },
        checklist: Some(Item::CorrelationIdsFlow),
        remember: &[
            "Correlation id: the same for every event of one business flow.",
            "Causation id: the id of the event that directly caused this one.",
            "Without them, a distributed flow cannot be traced or debugged.",
        ],
    },
    Lesson {
        slug: "outbox",
        number: 11,
        title: "The transactional outbox",
        idea: "Save the state change and the event in one transaction; a relay publishes the event afterwards.",
        scenario: "outbox",
        seed: 1,
        compare_with: None,
        intro: "A service that saves to its database and then publishes to the bus does two writes. If it crashes between \
                them, the order exists but nobody hears of it: the dual-write problem. The outbox pattern writes the event to \
                an outbox table in the same transaction as the order; a relay publishes it afterwards, even after a crash.",
        narration: &[
            Narration {
                cue: Cue::at("handle", "order.place", "orders-commands"),
                text: "The order and its OrderPlaced event are committed together. The relay will publish the event shortly.",
                after_try: None,
                when: When::Not(&When::AntiPattern(AntiPattern::NoOutbox)),
            },
            Narration {
                cue: Cue::at("handle", "order.place", "orders-commands"),
                text: "The order is saved. With a dual write there is no outbox: the service will publish OrderPlaced \
                       itself, from memory, once the save is done.",
                after_try: Some(0),
                when: When::AntiPattern(AntiPattern::NoOutbox),
            },
            Narration {
                cue: Cue::in_place("crash", "orders"),
                text: "Crash between the commit and the publish. With the outbox, the event waits in the outbox table.",
                after_try: None,
                when: When::Not(&When::AntiPattern(AntiPattern::NoOutbox)),
            },
            Narration {
                cue: Cue::in_place("restart", "orders"),
                text: "Back up: the relay resumes and publishes what was waiting. Shipping hears of every order.",
                after_try: None,
                when: When::Not(&When::AntiPattern(AntiPattern::NoOutbox)),
            },
            Narration {
                cue: Cue::in_place("restart", "orders"),
                text: "Back up, but with a dual write there is no outbox to relay: the event that died with the process is \
                       gone. Shipping hears of every order but that one.",
                after_try: Some(0),
                when: When::AntiPattern(AntiPattern::NoOutbox),
            },
            Narration {
                cue: Cue::in_place("crash", "orders").saying("unpublished"),
                text: "Dual write: the event existed only in memory and died with the process. The order is saved, shipping \
                       will never know.",
                after_try: Some(0),
                when: When::AntiPattern(AntiPattern::NoOutbox),
            },
        ],
        prediction: Prediction {
            question: "The service crashes after saving an order but before publishing. With an outbox, what happens to the event?",
            choices: &["It is lost", "It is published after the restart", "It is published twice"],
            answer: 1,
            explanation: "The event was committed with the order, so the relay still has it after the restart.",
            reveal: Cue::in_place("restart", "orders"),
            after_try: None,
        },
        try_this: &[TryThis {
            label: "Use a dual write instead",
            explain: "Save, then publish from memory: the crash now loses an event.",
            action: TryAction::Toggle(AntiPattern::NoOutbox),
            needs: &[],
        }],
        meter: Meter {
            title: "Orders shipping heard about",
            explain: "Every saved order should reach shipping.",
            as_expected: &[("orders shipped / saved", When::Not(&When::AntiPattern(AntiPattern::NoOutbox)))],
            read: |sim| {
                vec![Reading::new("orders shipped / saved", state(sim, "orders", "orders.saved"), state(sim, "shipping", "shipments"))]
            },
        },
        checklist: None,
        remember: &[
            "Saving and publishing are two writes; a crash between them loses the event.",
            "Outbox: write the event in the same transaction as the state change; a relay publishes it.",
            "The relay may publish twice after a crash, so consumers must still be idempotent.",
        ],
    },
    Lesson {
        slug: "monitoring",
        number: 12,
        title: "Monitoring: lag, DLQ depth, latency",
        idea: "Watch how far each consumer is behind, how many dead letters pile up, and how long messages take.",
        scenario: "checkout",
        seed: 1,
        compare_with: None,
        intro: "Consumer lag is how many messages (and how much time) a consumer is behind. DLQ depth is how many messages \
                gave up. Latency is how long a message takes from publication to handling, and end to end for a whole flow. \
                Together they tell you a consumer is slow or broken before your users do.",
        narration: &[
            Narration {
                cue: Cue::of("handle", "order.placed"),
                text: "Everything flows: lag stays near zero and latency is the handling time.",
                after_try: None,
                when: When::Not(&When::ServiceDown("inventory")),
            },
            Narration {
                cue: Cue::in_place("crash", "inventory"),
                text: "Inventory is down. Its queue grows: lag in messages and in time climbs while everything else looks fine.",
                after_try: Some(0),
                when: When::ServiceDown("inventory"),
            },
            Narration {
                cue: Cue::in_place("restart", "inventory"),
                text: "Inventory is back and works off its backlog; watch the lag fall.",
                after_try: Some(0),
                when: When::Always,
            },
        ],
        prediction: Prediction {
            question: "If inventory crashes, which number tells you first?",
            choices: &["Payment's latency", "Inventory's consumer lag", "The DLQ depth"],
            answer: 1,
            explanation: "Messages pile up in the crashed consumer's queue; nothing fails, so the DLQ stays empty.",
            reveal: Cue::of("publish", "payment.completed"),
            after_try: None,
        },
        try_this: &[
            TryThis {
                label: "Crash inventory for 400 ms",
                explain: "A consumer down for a while: its lag grows, then drains.",
                action: TryAction::Inject(|| Fault::CrashService { service: "inventory".into(), restart_after_ms: Some(400) }),
                needs: &[WHILE_RUNNING],
            },
            TryThis {
                label: "Slow payment down",
                explain: "Every payment takes 60 ms longer: latency rises all along the chain, past the budget of 150 ms \
                          per order.",
                action: TryAction::Inject(|| Fault::SlowService { service: "payment".into(), extra_ms: 60 }),
                needs: &[WHILE_RUNNING],
            },
        ],
        meter: Meter {
            title: "Health",
            explain: "A healthy run keeps every consumer close to the head, no dead letters, and orders fast end to end.",
            as_expected: &[
                ("highest consumer lag (messages)", When::Not(&When::Tried(0))),
                ("dead letters", When::Always),
                ("slowest order, end to end (ms)", When::Not(&When::Any(&[When::Tried(0), When::Tried(1)]))),
            ],
            read: |sim| {
                let subs = sim.subscription_views();
                let lag = subs.iter().map(|s| i64::from(s.lag_max)).max().unwrap_or(0);
                let dead: i64 = subs.iter().map(|s| i64::from(s.dlq_depth)).sum();
                let slowest = sim.flows().map(|(_, f)| (f.last_ms - f.started_ms) as i64).max().unwrap_or(0);
                vec![
                    Reading::at_most("highest consumer lag (messages)", 2, lag),
                    Reading::at_most("dead letters", 0, dead),
                    Reading::at_most("slowest order, end to end (ms)", 150, slowest),
                ]
            },
        },
        checklist: Some(Item::Monitoring),
        remember: &[
            "Consumer lag (messages and time) shows a slow or stopped consumer.",
            "DLQ depth shows messages that gave up; it should be zero or alerting.",
            "Latency per message and end to end per correlation id shows where time goes.",
        ],
    },
];
