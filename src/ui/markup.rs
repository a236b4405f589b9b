//! Read-only markup built as text, for the views' dense tables and diagrams.
//!
//! Yew's `html!` turns every element into construction code in the wasm binary; a
//! sequence diagram, a chart or a comparison table written that way costs kilobytes
//! each. These views only display data, so they are written as escaped markup text
//! instead (one shared formatting routine) and handed to Yew as a raw node, which it
//! diffs as one string: an unchanged diagram costs one comparison per render. Clicks
//! on such markup are handled by one listener on the container, which reads the
//! `data-goto` (a step to rewind to) and `data-message` attributes of the clicked
//! element or its nearest ancestor that has one ([`on_goto`]), or a view's own
//! numbered attribute, such as a fault's index ([`on_number`]). Buttons in such markup
//! stay `<button type="button">`, so the keyboard reaches and presses them as any other;
//! but a render that changes the markup replaces its elements, so a button whose press
//! changes its panel does not keep the focus.
//!
//! Everything that comes from a scenario (names, event types, ids) goes through
//! [`esc`], so a scenario cannot inject markup; the page's Content-Security-Policy
//! would block scripts and inline handlers anyway.

use std::fmt::Write;

use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

use super::state::ShellAction;
use crate::sim::envelope::MessageId;

/// Escapes text for element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A raw node from markup text (already escaped where it holds data).
pub fn raw(markup: String) -> Html {
    Html::from_html_unchecked(AttrValue::from(markup))
}

/// A number printed with one decimal, as `{:.1}` prints it (ties may round the other
/// way, which no coordinate can show). Every float the app prints goes through this or
/// [`D0`]: the standard float formatter does exact decimal conversion at any precision
/// and costs about 5 KB of gzipped wasm, while coordinates need nothing of it.
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

/// Appends formatted text; writing to a `String` cannot fail.
pub fn put(out: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

/// The clicked element or its nearest ancestor matching `selector` (such as
/// `"[data-goto]"`): the element whose data attributes say what the click means.
pub fn marked(event: &MouseEvent, selector: &str) -> Option<Element> {
    let target: Element = event.target()?.dyn_into().ok()?;
    target.closest(selector).ok()?
}

/// A data attribute of `element` read as a number; `None` when absent or not a number.
pub fn number<T: std::str::FromStr>(element: &Element, attribute: &str) -> Option<T> {
    element.get_attribute(attribute)?.parse().ok()
}

/// The step and message named by the clicked element or its nearest marked ancestor.
pub fn picked(event: &MouseEvent) -> Option<(u64, Option<MessageId>)> {
    let marked = marked(event, "[data-goto]")?;
    Some((number(&marked, "data-goto")?, number(&marked, "data-message").map(MessageId)))
}

/// A click listener that dispatches `action`. One closure type serves every such
/// button: a closure written at each button would be compiled separately.
pub fn emit_on_click(dispatch: &Callback<ShellAction>, action: ShellAction) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |_: MouseEvent| dispatch.emit(action.clone()))
}

/// One click listener for a container of raw markup: rewinds to the clicked step, if
/// it names one, and selects its message, if it names one (a link to a message names
/// only the message, so following it does not move the run).
pub fn on_goto(dispatch: &Callback<ShellAction>) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |event: MouseEvent| {
        let Some(marked) = marked(&event, "[data-goto],[data-message]") else { return };
        if let Some(step) = number(&marked, "data-goto") {
            dispatch.emit(ShellAction::RewindTo(step));
        }
        if let Some(message) = number(&marked, "data-message") {
            dispatch.emit(ShellAction::Select(Some(MessageId(message))));
        }
    })
}

/// One click listener for a container of raw markup whose elements name a number in
/// `attribute` (a fault's index, say): dispatches `action` of the clicked one's number.
/// A function pointer rather than a closure, so every use shares one listener type.
pub fn on_number(
    dispatch: &Callback<ShellAction>,
    attribute: &'static str,
    action: fn(u64) -> ShellAction,
) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |event: MouseEvent| {
        if let Some(n) = marked(&event, &format!("[{attribute}]")).and_then(|m| number(&m, attribute)) {
            dispatch.emit(action(n));
        }
    })
}

/// A table as markup: a header row, then rows of cells already escaped; `row_class`
/// gives each row's class (may be empty).
pub fn table(class: &str, label: &str, head: &[&str], rows: &[(String, Vec<String>)]) -> String {
    let mut out = String::new();
    put(&mut out, format_args!("<table class=\"{class}\" aria-label=\"{}\"><thead><tr>", esc(label)));
    for h in head {
        put(&mut out, format_args!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for (row_class, cells) in rows {
        put(&mut out, format_args!("<tr class=\"{row_class}\">"));
        for c in cells {
            put(&mut out, format_args!("<td>{c}</td>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A click handler that injects `fault` (an operator action). One non-generic helper
/// for every such button, so each button does not add its own closure type.
pub fn inject_on_click(dispatch: &Callback<ShellAction>, fault: crate::sim::fault::Fault) -> Callback<MouseEvent> {
    emit_on_click(dispatch, ShellAction::Inject(fault))
}
