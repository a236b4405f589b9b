//! The Yew app (placeholder until the shell lands).
pub fn start() {}
