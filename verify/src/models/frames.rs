//! Loom model of the `frames` ring.
//!
//! Bounds: a 32-byte buffer (largest message 8 bytes), one producer sending frames of 0, 8 and 5
//! bytes (8, 16 and 16 bytes in the ring: the third needs the padding marker and wraps), one
//! consumer; blocking forms. Checked: frames arrive in order with intact contents, no data race
//! on any byte cell, no lost wakeup.

use super::harness::{explore, Explored, Held, ModelOptions, ModelSpec};
use crate::mutant_dispatch;
use loom::thread;
use synclab_core::model::Frames;
use synclab_core::model::{Memory, Mutant};

const LENGTHS: [usize; 3] = [0, 8, 5];

/// Variable-length frames with wrap-around.
pub static WRAP: ModelSpec = ModelSpec {
    name: "frames",
    about: "frames ring, blocking: 32-byte buffer, frames of 0, 8, 5 bytes (wraps with padding)",
    default_preemptions: Some(2),
    mutants: &[Mutant::FramesRelaxedPublish, Mutant::FramesFreeOffByOne],
    run: |m, o| mutant_dispatch!(m, o, wrap, [FramesRelaxedPublish, FramesFreeOffByOne]),
};

fn frame(i: usize) -> Vec<u8> {
    (0..LENGTHS[i]).map(|k| (i * 16 + k) as u8).collect()
}

fn wrap<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let ring = Frames::<M>::builder().capacity(32).heap().unwrap();
        let mut producer = Held::new(ring.producer().unwrap());
        let mut consumer = Held::new(ring.consumer().unwrap());
        let p = thread::spawn(move || {
            for i in 0..LENGTHS.len() {
                producer.send(&frame(i), None).unwrap();
            }
        });
        let c = thread::spawn(move || {
            for i in 0..LENGTHS.len() {
                let got = consumer.recv(None).unwrap();
                assert_eq!(got, frame(i), "frame {i} in order and intact");
            }
        });
        p.join().unwrap();
        c.join().unwrap();
    })
}
