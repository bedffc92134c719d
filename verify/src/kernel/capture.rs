//! Captures every TCP segment sent on the namespace's `lo`: an `AF_PACKET` datagram socket
//! (link header removed) bound to `lo`, keeping only outgoing packets (each loopback packet is
//! seen once leaving and once arriving), parsed as IPv4 + TCP.

use super::observed::Seg;
use nix::sys::socket::{
    bind, recvfrom, socket, AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType,
};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// `PACKET_OUTGOING` of `<linux/if_packet.h>`.
const PACKET_OUTGOING: u8 = 4;

/// The capture socket.
pub struct Capture {
    fd: OwnedFd,
}

impl Capture {
    /// Opens a non-blocking capture of every packet on `lo`.
    pub fn open() -> nix::Result<Capture> {
        let fd = socket(
            AddressFamily::Packet,
            SockType::Datagram,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )?;
        let ifindex = nix::net::if_::if_nametoindex("lo")?;
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value we then fill in.
        let mut ll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        ll.sll_family = libc::AF_PACKET as u16;
        ll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        ll.sll_ifindex = ifindex as i32;
        // SAFETY: `ll` is a valid sockaddr_ll and the length passed is its size.
        let addr = unsafe {
            <LinkAddr as nix::sys::socket::SockaddrLike>::from_raw(
                std::ptr::addr_of!(ll).cast(),
                Some(std::mem::size_of::<libc::sockaddr_ll>() as u32),
            )
        }
        .ok_or(nix::Error::EINVAL)?;
        bind(fd.as_raw_fd(), &addr)?;
        Ok(Capture { fd })
    }

    /// The descriptor, to poll on.
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads every packet waiting, appending the outgoing TCP segments (mapped to host names by
    /// `host_of`) stamped `t_ms`. Returns how many it appended.
    pub fn drain(
        &self,
        t_ms: u64,
        host_of: &dyn Fn(Ipv4Addr) -> String,
        out: &mut Vec<Seg>,
    ) -> usize {
        let mut buf = vec![0u8; 70_000];
        let mut n = 0;
        loop {
            match recvfrom::<LinkAddr>(self.fd.as_raw_fd(), &mut buf) {
                Ok((len, Some(addr))) if addr.pkttype() == PACKET_OUTGOING => {
                    if let Some(s) = parse_ipv4_tcp(&buf[..len], t_ms, host_of) {
                        out.push(s);
                        n += 1;
                    }
                }
                Ok(_) => {}
                Err(_) => return n, // EAGAIN: nothing more waiting
            }
        }
    }
}

/// An IPv4 packet carrying TCP, as a [`Seg`]; anything else is `None`.
pub fn parse_ipv4_tcp(p: &[u8], t_ms: u64, host_of: &dyn Fn(Ipv4Addr) -> String) -> Option<Seg> {
    if p.len() < 20 || p[0] >> 4 != 4 || p[9] != 6 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]])).min(p.len());
    let tcp = p.get(ihl..total)?;
    if tcp.len() < 20 {
        return None;
    }
    let doff = usize::from(tcp[12] >> 4) * 4;
    let bits = tcp[13];
    let mut flags = String::new();
    for (bit, letter) in [(0x02, 'S'), (0x01, 'F'), (0x04, 'R'), (0x10, 'A')] {
        if bits & bit != 0 {
            flags.push(letter);
        }
    }
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some(Seg {
        t_ms,
        from: host_of(Ipv4Addr::new(p[12], p[13], p[14], p[15])),
        from_port: u16::from_be_bytes([tcp[0], tcp[1]]),
        to: host_of(Ipv4Addr::new(p[16], p[17], p[18], p[19])),
        to_port: u16::from_be_bytes([tcp[2], tcp[3]]),
        flags,
        seq: be32(&tcp[4..8]),
        ack: be32(&tcp[8..12]),
        len: tcp.len().saturating_sub(doff) as u32,
    })
}
