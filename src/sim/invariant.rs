//! Invariants checked after every step.
//!
//! The checkers watch the facts the engine reports (an effect was applied, a delivery
//! was lost, an event was emitted) and keep their *own* ledgers, separate from the
//! engine's bookkeeping: the idempotent consumer's processed-ids table is engine
//! state, while the exactly-once checker's ledger is not, so a bug in one is caught
//! by the other. Each violation is recorded with the step that caused it.
//!
//! | invariant            | holds when                                                        |
//! |----------------------|-------------------------------------------------------------------|
//! | `no_event_lost`      | every event reaches every subscription: handled, in a DLQ or still on its way; every event a service commits reaches the bus |
//! | `exactly_once_effect`| no subscription applies the effect of one event twice             |
//! | `conservation`       | each conserved quantity (money, stock) keeps its total            |
//! | `per_key_order`      | a subscription promising per-key order handles each key in publish order |
//! | `correlation_flows`  | every event caused by another carries its cause's correlation id  |
//! | `bounded_redelivery` | no message is attempted more often than its retry policy allows   |
//! | `readable_history`   | every stored event can be read by the folds and projections that need it |
//! | `saga_all_or_nothing`| when the run settles, every saga instance completed or was fully compensated |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::envelope::MessageId;
use super::ledger::{Ledgers, Slots};
use super::time::Millis;
use super::trace::SubId;

/// At most this many violations are kept in detail; counts go on.
pub const VIOLATIONS_KEPT_MAX: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    NoEventLost,
    ExactlyOnceEffect,
    Conservation,
    PerKeyOrder,
    CorrelationFlows,
    BoundedRedelivery,
    ReadableHistory,
    SagaAllOrNothing,
}

impl Invariant {
    pub const ALL: [Invariant; 8] = [
        Self::NoEventLost,
        Self::ExactlyOnceEffect,
        Self::Conservation,
        Self::PerKeyOrder,
        Self::CorrelationFlows,
        Self::BoundedRedelivery,
        Self::ReadableHistory,
        Self::SagaAllOrNothing,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::NoEventLost => "no_event_lost",
            Self::ExactlyOnceEffect => "exactly_once_effect",
            Self::Conservation => "conservation",
            Self::PerKeyOrder => "per_key_order",
            Self::CorrelationFlows => "correlation_flows",
            Self::BoundedRedelivery => "bounded_redelivery",
            Self::ReadableHistory => "readable_history",
            Self::SagaAllOrNothing => "saga_all_or_nothing",
        }
    }

    /// What the invariant promises, for people.
    pub fn promise(self) -> &'static str {
        match self {
            Self::NoEventLost => "Every event reaches every subscriber: handled, dead-lettered or still on its way.",
            Self::ExactlyOnceEffect => "No subscriber applies the same event twice.",
            Self::Conservation => "Money and stock are never created or destroyed, only moved.",
            Self::PerKeyOrder => "Where per-key order is promised, events of one key are handled in publish order.",
            Self::CorrelationFlows => "Every event carries the correlation id of the event that caused it.",
            Self::BoundedRedelivery => "No message is attempted more often than its retry policy allows.",
            Self::ReadableHistory => "Every stored event, old schema or new, can be read by whoever needs it.",
            Self::SagaAllOrNothing => "When all is done, each saga has completed or undone every step it did.",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    pub step: u64,
    pub time_ms: Millis,
    pub message: Option<MessageId>,
    pub detail: String,
}

/// One conserved quantity's running totals.
#[derive(Clone, Debug)]
pub struct Quantity {
    pub name: String,
    pub initial: i64,
    pub in_accounts: i64,
    pub in_transit: i64,
}

impl Quantity {
    pub fn total(&self) -> i64 {
        self.in_accounts.saturating_add(self.in_transit)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Checkers {
    /// Per subscription, by event ordinal: copies still on their way. Indexed like the
    /// ledgers (see `ledger`), so a snapshot shares all but the recently written part
    /// even when thousands of messages are queued.
    outstanding: Vec<Slots<u32>>,
    /// Per (quantity, subscription), by event ordinal: carrier copies in transit and
    /// the amount each carries. Indexed `quantity * subscriptions + subscription`.
    carried: Vec<Slots<(u32, i64)>>,
    subscriptions: u32,
    pub quantities: Vec<Quantity>,
    quantity_broken: Vec<bool>,
    /// Events a service committed (to its outbox, or in memory under a dual write)
    /// that have not reached the bus yet, with the service. The engine keeps its own
    /// outbox; this ledger is how the checker notices an outbox nobody relays.
    unpublished: BTreeMap<MessageId, u32>,
    pub violations: Vec<Violation>,
    pub counts: [u64; 8],
    pub first_step: [Option<u64>; 8],
}

/// Where a fact happened, for the violation record.
#[derive(Clone, Copy, Debug)]
pub struct At {
    pub step: u64,
    pub time_ms: Millis,
}

impl Checkers {
    pub fn new(quantities: Vec<Quantity>, subscriptions: u32) -> Self {
        let n = quantities.len();
        Self {
            outstanding: vec![Slots::default(); subscriptions as usize],
            carried: vec![Slots::default(); n * subscriptions as usize],
            subscriptions,
            quantities,
            quantity_broken: vec![false; n],
            ..Self::default()
        }
    }

    fn carried(&mut self, q: u32, sub: SubId) -> Option<&mut Slots<(u32, i64)>> {
        self.carried.get_mut((q * self.subscriptions + sub.0) as usize)
    }

    fn violate(&mut self, invariant: Invariant, at: At, message: Option<MessageId>, detail: String) {
        let i = invariant.index();
        self.counts[i] += 1;
        self.first_step[i].get_or_insert(at.step);
        if self.violations.len() < VIOLATIONS_KEPT_MAX {
            self.violations.push(Violation { invariant, step: at.step, time_ms: at.time_ms, message, detail });
        }
    }

    pub fn total_violations(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn count(&self, invariant: Invariant) -> u64 {
        self.counts[invariant.index()]
    }

    /// A copy of an event entered a subscription's queue.
    pub fn copy_enqueued(&mut self, sub: SubId, event: u32) {
        *self.outstanding[sub.0 as usize].get_mut(event) += 1;
    }

    /// One copy settled; returns how many are still on their way.
    fn copy_settled(&mut self, sub: SubId, event: u32) -> u32 {
        let Some(slots) = self.outstanding.get_mut(sub.0 as usize) else { return 0 };
        if slots.get(event) == 0 {
            return 0;
        }
        let n = slots.get_mut(event);
        *n -= 1;
        *n
    }

    /// A copy was handled (applied, declined, ignored or skipped as a duplicate).
    pub fn copy_handled(&mut self, sub: SubId, event: u32) {
        self.copy_settled(sub, event);
    }

    /// An operator deleted a dead letter: settled by decision, not lost by accident.
    pub fn copy_discarded(&mut self, sub: SubId, event: u32) {
        self.copy_settled(sub, event);
    }

    /// A copy vanished. It is a loss unless another copy is still on its way or the
    /// event was already handled by this subscription.
    pub fn copy_lost(&mut self, ledgers: &Ledgers, sub: SubId, event: u32, message: MessageId, at: At, sub_name: &str) {
        let remaining = self.copy_settled(sub, event);
        if remaining == 0 && !ledgers.was_handled(sub, event) {
            self.violate(Invariant::NoEventLost, at, Some(message), format!("{sub_name} will never see this event"));
        }
    }

    /// A service committed an event; it is unpublished until it reaches the bus.
    pub fn committed(&mut self, message: MessageId, service: u32) {
        self.unpublished.insert(message, service);
    }

    /// An event reached the bus.
    pub fn published(&mut self, message: MessageId) {
        self.unpublished.remove(&message);
    }

    /// Committed events not published yet, in message order, with their service.
    pub fn unpublished(&self) -> impl Iterator<Item = (MessageId, u32)> + '_ {
        self.unpublished.iter().map(|(m, s)| (*m, *s))
    }

    /// The run settled with an event still in the outbox of a service whose relay could
    /// run (up and connected): nothing will ever publish it.
    pub fn never_relayed(&mut self, message: MessageId, at: At, service_name: &str) {
        self.unpublished.remove(&message);
        self.violate(
            Invariant::NoEventLost,
            at,
            Some(message),
            format!("committed to {service_name}'s outbox but never published"),
        );
    }

    /// A committed event will never be published (a dual write interrupted by a crash).
    pub fn never_published(&mut self, message: MessageId, at: At, service_name: &str) {
        self.unpublished.remove(&message);
        self.violate(
            Invariant::NoEventLost,
            at,
            Some(message),
            format!("committed by {service_name} but never published"),
        );
    }

    /// An operator set a counter that belongs to quantity `q`: the expected total
    /// moves with it, since the change came from outside the system.
    pub fn quantity_adjusted(&mut self, q: usize, delta: i64) {
        if let Some(quantity) = self.quantities.get_mut(q) {
            quantity.initial = quantity.initial.saturating_add(delta);
            quantity.in_accounts = quantity.in_accounts.saturating_add(delta);
        }
    }

    /// A subscription applied the effects of an event (state changes or emitted events).
    pub fn effect_applied(
        &mut self,
        ledgers: &mut Ledgers,
        sub: SubId,
        event: u32,
        message: MessageId,
        at: At,
        sub_name: &str,
    ) {
        if !ledgers.record_handled(sub, event) {
            self.violate(
                Invariant::ExactlyOnceEffect,
                at,
                Some(message),
                format!("{sub_name} applied this event a second time"),
            );
        }
    }

    /// An ordered subscription handled event number `seq` of a key.
    pub fn ordered_handling(
        &mut self,
        ledgers: &mut Ledgers,
        handling: (SubId, u32, u64),
        message: MessageId,
        at: At,
        sub_name: &str,
    ) {
        let (sub, subject, seq) = handling;
        match ledgers.last_seq(sub, subject) {
            Some(last) if seq < last => self.violate(
                Invariant::PerKeyOrder,
                at,
                Some(message),
                format!("{sub_name} handled publish #{seq} after #{last} of the same subject"),
            ),
            _ => ledgers.set_last_seq(sub, subject, seq),
        }
    }

    /// An event was emitted because of `cause`; both correlation ids are compared.
    pub fn emitted(&mut self, cause_correlation: Option<&str>, correlation: Option<&str>, message: MessageId, at: At) {
        if correlation.is_none() || correlation != cause_correlation {
            self.violate(
                Invariant::CorrelationFlows,
                at,
                Some(message),
                "emitted without its cause's correlation id".to_string(),
            );
        }
    }

    /// A delivery attempt started.
    pub fn attempt_started(&mut self, attempt: u32, attempts_max: u32, message: MessageId, at: At, sub_name: &str) {
        if attempt > attempts_max {
            self.violate(
                Invariant::BoundedRedelivery,
                at,
                Some(message),
                format!("{sub_name} attempt {attempt} of at most {attempts_max}"),
            );
        }
    }

    /// The run settled with a saga instance neither completed nor compensated.
    pub fn saga_unsettled(&mut self, saga: &str, instance: &str, status: &str, at: At) {
        self.violate(
            Invariant::SagaAllOrNothing,
            at,
            None,
            format!("saga {saga} for {instance} settled while still {status}"),
        );
    }

    /// A reader could not read a stored event (a fold or a projection).
    pub fn unreadable(&mut self, reader: &str, position: u64, field: &str, at: At) {
        self.violate(
            Invariant::ReadableHistory,
            at,
            None,
            format!("{reader} cannot read stored event #{position}: no data.{field}"),
        );
    }

    /// A state counter counted in quantity `q` changed by `delta`.
    pub fn account_changed(&mut self, q: usize, delta: i64) {
        if let Some(quantity) = self.quantities.get_mut(q) {
            quantity.in_accounts = quantity.in_accounts.saturating_add(delta);
        }
    }

    /// An event carrying `amount` of quantity `q` to `sub` was committed by its emitter.
    pub fn carrier_emitted(&mut self, q: u32, sub: SubId, event: u32, amount: i64) {
        if let Some(carried) = self.carried(q, sub) {
            let entry = carried.get_mut(event);
            if entry.0 == 0 {
                entry.1 = amount;
            }
            entry.0 += 1;
        }
        if let Some(quantity) = self.quantities.get_mut(q as usize) {
            quantity.in_transit = quantity.in_transit.saturating_add(amount);
        }
    }

    /// A carried amount left transit: applied to an account, or gone for good.
    pub fn carrier_settled(&mut self, q: u32, sub: SubId, event: u32) {
        let Some(carried) = self.carried(q, sub) else { return };
        if carried.get(event).0 == 0 {
            return;
        }
        let entry = carried.get_mut(event);
        let amount = entry.1;
        entry.0 -= 1;
        if let Some(quantity) = self.quantities.get_mut(q as usize) {
            quantity.in_transit = quantity.in_transit.saturating_sub(amount);
        }
    }

    /// Checks the conserved totals at the end of a step.
    pub fn end_of_step(&mut self, at: At) {
        for q in 0..self.quantities.len() {
            let quantity = &self.quantities[q];
            let broken = quantity.total() != quantity.initial;
            if broken && !self.quantity_broken[q] {
                let detail = format!(
                    "{} totals {} (accounts {} + in transit {}), expected {}",
                    quantity.name,
                    quantity.total(),
                    quantity.in_accounts,
                    quantity.in_transit,
                    quantity.initial
                );
                self.violate(Invariant::Conservation, at, None, detail);
            }
            // Report a break once, and again only if it heals and breaks anew.
            self.quantity_broken[q] = broken;
        }
    }
}
