//! The catalogue of deliberate bugs ("mutants") the model checker must find.
//!
//! A mutant is a one-line switch in the shipped algorithm, read through [`super::Memory::mutant`]
//! or [`super::Memory::order`]. Real memory switches none of them on, so they compile away.

/// A deliberate bug. `None` is the correct algorithm.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// The correct algorithm.
    None = 0,
    /// spsc: the producer publishes `tail` with a `Relaxed` store instead of `Release`.
    SpscRelaxedPublish = 1,
    /// spsc: the full test is off by one (`len > capacity` instead of `len == capacity`), so the
    /// producer overwrites a slot the consumer has not read yet.
    SpscFullOffByOne = 2,
    /// mpmc: the producer publishes the slot's sequence number with `Relaxed` instead of `Release`.
    MpmcRelaxedPublish = 3,
    /// mpmc: a producer claims its position with a plain store instead of a compare-and-swap, so
    /// two producers can claim the same slot.
    MpmcClaimWithoutCas = 4,
    /// frames: the producer publishes `tail` with a `Relaxed` store instead of `Release`.
    FramesRelaxedPublish = 5,
    /// frames: the free-space test allows one 8-byte word more than is free, so the producer
    /// overwrites the start of a frame the consumer has not read yet.
    FramesFreeOffByOne = 6,
    /// eventcount: a waiter parks without re-checking its condition after announcing itself (the
    /// classic lost wakeup).
    EventcountNoRecheck = 7,
    /// eventcount: the notifier reads the waiter count without the `SeqCst` fence that orders it
    /// after the publishing store (store-load reordering loses the wakeup).
    EventcountNoFence = 8,
    /// sem: `release` wakes waiters only when the count goes from 0 to positive (the lost-wakeup
    /// bug libc++ and libstdc++ shipped): with two waiters and two single releases, the second
    /// release finds the count at 1 and wakes no one.
    SemWakeOnZeroToPositive = 9,
    /// sem: `release` decides whether to wake from a separate `Relaxed` read of the waiter count
    /// taken before its count update (as a design with the count and the waiter count in two words
    /// must), instead of from the word its compare-and-swap confirmed: a waiter that registers in
    /// between is never woken.
    SemSplitWordsRelaxed = 10,
    /// sem: a multi-permit waiter holding the priority token times out and clears the token
    /// without passing on the wakeups it absorbed, so waiters that the token held back sleep on
    /// with permits available.
    SemTimeoutSwallowsWake = 11,
    /// sem: the compare-and-swap that takes a permit uses `Relaxed` instead of `Acquire`, so a
    /// new holder's critical section is not ordered after the previous holder's `release`.
    SemRelaxedAcquire = 12,
    /// sem ledger: `recover` claims a dead holder's entry with a plain store instead of a
    /// compare-and-swap, so a recoverer that judged the entry dead earlier overwrites whoever
    /// owns the slot now (a new live holder that reused it) and takes that holder's permits.
    SemLedgerClaimWithoutCas = 13,
    /// sem ledger: liveness looks at the pid only and ignores the start time, so a dead holder
    /// whose pid was reused by a new process looks alive and its permits are never recovered.
    SemLedgerPidOnly = 14,
    /// sem ledger: the recoverer frees an emptied slot with a `Relaxed` store instead of
    /// `Release`, so the next process to claim the slot need not see it emptied (it may read
    /// the dead holder's permits as its own).
    SemLedgerRelaxedFree = 15,
    /// sem ledger: `release` un-records its permits with a load and a store instead of a
    /// compare-and-swap, so two threads of one process releasing at once lose an un-record and
    /// the ledger claims permits the process no longer holds (recovered twice after it dies).
    SemLedgerReleaseWithoutCas = 16,
    /// sem ledger: a process's first-use slot claims are not serialised, so two of its threads
    /// (or handles) claim two slots and split its permits between them.
    SemLedgerClaimUnlocked = 17,
    /// sem ledger: liveness counts a process it cannot judge (its `/proc` entry unreadable) as
    /// dead instead of alive, so a recovery takes the permits of a live holder.
    SemLedgerUnknownIsDead = 18,
    /// sem ledger: `recover` reads a slot's owner word `Relaxed` instead of `Acquire`, so it may
    /// judge the owner's liveness from a pid table older than the owner, see the pid's previous
    /// process there (another start time) and recover a live holder whose pid was reused.
    SemLedgerRelaxedOwnerLoad = 19,
    /// eventcount: a waiter announces itself and re-checks its condition without the heavy half
    /// of the barrier between the two (the mirror image of `EventcountNoFence`).
    EventcountNoHeavyFence = 20,
    /// eventcount: a waiter marks `seq` as slept on with a plain store instead of a
    /// compare-and-swap, which can overwrite a notifier's bump and so park on a value that no
    /// later notifier will change.
    EventcountSleeperWithoutCas = 21,
    /// rings: a process taking over the role of a dead owner writes itself in with a plain
    /// store instead of a compare-and-swap, so two processes that both judged the owner dead
    /// both get the role.
    RoleTakeoverWithoutCas = 22,
    /// rings: the role claim does not ask whether the current owner is alive, so a new process
    /// takes the role of a live owner (two producers, or two consumers, at once).
    RoleTakeoverOfLiveOwner = 23,
    /// mpmc: the repair of a slot whose holder died moves the slot on with plain stores instead
    /// of compare-and-swaps, so a repairer that judged the slot earlier overwrites what a new
    /// holder of the next lap did since (a published record vanishes).
    MpmcRepairWithoutCas = 40,
    /// mpmc: the repair does not ask whether the slot's claimer is alive, so it tombstones a
    /// live producer's slot while that producer still writes and publishes it.
    MpmcRepairLiveClaimer = 41,
    /// mpmc batches: `push_slice` / `pop_slice` check only the first slot of the run they claim
    /// (free, or published) and claim the whole request, so a producer overwrites a record not yet
    /// popped, or a consumer reads a slot not yet published.
    MpmcBatchUnchecked = 42,
    /// spsc chunks: `push_slice` commits its write chunk (publishes `tail`) before copying the
    /// records into it, so the consumer may read slots that are still being written.
    SpscChunkPublishBeforeCopy = 60,
    /// spsc chunks: a read chunk that wraps gets a second slice one record longer than what is
    /// published, so the consumer reads (and releases) a slot the producer has not filled.
    SpscChunkSecondSliceOffByOne = 61,
    /// semaphore ledger: an operation changes the count without opening a window in its ledger
    /// entry, so a recoverer's cut can catch a live holder between its count CAS and its record
    /// and hand that holder's permits out again.
    SemCrashNoIntent = 50,
    /// semaphore ledger: recovery returns what dead entries *recorded* (the old two-step design)
    /// instead of deciding from a consistent cut, so a holder killed between its count CAS and
    /// its record leaks its permits.
    SemCrashTrustsDeadEntry = 51,
    /// sem progress: a multi-permit waiter never takes the priority token, so single-permit
    /// acquirers keep bypassing it while it waits (no safety check fails; the bounded-bypass
    /// check of `verify/tests/progress_bypass.rs` catches it).
    SemProgressNoPriority = 70,
    /// semaphore ledger, `LocalSemaphore`: the single-writer entry updates (plain stores, no
    /// read-modify-write) are `Relaxed` instead of `Release`, so a recoverer that sees a
    /// holder's record need not see the count CAS before it, pairs the new entry with the old
    /// count and hands the holder's permits out again.
    SemCrashLocalRelaxedRecord = 52,
}

impl Mutant {
    /// The mutant with this discriminant, if any.
    pub fn from_u32(v: u32) -> Option<Mutant> {
        Mutant::ALL.iter().copied().find(|m| *m as u32 == v)
    }

    /// The mutant called `name` (as printed by [`Mutant::name`]), if any.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// The short kebab-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::None => "none",
            Mutant::SpscRelaxedPublish => "spsc-relaxed-publish",
            Mutant::SpscFullOffByOne => "spsc-full-off-by-one",
            Mutant::MpmcRelaxedPublish => "mpmc-relaxed-publish",
            Mutant::MpmcClaimWithoutCas => "mpmc-claim-without-cas",
            Mutant::FramesRelaxedPublish => "frames-relaxed-publish",
            Mutant::FramesFreeOffByOne => "frames-free-off-by-one",
            Mutant::EventcountNoRecheck => "eventcount-no-recheck",
            Mutant::EventcountNoFence => "eventcount-no-fence",
            Mutant::EventcountNoHeavyFence => "eventcount-no-heavy-fence",
            Mutant::EventcountSleeperWithoutCas => "eventcount-sleeper-without-cas",
            Mutant::SemWakeOnZeroToPositive => "sem-wake-on-zero-to-positive",
            Mutant::SemSplitWordsRelaxed => "sem-split-words-relaxed",
            Mutant::SemTimeoutSwallowsWake => "sem-timeout-swallows-wake",
            Mutant::SemRelaxedAcquire => "sem-relaxed-acquire",
            Mutant::SemLedgerClaimWithoutCas => "sem-ledger-claim-without-cas",
            Mutant::SemLedgerPidOnly => "sem-ledger-pid-only",
            Mutant::SemLedgerRelaxedFree => "sem-ledger-relaxed-free",
            Mutant::SemLedgerReleaseWithoutCas => "sem-ledger-release-without-cas",
            Mutant::SemLedgerClaimUnlocked => "sem-ledger-claim-unlocked",
            Mutant::SemLedgerUnknownIsDead => "sem-ledger-unknown-is-dead",
            Mutant::SemLedgerRelaxedOwnerLoad => "sem-ledger-relaxed-owner-load",
            Mutant::RoleTakeoverWithoutCas => "role-takeover-without-cas",
            Mutant::RoleTakeoverOfLiveOwner => "role-takeover-of-live-owner",
            Mutant::MpmcRepairWithoutCas => "mpmc-repair-without-cas",
            Mutant::MpmcRepairLiveClaimer => "mpmc-repair-live-claimer",
            Mutant::MpmcBatchUnchecked => "mpmc-batch-unchecked",
            Mutant::SpscChunkPublishBeforeCopy => "spsc-chunk-publish-before-copy",
            Mutant::SpscChunkSecondSliceOffByOne => "spsc-chunk-second-slice-off-by-one",
            Mutant::SemCrashNoIntent => "sem-crash-no-intent",
            Mutant::SemCrashTrustsDeadEntry => "sem-crash-trusts-dead-entry",
            Mutant::SemProgressNoPriority => "sem-progress-no-priority",
            Mutant::SemCrashLocalRelaxedRecord => "sem-crash-local-relaxed-record",
        }
    }

    /// Every mutant, `None` first.
    pub const ALL: &'static [Mutant] = &[
        Mutant::None,
        Mutant::SpscRelaxedPublish,
        Mutant::SpscFullOffByOne,
        Mutant::MpmcRelaxedPublish,
        Mutant::MpmcClaimWithoutCas,
        Mutant::FramesRelaxedPublish,
        Mutant::FramesFreeOffByOne,
        Mutant::EventcountNoRecheck,
        Mutant::EventcountNoFence,
        Mutant::EventcountNoHeavyFence,
        Mutant::EventcountSleeperWithoutCas,
        Mutant::SemWakeOnZeroToPositive,
        Mutant::SemSplitWordsRelaxed,
        Mutant::SemTimeoutSwallowsWake,
        Mutant::SemRelaxedAcquire,
        Mutant::SemLedgerClaimWithoutCas,
        Mutant::SemLedgerPidOnly,
        Mutant::SemLedgerRelaxedFree,
        Mutant::SemLedgerReleaseWithoutCas,
        Mutant::SemLedgerClaimUnlocked,
        Mutant::SemLedgerUnknownIsDead,
        Mutant::SemLedgerRelaxedOwnerLoad,
        Mutant::RoleTakeoverWithoutCas,
        Mutant::RoleTakeoverOfLiveOwner,
        Mutant::MpmcRepairWithoutCas,
        Mutant::MpmcRepairLiveClaimer,
        Mutant::MpmcBatchUnchecked,
        Mutant::SpscChunkPublishBeforeCopy,
        Mutant::SpscChunkSecondSliceOffByOne,
        Mutant::SemCrashNoIntent,
        Mutant::SemCrashTrustsDeadEntry,
        Mutant::SemProgressNoPriority,
        Mutant::SemCrashLocalRelaxedRecord,
    ];
}
