//! The event queue: a min-heap on `(virtual time, insertion number)`, so events at the same
//! time run in the order they were scheduled.

use crate::socket::{ConnId, HostId};
use crate::tcp::Segment;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A segment in flight.
#[derive(Clone, Debug)]
pub struct Packet {
    pub id: u64,
    pub from: HostId,
    pub to: HostId,
    pub seg: Segment,
    /// A network duplicate.
    pub copy: bool,
}

/// What happens at a time.
#[derive(Clone, Debug)]
pub enum Ev {
    Deliver(Packet),
    Timer(HostId, ConnId),
    /// A step's `at_ms` came.
    Wake,
    Inject(usize),
    /// A held-back segment's latest release (direction, generation).
    Release((HostId, HostId), u64),
}

/// A heap entry: the event itself waits in the slab, so sifting moves 24 bytes.
#[derive(Clone)]
struct Entry {
    at: u64,
    n: u64,
    slot: usize,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.n) == (o.at, o.n)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.n).cmp(&(self.at, self.n)) // reversed: BinaryHeap is a max-heap
    }
}

/// The queue.
#[derive(Clone, Default)]
pub struct Queue {
    heap: BinaryHeap<Entry>,
    slab: Vec<Option<Ev>>,
    free: Vec<usize>,
    n: u64,
}

impl Queue {
    /// Schedules `ev` at `at`.
    pub fn push(&mut self, at: u64, ev: Ev) {
        self.n += 1;
        self.push_numbered(at, self.n, ev);
    }

    /// Reserves `k` insertion numbers (for events a segment's fate schedules later, so they
    /// keep the place they would have had if scheduled now); returns the first.
    pub fn reserve(&mut self, k: u64) -> u64 {
        let first = self.n + 1;
        self.n += k;
        first
    }

    /// Schedules `ev` at `at` with a reserved insertion number `n`.
    pub fn push_numbered(&mut self, at: u64, n: u64, ev: Ev) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i] = Some(ev);
                i
            }
            None => {
                self.slab.push(Some(ev));
                self.slab.len() - 1
            }
        };
        self.heap.push(Entry { at, n, slot });
    }

    /// The events waiting, earliest first, with their times (for the state hash).
    pub fn pending(&self) -> Vec<(u64, &Ev)> {
        let mut v: Vec<&Entry> = self.heap.iter().collect();
        v.sort_by_key(|e| (e.at, e.n));
        v.into_iter()
            .map(|e| {
                (
                    e.at,
                    self.slab[e.slot].as_ref().expect("scheduled event present"),
                )
            })
            .collect()
    }

    /// The earliest event.
    pub fn pop(&mut self) -> Option<(u64, Ev)> {
        let e = self.heap.pop()?;
        self.free.push(e.slot);
        let ev = self.slab[e.slot].take().expect("scheduled event present");
        Some((e.at, ev))
    }
}
