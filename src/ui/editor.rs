//! The scenario editor: the current scenario as JSON, edited in place.
//!
//! A plain textarea with a line-number gutter, no editor crate: the wasm stays small
//! and the browser's own text editing (undo, selection, IME) just works. Apply (or
//! Ctrl+Enter) parses and validates the text with the core's own `Scenario::from_json`;
//! each error is listed with its JSON path and, where it can be found, its line, which
//! the gutter marks. A valid scenario goes to the reducer, which restarts the run with
//! it; an edited scenario then travels in full in exports and share links. The input
//! is limited to the core's `SCENARIO_BYTES_MAX`.

use std::rc::Rc;

use serde_json::Value;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::state::ShellAction;
use crate::sim::scenario::{Scenario, NAME_CHARS_MAX, SCENARIO_BYTES_MAX};

/// One problem in the text: its JSON path, the line it is on (1-based) if known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditorError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Checks the editor's text: the scenario, or every problem with its place.
pub fn check(text: &str) -> Result<Scenario, Vec<EditorError>> {
    if text.len() > SCENARIO_BYTES_MAX {
        return Err(vec![EditorError {
            path: String::new(),
            line: None,
            message: format!("the scenario is {} bytes; the limit is {SCENARIO_BYTES_MAX} (1 MiB)", text.len()),
        }]);
    }
    Scenario::from_json(text).map_err(|errors| {
        errors
            .0
            .into_iter()
            .map(|e| {
                // serde_json names the line of syntax and type errors itself; paths of
                // validation errors are found in the text.
                let line = line_in_message(&e.message).or_else(|| line_of_path(text, &e.path));
                EditorError { path: e.path, line, message: e.message }
            })
            .collect()
    })
}

/// The line serde_json reports in "… at line 12 column 5".
fn line_in_message(message: &str) -> Option<usize> {
    let (_, rest) = message.rsplit_once(" at line ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// The line (1-based) of the value at `path` (`subscriptions[2].topic`) in a JSON text,
/// or of the nearest enclosing value that exists. None when the text is not JSON enough
/// to walk, or the path is the whole document.
pub fn line_of_path(text: &str, path: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let segments = parse_path(path)?;
    if segments.is_empty() {
        return None;
    }
    let mut pos = skip_ws(bytes, 0);
    let mut found = None;
    for segment in segments {
        let next = match segment {
            Segment::Key(key) => find_key(bytes, pos, &key),
            Segment::Index(index) => find_index(bytes, pos, index),
        };
        match next {
            // `at` is where to report (the key, or the element); `value` where to descend.
            Some((at, value)) => {
                found = Some(at);
                pos = value;
            }
            None => break,
        }
    }
    found.map(|offset| text[..offset].matches('\n').count() + 1)
}

#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` into its segments; None for a path this walker does not understand.
fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let (index, after) = rest.split_once(']')?;
            segments.push(Segment::Index(index.parse().ok()?));
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    Some(segments)
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && b[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// The end of the string starting at `pos` (just after its closing quote).
fn skip_string(b: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of the value starting at `pos`.
fn skip_value(b: &[u8], pos: usize) -> Option<usize> {
    match b.get(pos)? {
        b'"' => skip_string(b, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = pos;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            Some(i)
        }
    }
}

/// In the object at `pos`: (where the key `key` starts, where its value starts).
fn find_key(b: &[u8], pos: usize, key: &str) -> Option<(usize, usize)> {
    if b.get(pos) != Some(&b'{') {
        return None;
    }
    let mut i = skip_ws(b, pos + 1);
    loop {
        if b.get(i)? != &b'"' {
            return None;
        }
        let key_end = skip_string(b, i)?;
        let name = std::str::from_utf8(&b[i + 1..key_end - 1]).ok()?;
        let colon = skip_ws(b, key_end);
        if b.get(colon)? != &b':' {
            return None;
        }
        let value = skip_ws(b, colon + 1);
        if name == key {
            return Some((i, value));
        }
        let after = skip_ws(b, skip_value(b, value)?);
        if b.get(after)? != &b',' {
            return None;
        }
        i = skip_ws(b, after + 1);
    }
}

/// In the array at `pos`: the start of element `index` (twice, as `find_key` returns).
fn find_index(b: &[u8], pos: usize, index: usize) -> Option<(usize, usize)> {
    if b.get(pos) != Some(&b'[') {
        return None;
    }
    let mut i = skip_ws(b, pos + 1);
    for _ in 0..index {
        if b.get(i) == Some(&b']') {
            return None;
        }
        let after = skip_ws(b, skip_value(b, i)?);
        if b.get(after)? != &b',' {
            return None;
        }
        i = skip_ws(b, after + 1);
    }
    (b.get(i) != Some(&b']') && i < b.len()).then_some((i, i))
}

/// The text of a copy of the scenario in `text`: named `<name>-copy` and titled
/// "Copy of …", so it no longer claims to be the built-in. None if `text` is not a
/// JSON object.
pub fn copy_of(text: &str) -> Option<(String, String)> {
    // A valid scenario keeps its field order (name and title first); other text is
    // copied as JSON, whose keys then come out sorted.
    if let Ok(mut scenario) = Scenario::from_json(text) {
        let keep = NAME_CHARS_MAX.saturating_sub("-copy".len());
        scenario.name = format!("{}-copy", scenario.name.chars().take(keep).collect::<String>());
        scenario.title = format!("Copy of {}", scenario.title);
        return Some((scenario.to_json_pretty(), scenario.name));
    }
    let mut value: Value = serde_json::from_str(text).ok()?;
    let object = value.as_object_mut()?;
    let name = object.get("name").and_then(Value::as_str).unwrap_or("scenario");
    let suffix = "-copy";
    let keep = NAME_CHARS_MAX.saturating_sub(suffix.len());
    let new_name = format!("{}{suffix}", name.chars().take(keep).collect::<String>());
    let title = object.get("title").and_then(Value::as_str).unwrap_or(name).to_string();
    object.insert("name".into(), Value::from(new_name.clone()));
    object.insert("title".into(), Value::from(format!("Copy of {title}")));
    Some((serde_json::to_string_pretty(&value).ok()?, new_name))
}

/// Puts the cursor at the start of `line` and scrolls it into view, a few lines down
/// from the top so the lines before it give context.
fn show_line(area: &NodeRef, text: &str, line: usize) {
    let Some(area) = area.cast::<HtmlTextAreaElement>() else {
        return;
    };
    let offset: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(|l| l.encode_utf16().count()).sum();
    let _ = area.focus();
    let _ = area.set_selection_range(offset as u32, offset as u32);
    let lines = text.lines().count().max(1) as i32;
    let line_px = area.scroll_height() / lines;
    area.set_scroll_top((line as i32 - 6).max(0) * line_px);
}

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub scenario: Rc<Scenario>,
    pub dispatch: Callback<ShellAction>,
    pub on_close: Callback<()>,
}

/// The editor drawer along the right of the page; the topology stays visible, so
/// applying a change shows its effect at once.
#[function_component(ScenarioEditor)]
pub fn scenario_editor(props: &EditorProps) -> Html {
    let text = use_state(|| props.scenario.to_json_pretty());
    let errors = use_state(Vec::<EditorError>::new);
    let status = use_state(|| None::<String>);
    let gutter = use_node_ref();
    let area = use_node_ref();

    let apply = {
        let area = area.clone();
        let text = text.clone();
        let errors = errors.clone();
        let status = status.clone();
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: ()| match check(&text) {
            Ok(scenario) => {
                errors.set(Vec::new());
                status.set(Some(format!(
                    "Applied \u{201c}{}\u{201d}: the run restarted at step 0 with it.",
                    scenario.name
                )));
                dispatch.emit(ShellAction::ApplyScenario(Box::new(scenario)));
            }
            Err(found) => {
                status.set(None);
                if let Some(line) = found.iter().find_map(|e| e.line) {
                    show_line(&area, &text, line);
                }
                errors.set(found);
            }
        })
    };
    let on_input = {
        let text = text.clone();
        let status = status.clone();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            text.set(area.value());
            status.set(None);
        })
    };
    let on_key = {
        let apply = apply.clone();
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" && (event.ctrl_key() || event.meta_key()) {
                event.prevent_default();
                apply.emit(());
            } else if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    // The gutter scrolls with the text.
    let on_scroll = {
        let gutter = gutter.clone();
        Callback::from(move |event: Event| {
            let area: HtmlElement = event.target_unchecked_into();
            if let Some(gutter) = gutter.cast::<HtmlElement>() {
                gutter.set_scroll_top(area.scroll_top());
            }
        })
    };
    let on_copy = {
        let text = text.clone();
        let status = status.clone();
        let errors = errors.clone();
        Callback::from(move |_: MouseEvent| match copy_of(&text) {
            Some((copy, name)) => {
                text.set(copy);
                errors.set(Vec::new());
                status.set(Some(format!(
                    "This is now your own scenario \u{201c}{name}\u{201d}: change it, then press Apply."
                )));
            }
            None => status.set(Some("Fix the JSON first: the copy is made from the text.".into())),
        })
    };
    let on_revert = {
        let text = text.clone();
        let errors = errors.clone();
        let status = status.clone();
        let scenario = props.scenario.clone();
        Callback::from(move |_: MouseEvent| {
            text.set(scenario.to_json_pretty());
            errors.set(Vec::new());
            status.set(Some("Back to the scenario that is running.".into()));
        })
    };
    // Clicking an error puts the cursor on its line.
    let go_to_line = {
        let area = area.clone();
        let text = text.clone();
        Callback::from(move |line: usize| show_line(&area, &text, line))
    };
    let on_apply_click = {
        let apply = apply.clone();
        Callback::from(move |_: MouseEvent| apply.emit(()))
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };

    let line_count = text.lines().count().max(1) + usize::from(text.ends_with('\n'));
    let error_lines: Vec<usize> = errors.iter().filter_map(|e| e.line).collect();
    html! {
        <aside class="editor" role="dialog" aria-labelledby="editor-title" onkeydown={on_key.clone()}>
            <div class="editor-head">
                <h2 id="editor-title">{ "Scenario editor" }</h2>
                <button type="button" class="menu-close" aria-label="Close the editor" onclick={close}>{ "\u{2715}" }</button>
            </div>
            <p class="menu-intro">
                { "The running scenario as JSON: its topics, services, subscriptions and workload. Change it and press Apply (Ctrl+Enter) to restart the run with it. Exports and share links carry your version." }
            </p>
            <div class="editor-body">
                <pre class="editor-gutter" ref={gutter} aria-hidden="true">
                    { for (1..=line_count).map(|n| html! {
                        <span class={classes!("gutter-line", error_lines.contains(&n).then_some("error"))}>{ format!("{n}\n") }</span>
                    }) }
                </pre>
                <textarea ref={area} class="editor-text" spellcheck="false" autocomplete="off" wrap="off"
                    aria-label="Scenario JSON" aria-invalid={(!errors.is_empty()).to_string()}
                    maxlength={SCENARIO_BYTES_MAX.to_string()}
                    value={(*text).clone()} oninput={on_input} onscroll={on_scroll} />
            </div>
            if !errors.is_empty() {
                <ul class="problem-list editor-errors" role="alert">
                    { for errors.iter().map(|e| {
                        let line = e.line;
                        let onclick = {
                            let go_to_line = go_to_line.clone();
                            Callback::from(move |_: MouseEvent| if let Some(line) = line { go_to_line.emit(line) })
                        };
                        html! {
                            <li {onclick} class={classes!(line.is_some().then_some("clickable"))}>
                                if let Some(line) = e.line {
                                    <span class="problem-line">{ format!("line {line}") }</span>
                                }
                                if !e.path.is_empty() && e.path != "." {
                                    <code class="problem-path">{ e.path.clone() }</code>
                                }
                                <span class="problem-message">{ e.message.clone() }</span>
                            </li>
                        }
                    }) }
                </ul>
            }
            if let Some(status) = &*status {
                <p class="menu-status" role="status">{ status.clone() }</p>
            }
            <div class="editor-actions">
                <button type="button" class="control" onclick={on_copy}
                    title="Rename this scenario so your changes make a new one beside the built-in">{ "Make a copy" }</button>
                <button type="button" class="control" onclick={on_revert}
                    title="Discard the changes in the text">{ "Revert" }</button>
                <button type="button" class="control primary" onclick={on_apply_click}
                    title="Validate and restart the run with this scenario (Ctrl+Enter)" aria-keyshortcuts="Control+Enter">{ "Apply" }</button>
            </div>
        </aside>
    }
}
