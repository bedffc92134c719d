//! Semaphore benchmark: `synclab_core::sem` beside glibc's process-shared `sem_t`, same run.
//!
//! `cargo run --release -p synclab-core --example sem_bench [-- --iters N --pingpong M --pin]`
//!
//! 1. Uncontended `acquire` + `release` (ours: `acquire()` + dropping the permit; glibc:
//!    `sem_wait` + `sem_post` on a `pshared = 1` semaphore in shared memory), ns per pair.
//! 2. Cross-process wake latency: two processes ping-pong through two semaphores (A: parent
//!    posts, child waits; B: the reverse); one-way latency = round trip / 2. The child is this
//!    binary re-executed (never a bare fork), inheriting the memfd.
//!
//! Ours spins adaptively (up to ~1000 `pause`s) before parking; glibc's `sem_wait` parks
//! at once. Both numbers are printed, so the difference is visible rather than hidden.

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::Command;
use std::time::Instant;
use synclab_core::Semaphore;

const CHILD_ENV: &str = "SYNCLAB_SEM_BENCH_CHILD";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Two glibc semaphores in one shared mapping of a memfd.
struct GlibcPair {
    base: *mut libc::c_void,
    fd: OwnedFd,
}

const GLIBC_LEN: usize = 4096;

impl GlibcPair {
    fn create() -> Self {
        let fd =
            nix::sys::memfd::memfd_create(c"sem-bench", nix::sys::memfd::MemFdCreateFlag::empty())
                .expect("memfd_create");
        nix::unistd::ftruncate(&fd, GLIBC_LEN as i64).expect("ftruncate");
        let pair = Self::map(fd);
        for i in 0..2 {
            // SAFETY: `sem(i)` points into our fresh shared mapping, aligned and large enough for
            // a sem_t; pshared = 1 because another process uses it.
            let rc = unsafe { libc::sem_init(pair.sem(i), 1, 0) };
            assert_eq!(rc, 0, "sem_init");
        }
        pair
    }

    fn map(fd: OwnedFd) -> Self {
        // SAFETY: a new shared mapping of an fd we own; nothing else lives there.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                GLIBC_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap");
        GlibcPair { base, fd }
    }

    fn sem(&self, i: usize) -> *mut libc::sem_t {
        // SAFETY: offsets 0 and 128 are inside the 4096-byte mapping; sem_t is 32 bytes.
        unsafe { self.base.cast::<u8>().add(i * 128).cast() }
    }

    fn wait(&self, i: usize) {
        // SAFETY: an initialised process-shared sem_t in our mapping; retry on EINTR.
        while unsafe { libc::sem_wait(self.sem(i)) } != 0 {}
    }

    fn post(&self, i: usize) {
        // SAFETY: as above.
        unsafe { libc::sem_post(self.sem(i)) };
    }
}

/// Pins this process to CPU `cpu` (with `--pin`: parent on CPU 0, child on CPU 1).
fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET writes inside it; sched_setaffinity
    // reads `size_of::<cpu_set_t>()` bytes of it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    assert_eq!(rc, 0, "sched_setaffinity");
}

fn pinned() -> bool {
    std::env::args().any(|a| a == "--pin")
}

fn inheritable(fd: RawFd) {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty())).expect("clear FD_CLOEXEC");
}

fn child(kind: &str, fds: &[RawFd], rounds: u64) {
    match kind {
        "ours" => {
            // SAFETY: the parent passed us these inherited fds by number; we own them now.
            let open = |fd: RawFd| {
                Semaphore::builder()
                    .open_fd(unsafe { OwnedFd::from_raw_fd(fd) })
                    .unwrap()
            };
            let (a, b) = (open(fds[0]), open(fds[1]));
            for _ in 0..rounds {
                a.acquire().unwrap().forget();
                b.release(1).unwrap();
            }
        }
        "glibc" => {
            // SAFETY: as above.
            let pair = GlibcPair::map(unsafe { OwnedFd::from_raw_fd(fds[0]) });
            for _ in 0..rounds {
                pair.wait(0);
                pair.post(1);
            }
            let _ = &pair.fd;
        }
        other => panic!("unknown child kind {other}"),
    }
}

fn spawn_child(kind: &str, fds: &[RawFd], rounds: u64) -> std::process::Child {
    for &fd in fds {
        inheritable(fd);
    }
    let list: Vec<String> = fds.iter().map(|f| f.to_string()).collect();
    Command::new(std::env::current_exe().unwrap())
        .env(
            CHILD_ENV,
            format!(
                "{kind}:{}:{rounds}:{}",
                list.join(","),
                if pinned() { "pin" } else { "any" }
            ),
        )
        .spawn()
        .expect("spawn child")
}

fn uncontended(iters: u64) -> (f64, f64) {
    let sem = Semaphore::builder().permits(1).max(1).anonymous().unwrap();
    let run_ours = || {
        let t = Instant::now();
        for _ in 0..iters {
            let p = sem.acquire().unwrap();
            drop(std::hint::black_box(p));
        }
        t.elapsed().as_nanos() as f64 / iters as f64
    };
    let pair = GlibcPair::create();
    pair.post(0);
    let run_glibc = || {
        let t = Instant::now();
        for _ in 0..iters {
            pair.wait(0);
            pair.post(0);
        }
        t.elapsed().as_nanos() as f64 / iters as f64
    };
    run_ours();
    run_glibc();
    // Best of 3 each, interleaved.
    let (mut o, mut g) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        o = o.min(run_ours());
        g = g.min(run_glibc());
    }
    (o, g)
}

fn pingpong_ours(rounds: u64) -> f64 {
    let a = Semaphore::builder().permits(0).max(1).anonymous().unwrap();
    let b = Semaphore::builder().permits(0).max(1).anonymous().unwrap();
    let fds = [a.fd().unwrap().as_raw_fd(), b.fd().unwrap().as_raw_fd()];
    let mut kid = spawn_child("ours", &fds, rounds);
    let t = Instant::now();
    for _ in 0..rounds {
        a.release(1).unwrap();
        b.acquire().unwrap().forget();
    }
    let ns = t.elapsed().as_nanos() as f64 / rounds as f64 / 2.0;
    assert!(kid.wait().unwrap().success());
    ns
}

fn pingpong_glibc(rounds: u64) -> f64 {
    let pair = GlibcPair::create();
    let mut kid = spawn_child("glibc", &[pair.fd.as_raw_fd()], rounds);
    let t = Instant::now();
    for _ in 0..rounds {
        pair.post(0);
        pair.wait(1);
    }
    let ns = t.elapsed().as_nanos() as f64 / rounds as f64 / 2.0;
    assert!(kid.wait().unwrap().success());
    ns
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        let mut parts = spec.split(':');
        let kind = parts.next().unwrap().to_string();
        let fds: Vec<RawFd> = parts
            .next()
            .unwrap()
            .split(',')
            .map(|f| f.parse().unwrap())
            .collect();
        let rounds: u64 = parts.next().unwrap().parse().unwrap();
        if parts.next() == Some("pin") {
            pin(1);
        }
        child(&kind, &fds, rounds);
        return;
    }
    if pinned() {
        pin(0);
    }
    let iters = arg("--iters", 5_000_000);
    let rounds = arg("--pingpong", 20_000);
    let (ours, glibc) = uncontended(iters);
    println!("uncontended acquire+release ({iters} pairs, best of 3):");
    println!("  synclab sem : {ours:8.1} ns/pair");
    println!("  glibc sem_t : {glibc:8.1} ns/pair (sem_wait + sem_post, pshared=1)");
    let ours_pp = pingpong_ours(rounds);
    let glibc_pp = pingpong_glibc(rounds);
    println!(
        "cross-process wake latency (ping-pong, {rounds} round trips, one-way = RTT/2, {}):",
        if pinned() {
            "parent on CPU 0, child on CPU 1"
        } else {
            "unpinned"
        }
    );
    println!(
        "  synclab sem : {:8.2} us (adaptive spin, then futex)",
        ours_pp / 1000.0
    );
    println!(
        "  glibc sem_t : {:8.2} us (futex at once)",
        glibc_pp / 1000.0
    );
}
