//! The app's addresses: which page the URL fragment names, and back.
//!
//! Routes live in the fragment (`#/`, `#/lessons/delivery-guarantees`, `#/play`), so
//! every page has its own URL on any static host, at any sub-path, with no server
//! rewrite rules: the server only ever sees the path of `index.html`.
//!
//! A fragment is read as `#/route?query`. The route picks the page; the query carries
//! parameters that other features read (a share link's `s=...`). A bare `#s=...`, with
//! no route, means free play with that query, so links made before routes existed
//! still open. Parsing is total: anything unrecognised is [`Route::NotFound`], which the
//! app shows as the lesson index with a note, never a panic.
//!
//! The browser side (reading the fragment, listening for `hashchange`, writing the
//! fragment when the page changes) is [`use_route_sync`] at the bottom; everything
//! above it is pure and tested in `tests/web/guide.rs`.

use crate::lessons::lesson;

/// A page of the app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Route {
    /// The lesson index: the landing page.
    #[default]
    Index,
    /// One lesson, by its slug (known to exist).
    Lesson(&'static str),
    /// The simulator on its own.
    Play,
    /// An address that names nothing; the text is what was asked for.
    NotFound(String),
}

/// A parsed fragment: the route and its query parameters, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub route: Route,
    pub query: Vec<(String, String)>,
}

impl Location {
    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Longest fragment worth parsing; share links are capped well below this.
const FRAGMENT_MAX: usize = 64 * 1024;

/// Reads a fragment as `location.hash` returns it (with or without the leading `#`).
pub fn parse(fragment: &str) -> Location {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.len() > FRAGMENT_MAX {
        return Location { route: Route::NotFound("(a very long address)".into()), query: Vec::new() };
    }
    let (path, query) = fragment.split_once('?').unwrap_or((fragment, ""));
    // `#s=...` (no route, but a query) is a share link to free play.
    let (path, query) = if !path.starts_with('/') && path.contains('=') { ("/play", fragment) } else { (path, query) };
    let query = parse_query(query);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let route = match segments.as_slice() {
        [] => Route::Index,
        ["lessons"] => Route::Index,
        ["play"] => Route::Play,
        ["lessons", slug] => match lesson(slug) {
            Some(found) => Route::Lesson(found.slug),
            None => Route::NotFound(format!("lessons/{slug}")),
        },
        _ => Route::NotFound(segments.join("/")),
    };
    Location { route, query }
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// The fragment of a route, with its leading `#`.
pub fn format(route: &Route) -> String {
    match route {
        Route::Index | Route::NotFound(_) => "#/".into(),
        Route::Lesson(slug) => format!("#/lessons/{slug}"),
        Route::Play => "#/play".into(),
    }
}

/// Whether two routes show the same page (a not-found address shows the index).
pub fn same_page(a: &Route, b: &Route) -> bool {
    let page = |r: &Route| match r {
        Route::NotFound(_) => Route::Index,
        other => other.clone(),
    };
    page(a) == page(b)
}

#[cfg(target_arch = "wasm32")]
pub use browser::{current, use_route_sync};

#[cfg(target_arch = "wasm32")]
mod browser {
    use gloo::events::EventListener;
    use yew::prelude::*;

    use super::{format, parse, same_page, Location};
    use crate::ui::guide::GuideAction;
    use crate::ui::state::{Shell, ShellAction};

    /// The location the browser shows now.
    pub fn current() -> Location {
        parse(&gloo::utils::window().location().hash().unwrap_or_default())
    }

    /// Keeps the page and the fragment in step, both ways: a `hashchange` (a link, the
    /// Back button, an edited address) dispatches a navigation; a page change made by
    /// the reducer (leaving a lesson by picking another scenario) writes the fragment.
    /// Each side does nothing when the other already agrees, so they cannot loop.
    #[hook]
    pub fn use_route_sync(shell: &UseReducerHandle<Shell>) {
        {
            let dispatcher = shell.dispatcher();
            use_effect_with((), move |_| {
                let listener = EventListener::new(&gloo::utils::window(), "hashchange", move |_| {
                    dispatcher.dispatch(ShellAction::Guide(GuideAction::Navigate(current().route)));
                });
                move || drop(listener)
            });
        }
        let route = shell.guide.route.clone();
        use_effect_with(route, |route| {
            if !same_page(&current().route, route) {
                let _ = gloo::utils::window().location().set_hash(&format(route));
            }
            let title = match route {
                super::Route::Lesson(slug) => crate::lessons::lesson(slug)
                    .map(|l| format!("Lesson {}: {} \u{b7} Eventscope", l.number, l.title))
                    .unwrap_or_else(|| "Eventscope".into()),
                super::Route::Play => "Free play \u{b7} Eventscope".into(),
                _ => "Lessons \u{b7} Eventscope".into(),
            };
            gloo::utils::document().set_title(&title);
        });
    }
}
