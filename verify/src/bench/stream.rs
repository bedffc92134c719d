//! The reading side of the byte-stream peers (a pipe, a Unix socket): `n` 16-byte records read
//! one at a time and checked, and the stream's end checked after the last.

use crate::record::{Record, SequenceCheck};
use std::io::Read;
use std::time::Instant;

/// Reads and checks `n` records from `stream`, then its end (the producer closes after its last
/// record: anything more is an error too); messages per second from the first record to the
/// last. `what` names the peer in errors.
pub fn read_stream_checked(stream: &mut impl Read, n: u64, what: &str) -> Result<f64, String> {
    let mut check = SequenceCheck::default();
    let mut buf = [0u8; std::mem::size_of::<Record>()];
    let mut start = None;
    for _ in 0..n {
        if let Err(e) = stream.read_exact(&mut buf) {
            return Err(format!(
                "{what}: reading a record: {e}; the consumer saw {}",
                check.json(n)
            ));
        }
        start.get_or_insert_with(Instant::now);
        let r: Record = bytemuck::pod_read_unaligned(&buf);
        check.see(r.seq, r.intact());
    }
    let seconds = start.map_or(0.0, |t| t.elapsed().as_secs_f64());
    if !check.ok(n) {
        return Err(format!("{what}: the consumer saw {}", check.json(n)));
    }
    match stream.read(&mut buf) {
        Ok(0) => Ok(n as f64 / seconds),
        Ok(_) => Err(format!("{what}: bytes after the last record")),
        Err(e) => Err(format!("{what}: waiting for the end of the stream: {e}")),
    }
}
