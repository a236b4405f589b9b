//! The app's background worker: exports, trace import and share-link coding
//! ([`eventscope::export::jobs`]), in a program of its own so that the page loads
//! their code only when someone uses them. Trunk builds it beside the app; the page
//! starts it on the first job (`eventscope::ui::worker`).

#[cfg(target_arch = "wasm32")]
fn main() {
    eventscope::ui::worker::serve();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("eventscope-worker: runs in the browser, started by the app; natively use eventscope-cli");
    std::process::exit(2);
}
