//! Loom model of the spsc chunk API (`write_chunk`/`push_slice` on the producer side,
//! `read_chunk` on the consumer side, in place).
//!
//! Bounds: capacity 2, 3 records, one producer thread and one consumer thread. The producer
//! pushes record 0 alone, then records 1 and 2 with one `push_slice` (a write chunk, a bulk copy,
//! one commit), so when the consumer has freed slot 0 the second chunk wraps (slots 1, 0); the
//! consumer takes read chunks of up to 2 records (wrapping the same way), reads each record in
//! place through the chunk and releases the whole chunk. Checked in every interleaving: the
//! consumer sees exactly 0, 1, 2 (FIFO, no loss, no duplicate, no record read before it was
//! written) and no data race on a payload cell (loom tracks each cell). Mutants:
//! `spsc-chunk-publish-before-copy` (commit before the copy) and
//! `spsc-chunk-second-slice-off-by-one` (a wrapped read chunk one record too long).

use super::harness::{explore, Explored, ModelOptions, ModelSpec};
use super::spsc::{one_to_one, push_all, ITEMS};
use crate::mutant_dispatch;
use loom::thread;
use synclab_core::model::Spsc;
use synclab_core::model::{Memory, Mutant};
use synclab_core::RingError;

/// The chunk API, non-blocking, with yields when full/empty.
pub static CHUNKS: ModelSpec = ModelSpec {
    name: "spsc-chunks",
    about: "spsc ring, zero-copy write_chunk/push_slice and read_chunk (wrapping chunks): \
            capacity 2, 3 records, 1 producer / 1 consumer",
    default_preemptions: Some(2),
    mutants: &[
        Mutant::SpscChunkPublishBeforeCopy,
        Mutant::SpscChunkSecondSliceOffByOne,
        Mutant::SpscRelaxedPublish,
        Mutant::SpscFullOffByOne,
    ],
    run: |m, o| {
        mutant_dispatch!(
            m,
            o,
            chunks,
            [
                SpscChunkPublishBeforeCopy,
                SpscChunkSecondSliceOffByOne,
                SpscRelaxedPublish,
                SpscFullOffByOne
            ]
        )
    },
};

fn chunks<M: Memory>(o: &ModelOptions) -> Explored {
    explore(o, || {
        let ring = Spsc::<u32, M>::builder().capacity(2).heap().unwrap();
        one_to_one(
            ring,
            // Record 0 alone, then the rest in one chunk (which wraps once slot 0 is free).
            |producer| push_all(producer, |sent| if sent == 0 { 1 } else { ITEMS as usize }),
            |consumer| {
                let mut got = Vec::new();
                while got.len() < ITEMS as usize {
                    match consumer.read_chunk(2) {
                        Ok(chunk) => {
                            got.extend((0..chunk.len()).map(|i| chunk.get(i)));
                            chunk.release_all();
                        }
                        Err(RingError::Empty) => thread::yield_now(),
                        Err(e) => panic!("read_chunk: {e}"),
                    }
                }
                got
            },
        );
    })
}
