//! Holding segments under control: an `NFQUEUE` (netfilter queue 0, `nfnetlink_queue`) that
//! iptables sends chosen segments to, so the harness decides when each is delivered. Used to
//! make SYNs cross as in RFC 9293 Figure 7 (and FINs as in Figure 13): both ends' segments are held until both were sent,
//! then released together. The netlink messages are built by hand (`nlmsghdr`, `nfgenmsg`,
//! attributes) as `<linux/netfilter/nfnetlink_queue.h>` lays them out.

use nix::sys::socket::{
    bind, recv, send, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol,
    SockType,
};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_COPY_META: u8 = 1;
const NF_ACCEPT: u32 = 1;
const NLM_F_REQUEST: u16 = 1;

/// Queue 0, bound.
pub struct Queue {
    fd: OwnedFd,
}

fn attr(buf: &mut Vec<u8>, ty: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(payload);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// A netlink message of the queue subsystem: header, `nfgenmsg` for queue 0, attributes.
fn message(msg: u16, family: u8, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&((NFNL_SUBSYS_QUEUE << 8) | msg).to_ne_bytes());
    m.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
    m.extend_from_slice(&[family, 0]); // nfgen_family, version NFNETLINK_V0
    m.extend_from_slice(&0u16.to_be_bytes()); // res_id: queue 0
    m.extend_from_slice(attrs);
    m
}

impl Queue {
    /// Binds queue 0 for IPv4, copying metadata only (the packet id is all we need).
    pub fn open() -> nix::Result<Queue> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkNetFilter,
        )?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0))?;
        let q = Queue { fd };
        let mut a = Vec::new();
        attr(
            &mut a,
            NFQA_CFG_CMD,
            &[NFQNL_CFG_CMD_BIND, 0, 0, libc::AF_INET as u8],
        );
        q.send(&message(NFQNL_MSG_CONFIG, libc::AF_UNSPEC as u8, &a))?;
        let mut a = Vec::new();
        let mut params = 0u32.to_be_bytes().to_vec();
        params.push(NFQNL_COPY_META);
        attr(&mut a, NFQA_CFG_PARAMS, &params);
        q.send(&message(NFQNL_MSG_CONFIG, libc::AF_UNSPEC as u8, &a))?;
        Ok(q)
    }

    fn send(&self, m: &[u8]) -> nix::Result<()> {
        send(self.fd.as_raw_fd(), m, MsgFlags::empty()).map(|_| ())
    }

    /// The descriptor, to poll on.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The ids of every packet queued since the last call.
    pub fn take(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            let mut off = 0;
            while off + 20 <= n {
                let len = u32::from_ne_bytes(buf[off..off + 4].try_into().expect("4")) as usize;
                let ty = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
                if len < 20 || off + len > n {
                    break;
                }
                if ty == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
                    if let Some(id) = packet_id(&buf[off + 20..off + len]) {
                        ids.push(id);
                    }
                }
                off += len.next_multiple_of(4);
            }
        }
        ids
    }

    /// Lets packet `id` go on.
    pub fn accept(&self, id: u32) -> nix::Result<()> {
        let mut v = NF_ACCEPT.to_be_bytes().to_vec();
        v.extend_from_slice(&id.to_be_bytes());
        let mut a = Vec::new();
        attr(&mut a, NFQA_VERDICT_HDR, &v);
        self.send(&message(NFQNL_MSG_VERDICT, libc::AF_UNSPEC as u8, &a))
    }
}

/// `NFQA_PACKET_HDR`'s packet id among a packet message's attributes.
fn packet_id(mut attrs: &[u8]) -> Option<u32> {
    while attrs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([attrs[0], attrs[1]]));
        let ty = u16::from_ne_bytes([attrs[2], attrs[3]]) & 0x7fff;
        if len < 4 || len > attrs.len() {
            return None;
        }
        if ty == NFQA_PACKET_HDR && len >= 8 {
            return Some(u32::from_be_bytes(attrs[4..8].try_into().ok()?));
        }
        attrs = &attrs[len.next_multiple_of(4).min(attrs.len())..];
    }
    None
}
