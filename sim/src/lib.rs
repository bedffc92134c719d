//! synclab-sim: a deterministic, sans-IO simulator of TCP socket handshakes (RFC 9293).
//!
//! Not built yet: see issue 4.
