//! Reading a kernel socket's TCP state: `getsockopt(TCP_INFO)` on a descriptor we hold, and
//! `ss -tan` (the kernel's sock_diag table) for connections no descriptor of ours names (not yet
//! accepted, or closed and lingering in FIN-WAIT, LAST-ACK or TIME-WAIT). Both give RFC 9293
//! spellings.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::process::Command;

/// The `tcpi_state` of a socket, as an RFC 9293 state name; `None` if it cannot be read.
pub fn tcp_info_state(fd: BorrowedFd<'_>) -> Option<&'static str> {
    let mut info = [0u8; 256];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: `info` is a writable buffer of `len` bytes, and `len` is a valid pointer; the
    // kernel writes at most `len` bytes and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 || len < 1 {
        return None;
    }
    linux_state(info[0])
}

/// `enum tcp_state` of `<net/tcp_states.h>` as RFC 9293 names (NEW_SYN_RECV is a request
/// socket in SYN-RECEIVED).
pub fn linux_state(n: u8) -> Option<&'static str> {
    Some(match n {
        1 => "ESTABLISHED",
        2 => "SYN-SENT",
        3 | 12 => "SYN-RECEIVED",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "CLOSED",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => return None,
    })
}

/// One line of `ss -tanH`: state, local `IP:PORT`, peer `IP:PORT`.
pub struct SsLine {
    pub state: &'static str,
    pub local: std::net::SocketAddrV4,
    pub peer: std::net::SocketAddrV4,
}

/// Every TCP socket of the namespace with a peer (listeners left out), from `ss -tanH`.
pub fn ss_sockets() -> Vec<SsLine> {
    let Ok(out) = Command::new("ss").args(["-tanH"]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(parse_ss_line)
        .collect()
}

fn parse_ss_line(line: &str) -> Option<SsLine> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let state = match *w.first()? {
        "ESTAB" => "ESTABLISHED",
        "SYN-SENT" => "SYN-SENT",
        "SYN-RECV" => "SYN-RECEIVED",
        "FIN-WAIT-1" => "FIN-WAIT-1",
        "FIN-WAIT-2" => "FIN-WAIT-2",
        "TIME-WAIT" => "TIME-WAIT",
        "CLOSE-WAIT" => "CLOSE-WAIT",
        "LAST-ACK" => "LAST-ACK",
        "CLOSING" => "CLOSING",
        _ => return None,
    };
    Some(SsLine {
        state,
        local: w.get(3)?.parse().ok()?,
        peer: w.get(4)?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss_lines_parse_and_listeners_are_left_out() {
        let l = parse_ss_line("TIME-WAIT 0      0      127.0.0.1:5000 127.0.0.2:80").unwrap();
        assert_eq!(l.state, "TIME-WAIT");
        assert_eq!(l.local.port(), 5000);
        assert_eq!(l.peer.ip().octets(), [127, 0, 0, 2]);
        assert!(parse_ss_line("LISTEN 0 5 127.0.0.2:80 0.0.0.0:*").is_none());
    }
}
