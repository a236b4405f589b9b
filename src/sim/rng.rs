//! The one source of randomness in the simulation.
//!
//! Every random choice (retry jitter, fault rules, random fault mixes) is drawn from a
//! single ChaCha8 stream seeded from the run's seed. ChaCha8 is specified bit for bit,
//! so the same seed gives the same numbers natively and on wasm32, today and after a
//! dependency upgrade. Probabilities are integers in per-mille: no float sits on the
//! decision path, so rounding can never differ between platforms.

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The simulation's random number generator, named after its algorithm.
#[derive(Clone, Debug)]
pub struct ChaCha8 {
    inner: ChaCha8Rng,
}

impl ChaCha8 {
    pub fn from_seed(seed: u64) -> Self {
        Self { inner: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// A fresh 64-bit draw.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A value in `0..bound` (0 when `bound` is 0). The modulo bias is at most
    /// `bound / 2^64`, far below anything a simulation of this size can observe.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }

    /// True with probability `per_mille / 1000`. Draws nothing when the answer is
    /// certain, so a rule set to 0 or 1000 does not shift the stream of later draws.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        match per_mille {
            0 => false,
            p if p >= 1000 => true,
            p => self.below(1000) < u64::from(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seed_differs() {
        let mut a = ChaCha8::from_seed(7);
        let mut b = ChaCha8::from_seed(7);
        let mut c = ChaCha8::from_seed(8);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn chance_extremes_do_not_draw() {
        let mut a = ChaCha8::from_seed(1);
        let mut b = ChaCha8::from_seed(1);
        assert!(!a.chance(0));
        assert!(a.chance(1000));
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn chance_is_roughly_the_rate() {
        let mut r = ChaCha8::from_seed(3);
        let hits = (0..10_000).filter(|_| r.chance(250)).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }
}
