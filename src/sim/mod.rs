//! The deterministic simulation core.
//!
//! Nothing in here reads a wall clock, touches the DOM or draws from the operating
//! system's randomness: time is simulated milliseconds advanced by the scheduler, and
//! every random choice comes from one seeded ChaCha8 generator.

pub mod scenario;
