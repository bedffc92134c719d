//! Running a test body under shuttle: a scheduler, a fixed seed, a stated number of iterations,
//! and a failure that carries its replayable schedule.

use ::shuttle::scheduler::{PctScheduler, RandomScheduler, ReplayScheduler};
use ::shuttle::{Config, FailurePersistence, MaxSteps, Runner};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Which shuttle scheduler explores.
#[derive(Clone, Copy, Debug)]
pub enum Scheduler {
    /// Uniformly random choice of the next thread at every step.
    Random,
    /// Probabilistic Concurrency Testing: random thread priorities with `depth - 1` priority
    /// change points per execution (finds bugs of depth `depth` with a known probability).
    Pct {
        /// The bug depth.
        depth: usize,
    },
}

/// One exploration: scheduler, seed, iterations (executions).
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// The scheduler.
    pub scheduler: Scheduler,
    /// Its seed (shuttle's `SHUTTLE_RANDOM_SEED` variable, if set, overrides it).
    pub seed: u64,
    /// Executions to run.
    pub iterations: usize,
}

/// A failing execution: the panic message, and the schedule that replays it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The message shuttle reported (the body's panic, a deadlock, a step limit), including
    /// shuttle's replay instructions.
    pub message: String,
    /// The encoded schedule for [`replay`], when shuttle gave one.
    pub schedule: Option<String>,
}

/// Steps one execution may take before shuttle calls it a livelock (a failure).
const MAX_STEPS: usize = 2_000_000;

fn config() -> Config {
    let mut c = Config::new();
    // Relaxed orderings are knowingly run as sequentially consistent (module docs).
    c.silence_warnings = true;
    // The schedule goes to stderr and into the failure's message.
    c.failure_persistence = FailurePersistence::Print;
    c.max_steps = MaxSteps::FailAfter(MAX_STEPS);
    c
}

/// Runs `body` for `plan.iterations` executions; the number run, or the first failure.
pub fn explore<F>(plan: &Plan, body: F) -> Result<usize, Failure>
where
    F: Fn() + Send + Sync + 'static,
{
    let plan = *plan;
    catch(move || match plan.scheduler {
        Scheduler::Random => Runner::new(
            RandomScheduler::new_from_seed(plan.seed, plan.iterations),
            config(),
        )
        .run(body),
        Scheduler::Pct { depth } => Runner::new(
            PctScheduler::new_from_seed(plan.seed, depth, plan.iterations),
            config(),
        )
        .run(body),
    })
}

/// Runs `body` once on the encoded `schedule` (from [`Failure::schedule`]).
pub fn replay<F>(schedule: &str, body: F) -> Result<(), Failure>
where
    F: Fn() + Send + Sync + 'static,
{
    let scheduler = ReplayScheduler::new_from_encoded(schedule);
    catch(move || Runner::new(scheduler, config()).run(body)).map(|_| ())
}

fn catch(run: impl FnOnce() -> usize) -> Result<usize, Failure> {
    catch_unwind(AssertUnwindSafe(run)).map_err(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else {
            "shuttle execution panicked (non-string payload)".to_string()
        };
        Failure {
            schedule: schedule_in(&message),
            message,
        }
    })
}

/// The encoded schedule in shuttle's failure message: the line between the two lines holding a
/// single `"` after "failing schedule:".
fn schedule_in(message: &str) -> Option<String> {
    let rest = message.split("failing schedule:\n\"\n").nth(1)?;
    let end = rest.find("\n\"")?;
    Some(rest[..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::schedule_in;

    #[test]
    fn the_schedule_is_read_from_shuttle_s_message() {
        let m = "test panicked in task 'main-thread'\nfailing schedule:\n\"\n91022abc\n\"\npass that string to `shuttle::replay` to replay the failure\noriginal panic: boom";
        assert_eq!(schedule_in(m).as_deref(), Some("91022abc"));
        assert_eq!(schedule_in("no schedule here"), None);
    }
}
