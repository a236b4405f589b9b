//! Every lesson walked as a learner can walk it: each "try this" pressed at the start,
//! halfway, at the end and after a rewind, on the plain run and on the runs other tries
//! lead to. At sampled steps of every run reached this way:
//!
//! - the narration shown is exactly the lines whose cue has happened and whose declared
//!   state holds, judged here by an evaluator of its own, not the lesson's;
//! - two lines that tell of the same moment (alternatives for different states) never
//!   show together;
//! - at the end of the run every promised meter reading is as expected exactly in the
//!   state its lesson declares for it;
//! - a "try this" offered as enabled changes the run: its continuation differs from the
//!   run left alone (more than by the injection's own record);
//! - every narration line shows in at least one of those runs.

use eventscope::lessons::{lessons, Expect, Lesson, TryAction, When};
use eventscope::sim::health::{InvariantState, SagaState};
use eventscope::sim::scenario::builtin;
use eventscope::sim::{RunConfig, Simulation, Trigger};

/// The test's own reading of a condition, from the run's plain views.
fn truth(l: &Lesson, when: &When, sim: &Simulation) -> bool {
    let now = sim.step_index();
    match when {
        When::Always => true,
        When::Never => false,
        When::Happened(cue) => sim.trace().iter().any(|r| cue.matches(sim, r)),
        When::AntiPattern(a) => sim.config().anti_patterns.contains(a),
        When::Tried(i) => match &l.try_this[*i].action {
            TryAction::Toggle(a) => sim.config().anti_patterns.contains(a),
            TryAction::Inject(fault) => sim
                .fault_script()
                .scripted
                .iter()
                .any(|e| e.fault == fault() && matches!(e.at, Trigger::Step(s) if s < now)),
        },
        When::Ended => sim.finished().is_some(),
        When::Revealed => sim.trace().iter().any(|r| l.prediction.reveal.matches(sim, r)),
        When::ServiceDown(name) => {
            let id = sim.compiled().service_by_name(name).expect("a service of the scenario");
            let s = sim.service_state(id);
            !s.up || s.partitioned_until.is_some()
        }
        When::DeadLetters(name) => sim.subscription_views().iter().any(|s| s.name == *name && s.dlq_depth > 0),
        When::ProjectionApplied(name) => {
            let i = sim.compiled().projections.iter().position(|p| p.name == *name).expect("a projection");
            sim.projection_state(i as u32).is_some_and(|p| p.checkpoint > 0)
        }
        When::SagaCompensated => sim.health().sagas.iter().any(|s| s.state == SagaState::Compensated),
        When::SagaStuck { compensating } => sim.health().sagas.iter().any(|s| match s.state {
            SagaState::StuckForward { .. } => !compensating,
            SagaState::StuckCompensating { .. } => *compensating,
            _ => false,
        }),
        When::Held(i) => *sim.health().invariant(*i) == InvariantState::Held,
        When::Broken(i) => matches!(sim.health().invariant(*i), InvariantState::Broken { .. }),
        When::Not(w) => !truth(l, w, sim),
        When::All(ws) => ws.iter().all(|w| truth(l, w, sim)),
        When::Any(ws) => ws.iter().any(|w| truth(l, w, sim)),
    }
}

/// A run as the learner holds it: the simulation and the tries pressed in this visit.
#[derive(Clone)]
struct Held {
    sim: Simulation,
    tried: Vec<usize>,
    /// How the learner got here, for failure messages.
    path: String,
}

/// Presses a "try this" as the lesson reducer does: an injection now (forking if
/// rewound), or a restart from step 0 with the anti-pattern switched on or off.
fn press(l: &Lesson, held: &Held, index: usize, at: &str) -> Held {
    let mut next = held.clone();
    next.path = format!("{} → try {index} {at} (step {})", held.path, held.sim.step_index());
    match &l.try_this[index].action {
        TryAction::Inject(fault) => {
            next.sim.inject(fault()).expect("a lesson's fault is valid for its scenario");
        }
        TryAction::Toggle(anti) => {
            let mut config = held.sim.config().clone();
            if let Some(p) = config.anti_patterns.iter().position(|a| a == anti) {
                config.anti_patterns.remove(p);
            } else {
                config.anti_patterns.push(*anti);
            }
            next.sim = Simulation::new(config).unwrap();
        }
    }
    next.tried.retain(|i| *i != index);
    let switched_off =
        matches!(&l.try_this[index].action, TryAction::Toggle(a) if !next.sim.config().anti_patterns.contains(a));
    if !switched_off {
        next.tried.push(index);
    }
    next
}

/// What the run did, without step numbers and without the record of the injection at
/// `skip`: two runs that differ only by an injection that changed nothing read alike.
/// The envelopes' flow ids count too (an anti-pattern may change only those).
fn story(sim: &Simulation, skip: Option<u64>) -> Vec<String> {
    let records = sim.trace().iter().filter(|r| Some(r.step) != skip).map(|r| {
        let f = sim.fields(r);
        format!("{} {} {} {}", f.verb, f.event_type, f.place, f.detail)
    });
    let flows = sim.messages().iter().map(|m| format!("{} in {:?}", m.envelope.event_type, m.envelope.correlation_id));
    records.chain(flows).collect()
}

fn at(sim: &Simulation, step: u64) -> Simulation {
    let mut s = sim.clone();
    s.rewind_to(step);
    s
}

fn to_end(sim: &Simulation) -> Simulation {
    let mut s = sim.clone();
    s.run_to_end();
    s
}

/// The steps of a finished run worth checking: the start, the end, every cue of the
/// lesson and the step after it, and an even spread in between.
fn sample_steps(l: &Lesson, whole: &Simulation) -> Vec<u64> {
    let horizon = whole.horizon();
    let mut steps = vec![0, horizon];
    let cues = l.narration.iter().map(|n| &n.cue).chain(std::iter::once(&l.prediction.reveal));
    for cue in cues {
        for r in whole.trace().iter().filter(|r| cue.matches(whole, r)).take(2) {
            steps.extend([r.step, r.step + 1]);
        }
    }
    steps.extend((1..24).map(|k| horizon * k / 24));
    steps.retain(|s| *s <= horizon);
    steps.sort_unstable();
    steps.dedup();
    steps
}

/// The narration lines (by lesson number and index) shown somewhere in the walk.
type Seen = std::collections::BTreeSet<(u32, usize)>;

fn check_narration(l: &Lesson, held: &Held, sim: &Simulation, seen: &mut Seen) {
    let shown = l.narration_at(sim, &held.tried);
    for (_, n) in &shown {
        seen.extend(l.narration.iter().position(|x| std::ptr::eq(x, *n)).map(|i| (l.number, i)));
    }
    let where_ = || format!("{}: {} at step {}", l.slug, held.path, sim.step_index());
    for n in l.narration {
        let cue_step = sim.trace().iter().find(|r| n.cue.matches(sim, r)).map(|r| r.step);
        let gate = n.after_try.is_none_or(|i| held.tried.contains(&i) && truth(l, &When::Tried(i), sim));
        let expected = cue_step.is_some() && gate && truth(l, &n.when, sim);
        let is_shown = shown.iter().any(|(_, s)| std::ptr::eq(*s, n));
        assert_eq!(
            is_shown,
            expected,
            "{}: \"{}\" (state {:?}) shown {is_shown}, but its cue happened at {cue_step:?} and its state holds: {}",
            where_(),
            n.text,
            n.when,
            truth(l, &n.when, sim)
        );
    }
    for (i, (_, a)) in shown.iter().enumerate() {
        for (_, b) in &shown[i + 1..] {
            assert!(
                a.cue != b.cue,
                "{}: two lines tell of the same moment at once:\n  \"{}\"\n  \"{}\"",
                where_(),
                a.text,
                b.text
            );
        }
    }
    assert!(shown.windows(2).all(|w| w[0].0 <= w[1].0), "{}: narration out of order", where_());
}

fn check_meter(l: &Lesson, held: &Held, end: &Simulation) {
    for r in (l.meter.read)(end) {
        if r.expect == Expect::Info {
            continue;
        }
        let Some((_, when)) = l.meter.as_expected.iter().find(|(label, _)| *label == r.label) else {
            panic!("{}: the reading \"{}\" declares no state it is as expected in", l.slug, r.label);
        };
        assert_eq!(
            r.ok(),
            truth(l, when, end),
            "{}: {} → end (step {}): \"{}\" reads {} of {} ({}), but it declares it is as expected when {:?}",
            l.slug,
            held.path,
            end.step_index(),
            r.label,
            r.actual,
            r.expected,
            if r.ok() { "as expected" } else { "not as expected" },
            when
        );
    }
}

/// Checks a run from its current step on: the narration at sampled steps of its whole
/// course, and the meter at its end.
fn check_run(l: &Lesson, held: &Held, seen: &mut Seen) {
    let whole = to_end(&held.sim);
    for step in sample_steps(l, &whole).into_iter().filter(|s| *s >= held.sim.step_index()) {
        check_narration(l, held, &at(&whole, step), seen);
    }
    check_meter(l, held, &whole);
}

/// An enabled "try this" must change the run's course.
fn check_changes(l: &Lesson, before: &Held, after: &Held, index: usize) {
    let left_alone = match &l.try_this[index].action {
        TryAction::Inject(_) => to_end(&before.sim),
        TryAction::Toggle(_) => to_end(&at(&before.sim, 0)),
    };
    let pressed = to_end(&after.sim);
    let skip = matches!(l.try_this[index].action, TryAction::Inject(_)).then(|| before.sim.step_index());
    assert!(
        story(&left_alone, None) != story(&pressed, skip),
        "{}: {}: the enabled \"{}\" changed nothing",
        l.slug,
        after.path,
        l.try_this[index].label
    );
}

/// Every try at every point of a run: start, halfway, end, and halfway again after
/// going to the end and rewinding. Returns the runs the tries led to.
fn press_everywhere(l: &Lesson, base: &Held, presses: &mut (u32, u32), seen: &mut Seen) -> Vec<Held> {
    let whole = to_end(&base.sim);
    let horizon = whole.horizon();
    let mut rewound = whole.clone();
    rewound.rewind_to(horizon / 3);
    let points = [
        ("at the start", at(&whole, 0)),
        ("halfway", at(&whole, horizon / 2)),
        ("at the end", whole.clone()),
        ("after a rewind", rewound),
    ];
    let mut led_to = Vec::new();
    for (name, sim) in points {
        let here = Held { sim, ..base.clone() };
        for index in 0..l.try_this.len() {
            if l.try_availability(index, &here.sim).is_err() {
                presses.1 += 1;
                continue;
            }
            presses.0 += 1;
            let after = press(l, &here, index, name);
            check_changes(l, &here, &after, index);
            check_run(l, &after, seen);
            led_to.push(after);
        }
    }
    led_to
}

#[test]
fn every_lesson_shows_only_what_the_run_bears_out_and_every_enabled_try_changes_it() {
    let mut presses = (0, 0);
    let mut seen = Seen::new();
    for l in lessons() {
        for scenario in std::iter::once(l.scenario).chain(l.compare_with) {
            let plain = Held {
                sim: Simulation::new(RunConfig::new(builtin(scenario).unwrap(), l.seed)).unwrap(),
                tried: Vec::new(),
                path: format!("{scenario} from step 0"),
            };
            check_run(l, &plain, &mut seen);
            // The plain run, then each run a first try led to, once more with every try.
            for next in press_everywhere(l, &plain, &mut presses, &mut seen) {
                let fresh = Held { sim: at(&next.sim, next.sim.step_index()), ..next };
                press_everywhere(l, &fresh, &mut presses, &mut seen);
            }
        }
        // A line no reachable run shows is dead text: its cue or its state is wrong.
        for (i, n) in l.narration.iter().enumerate() {
            assert!(seen.contains(&(l.number, i)), "{}: \"{}\" never shows in any run walked", l.slug, n.text);
        }
    }
    let (enabled, disabled) = presses;
    println!("{enabled} presses checked, {disabled} disabled");
    assert!(enabled > 0 && disabled > 0);
}

#[test]
fn a_try_that_cannot_change_the_run_says_why() {
    let l = eventscope::lessons::lesson("orchestration").unwrap();
    let mut sim = Simulation::new(RunConfig::new(builtin(l.scenario).unwrap(), l.seed)).unwrap();
    sim.run_to_end();
    let fail = l.try_this.iter().position(|t| t.label == "Make payment fail").unwrap();
    let why = l.try_availability(fail, &sim).unwrap_err().to_string();
    assert!(why.starts_with("The run has ended"), "{why}");
    sim.rewind_to(10);
    assert_eq!(l.try_availability(fail, &sim), Ok(()));
    sim.inject((match &l.try_this[fail].action {
        TryAction::Inject(f) => f,
        TryAction::Toggle(_) => unreachable!(),
    })())
    .unwrap();
    let why = l.try_availability(fail, &sim).unwrap_err().to_string();
    assert!(why.starts_with("Done at step 10"), "{why}");
    // Rewound before the injection, it can be tried again (the run forks there).
    sim.rewind_to(5);
    assert_eq!(l.try_availability(fail, &sim), Ok(()));

    let poison = eventscope::lessons::lesson("poison-messages").unwrap();
    let sim = Simulation::new(RunConfig::new(builtin(poison.scenario).unwrap(), poison.seed)).unwrap();
    let why = poison.try_availability(0, &sim).unwrap_err().to_string();
    assert!(why.contains("DLQ of billing-orders is empty"), "{why}");
}
