//! Turning a panic into a visible message instead of a dead page.
//!
//! A panic in WebAssembly stops the whole app: Yew can no longer render, and without
//! help the user sees a frozen screen. The hook installed here writes the message to
//! the console and into a banner built with plain DOM calls, outside Yew's tree, so it
//! works even when Yew itself is what broke.

use std::panic::PanicHookInfo;

use wasm_bindgen::JsValue;

/// Id of the banner element, so a second panic updates it instead of stacking banners.
pub const BANNER_ID: &str = "panic-banner";

/// Install the hook. Must run before Yew's renderer starts, which otherwise installs
/// its own console-only hook.
pub fn install_hook() {
    yew::set_custom_panic_hook(Box::new(|info: &PanicHookInfo<'_>| {
        let message = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&message));
        show_banner(&message);
    }));
}

/// Show (or update) the error banner at the top of the page with `message`.
///
/// Failures here are ignored on purpose: this runs while panicking, and a second
/// panic inside the hook would abort without showing anything at all.
pub fn show_banner(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(body) = document.body() else {
        return;
    };
    let banner = match document.get_element_by_id(BANNER_ID) {
        Some(existing) => existing,
        None => {
            let Ok(created) = document.create_element("div") else {
                return;
            };
            created.set_id(BANNER_ID);
            let _ = created.set_attribute("class", "panic-banner");
            let _ = created.set_attribute("role", "alert");
            let _ = body.prepend_with_node_1(&created);
            created
        }
    };
    // Emptied as text: under Trusted Types no string may be written as markup.
    banner.set_text_content(None);
    let title = document.create_element("strong").ok();
    if let Some(title) = &title {
        title.set_text_content(Some("Eventscope stopped because of a bug. Reload the page to start again."));
        let _ = banner.append_child(title);
    }
    if let Ok(detail) = document.create_element("pre") {
        // Text content, never HTML: the message may quote user input.
        detail.set_text_content(Some(message));
        let _ = banner.append_child(&detail);
    }
}
