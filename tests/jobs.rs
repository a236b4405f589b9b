//! The background worker's jobs: the page hands over only a run's configuration and
//! step, so each job must give exactly what the same work on the page's own run gives.

use eventscope::export::jobs::{answer, answer_text, export, Answer, Format, Job};
use eventscope::export::share::{decode_payload, payload_json};
use eventscope::sim::fault::Fault;
use eventscope::sim::scenario::builtin;
use eventscope::sim::simulation::{RunConfig, Simulation};

/// checkout, seed 7: 30 steps, a duplicate injected, rewound to 20 and a crash
/// injected there (a fork), then 15 steps more.
fn forked_run() -> Simulation {
    let mut sim = Simulation::new(RunConfig::new(builtin("checkout").expect("built in"), 7)).expect("valid");
    for _ in 0..30 {
        sim.step();
    }
    let queued = sim.token_views().into_iter().next().expect("a message in flight").message;
    let event = sim.message(queued).expect("known").envelope.id.clone();
    sim.inject(Fault::DuplicateMessage { message: event, subscription: None }).expect("injected");
    sim.rewind_to(20);
    sim.inject(Fault::CrashService { service: "payment".into(), restart_after_ms: Some(300) }).expect("forked");
    for _ in 0..15 {
        sim.step();
    }
    sim
}

fn job_for(sim: &Simulation, format: Format, correlation: Option<&str>) -> Job {
    Job::Export {
        run: payload_json(sim.config(), sim.step_index()),
        format,
        correlation: correlation.map(str::to_string),
    }
}

#[test]
fn every_export_of_the_replayed_run_equals_the_export_of_the_run_itself() {
    let sim = forked_run();
    assert_eq!(sim.config().faults.scripted.len(), 1, "the fork discarded the later fault");
    let correlation = sim.message(sim.token_views()[0].message).and_then(|m| m.envelope.correlation_id.clone());
    for format in Format::ALL {
        let (name, text) = export(&sim, format, correlation.as_deref());
        match answer(job_for(&sim, format, correlation.as_deref())) {
            Answer::File { name: got_name, mime, text: got } => {
                assert_eq!(got_name, name, "{format:?}");
                assert_eq!(mime, format.suffix_and_mime().1, "{format:?}");
                assert!(got == text, "{format:?}: the worker's file differs from the page's");
            }
            other => panic!("{format:?}: {other:?}"),
        }
    }
}

#[test]
fn a_share_link_made_by_the_worker_opens_the_same_run() {
    let sim = forked_run();
    let param = match answer(Job::Share { run: payload_json(sim.config(), sim.step_index()) }) {
        Answer::Param { param } => param,
        other => panic!("{other:?}"),
    };
    assert!(param.starts_with("s=") && param.len() < 2_000, "{param}");
    let run = match answer(Job::OpenLink { link: format!("https://example.org/#/play?{param}") }) {
        Answer::Run { run, trace_hash: None } => run,
        other => panic!("{other:?}"),
    };
    let shared = decode_payload(&run).expect("the page reads it");
    assert_eq!(&shared.config, sim.config());
    assert_eq!(shared.step, sim.step_index());
    let mut replayed = Simulation::new(shared.config).expect("valid");
    replayed.rewind_to(shared.step);
    assert_eq!(replayed.trace_hash(), sim.trace_hash());
}

#[test]
fn a_damaged_link_is_refused_with_a_reason() {
    match answer(Job::OpenLink { link: "#s=not-a-link!!".into() }) {
        Answer::Refused { problems, mismatch: false } => {
            assert!(problems[0].1.contains("damaged"), "{problems:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_trace_file_imports_to_its_run_and_a_tampered_one_is_refused() {
    let sim = forked_run();
    let (_, file) = export(&sim, Format::Trace, None);
    match answer(Job::Import { text: file.clone() }) {
        Answer::Run { run, trace_hash } => {
            assert_eq!(trace_hash, Some(sim.trace_hash()));
            let restored = decode_payload(&run).expect("the page reads it");
            assert_eq!(&restored.config, sim.config());
            assert_eq!(restored.step, sim.step_index());
        }
        other => panic!("{other:?}"),
    }
    // A file whose steps are not what its configuration gives: a valid file, a mismatch.
    let tampered = file.replacen("\"seed\": 7", "\"seed\": 8", 1);
    match answer(Job::Import { text: tampered }) {
        Answer::Refused { mismatch: true, problems } => assert!(!problems.is_empty()),
        other => panic!("{other:?}"),
    }
    // A wrong type: invalid, with its path.
    let broken = file.replacen("\"seed\": 7", "\"seed\": \"seven\"", 1);
    match answer(Job::Import { text: broken }) {
        Answer::Refused { mismatch: false, problems } => assert_eq!(problems[0].0, "seed"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_run_too_large_for_a_link_is_refused_with_the_advice() {
    let mut scenario = builtin("checkout").expect("built in");
    // Many long, incompressible descriptions make the payload longer than any link.
    let mut noise = 0x2545_f491_4f6c_dd1d_u64;
    scenario.description = (0..40_000)
        .map(|_| {
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            char::from(b'a' + (noise % 26) as u8)
        })
        .collect();
    let run = payload_json(&RunConfig::new(scenario, 1), 0);
    match answer(Job::Share { run }) {
        Answer::Refused { problems, .. } => assert!(problems[0].1.contains("export a trace file"), "{problems:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn answers_cross_as_strings_and_come_back_the_same() {
    let answers = [
        Answer::File { name: "a.json".into(), mime: "application/json".into(), text: "{}\n".into() },
        Answer::Param { param: "s=abc".into() },
        Answer::Run { run: "{\"v\":1}".into(), trace_hash: Some(u64::MAX) },
        Answer::Run { run: "{}".into(), trace_hash: None },
        Answer::Refused { problems: vec![("seed".into(), "wrong".into()), (String::new(), "".into())], mismatch: true },
        Answer::Refused { problems: vec![], mismatch: false },
    ];
    for answer in answers {
        assert_eq!(Answer::from_strings(answer.clone().to_strings()), Some(answer));
    }
    for broken in [
        vec![],
        vec!["file".to_string(), "a".into()],
        vec!["nonsense".into()],
        vec!["run".into(), "{}".into(), "x".into()],
    ] {
        assert_eq!(Answer::from_strings(broken.clone()), None, "{broken:?}");
    }
    // An odd number of problem strings: the last path has no message.
    assert_eq!(Answer::from_strings(vec!["refused".into(), "".into(), "path".into()]), None);
}

#[test]
fn the_worker_reads_jobs_as_json_and_refuses_what_it_cannot_read() {
    let sim = forked_run();
    let job = serde_json::to_string(&job_for(&sim, Format::AsyncApi, None)).expect("serialises");
    let reply = answer_text(&job);
    assert!(matches!(reply, Answer::File { ref name, .. } if name == "checkout.asyncapi.json"), "{reply:?}");
    match answer_text("{\"export\": 1}") {
        Answer::Refused { problems, .. } => assert!(problems[0].1.contains("reload the page"), "{problems:?}"),
        other => panic!("{other:?}"),
    }
}
