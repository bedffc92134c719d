//! Runs one loom model, with or without a mutant, and reports what loom found.
//!
//! Every model is a function generic over `M: Memory`; [`mutant_dispatch!`](crate::mutant_dispatch) picks the
//! `LoomMemory<N>` instance for a mutant chosen at run time. Actors always run in spawned loom
//! threads and the model's main thread only spawns and joins (loom issues #392/#166: an actor on
//! the main thread may be under-explored).

use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use synclab_core::model::Mutant;

/// Bounds for one exploration.
#[derive(Clone, Copy, Debug)]
pub struct ModelOptions {
    /// Loom's preemption bound (`None` = unbounded, exhaustive for the model's size).
    pub preemptions: Option<usize>,
}

/// What an exploration found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelReport {
    /// Model name.
    pub model: String,
    /// Mutant name (`none` for the correct algorithm).
    pub mutant: String,
    /// True when loom explored every interleaving within the bounds and each one passed.
    pub ok: bool,
    /// Why nothing (or not everything) was checked, when loom refused the setting or stopped on
    /// a limit of its own (see [`Explored::refused`]): neither a pass nor a finding.
    pub refused: Option<String>,
    /// Interleavings (loom executions) explored, up to and including a failing one.
    pub interleavings: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The preemption bound used (null = unbounded).
    pub preemptions: Option<usize>,
    /// The failing interleaving's panic message, when one failed.
    pub message: Option<String>,
}

impl ModelReport {
    /// An explored interleaving failed the model's checks (its assertions, or loom's deadlock
    /// and data-race detection on that interleaving): what catching a mutant means.
    pub fn found_failure(&self) -> bool {
        !self.ok && self.refused.is_none()
    }
}

/// A model: a name, what it checks, at what bounds, and its mutants.
pub struct ModelSpec {
    /// Name on the command line (`synclab model NAME`).
    pub name: &'static str,
    /// What the model checks, with its bounds.
    pub about: &'static str,
    /// The default preemption bound.
    pub default_preemptions: Option<usize>,
    /// Mutants the model must catch.
    pub mutants: &'static [Mutant],
    /// Runs the model for one mutant (`Mutant::None` = the correct algorithm).
    pub run: fn(Mutant, &ModelOptions) -> Explored,
}

/// Raw result of [`explore`].
pub struct Explored {
    /// True when every interleaving passed (false when refused).
    pub ok: bool,
    /// Loom refused the setting, explored nothing, or stopped on one of its own limits (too
    /// many branches, an internal error): no verdict about the model. The reason.
    pub refused: Option<String>,
    /// Interleavings explored.
    pub interleavings: u64,
    /// The failure's message.
    pub message: Option<String>,
}

impl ModelSpec {
    /// Runs the model and times it.
    pub fn check(&self, mutant: Mutant, options: &ModelOptions) -> ModelReport {
        let start = Instant::now();
        let explored = (self.run)(mutant, options);
        ModelReport {
            model: self.name.to_string(),
            mutant: mutant.name().to_string(),
            ok: explored.ok && explored.refused.is_none(),
            refused: explored.refused,
            interleavings: explored.interleavings,
            seconds: start.elapsed().as_secs_f64(),
            preemptions: options.preemptions,
            message: explored.message,
        }
    }

    /// For tests: runs the correct model with its default bounds and panics unless every
    /// interleaving passed and loom explored at least the model's floor (`floors.rs`).
    pub fn assert_passes(&self) -> ModelReport {
        let r = self.check_default(Mutant::None);
        eprintln!(
            "{} / none: ok={} interleavings={} seconds={:.2} preemptions={:?}",
            r.model, r.ok, r.interleavings, r.seconds, r.preemptions
        );
        assert!(
            r.ok,
            "correct model {} failed: {:?} {:?}",
            self.name, r.message, r.refused
        );
        assert!(
            r.interleavings > 1,
            "model {} explored only {} interleaving(s)",
            self.name,
            r.interleavings
        );
        if let Err(e) = super::floors::check(self.name, r.interleavings) {
            panic!("{e}");
        }
        r
    }

    /// For tests: panics unless `mutant` is one of this model's and loom finds it (some
    /// interleaving fails).
    pub fn assert_catches(&self, mutant: Mutant) -> ModelReport {
        assert!(
            self.mutants.contains(&mutant),
            "model {} does not list mutant {}",
            self.name,
            mutant.name()
        );
        let r = self.check_default(mutant);
        eprintln!(
            "{} / {}: caught={} after {} interleavings: {}",
            r.model,
            r.mutant,
            !r.ok,
            r.interleavings,
            r.message.as_deref().unwrap_or_default()
        );
        assert!(
            r.found_failure(),
            "loom did not find mutant {} in {} (refused: {:?})",
            mutant.name(),
            self.name,
            r.refused
        );
        r
    }

    /// Runs with the default bounds.
    pub fn check_default(&self, mutant: Mutant) -> ModelReport {
        self.check(
            mutant,
            &ModelOptions {
                preemptions: self.default_preemptions,
            },
        )
    }
}

/// A value whose `Drop` runs loom operations (a ring handle closes its side when dropped), held
/// by a model thread: dropped as usual when the thread finishes, leaked when the thread unwinds
/// because loom reported a failure (a deadlock, a race). Loom operations during that unwinding
/// panic again, and a panic in a drop during unwinding aborts the process: a caught bug would
/// end `synclab model` with a crash instead of a report.
pub struct Held<T>(ManuallyDrop<T>);

impl<T> Held<T> {
    /// Holds `value`.
    pub fn new(value: T) -> Self {
        Held(ManuallyDrop::new(value))
    }
}

impl<T> std::ops::Deref for Held<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Held<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            // SAFETY: `drop` runs once and nothing uses the value afterwards.
            unsafe { ManuallyDrop::drop(&mut self.0) }
        }
    }
}

/// Messages of loom's own panics that are no finding about the model: a setting loom refuses,
/// a limit of its own reached, an invalid `LOOM_*` environment variable, an internal error.
const LOOM_REFUSALS: &[&str] = &[
    "preemption_bound too big",
    "Model exceeded maximum number of branches",
    "invalid value for `LOOM_",
    "[loom internal bug]",
    "Is the model fully deterministic?",
    "cannot access Loom execution state from outside a Loom model",
];

/// Explores every interleaving of `body` under loom within `options`. A panic inside an explored
/// interleaving (an assertion in the model, a data race or deadlock loom detects in it) is a
/// failure; loom refusing the setting, stopping on one of its own limits, or exploring nothing is
/// a refusal ([`Explored::refused`]), never a pass or a finding. `LOOM_MAX_DURATION`,
/// `LOOM_MAX_PERMUTATIONS` and `LOOM_CHECKPOINT_FILE` are ignored: they would end an exploration
/// early and let a partial one pass as complete.
pub fn explore<F>(options: &ModelOptions, body: F) -> Explored
where
    F: Fn() + Sync + Send + 'static,
{
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    let preemptions = options.preemptions;
    let result = catch_unwind(AssertUnwindSafe(move || {
        // `Builder::new` reads the `LOOM_*` variables and panics on an invalid one.
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = preemptions;
        builder.max_permutations = None;
        builder.max_duration = None;
        builder.checkpoint_file = None;
        // Yield loops (try forms waiting for the other side) add branches per iteration; loom's
        // default of 1,000 per execution is too tight for them and would report a false failure.
        builder.max_branches = 20_000;
        builder.check(move || {
            // Relaxed: a plain counter read after `check` returns (join of the same thread).
            counter.fetch_add(1, Ordering::Relaxed);
            body();
        })
    }));
    let interleavings = count.load(Ordering::Relaxed);
    let message = result.err().map(|payload| panic_message(&*payload));
    let refused = match &message {
        Some(m) if LOOM_REFUSALS.iter().any(|r| m.contains(r)) => {
            Some(format!("loom stopped without a verdict: {m}"))
        }
        _ if interleavings == 0 => Some("loom explored no interleaving".to_string()),
        _ => None,
    };
    Explored {
        ok: message.is_none() && refused.is_none(),
        refused,
        interleavings,
        message,
    }
}

/// Runs each of `scenarios` for `mutant` in turn, stopping at the first failure; the
/// interleavings add up. What a model that combines several scenarios (`semaphore`,
/// `semaphore-ledger`) runs.
pub fn in_turn(
    scenarios: &[fn(Mutant, &ModelOptions) -> Explored],
    mutant: Mutant,
    options: &ModelOptions,
) -> Explored {
    let mut total = 0;
    for run in scenarios {
        let e = run(mutant, options);
        total += e.interleavings;
        if !e.ok || e.refused.is_some() {
            return Explored {
                interleavings: total,
                ..e
            };
        }
    }
    Explored {
        ok: true,
        refused: None,
        interleavings: total,
        message: None,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "the model panicked (non-string payload)".to_string()
    }
}

/// Defines, for each `runner => model`, `fn runner(m: Mutant, o: &ModelOptions) -> Explored`
/// that runs `model::<LoomMemory<N>>(o)` for the runtime mutant `m` through
/// [`mutant_dispatch!`](crate::mutant_dispatch): `m` must be `None` or one of `mutants`. What
/// every model file with several scenarios writes for each of them.
#[macro_export]
macro_rules! model_runners {
    (mutants = $mutants:tt, $($runner:ident => $model:ident),+ $(,)?) => {
        $(
            fn $runner(
                m: synclab_core::model::Mutant,
                o: &$crate::models::harness::ModelOptions,
            ) -> $crate::models::harness::Explored {
                $crate::mutant_dispatch!(m, o, $model, $mutants)
            }
        )+
    };
}

/// Calls `$model::<LoomMemory<N>>($opts)` where `N` is the number of the runtime mutant `$m`,
/// which must be `None` or one of the listed variants (anything else is a bug in the caller).
#[macro_export]
macro_rules! mutant_dispatch {
    ($m:expr, $opts:expr, $model:ident, [$($variant:ident),* $(,)?]) => {
        match $m {
            synclab_core::model::Mutant::None => {
                $model::<$crate::models::loom_memory::LoomMemory<0>>($opts)
            }
            $(
                synclab_core::model::Mutant::$variant => $model::<
                    $crate::models::loom_memory::LoomMemory<
                        { synclab_core::model::Mutant::$variant as u32 },
                    >,
                >($opts),
            )*
            other => panic!("mutant {} does not apply to this model", other.name()),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::{explore, ModelOptions};

    fn bound(preemptions: Option<usize>) -> ModelOptions {
        ModelOptions { preemptions }
    }

    /// A bound loom cannot represent is refused before anything runs: no pass, no finding.
    #[test]
    fn a_bound_loom_refuses_is_no_verdict() {
        let e = explore(&bound(Some(300)), || {});
        assert!(!e.ok);
        assert_eq!(e.interleavings, 0);
        let reason = e.refused.expect("refused");
        assert!(reason.contains("preemption_bound too big"), "{reason}");
    }

    /// A model's own failing assertion in an explored interleaving is a finding, not a refusal.
    #[test]
    fn a_failing_assertion_is_a_finding() {
        let e = explore(&bound(Some(2)), || {
            let flag = loom::sync::Arc::new(loom::sync::atomic::AtomicBool::new(false));
            let f = flag.clone();
            let t = loom::thread::spawn(move || f.store(true, std::sync::atomic::Ordering::SeqCst));
            let seen = flag.load(std::sync::atomic::Ordering::SeqCst);
            t.join().unwrap();
            assert!(seen, "the store had not happened yet");
        });
        assert!(!e.ok);
        assert!(e.refused.is_none(), "{:?}", e.refused);
        assert!(e.interleavings >= 1);
        assert!(e
            .message
            .unwrap()
            .contains("the store had not happened yet"));
    }

    /// Loom's own limit (too many branches in one execution) is no finding either.
    #[test]
    fn loom_branch_limit_is_no_verdict() {
        let e = explore(&bound(Some(1)), || {
            let x = loom::sync::atomic::AtomicU64::new(0);
            for _ in 0..30_000 {
                x.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        });
        assert!(!e.ok);
        let reason = e.refused.expect("refused");
        assert!(reason.contains("maximum number of branches"), "{reason}");
    }

    /// A passing body explores at least one interleaving and passes.
    #[test]
    fn a_passing_body_passes() {
        let e = explore(&bound(Some(2)), || {});
        assert!(e.ok && e.refused.is_none() && e.interleavings >= 1);
    }
}
