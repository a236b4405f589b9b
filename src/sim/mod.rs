//! The deterministic simulation core.
//!
//! Nothing in here reads a wall clock, touches the DOM or draws from the operating
//! system's randomness: time is simulated milliseconds advanced by the scheduler, and
//! every random choice comes from one seeded ChaCha8 generator. See `ARCHITECTURE.md`
//! for how the pieces fit together.

pub mod analysis;
pub mod anti_pattern;
pub mod compiled;
pub mod envelope;
pub mod fault;
pub mod feedback;
pub mod handler;
pub mod hash;
pub mod health;
pub mod invariant;
pub mod ledger;
pub mod limits;
pub mod reader;
pub mod rng;
pub mod saga;
pub mod scenario;
pub mod simulation;
pub mod sorting;
pub mod store;
pub mod time;
pub mod trace;
pub mod view;

pub use anti_pattern::AntiPattern;
pub use envelope::{Envelope, EventKind, MessageId};
pub use fault::{Fault, FaultRule, FaultScript, ScriptedFault, Trigger, Verdict};
pub use invariant::{Invariant, Violation};
pub use limits::{Halt, Limit, Place};
pub use scenario::{Delivery, Scenario, ScenarioError, ScenarioErrors};
pub use simulation::{Finish, Injected, RunConfig, Simulation};
pub use trace::{Happened, TraceRecord};
