//! Unit tests of [`LocalSemaphore`](super::LocalSemaphore): its own ledger slot (never shared
//! with the process's slot), per-handle `NotHeld`, the slot freed on drop only when empty, and
//! the recovery of a dead process's exclusive slot.

use super::*;
use crate::process::ProcessKey;
use std::sync::atomic::Ordering::SeqCst;

fn ledger_sem(permits: u32, slots: u32) -> Semaphore {
    Semaphore::builder()
        .permits(permits)
        .max(permits)
        .ledger(slots)
        .heap_region()
        .unwrap()
}

#[test]
fn local_handle_has_its_own_slot_and_its_own_permits() {
    let sem = ledger_sem(3, 4);
    let local = sem.local().unwrap();
    let a = local.acquire().unwrap();
    let b = sem.acquire().unwrap(); // the process's shared slot: a second slot
    assert_eq!(local.held_by_me().unwrap(), 1);
    assert_eq!(sem.held_by_me().unwrap(), 1);
    let ledger = sem.ledger.as_ref().unwrap();
    let key = ProcessKey::current().unwrap().pack();
    let owners: Vec<u64> = (0..4).map(|i| ledger.slot(i).owner.load(SeqCst)).collect();
    assert_eq!(owners, [key | ledger::EXCLUSIVE, key, 0, 0]);
    // The local handle releases only what it holds.
    a.forget();
    assert!(matches!(
        local.release(2),
        Err(SemError::NotHeld {
            held: 1,
            requested: 2
        })
    ));
    local.release(1).unwrap();
    assert!(matches!(local.release(1), Err(SemError::NotHeld { .. })));
    drop(b);
    assert_eq!(sem.value().unwrap(), 3);
    assert_eq!(sem.recover().unwrap(), 0, "everyone is alive");
}

#[test]
fn dropping_an_empty_local_handle_frees_its_slot_a_holding_one_keeps_it() {
    let sem = ledger_sem(2, 1);
    let ledger = sem.ledger.as_ref().unwrap();
    {
        let local = sem.local().unwrap();
        drop(local.acquire().unwrap());
        assert_ne!(ledger.slot(0).owner.load(SeqCst), 0);
    }
    assert_eq!(ledger.slot(0).owner.load(SeqCst), 0, "freed on drop");
    let version = ledger.slot(0).entry.load(SeqCst);
    assert_ne!(version, 0, "the version keeps counting across the free");
    {
        let local = sem.local().unwrap();
        local.acquire().unwrap().forget();
    }
    // Still held by this (live) process: the only slot stays taken.
    assert_eq!(sem.value().unwrap(), 1);
    assert!(matches!(
        sem.local().unwrap().acquire(),
        Err(SemError::LedgerFull { slots: 1 })
    ));
}

/// A dead process's exclusive slot (owner word with the EXCLUSIVE bit) is judged by its pid and
/// start time like any other: its permits come back, its slot is freed.
#[test]
fn dead_exclusive_slot_is_recovered() {
    let sem = ledger_sem(2, 4);
    let ledger = sem.ledger.as_ref().unwrap();
    let me = ProcessKey::current().unwrap();
    let dead = ProcessKey {
        start: me.start.wrapping_add(1),
        ..me
    };
    sem.core().state.store(1, SeqCst); // the dead local handle took one permit
    ledger
        .slot(0)
        .owner
        .store(dead.pack() | ledger::EXCLUSIVE, SeqCst);
    ledger.slot(0).entry.store(1, SeqCst);
    assert_eq!(sem.recover().unwrap(), 1);
    assert_eq!(sem.value().unwrap(), 2);
    assert_eq!(ledger.slot(0).owner.load(SeqCst), 0);
}

#[test]
fn local_handle_without_ledger_is_a_plain_handle() {
    let sem = Semaphore::builder().max(1).heap_region().unwrap();
    let local = sem.local().unwrap();
    let p = local.try_acquire().unwrap();
    assert!(matches!(local.try_acquire(), Err(SemError::WouldBlock)));
    drop(p);
    assert_eq!(sem.value().unwrap(), 1);
    assert!(matches!(local.held_by_me(), Err(SemError::NoLedger)));
}
