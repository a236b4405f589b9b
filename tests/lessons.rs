//! Lessons: every narration refers to events its scenario actually produces, every
//! prediction is revealed by the run, every "try this" changes what the meter shows,
//! and the live checklist turns red when its anti-pattern is switched on.

use eventscope::lessons::checklist::{self, Item, Verdict};
use eventscope::lessons::{lesson, lessons, Cue, Lesson, TryAction};
use eventscope::sim::scenario::builtin;
use eventscope::sim::{AntiPattern, FaultScript, RunConfig, Simulation};

fn default_run(l: &Lesson, scenario: &str) -> Simulation {
    let mut sim = Simulation::new(RunConfig::new(builtin(scenario).unwrap(), l.seed)).unwrap();
    sim.run_to_end();
    sim
}

/// The runs a "try this" action can lead to: injected at the start, halfway or after
/// the run settled (a redrive needs something in the DLQ), also after the lesson's
/// other tries were pressed at the start (a refund can only fail once a shipment
/// failed), or a restart with the anti-pattern.
fn runs_after_try(l: &Lesson, scenario: &str, index: usize) -> Vec<Simulation> {
    let config = RunConfig::new(builtin(scenario).unwrap(), l.seed);
    let press = |sim: &mut Simulation, i: usize| match &l.try_this[i].action {
        TryAction::Inject(fault) => {
            sim.inject(fault()).unwrap();
        }
        TryAction::Toggle(anti) => {
            let mut config = sim.config().clone();
            config.anti_patterns.push(*anti);
            *sim = Simulation::new(config).unwrap();
        }
    };
    let mut runs = Vec::new();
    for others in [false, true] {
        let mut base = Simulation::new(config.clone()).unwrap();
        if others {
            (0..l.try_this.len()).filter(|i| *i != index).for_each(|i| press(&mut base, i));
        }
        let mut whole = base.clone();
        whole.run_to_end();
        let horizon = whole.horizon();
        for at in [base.step_index(), horizon / 2, horizon] {
            let mut sim = whole.clone();
            sim.rewind_to(at);
            press(&mut sim, index);
            sim.run_to_end();
            runs.push(sim);
        }
    }
    runs
}

fn cue_seen(cue: &Cue, runs: &[Simulation]) -> bool {
    runs.iter().any(|sim| cue.first_step(sim).is_some())
}

#[test]
fn there_are_twelve_lessons_with_unique_slugs_and_real_scenarios() {
    assert_eq!(lessons().len(), 12);
    for (i, l) in lessons().iter().enumerate() {
        assert_eq!(l.number as usize, i + 1);
        assert!(builtin(l.scenario).is_some(), "{}: no scenario {}", l.slug, l.scenario);
        if let Some(other) = l.compare_with {
            assert!(builtin(other).is_some(), "{}: no scenario {other}", l.slug);
        }
        assert_eq!(lesson(l.slug).map(|x| x.number), Some(l.number), "slugs are unique");
        assert!(l.prediction.answer < l.prediction.choices.len());
        assert!(!l.try_this.is_empty() && !l.remember.is_empty() && !l.narration.is_empty());
    }
    for item in Item::ALL {
        assert!(lesson(item.lesson()).is_some(), "{item:?} links to a missing lesson");
    }
}

#[test]
fn every_narration_refers_to_events_its_scenario_produces() {
    for l in lessons() {
        let scenarios: Vec<&str> = std::iter::once(l.scenario).chain(l.compare_with).collect();
        for n in l.narration {
            let seen = scenarios.iter().any(|s| match n.after_try {
                None => cue_seen(&n.cue, &[default_run(l, s)]),
                Some(i) => cue_seen(&n.cue, &runs_after_try(l, s, i)),
            });
            assert!(seen, "{}: narration \"{}\" waits for {:?}, which never happens", l.slug, n.text, n.cue);
        }
        let runs = match l.prediction.after_try {
            None => vec![default_run(l, l.scenario)],
            Some(i) => runs_after_try(l, l.scenario, i),
        };
        assert!(cue_seen(&l.prediction.reveal, &runs), "{}: the prediction is never revealed", l.slug);
    }
}

#[test]
fn narration_after_a_try_does_not_show_in_the_plain_run() {
    // The cue of a "try this" narration must be the consequence of the try.
    for l in lessons() {
        let sim = default_run(l, l.scenario);
        let run = eventscope::lessons::RunState::new(&sim);
        for n in l.narration.iter().filter(|n| n.after_try.is_some()) {
            let ambiguous = matches!(n.cue.verb, "publish" | "handle") && n.cue.detail.is_none();
            // A line true only in another state (with the anti-pattern on) may share its
            // cue with a line of the plain run.
            if !ambiguous && l.holds(&n.when, &run) {
                assert!(n.cue.first_step(&sim).is_none(), "{}: {:?} happens without the try", l.slug, n.cue);
            }
        }
    }
}

#[test]
fn each_try_this_changes_what_the_meter_shows() {
    for l in lessons() {
        let before = (l.meter.read)(&default_run(l, l.scenario));
        assert!(!before.is_empty(), "{}: the meter reads nothing", l.slug);
        let changed = (0..l.try_this.len())
            .any(|i| runs_after_try(l, l.scenario, i).iter().any(|sim| (l.meter.read)(sim) != before));
        assert!(changed, "{}: no \"try this\" moves the meter {:?}", l.slug, before);
    }
}

#[test]
fn meters_read_as_the_lessons_say() {
    let read = |slug: &str, anti: Option<AntiPattern>| {
        let l = lesson(slug).unwrap();
        let config = RunConfig {
            anti_patterns: anti.into_iter().collect(),
            ..RunConfig::new(builtin(l.scenario).unwrap(), l.seed)
        };
        let mut sim = Simulation::new(config).unwrap();
        sim.run_to_end();
        (l.meter.read)(&sim)
    };
    // Delivery guarantees: only the idempotent ledger books twenty.
    let r = read("delivery-guarantees", None);
    assert_eq!(r.iter().map(|x| x.ok()).collect::<Vec<_>>(), [false, false, true]);
    let r = read("delivery-guarantees", Some(AntiPattern::NoIdempotency));
    assert!(!r[2].ok(), "without idempotency the third ledger double-books");
    // Poison messages: healthy by default; without a DLQ the dead letter never arrives.
    assert!(read("poison-messages", None).iter().all(|x| x.ok()));
    assert!(!read("poison-messages", Some(AntiPattern::NoDlq))[1].ok());
    // Outbox vs dual write.
    assert!(read("outbox", None).iter().all(|x| x.ok()));
    assert!(!read("outbox", Some(AntiPattern::NoOutbox))[0].ok());
    // Correlation ids and schema versioning.
    assert!(read("correlation-ids", None).iter().all(|x| x.ok()));
    assert!(!read("correlation-ids", Some(AntiPattern::NoCorrelationId))[0].ok());
    assert!(read("schema-versioning", None).iter().all(|x| x.ok()));
    assert!(!read("schema-versioning", Some(AntiPattern::NoSchemaVersioning))[0].ok());
}

#[test]
fn the_checklist_is_green_for_the_safe_design_and_red_for_each_anti_pattern() {
    let eval = |scenario: &str, anti: Vec<AntiPattern>| {
        let config = RunConfig {
            scenario: builtin(scenario).unwrap(),
            seed: 1,
            faults: FaultScript::default(),
            anti_patterns: anti,
        };
        let mut sim = Simulation::new(config).unwrap();
        sim.run_to_end();
        checklist::evaluate(&sim)
    };
    let verdict = |list: &[checklist::Status], item: Item| list.iter().find(|s| s.item == item).unwrap().verdict;
    let safe = eval("checkout-orchestration", vec![]);
    assert!(safe.iter().all(|s| s.verdict != Verdict::Fail), "{safe:?}");
    assert_eq!(verdict(&safe, Item::CompensationsDefined), Verdict::Pass);
    assert_eq!(verdict(&safe, Item::SchemaEvolution), Verdict::NotApplicable);
    for (anti, item) in [
        (AntiPattern::NoIdempotency, Item::ConsumersIdempotent),
        (AntiPattern::NoDlq, Item::DlqForEveryConsumer),
        (AntiPattern::NoCorrelationId, Item::CorrelationIdsFlow),
    ] {
        assert_eq!(verdict(&eval("checkout-orchestration", vec![anti]), item), Verdict::Fail, "{anti}");
    }
    let schema = eval("schema-versioning", vec![]);
    assert_eq!(verdict(&schema, Item::SchemaEvolution), Verdict::Pass);
    let broken = eval("schema-versioning", vec![AntiPattern::NoSchemaVersioning]);
    assert_eq!(verdict(&broken, Item::SchemaEvolution), Verdict::Fail);
    assert_eq!(verdict(&broken, Item::EventsImmutableAndVersioned), Verdict::Fail);
    assert_eq!(verdict(&broken, Item::Monitoring), Verdict::Fail, "dead letters raise the monitoring alert");
}
