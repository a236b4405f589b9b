//! The browser app's entry point. Trunk compiles this for wasm32; natively it only
//! explains where the app lives.

#[cfg(target_arch = "wasm32")]
fn main() {
    eventscope::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("eventscope: the app runs in the browser (make serve); natively use eventscope-cli");
    std::process::exit(2);
}
