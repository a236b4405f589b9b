//! The landing page: the twelve lessons in order, the learner's progress, and free
//! play one click away.
//!
//! A first-time visitor reads what the app is and starts lesson 1; a returning one
//! sees which lessons are done and continues where they stopped, or goes straight to
//! free play. Every card is an ordinary link (`#/lessons/slug`), so the browser's own
//! keyboard handling, middle-click and "copy link" work.

use yew::prelude::*;

use super::details::emit_on_click;
use super::guide::GuideAction;
use super::progress::Progress;
use super::route::{format, Route};
use super::state::{Shell, ShellAction};
use crate::lessons::{lesson, lessons};

#[derive(Properties, PartialEq)]
pub struct IndexProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

#[derive(Properties, PartialEq)]
struct CardProps {
    /// Position in the path (lesson number − 1).
    index: usize,
    done: bool,
    /// Whether the prediction was answered right, once answered.
    answered: Option<bool>,
}

#[function_component(LessonCard)]
fn card(props: &CardProps) -> Html {
    let Some(l) = lessons().get(props.index) else { return Html::default() };
    let (done, answered) = (props.done, props.answered);
    let status = match (done, answered) {
        (true, _) => ("done", "\u{2713} Completed"),
        (false, Some(_)) => ("started", "Started"),
        (false, None) => ("new", "Not started"),
    };
    html! {
        <li class={classes!("lesson-card", status.0)} data-lesson={l.slug}>
            <a class="lesson-card-link" href={format(&Route::Lesson(l.slug))}>
                <span class="lesson-number" aria-hidden="true">{ l.number }</span>
                <span class="lesson-card-body">
                    <span class="lesson-card-title">
                        <span class="visually-hidden">{ format!("Lesson {}: ", l.number) }</span>
                        { l.title }
                    </span>
                    <span class="lesson-card-idea">{ l.idea }</span>
                    <span class="lesson-card-meta">
                        <span class={classes!("lesson-status", status.0)}>{ status.1 }</span>
                        if let Some(right) = answered {
                            <span class="lesson-predicted">
                                { if right { "prediction right" } else { "prediction answered" } }
                            </span>
                        }
                        if let Some(item) = l.checklist {
                            <span class="lesson-proves" title={format!("The checklist item this lesson proves: {}", item.text())}>{ format!("checklist: {}", item.text()) }</span>
                        }
                    </span>
                </span>
            </a>
        </li>
    }
}

/// The lesson index of a shell (see [`LessonsIndex`]).
pub fn lessons_index(props: &IndexProps) -> Html {
    let guide = &props.shell.guide;
    let not_found = match &guide.route {
        Route::NotFound(path) => Some(AttrValue::from(path.clone())),
        _ => None,
    };
    html! { <LessonsIndex progress={guide.progress.clone()} {not_found} dispatch={props.dispatch.clone()} /> }
}

#[derive(Properties, PartialEq)]
pub struct LessonsIndexProps {
    pub progress: Progress,
    /// The address that named no page, when the index stands in for it.
    pub not_found: Option<AttrValue>,
    pub dispatch: Callback<ShellAction>,
}

/// The lesson index.
#[function_component(LessonsIndex)]
pub fn lessons_index_page(props: &LessonsIndexProps) -> Html {
    let progress = &props.progress;
    let done = progress.completed.len();
    let returning = !progress.is_empty();
    let next = progress.next_lesson().and_then(lesson);
    let start_over = {
        let dispatch = props.dispatch.clone();
        emit_on_click(&dispatch, ShellAction::Guide(GuideAction::ResetProgress))
    };
    let not_found = props.not_found.clone();
    html! {
        <main class="lessons-index" aria-labelledby="index-title">
            <section class="index-hero">
                if let Some(path) = not_found {
                    <p class="notice refused index-notice" role="status">
                        { format!("There is no page at \u{201c}#/{path}\u{201d}. Here are the lessons instead.") }
                    </p>
                }
                <h2 id="index-title">{ "Learn event-driven architecture by running it" }</h2>
                <p class="index-lead">
                    { "Services talk by publishing events: facts such as \u{201c}order 1 was placed\u{201d}. \
                       Each lesson runs a small system in the simulator, step by step. You watch every \
                       message, answer a question before the run reveals the answer, break things on \
                       purpose with \u{201c}try this\u{201d} buttons, and see the damage on a meter." }
                </p>
                <div class="index-actions">
                    { match next {
                        Some(l) => html! {
                            <a class="control primary big-link" href={format(&Route::Lesson(l.slug))}>
                                { if returning { format!("Continue with lesson {}: {}", l.number, l.title) } else { format!("Start with lesson 1: {}", l.title) } }
                            </a>
                        },
                        None => html! { <span class="index-all-done">{ "You have completed every lesson." }</span> },
                    } }
                    <a class="control big-link" href={format(&Route::Play)} title="The simulator on its own: pick any scenario, inject any fault">
                        { "Free play" }
                    </a>
                </div>
                <p class="index-progress" aria-live="polite">
                    { format!("{done} of {} lessons completed", lessons().len()) }
                    if returning {
                        <button type="button" class="link-button" onclick={start_over}
                            title="Forget which lessons you completed and the answers you gave">
                            { "Start over" }
                        </button>
                    }
                </p>
            </section>
            <ol class="lesson-cards" aria-label="Lessons">
                { for lessons().iter().enumerate().map(|(index, l)| html! {
                    <LessonCard {index} done={progress.completed.contains(l.slug)} answered={progress.answered_right(l.slug)} />
                }) }
            </ol>
            <p class="index-footnote">
                { "Your progress is kept in this browser only. Every lesson has its own address: copy it to share or bookmark it." }
            </p>
        </main>
    }
}
