//! The browser effects behind export, import and share: saving a file, reading one,
//! the clipboard and the page's URL fragment.
//!
//! These are the only functions in the app that touch those browser APIs, and
//! components call them from event handlers, never from the reducer: the reducer stays
//! a pure function of actions. A download is a `Blob` behind an object URL clicked
//! through a temporary `<a download>`, which needs no server, no inline script and no
//! CSP exception (`connect-src` governs fetches, not downloads). Every failure comes
//! back as a sentence for the user, never a panic.

use gloo::timers::callback::Timeout;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, File, HtmlAnchorElement, Url};

/// How long an object URL outlives its click: the browser has started the download by
/// then, and the URL must not leak the text for the life of the page.
const OBJECT_URL_LIFETIME_MS: u32 = 10_000;

/// Offers `text` as a file named `file_name` to save.
pub fn download(file_name: &str, mime: &str, text: &str) -> Result<(), String> {
    let parts = Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(describe)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(describe)?;
    let document = gloo::utils::document();
    let anchor: HtmlAnchorElement = document.create_element("a").map_err(describe)?.unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.set_class_name("download-link");
    let body = gloo::utils::body();
    body.append_child(&anchor).map_err(describe)?;
    anchor.click();
    let _ = body.remove_child(&anchor);
    Timeout::new(OBJECT_URL_LIFETIME_MS, move || {
        let _ = Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// Reads a file the user chose or dropped as text. The caller checks its size first.
pub async fn read_text(file: &File) -> Result<String, String> {
    let text =
        JsFuture::from(file.text()).await.map_err(|e| format!("the file could not be read ({})", describe(e)))?;
    text.as_string().ok_or_else(|| "the file could not be read as text".to_string())
}

/// Copies `text` with the asynchronous Clipboard API. False when the page may not
/// (no secure context, permission refused, an older browser): the caller then shows
/// the text selected for Ctrl+C.
pub async fn copy_text(text: &str) -> bool {
    // Looked up dynamically: `navigator.clipboard` is missing outside secure contexts.
    let navigator = gloo::utils::window().navigator();
    let Ok(clipboard) = Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
        return false;
    };
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    let Ok(write) = Reflect::get(&clipboard, &JsValue::from_str("writeText")) else {
        return false;
    };
    let Some(write) = write.dyn_ref::<Function>() else {
        return false;
    };
    match write.call1(&clipboard, &JsValue::from_str(text)) {
        Ok(promise) => match promise.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        },
        Err(_) => false,
    }
}

/// The page's fragment, with its `#` (empty when there is none).
pub fn location_hash() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// The page's address without the fragment.
pub fn page_address() -> String {
    let href = gloo::utils::window().location().href().unwrap_or_default();
    href.split_once('#').map_or(href.clone(), |(address, _)| address.to_string())
}

/// Replaces the fragment without a navigation, a history entry or a `hashchange`
/// event: the address bar shows the share link, the page stays as it is.
pub fn replace_fragment(fragment: &str) {
    let url = format!("{}#{fragment}", page_address());
    if let Ok(history) = gloo::utils::window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// A JavaScript error as a short sentence.
pub fn describe(error: JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error.as_string().unwrap_or_else(|| "an unexpected browser error".to_string())
}
