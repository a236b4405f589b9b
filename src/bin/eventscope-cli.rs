//! `eventscope-cli`: the simulator without a browser, for people and CI.
//!
//! ```text
//! eventscope-cli scenarios
//! eventscope-cli anti-patterns
//! eventscope-cli run --scenario NAME|FILE --seed N [--faults FILE] [--fault-rate PER_MILLE] [--steps-max N]
//!                    [--anti-pattern NAME]... [--format FORMAT] [--correlation ID]
//! eventscope-cli replay FILE
//! eventscope-cli explore --scenario NAME|FILE --seeds N [--fault-rate PER_MILLE] [--anti-pattern NAME]...
//! ```
//!
//! `run` ends with each invariant's verdict: `held`, `pending` (nothing broken, but work
//! is parked where it can still settle: a DLQ, a service that is down; the reasons
//! follow) or `broken`, then the saga instances that did not finish cleanly. `explore`
//! counts the three verdicts per invariant over its seeds.
//!
//! `run --format` writes an export of the finished run instead of the one-line trace
//! (see `src/export/`). `replay` imports a canonical trace file and checks that it
//! reproduces: exit 0 if every step is identical, 1 at the first step that differs.
//! Bad arguments and bad files get one clear error line and exit code 2, and so does a
//! run that stops at a limit (see `sim::limits`): the line names the limit, the
//! handler, the template's JSON path and the step.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use eventscope::export::{self, asyncapi, cloudevents, mermaid, perfetto};
use eventscope::sim::health::{InvariantState, SagaHealth, SagaState};
use eventscope::sim::scenario::{self, Scenario};
use eventscope::sim::{AntiPattern, FaultScript, Invariant, RunConfig, Simulation};

const USAGE: &str = "usage:
  eventscope-cli scenarios
  eventscope-cli anti-patterns
  eventscope-cli run --scenario NAME|FILE --seed N [--faults FILE] [--fault-rate PER_MILLE] [--steps-max N]
                     [--anti-pattern NAME]... [--format FORMAT] [--correlation ID]
  eventscope-cli replay FILE
  eventscope-cli explore --scenario NAME|FILE --seeds N [--fault-rate PER_MILLE] [--anti-pattern NAME]...

formats for run --format:
  text               the one-line trace and the invariant summary (the default)
  trace              the canonical trace file (*.eventscope.json), for replay
  cloudevents        the published events as a CloudEvents JSON batch
  cloudevents-jsonl  the same as JSON Lines, one event per line
  mermaid            a Mermaid sequence diagram (--correlation ID: one flow only)
  perfetto           Chrome trace-event JSON for ui.perfetto.dev
  asyncapi           an AsyncAPI 3.0 document of the scenario's topology";

/// Points from an error line to the usage, which is too long to repeat in it.
const HELP_HINT: &str = "run 'eventscope-cli help' for usage";

/// Largest scenario or fault-script file read, in bytes.
const FILE_BYTES_MAX: u64 = 1 << 20;

/// Prints a line to standard output. When the reader has gone away (`| head`), the
/// output is no longer wanted: stop quietly instead of panicking like `println!`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run_cli(&args) {
        Ok(code) => code,
        Err(message) => {
            // One line, whatever the message holds (a file name, a JSON error), so
            // scripts can read it and people see it whole.
            eprintln!("eventscope-cli: {}", message.replace('\n', "; "));
            ExitCode::from(2)
        }
    }
}

#[derive(Default)]
struct Options {
    scenario: Option<String>,
    seed: Option<u64>,
    seeds: Option<u64>,
    faults: Option<String>,
    steps_max: Option<u64>,
    fault_rate: Option<u32>,
    anti_patterns: Vec<AntiPattern>,
    format: Format,
    correlation: Option<String>,
}

/// What `run` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Format {
    #[default]
    Text,
    Trace,
    CloudEvents,
    CloudEventsJsonl,
    Mermaid,
    Perfetto,
    AsyncApi,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "text" => Self::Text,
            "trace" => Self::Trace,
            "cloudevents" => Self::CloudEvents,
            "cloudevents-jsonl" => Self::CloudEventsJsonl,
            "mermaid" => Self::Mermaid,
            "perfetto" => Self::Perfetto,
            "asyncapi" => Self::AsyncApi,
            other => {
                return Err(format!(
                    "unknown format '{other}'; known: text, trace, cloudevents, cloudevents-jsonl, mermaid, perfetto, asyncapi"
                ))
            }
        })
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--scenario" => o.scenario = Some(value("--scenario")?),
            "--seed" => o.seed = Some(number(&value("--seed")?, "--seed")?),
            "--seeds" => o.seeds = Some(number(&value("--seeds")?, "--seeds")?),
            "--faults" => o.faults = Some(value("--faults")?),
            "--steps-max" => o.steps_max = Some(number(&value("--steps-max")?, "--steps-max")?),
            "--fault-rate" => {
                let rate: u64 = number(&value("--fault-rate")?, "--fault-rate")?;
                if rate > 1000 {
                    return Err("--fault-rate is per mille: 0 to 1000".into());
                }
                o.fault_rate = Some(rate as u32);
            }
            "--anti-pattern" => o.anti_patterns.push(value("--anti-pattern")?.parse()?),
            "--format" => o.format = value("--format")?.parse()?,
            "--correlation" => o.correlation = Some(value("--correlation")?),
            other => return Err(format!("unknown argument '{other}' ({HELP_HINT})")),
        }
    }
    Ok(o)
}

fn number(text: &str, flag: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("{flag} expects a whole number, got '{text}'"))
}

fn read_file(path: &str) -> Result<String, String> {
    read_file_at_most(path, FILE_BYTES_MAX)
}

fn read_file_at_most(path: &str, bytes_max: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if meta.len() > bytes_max {
        return Err(format!("{path} is {} bytes; the limit is {bytes_max}", meta.len()));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn load_scenario(name_or_file: &str) -> Result<Scenario, String> {
    if let Some(s) = scenario::builtin(name_or_file) {
        return Ok(s);
    }
    if !std::path::Path::new(name_or_file).exists() {
        let names: Vec<&str> = scenario::builtin_names().collect();
        return Err(format!("no built-in scenario or file '{name_or_file}' (built-ins: {})", names.join(", ")));
    }
    let text = read_file(name_or_file)?;
    Scenario::from_json(&text).map_err(|e| format!("{name_or_file}: {}", e.to_string().replace('\n', "; ")))
}

fn run_cli(args: &[String]) -> Result<ExitCode, String> {
    let Some(command) = args.first() else { return Err(format!("no command given ({HELP_HINT})")) };
    match command.as_str() {
        "scenarios" => {
            for s in scenario::catalog() {
                out!("{:<22} {:<34} {}", s.name, s.title, s.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        "anti-patterns" => {
            for a in AntiPattern::ALL {
                out!("{:<20} {} (fix: {})", a.name(), a.risk(), a.fix());
            }
            Ok(ExitCode::SUCCESS)
        }
        "run" => run(parse_options(&args[1..])?),
        "replay" => match &args[1..] {
            [file] => replay(file),
            [] => Err(format!("replay needs a trace file ({HELP_HINT})")),
            _ => Err(format!("replay takes one trace file ({HELP_HINT})")),
        },
        "explore" => explore(parse_options(&args[1..])?),
        "help" | "--help" | "-h" => {
            out!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command '{other}' ({HELP_HINT})")),
    }
}

fn config_from(o: &Options, seed: u64) -> Result<RunConfig, String> {
    let name = o.scenario.as_deref().ok_or("--scenario is required")?;
    let mut scenario = load_scenario(name)?;
    if let Some(steps) = o.steps_max {
        scenario.steps_max = steps;
    }
    let mut faults = match &o.faults {
        Some(path) => FaultScript::from_json(&read_file(path)?, &scenario)
            .map_err(|e| format!("{path}: {}", e.to_string().replace('\n', "; ")))?,
        None => FaultScript::default(),
    };
    if let Some(rate) = o.fault_rate {
        faults = faults.merged(&FaultScript::random(rate));
    }
    Ok(RunConfig { scenario, seed, faults, anti_patterns: o.anti_patterns.clone() })
}

fn run(o: Options) -> Result<ExitCode, String> {
    let seed = o.seed.ok_or("--seed is required")?;
    let config = config_from(&o, seed)?;
    if o.correlation.is_some() && o.format != Format::Mermaid {
        return Err("--correlation applies only to --format mermaid".into());
    }
    // Warnings go to stderr, one line each, before the run: the output stays clean.
    for w in config.scenario.warnings() {
        eprintln!("eventscope-cli: warning: {}", w.to_string().replace('\n', "; "));
    }
    let mut sim = Simulation::new(config).map_err(|e| e.to_string().replace('\n', "; "))?;
    if o.format != Format::Text {
        sim.run_to_end();
        if let Some(halt) = sim.halted() {
            return Err(halt.to_string());
        }
        let text = match o.format {
            Format::Trace => export::export_trace(&sim),
            Format::CloudEvents => cloudevents::to_batch(&sim),
            Format::CloudEventsJsonl => cloudevents::to_json_lines(&sim),
            Format::Mermaid => mermaid::sequence_diagram(&sim, o.correlation.as_deref()),
            Format::Perfetto => perfetto::to_json(&sim),
            Format::AsyncApi => asyncapi::to_json(&sim.config().scenario),
            Format::Text => String::new(),
        };
        write_stdout(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    while let Some(record) = sim.step() {
        let record = record.clone();
        out!("{}", sim.line(&record));
    }
    // A run stopped by a limit is an error of its input: the steps before it are
    // printed, the summary is not (it would describe a run that did not finish).
    if let Some(halt) = sim.halted() {
        return Err(halt.to_string());
    }
    let finish = sim.finished();
    out!("--");
    out!(
        "scenario {} seed {}: {} steps, {} ms simulated, {} ({})",
        sim.scenario().name,
        seed,
        sim.step_index(),
        sim.now_ms(),
        match finish {
            Some(eventscope::sim::Finish::StepLimit) => "stopped at the step limit",
            _ => "quiescent",
        },
        format_args!("trace hash {:016x}", sim.trace_hash())
    );
    let health = sim.health();
    for i in &health.invariants {
        let detail = match &i.state {
            InvariantState::Held => String::new(),
            InvariantState::Pending(reasons) => {
                let reasons: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                format!(": {}", reasons.join("; "))
            }
            InvariantState::Broken { violations, first_step } => {
                format!(": {violations} violation(s), the first at step {first_step}")
            }
        };
        out!("invariant {:<20} {}{detail}", i.invariant.name(), i.state.name());
    }
    for v in sim.checkers().violations.iter().take(10) {
        out!("  step {} ({} ms) {}: {}", v.step, v.time_ms, v.invariant.name(), v.detail);
    }
    print_sagas(&health.sagas);
    Ok(ExitCode::SUCCESS)
}

/// One line counting the saga instances by state, then a line per instance that did
/// not finish cleanly: where it stands, why, and what it still holds.
fn print_sagas(sagas: &[SagaHealth]) {
    if sagas.is_empty() {
        return;
    }
    let mut counts: Vec<(&str, u32)> = Vec::new();
    for s in sagas {
        match counts.iter_mut().find(|(name, _)| *name == s.state.name()) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.state.name(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(name, n)| format!("{n} {name}")).collect();
    out!("sagas: {}", counts.join(", "));
    for s in sagas {
        let position = match &s.state {
            SagaState::Completed => continue,
            SagaState::Compensated if s.holding.is_empty() => continue,
            SagaState::Compensated => String::new(),
            SagaState::Running { step } | SagaState::Compensating { step } => format!(" at step {step}"),
            SagaState::StuckForward { step, why } | SagaState::StuckCompensating { step, why } => {
                format!(" at step {step}: {why}")
            }
        };
        let holding: Vec<String> = s.holding.iter().map(|h| format!("{} {} {:+}", h.service, h.key, h.delta)).collect();
        let holding = if holding.is_empty() { String::new() } else { format!("; still holds {}", holding.join(", ")) };
        out!("  saga {} {} {}{position}{holding}", s.saga, s.instance, s.state.name());
    }
}

/// Writes an export to standard output; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("cannot write the export: {e}")),
        _ => Ok(()),
    }
}

fn replay(path: &str) -> Result<ExitCode, String> {
    let text = read_file_at_most(path, export::trace_file::TRACE_BYTES_MAX as u64)?;
    match export::import_trace(&text) {
        Ok(imported) => {
            out!("replayed {} steps, trace hash {:016x}: identical", imported.step, imported.trace_hash);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_mismatch() => {
            eprintln!("eventscope-cli: {path}: {}", e.to_string().replace('\n', "; "));
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(format!("{path}: {}", e.to_string().replace('\n', "; "))),
    }
}

fn explore(o: Options) -> Result<ExitCode, String> {
    let seeds = o.seeds.ok_or("--seeds is required")?;
    let started = Instant::now();
    let mut steps_total: u64 = 0;
    // Per invariant: runs that ended held, pending, broken, and the first seed of the
    // last two. A run counts as its worst invariant in the totals.
    let mut tally = [[0u64; 3]; Invariant::ALL.len()];
    let mut first_seed = [[None::<u64>; 3]; Invariant::ALL.len()];
    let mut runs = [0u64; 3];
    for seed in 0..seeds {
        let config = config_from(&o, seed)?;
        let mut sim = Simulation::new(config).map_err(|e| e.to_string().replace('\n', "; "))?;
        sim.run_to_end();
        if let Some(halt) = sim.halted() {
            return Err(format!("seed {seed}: {halt}"));
        }
        steps_total += sim.step_index();
        let health = sim.health();
        let mut worst = 0;
        for (i, inv) in health.invariants.iter().enumerate() {
            let state = match inv.state {
                InvariantState::Held => 0,
                InvariantState::Pending(_) => 1,
                InvariantState::Broken { .. } => 2,
            };
            tally[i][state] += 1;
            first_seed[i][state].get_or_insert(seed);
            worst = worst.max(state);
        }
        runs[worst] += 1;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    for (i, inv) in Invariant::ALL.iter().enumerate() {
        let [held, pending, broken] = tally[i];
        let mut line = format!("{:<20} held {held}, pending {pending}, broken {broken}", inv.name());
        if let Some(seed) = first_seed[i][2] {
            line.push_str(&format!("; first broken at seed {seed}"));
        }
        if let Some(seed) = first_seed[i][1] {
            line.push_str(&format!("; first pending at seed {seed}"));
        }
        out!("{line}");
    }
    let [held, pending, broken] = runs;
    out!(
        "explored {seeds} runs: {held} held, {pending} pending, {broken} broken, {:.0} steps/s",
        steps_total as f64 / secs
    );
    Ok(ExitCode::SUCCESS)
}
