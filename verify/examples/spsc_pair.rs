//! The same spsc transfer loops three ways, side by side: two threads over a heap ring, two
//! threads over a shared-memory ring, and two processes (this program re-executed) over a
//! shared-memory ring; so a difference between the bench's process and thread figures can be
//! pinned on the process boundary, the memory, or neither. Every record is read and checked.
//!
//! ```text
//! cargo build --release -p synclab-verify --example spsc_pair
//! chrt -f 50 target/release/examples/spsc_pair 20000000 256   # chunks of 256
//! chrt -f 50 target/release/examples/spsc_pair 20000000 1     # single push/pop
//! ```
//! (`chrt -f`: real-time priority, so other work on a busy machine does not preempt the pair.)

use std::process::{Command, Stdio};
use std::time::Instant;
use synclab_core::shm::ShmName;
use synclab_core::{Consumer, Producer, Spsc};
use synclab_verify::record::{Record, SequenceCheck};

const CAPACITY: usize = 4096;
const ROUNDS: usize = 5;

/// Pushes records `0..n`, one at a time (`batch <= 1`) or in write chunks filled in place.
fn produce(mut p: Producer<Record>, n: u64, batch: usize) {
    let mut seq = 0u64;
    while seq < n {
        if batch <= 1 {
            p.push(Record::new(seq)).expect("push");
            seq += 1;
            continue;
        }
        let want = (n - seq).min(batch as u64) as usize;
        let mut chunk = p.write_chunk_until(want, None).expect("write chunk");
        let k = chunk.fill_from_iter((seq..).map(Record::new));
        chunk.commit(k);
        seq += k as u64;
    }
}

/// Pops and checks `n` records; M msgs/s from the first record on.
fn consume(mut c: Consumer<Record>, n: u64, batch: usize) -> f64 {
    let mut check = SequenceCheck::default();
    let mut got = 0;
    let mut start = None;
    while got < n {
        if batch <= 1 {
            let r = c.pop().expect("pop");
            check.see(r.seq, r.intact());
            got += 1;
        } else {
            let chunk = c.read_chunk_until(batch, None).expect("read chunk");
            let (a, b) = chunk.as_slices();
            for r in a.iter().chain(b) {
                check.see(r.seq, r.intact());
            }
            got += chunk.len() as u64;
            chunk.release_all();
        }
        start.get_or_insert_with(Instant::now);
    }
    let seconds = start.expect("at least one record").elapsed().as_secs_f64();
    assert!(check.ok(n), "the records arrived wrong: {check:?}");
    n as f64 / seconds / 1e6
}

/// Two threads over `ring`.
fn threads(ring: &Spsc<Record>, n: u64, batch: usize) -> f64 {
    let p = ring.producer().expect("producer");
    let c = ring.consumer().expect("consumer");
    let t = std::thread::spawn(move || produce(p, n, batch));
    let rate = consume(c, n, batch);
    t.join().expect("producer thread");
    rate
}

/// Two processes over a new named ring.
fn processes(n: u64, batch: usize) -> f64 {
    let name = ShmName::unique("spsc-pair");
    let _ring = Spsc::<Record>::builder()
        .capacity(CAPACITY)
        .create(&name)
        .expect("ring");
    let exe = std::env::current_exe().expect("own path");
    let args = |role: &str| {
        [
            role.to_string(),
            n.to_string(),
            batch.to_string(),
            name.to_string(),
        ]
    };
    let consumer = Command::new(&exe)
        .args(args("consume"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("consumer process");
    let mut producer = Command::new(&exe)
        .args(args("produce"))
        .spawn()
        .expect("producer process");
    let out = consumer.wait_with_output().expect("consumer exit");
    assert!(producer.wait().expect("producer exit").success());
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the consumer prints its rate")
}

/// The far side: `produce|consume N BATCH NAME`.
fn child(role: &str, n: u64, batch: usize, name: &str) {
    let ring = Spsc::<Record>::builder()
        .open(&ShmName::new(name).expect("name"))
        .expect("open");
    match role {
        "produce" => produce(ring.producer().expect("producer"), n, batch),
        _ => println!("{}", consume(ring.consumer().expect("consumer"), n, batch)),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [role, n, batch, name] = args.as_slice() {
        child(
            role,
            n.parse().expect("N"),
            batch.parse().expect("BATCH"),
            name,
        );
        return;
    }
    let n: u64 = args.first().map_or(20_000_000, |s| s.parse().expect("N"));
    let batch: usize = args.get(1).map_or(256, |s| s.parse().expect("BATCH"));
    for round in 0..ROUNDS {
        let heap = Spsc::<Record>::builder()
            .capacity(CAPACITY)
            .heap()
            .expect("heap ring");
        let on_heap = threads(&heap, n, batch);
        let shm = Spsc::<Record>::builder()
            .capacity(CAPACITY)
            .create(&ShmName::unique("spsc-pair"))
            .expect("shm ring");
        let in_shm = threads(&shm, n, batch);
        let across = processes(n, batch);
        println!(
            "round {round}, batch {batch}: threads (heap) {on_heap:.1}, threads (shm) {in_shm:.1}, \
             processes (shm) {across:.1} M msgs/s"
        );
    }
}
