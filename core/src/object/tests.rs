//! Tests of the object layer: one builder for every object, type identity, all-or-nothing
//! create, the "being created" state and `persist`.

use crate::shm::{Region, RegionKind, RegionLayout, ShmError, ShmName};
use crate::{Frames, Mpmc, RingError, SemError, Semaphore, Spsc};
use std::time::{Duration, Instant};

fn exists(name: &ShmName) -> bool {
    std::path::Path::new(&format!("/dev/shm{name}")).exists()
}

#[test]
fn open_refuses_another_record_type_naming_both() {
    let name = ShmName::unique("objtype");
    let _ring = Spsc::<u64>::builder().capacity(4).create(&name).unwrap();
    let err = Spsc::<f64>::builder().open(&name).unwrap_err();
    assert!(
        matches!(err, RingError::Shm(ShmError::WrongType { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("u64") && msg.contains("f64"), "{msg}");
    let err = Mpmc::<u32>::builder().open(&name).unwrap_err();
    assert!(
        matches!(err, RingError::Shm(ShmError::WrongKind { .. })),
        "{err:?}"
    );
    assert!(Spsc::<u64>::builder().open(&name).is_ok());
}

#[test]
fn a_failed_create_leaves_no_name() {
    let name = ShmName::unique("objfail");
    let layout = RegionLayout {
        kind: RegionKind::Bytes,
        capacity: 1,
        elem_size: 1,
        elem_align: 1,
        params: [0; 4],
        body_len: 64,
    };
    let panicked = std::panic::catch_unwind(|| {
        Region::create_named(&name, &layout, |_, _| panic!("initialiser fails"))
    });
    assert!(panicked.is_err());
    assert!(!exists(&name), "a panicking create left {name} behind");
    // And a create refused for its parameters never makes the name.
    assert!(Spsc::<u64>::builder().capacity(3).create(&name).is_err());
    assert!(!exists(&name));
}

#[test]
fn being_created_is_one_waitable_state() {
    let name = ShmName::unique("objpending");
    // A creator stopped between `shm_open` and `ftruncate`: an empty object.
    let fd = nix::sys::mman::shm_open(
        name.as_str(),
        nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_EXCL | nix::fcntl::OFlag::O_RDWR,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap();
    let err = Spsc::<u64>::builder().open(&name).unwrap_err();
    assert_eq!(
        err,
        RingError::Shm(ShmError::BeingCreated(name.to_string()))
    );
    let start = Instant::now();
    let err = Spsc::<u64>::builder()
        .open_timeout(&name, Duration::from_millis(30))
        .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        err,
        RingError::Shm(ShmError::BeingCreated(name.to_string()))
    );
    drop(fd);
    nix::sys::mman::shm_unlink(name.as_str()).unwrap();
    // Not there at all: NotFound, also after waiting.
    let err = Semaphore::builder()
        .open_timeout(&name, Duration::from_millis(5))
        .unwrap_err();
    assert_eq!(err, SemError::Shm(ShmError::NotFound(name.to_string())));
}

#[test]
fn open_or_create_races_to_one_object() {
    let name = ShmName::unique("objrace");
    let rings: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| Mpmc::<u64>::builder().capacity(8).open_or_create(&name)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let rings: Vec<_> = rings.into_iter().map(Result::unwrap).collect();
    for (i, q) in rings.iter().enumerate() {
        q.try_push(i as u64).unwrap();
    }
    assert_eq!(rings[0].len(), 4, "all four handles share one queue");
}

#[test]
fn persist_keeps_the_name_for_a_later_process() {
    let name = ShmName::unique("objpersist");
    let ring = Frames::builder().capacity(64).create(&name).unwrap();
    ring.persist();
    ring.producer().unwrap().try_send(b"kept").unwrap();
    drop(ring);
    assert!(exists(&name));
    let again = Frames::builder().open(&name).unwrap();
    assert_eq!(again.consumer().unwrap().try_recv().unwrap(), b"kept");
    nix::sys::mman::shm_unlink(name.as_str()).unwrap();
    let sem = Semaphore::builder().max(2).create(&name).unwrap();
    drop(sem);
    assert!(!exists(&name), "an unpersisted creator unlinks its name");
}

#[test]
fn header_records_the_creator() {
    let ring = Spsc::<u8>::builder().capacity(2).anonymous().unwrap();
    let creator = ring.region().unwrap().creator();
    assert_eq!(creator, crate::ProcessKey::current().unwrap());
    assert!(format!("{ring:?}").contains("capacity: 2"));
}
