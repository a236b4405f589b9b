//! A lesson on screen: the bar that places it in the path, and the column that tells
//! its story next to the ordinary views of the run.
//!
//! The topology, log, toolbar and timeline are the free-play components, unchanged; a
//! lesson only takes the right-hand column, with a switch back to the usual details
//! (inspector, invariants, faults, delivery). The column reads top to bottom in the
//! order a learner needs it: the idea, the prediction when the run stops for it, what
//! just happened (newest narration highlighted), the "try this" buttons, the meter,
//! the checklist, and at the end what to remember. Everything is derived from the run
//! on screen, so stepping back and forth keeps the story in step with the picture.

use web_sys::HtmlElement;
use yew::prelude::*;

use super::checklist::{use_checklist, ChecklistList, ChecklistStrip, ItemRow};
use super::details::{details, emit_on_click, DetailsProps};
use super::guide::{GuideAction, LessonRun, Pane};
use super::route::{format, Route};
use super::state::{RunRef, Shell, ShellAction};
use crate::lessons::{lessons, Expect, Lesson, Reading, TryAction, Unavailable};
use crate::sim::anti_pattern::AntiPattern;
use crate::sim::scenario::catalog;

#[derive(Properties, PartialEq)]
pub struct BarProps {
    pub shell: Shell,
}

/// The lesson bar of a shell (see [`LessonBar`]).
pub fn lesson_bar(props: &BarProps) -> Html {
    match props.shell.guide.lesson.as_ref() {
        Some(run) => html! { <LessonBar slug={run.slug} /> },
        None => Html::default(),
    }
}

#[derive(Properties, PartialEq)]
pub struct LessonBarProps {
    /// The open lesson.
    pub slug: &'static str,
}

/// Above a lesson: back to the index, where this lesson sits, previous and next, and
/// the way out into free play with the same run.
#[function_component(LessonBar)]
pub fn lesson_bar_view(props: &LessonBarProps) -> Html {
    let Some(l) = crate::lessons::lesson(props.slug) else { return Html::default() };
    let all = lessons();
    let index = (l.number as usize).saturating_sub(1);
    let previous = index.checked_sub(1).and_then(|i| all.get(i));
    let next = all.get(index + 1);
    let nav_link = |target: Option<&'static Lesson>, text: &str, class: &'static str| match target {
        Some(t) => html! {
            <a class={classes!("control", "bar-link", class)} href={format(&Route::Lesson(t.slug))}
                title={format!("Lesson {}: {}", t.number, t.title)}>{ text.to_string() }</a>
        },
        None => {
            html! { <span class={classes!("control", "bar-link", "disabled", class)} aria-disabled="true">{ text.to_string() }</span> }
        }
    };
    html! {
        <nav class="guide-bar lesson-bar" aria-label="Lesson navigation">
            <a class="bar-back" href={format(&Route::Index)}>{ "\u{2190} All lessons" }</a>
            <p class="bar-place">
                <span class="bar-number">{ format!("Lesson {} of {}", l.number, all.len()) }</span>
                <span class="bar-title">{ l.title }</span>
            </p>
            <div class="bar-actions">
                { nav_link(previous, "\u{2039} Previous", "previous") }
                { nav_link(next, "Next \u{203a}", "next") }
                <a class="control bar-link free-play-link" href={format(&Route::Play)}
                    title="Leave the lesson and keep exploring this very run (same scenario, seed, faults, anti-patterns and step)">
                    { "Open in free play" }
                </a>
            </div>
        </nav>
    }
}

/// The free-play bar of a shell (see [`PlayBar`]).
pub fn play_bar(props: &BarProps) -> Html {
    html! { <PlayBar run={props.shell.run()} /> }
}

#[derive(Properties, PartialEq)]
pub struct PlayBarProps {
    pub run: RunRef,
}

/// Above free play: back to the lessons, and the live checklist.
#[function_component(PlayBar)]
pub fn play_bar_view(props: &PlayBarProps) -> Html {
    html! {
        <nav class="guide-bar play-bar" aria-label="Free play">
            <a class="bar-back" href={format(&Route::Index)}>{ "\u{2190} Lessons" }</a>
            <p class="bar-place"><span class="bar-title">{ "Free play" }</span></p>
            <ChecklistStrip run={props.run.clone()} />
        </nav>
    }
}

#[derive(Properties, PartialEq)]
pub struct PanelProps {
    pub shell: Shell,
    pub dispatch: Callback<ShellAction>,
}

/// One narration entry that has happened in this run.
#[derive(Clone, PartialEq)]
struct Told {
    step: u64,
    text: &'static str,
    after_try: bool,
}

/// The narration whose cue has happened up to the current step, in the order it happened.
#[hook]
fn use_told(sim: &RunRef, run: &LessonRun, l: &'static Lesson) -> std::rc::Rc<Vec<Told>> {
    let tried = run.tried.clone();
    use_memo((sim.clone(), tried, l.slug), move |(sim, tried, _)| {
        let sim = sim.sim.borrow();
        let mut told: Vec<Told> = l
            .narration
            .iter()
            .filter(|n| l.shows(n, &sim, tried))
            .filter_map(|n| {
                n.cue.first_step(&sim).map(|step| Told { step, text: n.text, after_try: n.after_try.is_some() })
            })
            .collect();
        crate::sim::sorting::sort_by_key(&mut told, |t| t.step);
        told
    })
}

fn guide(dispatch: &Callback<ShellAction>, action: GuideAction) -> Callback<MouseEvent> {
    emit_on_click(dispatch, ShellAction::Guide(action))
}

/// The right-hand column of a lesson (nothing when no lesson is open). Its "Run
/// details" pane is the details column of the shell, handed in as its child.
pub fn lesson_panel(props: &PanelProps) -> Html {
    let shell = &props.shell;
    let run = shell.guide.lesson.clone();
    match run.and_then(|run| run.lesson().map(|l| (run, l))) {
        Some((run, lesson)) => {
            let details = (run.pane == Pane::Details)
                .then(|| details(&DetailsProps { shell: shell.clone(), dispatch: props.dispatch.clone() }));
            html! {
                <LessonColumn sim={shell.run()} step={shell.step} horizon={shell.horizon} finished={shell.finished.is_some()}
                    scenario_name={AttrValue::from(shell.scenario_name.clone())} anti_patterns={shell.anti_patterns.clone()}
                    dispatch={props.dispatch.clone()} {run} {lesson}>
                    { for details }
                </LessonColumn>
            }
        }
        None => Html::default(),
    }
}

#[derive(Properties)]
struct ColumnProps {
    /// The run on screen.
    sim: RunRef,
    step: u64,
    horizon: u64,
    finished: bool,
    scenario_name: AttrValue,
    anti_patterns: Vec<AntiPattern>,
    dispatch: Callback<ShellAction>,
    run: LessonRun,
    lesson: &'static Lesson,
    /// The details column, while that pane is open.
    #[prop_or_default]
    children: Html,
}

impl PartialEq for ColumnProps {
    fn eq(&self, other: &Self) -> bool {
        self.sim == other.sim
            && self.step == other.step
            && self.horizon == other.horizon
            && self.finished == other.finished
            && self.scenario_name == other.scenario_name
            && self.anti_patterns == other.anti_patterns
            && self.dispatch == other.dispatch
            && self.run == other.run
            && std::ptr::eq(self.lesson, other.lesson)
            && self.children == other.children
    }
}

#[function_component(LessonColumn)]
fn lesson_column(props: &ColumnProps) -> Html {
    let dispatch = &props.dispatch;
    let run = props.run.clone();
    let l = props.lesson;
    let told = use_told(&props.sim, &run, l);
    let statuses = use_checklist(&props.sim);
    let readings = use_memo((props.sim.clone(), l.slug), move |(sim, _)| (l.meter.read)(&sim.sim.borrow()));
    let pane_tab = |pane: Pane, label: &'static str| {
        let active = run.pane == pane;
        html! {
            <button type="button" role="tab" class={classes!("tab", active.then_some("active"))}
                aria-selected={active.to_string()} onclick={guide(dispatch, GuideAction::ShowPane(pane))}>
                { label }
            </button>
        }
    };
    let body = match run.pane {
        Pane::Details => props.children.clone(),
        Pane::Lesson => {
            let at_end = props.finished && props.step == props.horizon && props.step > 0;
            let proven = l.checklist.and_then(|item| statuses.iter().find(|s| s.item == item));
            html! {
                <div class="lesson-scroll" aria-label={format!("Lesson {}: {}", l.number, l.title)}>
                    // While the question is open it gets the room; the idea returns after.
                    if !run.asking {
                        <header class="lesson-head">
                            <p class="lesson-kicker">{ format!("Lesson {} \u{b7} the idea", l.number) }</p>
                            <h2 class="lesson-idea">{ l.idea }</h2>
                        </header>
                    }
                    if run.asking {
                        <Prediction run={run.clone()} dispatch={dispatch.clone()} />
                    }
                    if at_end {
                        <section class="lesson-section remember" aria-labelledby="remember-title">
                            <h3 id="remember-title">{ "The run is over. What to remember" }</h3>
                            <ul class="remember-list">{ for l.remember.iter().map(|r| html! { <li>{ *r }</li> }) }</ul>
                            { next_step(l) }
                        </section>
                    }
                    // The introduction matters before the first step; afterwards the
                    // narration does, so the introduction folds away (one click opens it).
                    if props.step == 0 && props.horizon == 0 {
                        <section class="lesson-section lesson-intro" aria-label="Introduction">
                            <p>{ l.intro }</p>
                        </section>
                    } else {
                        <details class="lesson-section lesson-intro intro-more">
                            <summary>{ "Introduction" }</summary>
                            <p>{ l.intro }</p>
                        </details>
                    }
                    <section class="lesson-section" aria-labelledby="told-title">
                        <h3 id="told-title">{ "What is happening" }</h3>
                        { narration(&told, props.step, dispatch) }
                        { prediction_summary(&run, l) }
                    </section>
                    { compare(l, &props.scenario_name, dispatch) }
                    <section class="lesson-section" aria-labelledby="try-title">
                        <h3 id="try-title">{ "Try this" }</h3>
                        <ul class="try-list">
                            { for l.try_this.iter().enumerate().map(|(i, t)| {
                                let unavailable = run.try_availability(i, &props.sim.sim.borrow()).err();
                                try_button(i, t, &run, unavailable, &props.anti_patterns, dispatch)
                            }) }
                        </ul>
                    </section>
                    <section class="lesson-section meter" aria-labelledby="meter-title">
                        <h3 id="meter-title">{ format!("Expected vs actual: {}", l.meter.title) }</h3>
                        <p class="section-explain">{ l.meter.explain }</p>
                        { meter_table(&readings, at_end) }
                    </section>
                    <section class="lesson-section" aria-labelledby="proves-title">
                        <h3 id="proves-title">{ "The checklist" }</h3>
                        if let Some(status) = proven {
                            <p class="section-explain">{ "This lesson proves the item on top; the others are judged from the same run." }</p>
                            <ul class="check-list proven-list"><ItemRow status={status.clone()} highlight=true /></ul>
                        } else {
                            <p class="section-explain">{ "No checklist item is specific to this lesson; here is how the run does on each." }</p>
                        }
                        <details class="check-more">
                            <summary>{ "All seven items" }</summary>
                            <ChecklistList statuses={statuses.clone()} proven={None::<crate::lessons::checklist::Item>} />
                        </details>
                    </section>
                </div>
            }
        }
    };
    html! {
        <div class="lesson-column">
            <div class="tabs" role="tablist" aria-label="Right-hand column">
                { pane_tab(Pane::Lesson, "Lesson") }
                { pane_tab(Pane::Details, "Run details") }
            </div>
            { body }
        </div>
    }
}

/// Newest first, so what just happened is always at the top of the column; each entry
/// names the step (numbered as in the event log) and jumps there when pressed.
fn narration(told: &[Told], step: u64, dispatch: &Callback<ShellAction>) -> Html {
    if told.is_empty() {
        let text = if step == 0 {
            "Press Play (Space) or Step (\u{2192}) to start the run. Each time something important happens, it is explained here."
        } else {
            "Nothing to explain yet: keep stepping."
        };
        return html! { <p class="narration-empty">{ text }</p> };
    }
    let latest = told.len() - 1;
    html! {
        <ol class="narration" reversed=true>
            { for told.iter().enumerate().rev().map(|(i, t)| {
                let jump = {
                    let dispatch = dispatch.clone();
                    let target = t.step + 1;
                    emit_on_click(&dispatch, ShellAction::RewindTo(target))
                };
                html! {
                    <li class={classes!("told", (i == latest).then_some("latest"), t.after_try.then_some("after-try"))}
                        aria-current={(i == latest).then_some("step")}>
                        <button type="button" class="told-step" onclick={jump}
                            title="Show the run right after this step">{ format!("step {}", t.step) }</button>
                        <span class="told-text">{ t.text }</span>
                    </li>
                }
            }) }
        </ol>
    }
}

/// The switch between the two designs of a comparing lesson.
fn compare(l: &Lesson, scenario_name: &str, dispatch: &Callback<ShellAction>) -> Html {
    let Some(other) = l.compare_with else { return Html::default() };
    let title =
        |name: &str| catalog().iter().find(|s| s.name == name).map_or(name.to_string(), |s| s.title.to_string());
    let (showing, switch_to) =
        if scenario_name == l.scenario { (title(l.scenario), title(other)) } else { (title(other), title(l.scenario)) };
    html! {
        <section class="lesson-section compare" aria-labelledby="compare-title">
            <h3 id="compare-title">{ "Two designs" }</h3>
            <p class="section-explain">{ format!("Showing: {showing}. Switch to run the other design with the same seed and faults, from step 0.") }</p>
            <button type="button" class="control compare-button" onclick={guide(dispatch, GuideAction::SwitchDesign)}>
                { format!("Switch to: {switch_to}") }
            </button>
        </section>
    }
}

fn prediction_summary(run: &LessonRun, l: &Lesson) -> Html {
    let (Some(choice), false) = (run.answer, run.asking) else { return Html::default() };
    let right = choice == l.prediction.answer;
    html! {
        <p class={classes!("prediction-summary", if right { "right" } else { "wrong" })}>
            { format!("Your prediction: \u{201c}{}\u{201d} \u{2014} {}", l.prediction.choices.get(choice).copied().unwrap_or(""), if right { "right." } else { "not quite." }) }
        </p>
    }
}

/// One "try this" button. A try that cannot take effect now (the run has ended, the
/// question is open, it is done already) is disabled and says why, instead of
/// answering "Done" and changing nothing.
fn try_button(
    index: usize,
    t: &'static crate::lessons::TryThis,
    run: &LessonRun,
    unavailable: Option<Unavailable>,
    anti_patterns: &[AntiPattern],
    dispatch: &Callback<ShellAction>,
) -> Html {
    let blocked = unavailable.is_some();
    let (pressed, note) = match &t.action {
        TryAction::Toggle(anti_pattern) => {
            let on = anti_patterns.contains(anti_pattern);
            (
                Some(on),
                if on {
                    "On: the run restarted with it. Press again to switch it off."
                } else {
                    "Restarts the run from step 0 with this change."
                },
            )
        }
        TryAction::Inject(_) => (
            None,
            if run.has_tried(index) {
                "Done: it is in the run's fault script."
            } else {
                "Happens now, at the current step."
            },
        ),
    };
    html! {
        <li class="try-item">
            <button type="button" class={classes!("control", "try-button", pressed.unwrap_or(false).then_some("on"))}
                aria-pressed={pressed.map(|p| p.to_string())} disabled={blocked}
                title={unavailable.as_ref().map_or_else(|| t.explain.to_string(), |u| u.to_string())}
                onclick={guide(dispatch, GuideAction::Try(index))}>
                { t.label }
            </button>
            <p class="try-explain">{ t.explain }</p>
            <p class={classes!("try-note", blocked.then_some("unavailable"))}>
                { unavailable.map_or_else(|| note.to_string(), |u| u.to_string()) }
            </p>
        </li>
    }
}

fn expected_text(r: &Reading) -> String {
    match r.expect {
        Expect::Exactly => r.expected.to_string(),
        Expect::AtMost => format!("\u{2264} {}", r.expected),
        Expect::Info => "\u{2014}".into(),
    }
}

/// How a reading looks: met, broken, for context, or not there yet. Before the end of
/// the run a count below its promise is only "so far" (it may still get there), while
/// going over a promise cannot be undone (these counts only grow), so it is red at once.
fn reading_class(r: &Reading, at_end: bool) -> &'static str {
    match r.expect {
        Expect::Info => "info",
        _ if r.ok() => "ok",
        _ if at_end || r.actual > r.expected => "bad",
        _ => "pending",
    }
}

fn meter_table(readings: &[Reading], at_end: bool) -> Html {
    html! {
        <table class="meter-table">
            <thead><tr><th scope="col">{ "reading" }</th><th scope="col">{ "expected" }</th><th scope="col">{ "actual" }</th></tr></thead>
            <tbody>
                { for readings.iter().map(|r| {
                    let class = reading_class(r, at_end);
                    let word = match class {
                        "ok" => "as expected",
                        "bad" => "not as expected",
                        "pending" => "so far",
                        _ => "for context",
                    };
                    html! {
                        <tr class={classes!("reading", class)} data-label={r.label.clone()} data-actual={r.actual.to_string()}>
                            <th scope="row">{ r.label.clone() }</th>
                            <td class="expected">{ expected_text(r) }</td>
                            <td class="actual">
                                { r.actual }
                                <span class="reading-mark" aria-hidden="true">{ match class { "ok" => " \u{2713}", "bad" => " \u{2717}", "pending" => " so far", _ => "" } }</span>
                                <span class="visually-hidden">{ format!(" ({word})") }</span>
                            </td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

fn next_step(l: &Lesson) -> Html {
    match lessons().get(l.number as usize) {
        Some(next) => html! {
            <p class="lesson-next">
                <a class="control primary" href={format(&Route::Lesson(next.slug))}>
                    { format!("Next: lesson {}, {}", next.number, next.title) }
                </a>
            </p>
        },
        None => html! {
            <p class="lesson-next">
                { "That was the last lesson. " }
                <a class="control primary" href={format(&Route::Play)}>{ "Open this run in free play" }</a>
            </p>
        },
    }
}

#[derive(Properties, PartialEq)]
struct PredictionProps {
    run: LessonRun,
    dispatch: Callback<ShellAction>,
}

/// The question, asked with the run stopped just before the answer. Focus moves into it
/// when it opens, and to "Continue" once answered, so keyboard users are never lost.
#[function_component(Prediction)]
fn prediction(props: &PredictionProps) -> Html {
    let first_choice = use_node_ref();
    let continue_button = use_node_ref();
    let answer = props.run.answer;
    {
        let first_choice = first_choice.clone();
        let continue_button = continue_button.clone();
        use_effect_with(answer, move |answer| {
            let target = if answer.is_some() { continue_button } else { first_choice };
            if let Some(element) = target.cast::<HtmlElement>() {
                // The question sits at the top of the column: show it whole, from its
                // heading, before focusing (focus alone scrolls just the button in).
                if answer.is_none() {
                    if let Ok(Some(column)) = element.closest(".lesson-scroll") {
                        column.set_scroll_top(0);
                    }
                }
                let _ = element.focus();
            }
        });
    }
    let Some(l) = props.run.lesson() else { return Html::default() };
    let p = &l.prediction;
    html! {
        <section class="prediction" role="dialog" aria-labelledby="prediction-question" aria-describedby="prediction-note"
            data-own-space="">
            <p class="prediction-kicker">{ "Predict what happens next" }</p>
            <p id="prediction-note" class="prediction-note">
                { "The run has stopped just before the answer. Pick what you think will happen, then watch." }
            </p>
            <h3 id="prediction-question" class="prediction-question">{ p.question }</h3>
            <div class="choices" role="group" aria-label="Your prediction">
                { for p.choices.iter().enumerate().map(|(i, choice)| {
                    let state = match answer {
                        Some(_) if i == p.answer => Some("right"),
                        Some(a) if a == i => Some("wrong"),
                        _ => None,
                    };
                    html! {
                        <button type="button" class={classes!("choice", state)} disabled={answer.is_some()}
                            ref={if i == 0 { first_choice.clone() } else { NodeRef::default() }}
                            aria-pressed={answer.map(|a| (a == i).to_string())}
                            onclick={guide(&props.dispatch, GuideAction::Answer(i))}>
                            <span class="choice-letter" aria-hidden="true">{ char::from(b'A' + i as u8) }</span>
                            { *choice }
                        </button>
                    }
                }) }
            </div>
            if let Some(a) = answer {
                <div class={classes!("prediction-result", if a == p.answer { "right" } else { "wrong" })} role="status">
                    <p class="verdict">
                        { if a == p.answer { "Right!".to_string() } else { format!("Not quite. The answer is \u{201c}{}\u{201d}.", p.choices.get(p.answer).copied().unwrap_or("")) } }
                    </p>
                    <p class="explanation">{ p.explanation }</p>
                    <button type="button" class="control primary" ref={continue_button}
                        onclick={guide(&props.dispatch, GuideAction::Continue)}>
                        { "Continue the run" }
                    </button>
                </div>
            }
        </section>
    }
}
