//! Small inline SVG icons for the toolbar.
//!
//! Inline SVG instead of an icon font or image files: nothing extra to fetch, they
//! scale with the text, take the text colour, and pass a strict Content-Security-Policy.
//! Each icon is decorative (`aria-hidden`); the button's text names the action.

use yew::prelude::*;

/// Which toolbar icon to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    Play,
    Pause,
    Step,
    StepBack,
    JumpToStart,
    JumpToEnd,
    Reset,
    Keyboard,
}

impl Icon {
    /// The SVG path, drawn in a 24×24 box.
    fn path(self) -> &'static str {
        match self {
            Icon::Play => "M8 5v14l11-7z",
            Icon::Pause => "M7 5h4v14H7zM13 5h4v14h-4z",
            Icon::Step => "M6 5v14l9-7zM16 5h3v14h-3z",
            Icon::StepBack => "M18 5v14l-9-7zM5 5h3v14H5z",
            Icon::JumpToStart => "M20 5v14l-7-7zM13 5v14l-7-7zM4 5h2v14H4z",
            Icon::JumpToEnd => "M4 5v14l7-7zM11 5v14l7-7zM18 5h2v14h-2z",
            Icon::Reset => "M12 5a7 7 0 1 1-6.3 4H3.5l3.5-4 3.5 4H8a5 5 0 1 0 4-2z",
            Icon::Keyboard => {
                "M3 6h18v12H3zM5 8v2h2V8zm3 0v2h2V8zm3 0v2h2V8zm3 0v2h2V8zm3 0v2h2V8zM5 11v2h2v-2zm3 0v2h2v-2zm3 0v2h2v-2zm3 0v2h2v-2zm3 0v2h2v-2zM7 14v2h10v-2z"
            }
        }
    }
}

/// Draws one icon at the current font size. A plain function rather than a component:
/// each component type instantiates Yew's component machinery in the wasm binary, and
/// an icon has no state to keep.
pub fn icon_view(icon: Icon) -> Html {
    html! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d={icon.path()} fill="currentColor" fill-rule="evenodd" />
        </svg>
    }
}
