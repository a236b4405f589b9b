//! A stable 64-bit hash (FNV-1a) for ids and trace fingerprints.
//!
//! `std`'s hashers are randomly keyed or free to change between releases, and the
//! `Hash` trait feeds `usize` lengths whose width differs between wasm32 and x86_64.
//! Trace hashes must agree across platforms and versions, so bytes are fed explicitly.

#[derive(Clone, Copy, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    pub fn u64(self, value: u64) -> Self {
        self.bytes(&value.to_le_bytes())
    }

    pub fn str(self, text: &str) -> Self {
        // The length first, so that ("ab", "c") and ("a", "bc") hash differently.
        self.u64(text.len() as u64).bytes(text.as_bytes())
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_vectors() {
        assert_eq!(Fnv1a::default().finish(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv1a::default().bytes(b"a").finish(), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(Fnv1a::default().bytes(b"foobar").finish(), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn string_boundaries_matter() {
        let a = Fnv1a::default().str("ab").str("c").finish();
        let b = Fnv1a::default().str("a").str("bc").finish();
        assert_ne!(a, b);
    }
}
