//! Numbers as text, without the standard float formatter.
//!
//! Charts, diagrams and sizes print coordinates and figures with at most one decimal.
//! Rust's float formatting does exact decimal conversion at any precision and costs
//! about 5 KB of gzipped wasm, while these need nothing of it; every float the app
//! prints goes through [`D1`] or [`D0`].

/// A number with one decimal, as `{:.1}` prints it (ties may round the other way,
/// which no coordinate can show). Every coordinate the views print goes through this
/// or [`D0`]: the standard float formatter does exact decimal conversion at any
/// precision and costs about 5 KB of gzipped wasm, while coordinates need nothing of it.
pub struct D1(pub f64);

impl std::fmt::Display for D1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `as` saturates, so even a NaN or an infinity prints a (meaningless) number.
        let tenths = (self.0 * 10.0).round_ties_even() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let tenths = tenths.unsigned_abs();
        write!(f, "{sign}{}.{}", tenths / 10, tenths % 10)
    }
}

/// A number rounded to a whole number, as `{:.0}` prints it (see [`D1`]).
pub struct D0(pub f64);

impl std::fmt::Display for D0 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.round_ties_even() as i64)
    }
}
