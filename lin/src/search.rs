//! The general checker: Wing & Gong's search for a linearization, with Lowe's memoization
//! ("Testing for linearizability", 2017) of (set of linearized operations, state) pairs.
//!
//! Calls and returns are laid out in time order in a doubly linked list (calls before returns at
//! equal times: equal times overlap). The candidates to linearize next are the calls before the
//! first remaining return. The search tries them in the order of [`SequentialModel::hints`]
//! (Wing & Gong try them in list order; a good order matters, see the queue model): a candidate
//! is taken if the model allows it and the resulting configuration was not seen before; then its
//! call and return are unlinked and the search goes on. When no candidate works, the operation
//! returning first has no place, so the last choice is undone and the next candidate tried. The history is linearizable when no return remains in the list: operations
//! that never returned may stay unlinearized (they never took effect). An operation with an
//! unknown outcome that did return is tried with its effect and as a no-op.
//!
//! The linearized set is kept as a bitset over the operations sorted by invocation and keyed
//! compactly as (length of the all-linearized prefix, the words after it), since only a window
//! of overlapping operations is ever partly linearized.

use super::history::Op;
use super::model::SequentialModel;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

/// What the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchResult {
    /// A linearization exists.
    Linearizable,
    /// None exists. `stuck_at_ns` is the return time of the operation the deepest attempt could
    /// not linearize in time: a hint for where the violation is.
    NotLinearizable {
        /// Return time at the deepest dead end.
        stuck_at_ns: Option<i64>,
    },
    /// The deadline passed (or the memo table reached [`MAX_MEMO_BYTES`]) first.
    GaveUp,
}

/// One step of a (partial) linearization: which operation, and whether it took effect (an
/// operation of unknown outcome may be linearized as a no-op).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Index into the history's operations.
    pub op: usize,
    /// `false` when an operation of unknown outcome was placed here without effect.
    pub effect: bool,
}

/// Counters of one search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Candidate configurations visited (loop iterations).
    pub steps: u64,
    /// Distinct (linearized set, state) configurations remembered.
    pub states: u64,
    /// Times the search undid a choice.
    pub backtracks: u64,
}

/// The full answer of [`search_traced`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTrace {
    /// The verdict.
    pub result: SearchResult,
    /// When linearizable: a linearization (operations that never returned and never took effect
    /// are left out). Otherwise the longest partial linearization the search built: a sequence
    /// every step of which the model allowed, respecting real time, that could not be extended.
    pub order: Vec<Step>,
    /// Counters.
    pub stats: SearchStats,
}

/// Approximate memo table size (bytes) beyond which the search gives up rather than exhaust
/// memory.
pub const MAX_MEMO_BYTES: usize = 3 << 30;

/// Searches for a linearization of `ops[i]` for `i` in `subset` under `model`.
pub fn search<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    subset: &[usize],
    deadline: Option<Instant>,
) -> SearchResult {
    search_traced(model, ops, subset, deadline).result
}

/// Like [`search`], and also returns the linearization found (or the longest partial one) and
/// the search's counters.
pub fn search_traced<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    subset: &[usize],
    deadline: Option<Instant>,
) -> SearchTrace {
    search_budgeted(model, ops, subset, deadline, u64::MAX)
        .expect("an unlimited budget never runs out")
}

/// Like [`search_traced`], but `None` once the search has taken `max_steps` steps (then the
/// caller may try another part first, and come back with a larger budget).
pub(crate) fn search_budgeted<M: SequentialModel>(
    model: &M,
    ops: &[Op],
    subset: &[usize],
    deadline: Option<Instant>,
    max_steps: u64,
) -> Option<SearchTrace> {
    let mut order: Vec<usize> = subset.to_vec();
    order.sort_by_key(|&i| (ops[i].invoke_ns, ops[i].return_ns.unwrap_or(i64::MAX), i));
    let local: Vec<&Op> = order.iter().map(|&i| &ops[i]).collect();
    let mut search = Search::new(model, &local, deadline);
    search.max_steps = max_steps;
    let mut trace = search.run()?;
    for step in &mut trace.order {
        step.op = order[step.op];
    }
    Some(trace)
}

const NIL: usize = usize::MAX;

/// Seen configurations: (all-linearized prefix length, bitset words after it, state).
type Memo<S> = HashSet<(u32, Box<[u64]>, S), BuildHasherDefault<FxHasher>>;

struct Entry {
    op: usize,
    call: bool,
    /// For a call: its return entry (or NIL if it never returned).
    ret: usize,
}

struct Search<'a, M: SequentialModel> {
    model: &'a M,
    ops: &'a [&'a Op],
    entries: Vec<Entry>,
    next: Vec<usize>,
    prev: Vec<usize>,
    head: usize,
    deadline: Option<Instant>,
    /// Give up (`run` answers `None`) after this many steps.
    max_steps: u64,
}

impl<'a, M: SequentialModel> Search<'a, M> {
    fn new(model: &'a M, ops: &'a [&'a Op], deadline: Option<Instant>) -> Self {
        let mut events: Vec<(i64, u8, usize)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            events.push((op.invoke_ns, 0, i));
            if let Some(r) = op.return_ns {
                events.push((r, 1, i));
            }
        }
        events.sort_unstable();
        let mut entries: Vec<Entry> = Vec::with_capacity(events.len());
        let mut call_of = vec![NIL; ops.len()];
        for &(_, kind, op) in &events {
            let call = kind == 0;
            if call {
                call_of[op] = entries.len();
            } else {
                let c = call_of[op];
                entries[c].ret = entries.len();
            }
            entries.push(Entry { op, call, ret: NIL });
        }
        let m = entries.len();
        let head = m;
        let mut next = vec![NIL; m + 1];
        let mut prev = vec![NIL; m + 1];
        // head -> 0 -> 1 -> ... -> m-1 -> NIL
        next[head] = if m > 0 { 0 } else { NIL };
        for e in 0..m {
            next[e] = if e + 1 < m { e + 1 } else { NIL };
            prev[e] = if e == 0 { head } else { e - 1 };
        }
        Search {
            model,
            ops,
            entries,
            next,
            prev,
            head,
            deadline,
            max_steps: u64::MAX,
        }
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        if n != NIL {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        if n != NIL {
            self.prev[n] = e;
        }
    }

    fn lift(&mut self, call: usize) {
        self.unlink(call);
        let r = self.entries[call].ret;
        if r != NIL {
            self.unlink(r);
        }
    }

    fn unlift(&mut self, call: usize) {
        let r = self.entries[call].ret;
        if r != NIL {
            self.relink(r);
        }
        self.relink(call);
    }

    fn step_of(&self, call: usize, alt: u8) -> Step {
        Step {
            op: self.entries[call].op,
            effect: alt == 0,
        }
    }

    fn finish(
        &self,
        result: SearchResult,
        order: Vec<Step>,
        stats: SearchStats,
        memo: Memo<M::State>,
    ) -> SearchTrace {
        if memo.len() > 100_000 {
            // Freeing millions of memo entries takes seconds: do it off the caller's clock.
            std::thread::spawn(move || drop(memo));
        }
        SearchTrace {
            result,
            order,
            stats,
        }
    }

    fn run(mut self) -> Option<SearchTrace> {
        let n = self.ops.len();
        let hints = self.model.hints(self.ops);
        debug_assert_eq!(hints.len(), n);
        let mut returns_left = self.ops.iter().filter(|o| o.return_ns.is_some()).count();
        let mut state = self.model.init();
        let mut lin = LinSet::new(n);
        let mut memo: Memo<M::State> = HashSet::default();
        // (call entry linearized, state before, its position among the candidates, alternative)
        let mut stack: Vec<(usize, M::State, usize, u8)> = Vec::new();
        let mut cands: Vec<usize> = Vec::new();
        // where to resume trying among the candidates after a backtrack
        let (mut from_pos, mut from_alt) = (0usize, 0u8);
        let mut deepest = 0usize;
        let mut stuck_at_ns = None;
        let mut stats = SearchStats::default();
        let mut memo_bytes: usize = 0;
        // The longest partial linearization seen at a dead end, and how much of the stack is
        // known to still agree with it.
        let mut longest: Vec<(usize, u8)> = Vec::new();
        let mut unchanged = 0usize;
        'search: loop {
            if returns_left == 0 {
                stats.states = memo.len() as u64;
                let order = stack
                    .iter()
                    .map(|&(c, _, _, alt)| self.step_of(c, alt))
                    .collect();
                return Some(self.finish(SearchResult::Linearizable, order, stats, memo));
            }
            stats.steps += 1;
            if stats.steps > self.max_steps {
                self.finish(SearchResult::GaveUp, Vec::new(), stats, memo);
                return None;
            }
            if stats.steps % 1024 == 0
                && (self.deadline.is_some_and(|d| Instant::now() >= d)
                    || memo_bytes > MAX_MEMO_BYTES)
            {
                stats.states = memo.len() as u64;
                let order = if stack.len() > longest.len() {
                    stack
                        .iter()
                        .map(|&(c, _, _, alt)| self.step_of(c, alt))
                        .collect()
                } else {
                    longest
                        .iter()
                        .map(|&(c, alt)| self.step_of(c, alt))
                        .collect()
                };
                return Some(self.finish(SearchResult::GaveUp, order, stats, memo));
            }
            // The candidates: calls before the first remaining return, in the model's order.
            cands.clear();
            let mut e = self.next[self.head];
            while e != NIL && self.entries[e].call {
                cands.push(e);
                e = self.next[e];
            }
            let blocking = e;
            debug_assert!(blocking != NIL, "returns_left > 0, so a return remains");
            cands.sort_by_key(|&c| (hints[self.entries[c].op], c));
            let mut chosen = None;
            'candidates: for (pos, &call) in cands.iter().enumerate().skip(from_pos) {
                let op_index = self.entries[call].op;
                let op = self.ops[op_index];
                let alts: u8 = if op.ok.is_none() && op.return_ns.is_some() {
                    2
                } else {
                    1
                };
                let first = if pos == from_pos { from_alt } else { 0 };
                for alt in first..alts {
                    let next_state = if alt == 0 {
                        self.model.step(&state, op)
                    } else {
                        Some(state.clone())
                    };
                    let Some(next_state) = next_state else {
                        continue;
                    };
                    lin.set(op_index);
                    let words = lin.key_words();
                    let bytes = 64 + words.len() * 8 + self.model.state_bytes(&next_state);
                    if memo.insert((lin.frontier as u32, words, next_state.clone())) {
                        memo_bytes += bytes;
                        chosen = Some((call, pos, alt, next_state));
                        break 'candidates;
                    }
                    lin.unset(op_index);
                }
            }
            if let Some((call, pos, alt, next_state)) = chosen {
                stack.push((call, std::mem::replace(&mut state, next_state), pos, alt));
                if self.entries[call].ret != NIL {
                    returns_left -= 1;
                }
                self.lift(call);
                (from_pos, from_alt) = (0, 0);
                continue 'search;
            }
            // Nothing can be linearized before `blocking` returns: undo the last choice.
            if stack.len() >= deepest {
                deepest = stack.len();
                stuck_at_ns = self.ops[self.entries[blocking].op].return_ns;
            }
            if stack.len() > longest.len() {
                // stack[..unchanged] is still what `longest` holds: copy only the rest.
                longest.truncate(unchanged);
                longest.extend(stack[unchanged..].iter().map(|&(c, _, _, alt)| (c, alt)));
                unchanged = stack.len();
            }
            let Some((call, before, pos, alt)) = stack.pop() else {
                stats.states = memo.len() as u64;
                let order = longest
                    .into_iter()
                    .map(|(c, alt)| self.step_of(c, alt))
                    .collect();
                let result = SearchResult::NotLinearizable { stuck_at_ns };
                return Some(self.finish(result, order, stats, memo));
            };
            stats.backtracks += 1;
            unchanged = unchanged.min(stack.len());
            lin.unset(self.entries[call].op);
            state = before;
            self.unlift(call);
            if self.entries[call].ret != NIL {
                returns_left += 1;
            }
            (from_pos, from_alt) = (pos, alt + 1);
        }
    }
}

/// The set of linearized operations: a bitset plus the length of its all-set prefix and its end.
struct LinSet {
    bits: Vec<u64>,
    n: usize,
    /// Every index below is set.
    frontier: usize,
    /// Every set index is below.
    hi: usize,
}

impl LinSet {
    fn new(n: usize) -> Self {
        LinSet {
            bits: vec![0; n.div_ceil(64)],
            n,
            frontier: 0,
            hi: 0,
        }
    }

    fn get(&self, i: usize) -> bool {
        self.bits[i / 64] >> (i % 64) & 1 == 1
    }

    fn set(&mut self, i: usize) {
        self.bits[i / 64] |= 1 << (i % 64);
        while self.frontier < self.n && self.get(self.frontier) {
            self.frontier += 1;
        }
        self.hi = self.hi.max(i + 1).max(self.frontier);
    }

    fn unset(&mut self, i: usize) {
        self.bits[i / 64] &= !(1 << (i % 64));
        self.frontier = self.frontier.min(i);
        while self.hi > self.frontier && !self.get(self.hi - 1) {
            self.hi -= 1;
        }
    }

    /// The words holding every set bit at or after the frontier (with the frontier, a unique key).
    fn key_words(&self) -> Box<[u64]> {
        let start = self.frontier / 64;
        let end = self.hi.div_ceil(64).max(start);
        self.bits[start..end].into()
    }
}

/// A small fast non-cryptographic hasher (the Fx hash of rustc) for the memo table.
#[derive(Default)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.hash = (self.hash.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}
