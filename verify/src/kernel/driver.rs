//! Runs a scenario's socket calls on real Linux sockets (inside the namespace child): each host
//! has the address `127.0.0.(i+1)` and runs its steps in order, a step starting when the
//! previous one returned and not before its `at_ms` (real milliseconds since the start).
//! Blocking calls (accept, connect, recv) are non-blocking sockets polled by one event loop, so
//! hosts proceed independently as in the simulator. After every step and every loop turn the
//! state of every connection is sampled (TCP_INFO, and `ss` listings from a sampler thread); the run ends once every step returned and no segment
//! was sent for [`QUIET_MS`], or at [`LIMIT_MS`].

use super::capture::Capture;
use super::namespace::host_addr;
use super::nfqueue::Queue;
use super::observed::{push_state, ConnStates, Observation, StepEnd};
use super::states::{ss_sockets, tcp_info_state, SsLine};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    accept4, bind, connect, getpeername, getsockopt, listen, recv, send, setsockopt, shutdown,
    socket, sockopt, AddressFamily, Backlog, MsgFlags, Shutdown, SockFlag, SockType, SockaddrIn,
};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;
use synclab_sim::scenario::Step;
use synclab_sim::socket::{How, SockCall};
use synclab_sim::Scenario;

/// The run ends this long after the last segment once every step has returned.
pub const QUIET_MS: u64 = 1500;
/// The longest a kernel run lasts (real time), whatever the scenario's `duration_ms`.
pub const LIMIT_MS: u64 = 12_000;
/// How often `ss` lists the connections (also those no descriptor names).
const SS_EVERY_MS: u64 = 10;

/// A handle of a scenario: a socket we hold (or held) and its connection.
struct Handle {
    fd: Option<OwnedFd>,
    /// Index into the observation's connections, once connected or accepted.
    conn: Option<usize>,
}

/// A blocking call still waiting.
enum Pending {
    Connect,
    Accept { as_: String },
    Recv { want: usize, got: Vec<u8> },
    Send { data: Vec<u8>, off: usize },
}

struct HostRun {
    steps: Vec<usize>,
    next: usize,
    pending: Option<(usize, Pending)>,
}

/// The driver of one run.
pub struct Driver<'a> {
    sc: &'a Scenario,
    start: Instant,
    hosts: Vec<HostRun>,
    handles: HashMap<(usize, String), Handle>,
    obs: Observation,
    /// Per connection: how many `ss` samples in a row did not show it.
    missing: Vec<u32>,
    /// Per connection: when TCP_INFO last read its state.
    info_at: Vec<Option<Instant>>,
}

impl<'a> Driver<'a> {
    /// A driver for `sc`, its clock started now.
    pub fn new(sc: &'a Scenario) -> Driver<'a> {
        let hosts = (0..sc.hosts.len())
            .map(|h| HostRun {
                steps: (0..sc.steps.len())
                    .filter(|&i| sc.steps[i].host == h)
                    .collect(),
                next: 0,
                pending: None,
            })
            .collect();
        Driver {
            sc,
            start: Instant::now(),
            hosts,
            handles: HashMap::new(),
            obs: Observation::default(),
            missing: Vec::new(),
            info_at: Vec::new(),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn host_name(&self, a: Ipv4Addr) -> String {
        let i = usize::from(a.octets()[3]).wrapping_sub(1);
        self.sc
            .hosts
            .get(i)
            .map_or_else(|| a.to_string(), |h| h.name.clone())
    }

    /// Runs the scenario to its end and returns what was observed.
    pub fn run(mut self, cap: &Capture, queue: Option<&Queue>) -> Observation {
        let mut held: Vec<u32> = Vec::new();
        let mut pairs_released = 0;
        let pairs = super::namespace::held_pairs(self.sc);
        let mut last_seg = 0;
        let stop = Arc::new(AtomicBool::new(false));
        let (sampler, ss_rx) = spawn_ss_sampler(stop.clone());
        loop {
            let now = self.now();
            let host_of = |a: Ipv4Addr| self.host_name(a);
            let mut segs = Vec::new();
            if cap.drain(now, &host_of, &mut segs) > 0 {
                last_seg = now;
            }
            self.obs.segments.extend(segs);
            // In the simulator every call made at one instant precedes the segments it causes
            // (they take a millisecond); on loopback a SYN arrives at once. So listeners due
            // now open before any host's other calls.
            for h in 0..self.hosts.len() {
                self.advance(h, true);
            }
            for h in 0..self.hosts.len() {
                self.advance(h, false);
            }
            for lines in ss_rx.try_iter().collect::<Vec<_>>() {
                self.sample(Some(lines));
            }
            self.sample(None);
            let done = self
                .hosts
                .iter()
                .all(|h| h.pending.is_none() && h.next >= h.steps.len());
            let now = self.now();
            if (done && now >= last_seg + QUIET_MS) || now >= LIMIT_MS.min(self.sc.duration_ms) {
                break;
            }
            if let Some(q) = queue {
                release_pairs(q, &mut held, &mut pairs_released, pairs);
            }
            let mut fds = vec![PollFd::new(cap.as_fd(), PollFlags::POLLIN)];
            if let Some(q) = queue {
                fds.push(PollFd::new(q.as_fd(), PollFlags::POLLIN));
            }
            let _ = poll(&mut fds, PollTimeout::from(2u8));
        }
        let host_of = |a: Ipv4Addr| self.host_name(a);
        let mut segs = Vec::new();
        cap.drain(self.now(), &host_of, &mut segs);
        self.obs.segments.extend(segs);
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        for lines in ss_rx.try_iter().collect::<Vec<_>>() {
            self.sample(Some(lines));
        }
        self.sample(Some((Instant::now(), ss_sockets())));
        self.sample(Some((Instant::now(), ss_sockets())));
        for h in &self.hosts {
            if let Some((si, _)) = h.pending {
                self.obs.steps.push(StepEnd {
                    step: si,
                    result: "blocked".into(),
                });
            }
        }
        self.obs
    }

    /// Starts or polls host `h`'s steps until one blocks or a later one must wait for `at_ms`
    /// (with `listens_only`, until its next step is not a `listen`).
    fn advance(&mut self, h: usize, listens_only: bool) {
        loop {
            if listens_only && self.hosts[h].pending.is_some() {
                return;
            }
            if let Some((si, p)) = self.hosts[h].pending.take() {
                match self.poll_pending(h, si, p) {
                    Ok(None) => self.end_step(si, "ok"),
                    Ok(Some(p)) => {
                        self.hosts[h].pending = Some((si, p));
                        return;
                    }
                    Err(e) => self.end_step(si, &format!("{e:?}")),
                }
                continue;
            }
            let Some(&si) = self.hosts[h].steps.get(self.hosts[h].next) else {
                return;
            };
            let step = &self.sc.steps[si];
            let is_listen = matches!(step.call, SockCall::Listen { .. });
            if step.at_ms.is_some_and(|t| self.now() < t) || (listens_only && !is_listen) {
                return;
            }
            self.hosts[h].next += 1;
            match self.start_step(h, step) {
                Ok(None) => self.end_step(si, "ok"),
                Ok(Some(p)) => self.hosts[h].pending = Some((si, p)),
                Err(e) => self.end_step(si, &format!("{e:?}")),
            }
        }
    }

    fn end_step(&mut self, si: usize, result: &str) {
        self.obs.steps.push(StepEnd {
            step: si,
            result: result.to_string(),
        });
        self.sample(None);
    }

    fn fd(&self, h: usize, sock: &str) -> Result<std::os::fd::RawFd, Errno> {
        self.handles
            .get(&(h, sock.to_string()))
            .and_then(|x| x.fd.as_ref())
            .map(|f| f.as_raw_fd())
            .ok_or(Errno::EBADF)
    }

    /// Starts a step: `Ok(None)` when it returned, `Ok(Some(p))` when it blocks.
    fn start_step(&mut self, h: usize, step: &Step) -> Result<Option<Pending>, Errno> {
        let key = (h, step.sock.clone());
        match &step.call {
            SockCall::Listen { port, backlog } => {
                let fd = tcp_socket(SocketAddrV4::new(host_addr(h), *port))?;
                listen(
                    &fd,
                    Backlog::new(*backlog as i32).map_err(|_| Errno::EINVAL)?,
                )?;
                self.handles.insert(
                    key,
                    Handle {
                        fd: Some(fd),
                        conn: None,
                    },
                );
                Ok(None)
            }
            SockCall::Accept { as_ } => Ok(Some(Pending::Accept { as_: as_.clone() })),
            SockCall::Connect { port, to } => {
                let port = port.ok_or(Errno::EINVAL)?;
                let fd = tcp_socket(SocketAddrV4::new(host_addr(h), port))?;
                let dst = SockaddrIn::from(SocketAddrV4::new(host_addr(to.0), to.1));
                match connect(fd.as_raw_fd(), &dst) {
                    Ok(()) | Err(Errno::EINPROGRESS) => {}
                    Err(e) => return Err(e),
                }
                let conn =
                    self.conn_index(h, port, &format!("{}:{}", self.sc.hosts[to.0].name, to.1));
                // connect() put the socket in SYN-SENT before sending the SYN; on loopback the
                // answer may already have moved it on when connect() returns, unsampled.
                push_state(&mut self.obs.conns[conn].states, "SYN-SENT");
                self.handles.insert(
                    key,
                    Handle {
                        fd: Some(fd),
                        conn: Some(conn),
                    },
                );
                Ok(Some(Pending::Connect))
            }
            SockCall::Send(data) => Ok(Some(Pending::Send {
                data: data.clone(),
                off: 0,
            })),
            SockCall::Recv(n) => Ok(Some(Pending::Recv {
                want: *n,
                got: Vec::new(),
            })),
            SockCall::Shutdown(how) => {
                let how = match how {
                    How::Read => Shutdown::Read,
                    How::Write => Shutdown::Write,
                    How::Both => Shutdown::Both,
                };
                shutdown(self.fd(h, &step.sock)?, how)?;
                Ok(None)
            }
            SockCall::Close | SockCall::Abort => {
                let handle = self.handles.get_mut(&key).ok_or(Errno::EBADF)?;
                let fd = handle.fd.take().ok_or(Errno::EBADF)?;
                if step.call == SockCall::Abort {
                    let linger = libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    setsockopt(&fd, sockopt::Linger, &linger)?;
                }
                drop(fd);
                Ok(None)
            }
            SockCall::Crash => Err(Errno::ENOTSUP),
        }
    }

    /// Polls a blocked call: `Ok(None)` when it returned, `Ok(Some(p))` while it still blocks.
    fn poll_pending(&mut self, h: usize, si: usize, p: Pending) -> Result<Option<Pending>, Errno> {
        let sock = self.sc.steps[si].sock.clone();
        let fd = self.fd(h, &sock)?;
        match p {
            Pending::Connect => {
                // SAFETY: `fd` is open (held in `handles`) for the duration of this borrow.
                let bfd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                let err = getsockopt(&bfd, sockopt::SocketError)?;
                if err != 0 {
                    return Err(Errno::from_raw(err));
                }
                match tcp_info_state(bfd) {
                    Some("SYN-SENT" | "SYN-RECEIVED") => Ok(Some(Pending::Connect)),
                    _ => Ok(None),
                }
            }
            Pending::Accept { as_ } => {
                match accept4(fd, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC) {
                    Ok(c) => {
                        // SAFETY: accept4 returned a new descriptor that nothing else owns.
                        let c = unsafe { OwnedFd::from_raw_fd(c) };
                        let peer: SockaddrIn = getpeername(c.as_raw_fd())?;
                        let local = self.sc.steps[si].sock.clone();
                        let port = self.listen_port(h, &local);
                        let remote = format!("{}:{}", self.host_name(peer.ip()), peer.port());
                        let conn = self.conn_index(h, port, &remote);
                        self.handles.insert(
                            (h, as_),
                            Handle {
                                fd: Some(c),
                                conn: Some(conn),
                            },
                        );
                        Ok(None)
                    }
                    Err(Errno::EAGAIN) => Ok(Some(Pending::Accept { as_ })),
                    Err(e) => Err(e),
                }
            }
            Pending::Recv { want, mut got } => {
                let mut buf = vec![0u8; want - got.len()];
                match recv(fd, &mut buf, MsgFlags::empty()) {
                    Ok(0) => Ok(None),
                    Ok(n) => {
                        got.extend_from_slice(&buf[..n]);
                        if got.len() >= want {
                            Ok(None)
                        } else {
                            Ok(Some(Pending::Recv { want, got }))
                        }
                    }
                    Err(Errno::EAGAIN) => Ok(Some(Pending::Recv { want, got })),
                    Err(e) => Err(e),
                }
            }
            Pending::Send { data, mut off } => {
                match send(fd, &data[off..], MsgFlags::MSG_NOSIGNAL) {
                    Ok(n) => off += n,
                    Err(Errno::EAGAIN) => {}
                    Err(e) => return Err(e),
                }
                if off >= data.len() {
                    Ok(None)
                } else {
                    Ok(Some(Pending::Send { data, off }))
                }
            }
        }
    }

    fn listen_port(&self, h: usize, sock: &str) -> u16 {
        self.sc
            .steps
            .iter()
            .find_map(|s| match s.call {
                SockCall::Listen { port, .. } if s.host == h && s.sock == sock => Some(port),
                _ => None,
            })
            .unwrap_or(0)
    }

    fn conn_index(&mut self, h: usize, port: u16, remote: &str) -> usize {
        let host = &self.sc.hosts[h].name;
        if let Some(i) = self
            .obs
            .conns
            .iter()
            .position(|c| &c.host == host && c.local_port == port && c.remote == remote)
        {
            return i;
        }
        self.obs.conns.push(ConnStates {
            host: host.clone(),
            local_port: port,
            remote: remote.to_string(),
            states: Vec::new(),
        });
        self.obs.conns.len() - 1
    }

    /// Samples every connection's state: TCP_INFO where we hold its socket, and, with an `ss`
    /// listing, the rest. A connection seen before that neither shows in two listings in a row
    /// is CLOSED.
    fn sample(&mut self, ss: Option<(Instant, Vec<SsLine>)>) {
        let mut seen = vec![false; self.obs.conns.len()];
        let mut held = Vec::new();
        for hd in self.handles.values() {
            if let (Some(fd), Some(c)) = (&hd.fd, hd.conn) {
                // A held socket whose connection went to TIME-WAIT reads CLOSED (Linux moves
                // the connection to a TIME-WAIT entry): what became of it is ss's to say.
                if let Some(s) = tcp_info_state(fd.as_fd()).filter(|s| *s != "CLOSED") {
                    held.push((c, s));
                }
            }
        }
        let now = Instant::now();
        self.info_at.resize(self.obs.conns.len(), None);
        for (c, s) in held {
            seen[c] = true;
            self.info_at[c] = Some(now);
            push_state(&mut self.obs.conns[c].states, s);
        }
        let Some((taken, lines)) = ss else { return };
        for l in lines {
            let h = usize::from(l.local.ip().octets()[3]).wrapping_sub(1);
            if h >= self.sc.hosts.len() {
                continue;
            }
            let remote = format!("{}:{}", self.host_name(*l.peer.ip()), l.peer.port());
            let c = self.conn_index(h, l.local.port(), &remote);
            if c >= seen.len() {
                seen.resize(c + 1, false);
            }
            self.info_at.resize(self.obs.conns.len(), None);
            // A listing older than this connection's last TCP_INFO reading is stale for it.
            let stale = self.info_at[c].is_some_and(|t| t > taken);
            if !seen[c] && !stale {
                seen[c] = true;
                push_state(&mut self.obs.conns[c].states, l.state);
            }
            seen[c] = true;
        }
        self.missing.resize(seen.len(), 0);
        for (c, was_seen) in seen.iter().enumerate() {
            let conn = &mut self.obs.conns[c];
            self.missing[c] = if *was_seen { 0 } else { self.missing[c] + 1 };
            // Gone from two listings in a row: a socket moving from our descriptor to the
            // kernel's TIME-WAIT table can be missing from one.
            if self.missing[c] >= 2 && !conn.states.is_empty() {
                push_state(&mut conn.states, "CLOSED");
            }
        }
    }
}

/// Lists the namespace's sockets with `ss` every [`SS_EVERY_MS`] on its own thread until
/// `stop`, so a slow `ss` never delays a step (a late close would change what Linux sends: its
/// delayed ACK of a FIN rides on a FIN sent soon enough).
fn spawn_ss_sampler(stop: Arc<AtomicBool>) -> (JoinHandle<()>, Receiver<(Instant, Vec<SsLine>)>) {
    let (tx, rx) = channel();
    let t = std::thread::spawn(move || {
        // Relaxed: the flag carries no data; seeing it a turn late costs one more listing.
        while !stop.load(Ordering::Relaxed) {
            if tx.send((Instant::now(), ss_sockets())).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(SS_EVERY_MS));
        }
    });
    (t, rx)
}

/// The first `pairs` pairs of queued segments (SYNs, SYN,ACKs, FINs: see
/// [`super::namespace::held_pairs`]) are each held until both are there, then released together
/// (they cross); every later one goes on at once.
fn release_pairs(q: &Queue, held: &mut Vec<u32>, pairs_released: &mut usize, pairs: usize) {
    held.extend(q.take());
    if *pairs_released >= pairs || held.len() >= 2 {
        for id in held.drain(..) {
            let _ = q.accept(id);
        }
        *pairs_released += 1;
    }
}

/// A non-blocking TCP socket bound to `addr` (SO_REUSEADDR, so a port in TIME-WAIT can be
/// bound again as in the simulator).
fn tcp_socket(addr: SocketAddrV4) -> Result<OwnedFd, Errno> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    bind(fd.as_raw_fd(), &SockaddrIn::from(addr))?;
    Ok(fd)
}
