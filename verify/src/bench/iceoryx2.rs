//! The iceoryx2 peer (built only with `--features iceoryx2`): its publish/subscribe between two
//! processes, lossless, and its ping/pong round trip.
//!
//! Settings: `enable_safe_overflow(false)` on the service and a publisher with
//! `BackpressureStrategy::RetryUntilDelivered`, so a full subscriber buffer makes the publisher
//! wait instead of dropping or overwriting; a subscriber buffer of 4096 samples (our rings hold
//! 4096 records); no history. Start-up handshake: the bench process creates the service and its
//! subscriber first, then starts the worker, which waits until the service has that subscriber
//! before it publishes, and then waits at a start gate (`start_gate.rs`) until the bench process
//! has seen the publisher and connected its subscriber to it, so no sample is sent into the void
//! (without the second half, a publisher that fills the buffer of a not-yet-connected subscriber
//! gets `0` deliveries even with `RetryUntilDelivered`; seen here under load). Every sample is the 16-byte
//! `[seq, check]` pair of a [`Record`], published zero-copy (`loan_uninit` + `write_payload`),
//! and the subscriber checks each with [`SequenceCheck`]; every `send` must reach exactly one
//! subscriber. Both sides spin (`receive` returns `None` when empty).
//!
//! iceoryx2's files go to a fresh private directory (its `root_path`, and a unique `prefix` for
//! its shared-memory objects in `/dev/shm`); the directory, and any object with that prefix still
//! in `/dev/shm` after the run, are removed.

use super::private_dir::PrivateDir;
use crate::procs::{reap_all, WorkerExe};
use crate::record::{Record, SequenceCheck};
use iceoryx2::prelude::*;
use std::path::Path as StdPath;
use std::process::Child;
use std::time::{Duration, Instant};

/// The pub/sub throughput figure's exact name.
pub const THROUGHPUT: &str = "iceoryx2 0.10 pub/sub (lossless), 2 processes";
/// The round-trip figure's exact name.
pub const ROUND_TRIP: &str = "iceoryx2 0.10 ping/pong round trip, 2 processes";

type Payload = [u64; 2];
const BUFFER: usize = 4096;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

fn err(what: &str) -> impl Fn(&dyn std::fmt::Debug) -> String + '_ {
    move |e| format!("iceoryx2 {what}: {e:?}")
}

/// The `/dev/shm` prefix of a run whose root is `root`: its directory name, made a file name.
fn prefix_of(root: &StdPath) -> String {
    let name = root
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!(
        "{}_",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

/// An iceoryx2 node whose files live under `root`.
fn node(root: &StdPath) -> Result<Node<ipc::Service>, String> {
    let mut config = Config::default();
    let path = Path::new(root.to_string_lossy().as_bytes()).map_err(|e| err("root path")(&e))?;
    config.global.set_root_path(&path);
    config.global.prefix =
        FileName::new(prefix_of(root).as_bytes()).map_err(|e| err("prefix")(&e))?;
    NodeBuilder::new()
        .config(&config)
        .create::<ipc::Service>()
        .map_err(|e| err("node")(&e))
}

type PubSub =
    iceoryx2::service::port_factory::publish_subscribe::PortFactory<ipc::Service, Payload, ()>;

/// Creates (or, in the worker, opens) the lossless service `name`.
fn service(node: &Node<ipc::Service>, name: &str, create: bool) -> Result<PubSub, String> {
    let name: ServiceName = name.try_into().map_err(|e| err("service name")(&e))?;
    let builder = node
        .service_builder(&name)
        .publish_subscribe::<Payload>()
        .enable_safe_overflow(false)
        .subscriber_max_buffer_size(BUFFER)
        .history_size(0)
        .max_publishers(1)
        .max_subscribers(1);
    if create {
        builder.create().map_err(|e| err("create service")(&e))
    } else {
        builder.open().map_err(|e| err("open service")(&e))
    }
}

/// Waits until `service` has a subscriber (the start-up handshake).
fn await_subscriber(service: &PubSub) -> Result<(), String> {
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    while service.dynamic_config().number_of_subscribers() == 0 {
        if Instant::now() > deadline {
            return Err("iceoryx2: no subscriber appeared".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

fn publisher(
    service: &PubSub,
) -> Result<iceoryx2::port::publisher::Publisher<ipc::Service, Payload, ()>, String> {
    service
        .publisher_builder()
        .backpressure_strategy(BackpressureStrategy::RetryUntilDelivered)
        .create()
        .map_err(|e| err("publisher")(&e))
}

fn send(
    p: &iceoryx2::port::publisher::Publisher<ipc::Service, Payload, ()>,
    seq: u64,
) -> Result<(), String> {
    let r = Record::new(seq);
    let sample = p.loan_uninit().map_err(|e| err("loan")(&e))?;
    let delivered = sample
        .write_payload([r.seq, r.check])
        .send()
        .map_err(|e| err("send")(&e))?;
    if delivered == 1 {
        Ok(())
    } else {
        Err(format!(
            "iceoryx2: sample {seq} reached {delivered} subscribers, not 1"
        ))
    }
}

/// Removes whatever iceoryx2 left in `/dev/shm` under the run's prefix.
fn remove_leftovers(root: &StdPath) {
    let prefix = prefix_of(root);
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Runs `parent` with a fresh root and the worker `role ROOT SERVICE COUNT` started after
/// `setup` made the parent's side; reaps the worker, cleans up.
fn with_worker<T, S>(
    exe: &WorkerExe,
    role: &str,
    count: u64,
    extra: &[String],
    setup: impl FnOnce(&StdPath) -> Result<S, String>,
    parent: impl FnOnce(S, &mut Child) -> Result<T, String>,
) -> Result<T, String> {
    let dir = PrivateDir::new("iox2")?;
    let root = dir.path().to_path_buf();
    let result = (|| {
        let state = setup(&root)?;
        let mut args = vec![
            role.into(),
            root.to_string_lossy().into_owned(),
            "synclab/bench".into(),
            count.to_string(),
        ];
        args.extend_from_slice(extra);
        let mut child = exe
            .spawn(&args)
            .map_err(|e| format!("cannot start the {role} worker: {e}"))?;
        let value = parent(state, &mut child);
        let timeout = if value.is_ok() {
            Duration::from_secs(60)
        } else {
            Duration::ZERO
        };
        let exit = reap_all(vec![child], timeout).remove(0);
        let value = value.map_err(|e| {
            format!(
                "{e} (the {role} worker: {}: {})",
                exit.describe(),
                exit.stdout.trim()
            )
        })?;
        if exit.success() {
            Ok(value)
        } else {
            Err(format!(
                "the {role} worker failed: {}: {}",
                exit.describe(),
                exit.stdout.trim()
            ))
        }
    })();
    remove_leftovers(&root);
    result
}

/// Samples per second: `n` records published by a worker process, received and checked here.
pub fn throughput(exe: &WorkerExe, n: u64) -> Result<f64, String> {
    let gate = super::start_gate::Gate::new()?;
    with_worker(
        exe,
        "iceoryx2-publish",
        n,
        &[gate.name()],
        |root| {
            let node = node(root)?;
            let service = service(&node, "synclab/bench", true)?;
            let sub = service
                .subscriber_builder()
                .create()
                .map_err(|e| err("subscriber")(&e))?;
            Ok((node, service, sub))
        },
        |(_node, service, sub), child| {
            // The second half of the handshake: once the publisher exists and waits at the
            // gate, this subscriber connects to it (`has_samples` updates the connections);
            // only then may it publish (a publisher that finds its subscriber's buffer full
            // before the subscriber has connected drops the sample, even when told to retry).
            gate.wait_ready(1, HANDSHAKE_TIMEOUT)?;
            if service.dynamic_config().number_of_publishers() != 1 {
                return Err("iceoryx2: the publisher is not there".into());
            }
            sub.has_samples().map_err(|e| err("connect")(&e))?;
            gate.open();
            let mut check = SequenceCheck::default();
            let mut start = None;
            let mut idle = 0u64;
            let deadline = Instant::now() + Duration::from_secs(120);
            while check.received < n {
                match sub.receive().map_err(|e| err("receive")(&e))? {
                    Some(s) => {
                        start.get_or_insert_with(Instant::now);
                        let [seq, word] = *s;
                        check.see(seq, Record { seq, check: word }.intact());
                    }
                    None => {
                        idle += 1;
                        if idle % 65536 == 0 {
                            if Instant::now() > deadline {
                                return Err(format!("iceoryx2: timed out; saw {}", check.json(n)));
                            }
                            if matches!(child.try_wait(), Ok(Some(_)))
                                && !sub.has_samples().unwrap_or(false)
                            {
                                return Err(format!(
                                    "iceoryx2: the publisher exited; saw {}",
                                    check.json(n)
                                ));
                            }
                        }
                        std::hint::spin_loop();
                    }
                }
            }
            let seconds = start.map_or(0.0, |t| t.elapsed().as_secs_f64());
            if check.ok(n) {
                Ok(n as f64 / seconds)
            } else {
                Err(format!("iceoryx2: the subscriber saw {}", check.json(n)))
            }
        },
    )
}

/// Worker side of [`throughput`]: publish records `0..count`.
pub fn publish(root: &StdPath, service_name: &str, count: u64, gate: &str) -> Result<(), String> {
    let node = node(root)?;
    let service = service(&node, service_name, false)?;
    let p = publisher(&service)?;
    await_subscriber(&service)?;
    super::start_gate::pass(gate, HANDSHAKE_TIMEOUT)?;
    for seq in 0..count {
        send(&p, seq)?;
    }
    Ok(())
}

/// Spins until a sample arrives on `sub`; returns its sequence number if intact.
fn receive_one(
    sub: &iceoryx2::port::subscriber::Subscriber<ipc::Service, Payload, ()>,
    deadline: Instant,
) -> Result<u64, String> {
    let mut spins = 0u64;
    loop {
        if let Some(s) = sub.receive().map_err(|e| err("receive")(&e))? {
            let [seq, word] = *s;
            return if (Record { seq, check: word }).intact() {
                Ok(seq)
            } else {
                Err(format!("iceoryx2: torn sample {seq}"))
            };
        }
        spins += 1;
        if spins % 4096 == 0 && Instant::now() > deadline {
            return Err("iceoryx2: timed out waiting for a sample".into());
        }
        std::hint::spin_loop();
    }
}

/// Nanoseconds of each of `trips` round trips: a sample published on `…/ping`, echoed back
/// by the worker on `…/pong`.
pub fn round_trips(exe: &WorkerExe, trips: u64) -> Result<Vec<u64>, String> {
    with_worker(
        exe,
        "iceoryx2-echo",
        trips,
        &[],
        |root| {
            let node = node(root)?;
            let ping = service(&node, "synclab/bench/ping", true)?;
            let pong = service(&node, "synclab/bench/pong", true)?;
            let sub = pong
                .subscriber_builder()
                .create()
                .map_err(|e| err("subscriber")(&e))?;
            let p = publisher(&ping)?;
            Ok((node, ping, pong, sub, p))
        },
        |(_node, ping, _pong, sub, p), _child| {
            await_subscriber(&ping)?;
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut samples = Vec::with_capacity(trips as usize);
            for i in 0..trips {
                let t0 = Instant::now();
                send(&p, i)?;
                let got = receive_one(&sub, deadline)?;
                samples.push(t0.elapsed().as_nanos() as u64);
                if got != i {
                    return Err(format!("iceoryx2 round trip {i}: the echo was {got}"));
                }
            }
            Ok(samples)
        },
    )
}

/// Worker side of [`round_trips`]: receive on `SERVICE/ping`, echo on `SERVICE/pong`.
pub fn echo(root: &StdPath, service_name: &str, trips: u64) -> Result<(), String> {
    let node = node(root)?;
    let ping = service(&node, &format!("{service_name}/ping"), false)?;
    let pong = service(&node, &format!("{service_name}/pong"), false)?;
    let sub = ping
        .subscriber_builder()
        .create()
        .map_err(|e| err("subscriber")(&e))?;
    let p = publisher(&pong)?;
    await_subscriber(&pong)?;
    let deadline = Instant::now() + Duration::from_secs(120);
    for _ in 0..trips {
        let seq = receive_one(&sub, deadline)?;
        send(&p, seq)?;
    }
    Ok(())
}
