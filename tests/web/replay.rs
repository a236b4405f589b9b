//! Restoring a run far from its start: the reducer replays it beside the run on screen
//! and adopts it only when it stands at its step; Cancel leaves everything as it was.

use eventscope::sim::scenario::builtin;
use eventscope::sim::simulation::{RunConfig, Simulation};
use eventscope::ui::replay::{grouped, next_slice_steps, SLICE_BUDGET_MS};
use eventscope::ui::state::{Notice, Restored, Shell, ShellAction, REPLAY_AT_ONCE_STEPS_MAX};
use wasm_bindgen_test::*;

/// A checkout run long enough to stand far past the at-once limit.
fn long_checkout() -> RunConfig {
    let mut scenario = builtin("checkout").expect("built-in");
    for item in &mut scenario.workload {
        if let Some(repeat) = item.repeat.as_mut() {
            repeat.count = 2_000;
        }
    }
    RunConfig { scenario, seed: 9, faults: Default::default(), anti_patterns: Vec::new() }
}

fn restore(config: RunConfig, step: u64) -> ShellAction {
    ShellAction::Restore(Box::new(Restored { config, step, message: format!("Opened at step {step}.") }))
}

/// The page's run before the restore: pubsub, a few steps in.
fn page_run() -> Shell {
    let mut shell = Shell::default();
    for _ in 0..3 {
        shell = shell.apply(ShellAction::Step);
    }
    shell
}

#[wasm_bindgen_test]
fn a_near_step_is_restored_at_once() {
    let before = page_run();
    let after = before.apply(restore(long_checkout(), 40));
    assert!(after.replay.is_none());
    assert_eq!(after.step, 40);
    assert_eq!(after.scenario_name, "checkout");
    assert!(matches!(&after.notice, Some(Notice::Rebuilt(text)) if text == "Opened at step 40."));
}

#[wasm_bindgen_test]
fn a_far_step_replays_beside_the_run_and_is_adopted_when_it_stands_there() {
    let target = REPLAY_AT_ONCE_STEPS_MAX * 3;
    let before = page_run();
    let pending_shell = before.apply(restore(long_checkout(), target));
    let pending = pending_shell.replay.clone().expect("a far step is replayed in slices");
    // The run on screen is untouched while the new one replays.
    assert!(std::rc::Rc::ptr_eq(&pending_shell.sim, &before.sim));
    assert_eq!(pending_shell.step, 3);
    assert_eq!(pending_shell.scenario_name, before.scenario_name);
    // Stepping and other actions wait behind the dialog.
    let ignored = pending_shell.apply(ShellAction::Step).apply(ShellAction::PickScenario("outbox".into()));
    assert_eq!(ignored.step, 3);
    assert_eq!(ignored.scenario_name, before.scenario_name);
    assert!(ignored.replay.is_some());
    // A finish for another replay is not this one's.
    let stale = pending_shell.apply(ShellAction::FinishReplay(pending.id + 1));
    assert!(stale.replay.is_some());

    // What the dialog does, slice by slice; then the run replaces the one on screen.
    while pending.sim.borrow().step_index() < target {
        let at = pending.sim.borrow().step_index();
        pending.sim.borrow_mut().rewind_to(at + 1_000);
    }
    let adopted = pending_shell.apply(ShellAction::FinishReplay(pending.id));
    assert!(adopted.replay.is_none());
    assert_eq!(adopted.step, target);
    assert_eq!(adopted.scenario_name, "checkout");
    assert_eq!(adopted.seed, 9);
    // The same run as replaying it in one go.
    let mut direct = Simulation::new(long_checkout()).expect("valid");
    direct.rewind_to(target);
    assert_eq!(adopted.sim.borrow().trace_hash(), direct.trace_hash());
    // And the app works on it again.
    assert_eq!(adopted.apply(ShellAction::Step).step, target + 1);
}

#[wasm_bindgen_test]
fn cancel_keeps_the_run_that_was_there() {
    let before = page_run();
    let pending_shell = before.apply(restore(long_checkout(), REPLAY_AT_ONCE_STEPS_MAX * 10));
    for cancel in [ShellAction::CancelReplay, ShellAction::HideHelp] {
        let after = pending_shell.apply(cancel);
        assert!(after.replay.is_none());
        assert!(std::rc::Rc::ptr_eq(&after.sim, &before.sim));
        assert_eq!(after.step, 3);
        assert_eq!(after.scenario_name, before.scenario_name);
        assert!(matches!(&after.notice, Some(Notice::Rebuilt(text)) if text.contains("the run you had is unchanged")));
        // A finish that arrives after the cancel changes nothing.
        let id = pending_shell.replay.as_ref().map(|p| p.id).unwrap_or_default();
        let late = after.apply(ShellAction::FinishReplay(id));
        assert_eq!(late.scenario_name, before.scenario_name);
        assert_eq!(late.step, 3);
    }
}

#[wasm_bindgen_test]
fn a_run_that_ends_before_its_step_stands_at_its_end_and_says_so() {
    let mut config = long_checkout();
    for item in &mut config.scenario.workload {
        if let Some(repeat) = item.repeat.as_mut() {
            repeat.count = 100;
        }
    }
    let pending_shell = Shell::default().apply(restore(config, REPLAY_AT_ONCE_STEPS_MAX * 4));
    let pending = pending_shell.replay.clone().expect("pending");
    pending.sim.borrow_mut().rewind_to(pending.target);
    let end = pending.sim.borrow().step_index();
    assert!(end < pending.target, "100 orders settle well before step {}", pending.target);
    let adopted = pending_shell.apply(ShellAction::FinishReplay(pending.id));
    assert_eq!(adopted.step, end);
    assert!(
        matches!(&adopted.notice, Some(Notice::Rebuilt(text)) if text.contains(&format!("The run ends at step {end}")))
    );
}

#[wasm_bindgen_test]
fn slices_are_sized_to_the_time_budget() {
    // Twice as slow as the budget: half the steps next time.
    assert_eq!(next_slice_steps(10_000, SLICE_BUDGET_MS * 2.0), 5_000);
    // Much faster: grows, but by at most four times at once.
    assert_eq!(next_slice_steps(10_000, SLICE_BUDGET_MS / 100.0), 40_000);
    // Never below a few steps, never above the cap.
    assert_eq!(next_slice_steps(20, 10_000.0), 16);
    assert_eq!(next_slice_steps(150_000, 0.0), 200_000);
}

#[wasm_bindgen_test]
fn counts_are_grouped_by_thousands() {
    for (n, text) in [(0, "0"), (999, "999"), (1_000, "1,000"), (30_000, "30,000"), (10_000_000, "10,000,000")] {
        assert_eq!(grouped(n), text);
    }
}

#[wasm_bindgen_test]
fn removing_a_fault_far_into_a_run_replays_in_slices_too() {
    let far = REPLAY_AT_ONCE_STEPS_MAX * 2;
    let opening = Shell::default().apply(restore(long_checkout(), far));
    let pending = opening.replay.clone().expect("pending");
    pending.sim.borrow_mut().rewind_to(far);
    let shell = opening.apply(ShellAction::FinishReplay(pending.id));
    assert_eq!(shell.step, far);
    let service = shell.sim.borrow().scenario().services[1].name.clone();
    let shell = shell.apply(ShellAction::Inject(eventscope::sim::fault::Fault::CrashService {
        service,
        restart_after_ms: Some(100),
    }));
    assert_eq!(shell.faults.scripted.len(), 1);
    let removing = shell.apply(ShellAction::RemoveFault(0));
    let pending = removing.replay.clone().expect("far: replayed in slices");
    assert!(std::rc::Rc::ptr_eq(&removing.sim, &shell.sim), "the run with the fault stays meanwhile");
    pending.sim.borrow_mut().rewind_to(pending.target);
    let removed = removing.apply(ShellAction::FinishReplay(pending.id));
    assert!(removed.faults.scripted.is_empty());
    assert_eq!(removed.step, shell.step);
    assert!(matches!(&removed.notice, Some(Notice::Rebuilt(text)) if text.contains("rebuilt without it")));
}
