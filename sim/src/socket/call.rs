//! The socket calls a scenario step makes, and their completion: a call either returns at once
//! or blocks (accept, connect, recv) and is polled again after every event until it returns.

use super::host::{Handle, Host, HostOut};
use super::{HostId, IsnSource};
use crate::tcp::{Call, Errno, State, Tcb};

/// `shutdown`'s `how`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    Read,
    Write,
    Both,
}

/// One call of a scenario step (SCENARIOS.md `call`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockCall {
    Listen {
        port: u16,
        backlog: usize,
    },
    Accept {
        as_: String,
    },
    Connect {
        port: Option<u16>,
        to: (HostId, u16),
    },
    Send(Vec<u8>),
    Recv(usize),
    Shutdown(How),
    Close,
    Abort,
    Crash,
}

impl SockCall {
    /// The scenario spelling of the call.
    pub fn name(&self) -> &'static str {
        match self {
            SockCall::Listen { .. } => "listen",
            SockCall::Accept { .. } => "accept",
            SockCall::Connect { .. } => "connect",
            SockCall::Send(_) => "send",
            SockCall::Recv(_) => "recv",
            SockCall::Shutdown(_) => "shutdown",
            SockCall::Close => "close",
            SockCall::Abort => "abort",
            SockCall::Crash => "crash",
        }
    }
}

/// The result of a call: `Ok(data)` (data only for recv) or an errno.
pub type CallResult = Result<Vec<u8>, Errno>;

impl Host {
    /// Starts (`first`) or polls a call on handle `sock`. `None` means it is still blocked;
    /// `acc` carries a blocked recv's bytes between polls.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        now: u64,
        sock: &str,
        call: &SockCall,
        first: bool,
        acc: &mut Vec<u8>,
        isns: &mut impl IsnSource,
        out: &mut HostOut,
    ) -> Option<CallResult> {
        match call {
            SockCall::Listen { port, backlog } => Some(self.listen(now, sock, *port, *backlog)),
            SockCall::Accept { as_ } => self.accept(now, sock, as_),
            SockCall::Connect { port, to } => {
                if first {
                    if let Err(e) = self.connect(now, sock, *port, *to, isns, out) {
                        return Some(Err(e));
                    }
                }
                let c = self.conn_of(sock)?;
                let conn = &self.conns[c];
                match conn.tcb.state() {
                    State::SynSent | State::SynReceived => None,
                    State::Closed => {
                        let e = conn.tcb.error().unwrap_or(Errno::ConnRefused);
                        self.conns[c].error_reported = true;
                        Some(Err(e))
                    }
                    _ => Some(Ok(Vec::new())),
                }
            }
            SockCall::Send(data) => Some(self.send(now, sock, data, out)),
            SockCall::Recv(n) => self.recv(now, sock, *n, acc, out),
            SockCall::Shutdown(how) => Some(self.shutdown(now, sock, *how, out)),
            SockCall::Close => Some(self.close(now, sock, out)),
            SockCall::Abort => Some(self.abort(now, sock, out)),
            SockCall::Crash => {
                self.crash(now);
                Some(Ok(Vec::new()))
            }
        }
    }

    fn conn_of(&self, sock: &str) -> Option<usize> {
        match self.handles.get(sock) {
            Some(Handle::Conn(c)) => Some(*c),
            _ => None,
        }
    }

    /// The connection behind `sock`, or ENOTCONN; a pending error is reported (once) first.
    fn live_conn(&mut self, sock: &str) -> Result<usize, Errno> {
        let c = self.conn_of(sock).ok_or(Errno::NotConn)?;
        let conn = &mut self.conns[c];
        if let Some(e) = conn.tcb.error() {
            if !conn.error_reported {
                conn.error_reported = true;
                return Err(e);
            }
        }
        Ok(c)
    }

    fn listen(&mut self, now: u64, sock: &str, port: u16, backlog: usize) -> CallResult {
        if self.listener_on(port).is_some() {
            return Err(Errno::AddrInUse);
        }
        self.listeners.push(super::host::Listener {
            port,
            backlog,
            queue: Default::default(),
            open: true,
            trajectory: vec![(State::Listen, now)],
        });
        self.bind(sock, Handle::Listener(self.listeners.len() - 1));
        Ok(Vec::new())
    }

    fn accept(&mut self, _now: u64, sock: &str, as_: &str) -> Option<CallResult> {
        let Some(Handle::Listener(l)) = self.handles.get(sock).cloned() else {
            return Some(Err(Errno::NotConn));
        };
        if !self.listeners[l].open {
            return Some(Err(Errno::NotConn));
        }
        let pos = self.listeners[l]
            .queue
            .iter()
            .position(|&c| self.conns[c].tcb.state() != State::SynReceived)?;
        let c = self.listeners[l].queue.remove(pos).expect("in queue");
        self.conns[c].listener = None;
        self.conns[c].handle = Some(as_.to_string());
        self.bind(as_, Handle::Conn(c));
        Some(Ok(Vec::new()))
    }

    fn connect(
        &mut self,
        now: u64,
        sock: &str,
        port: Option<u16>,
        to: (HostId, u16),
        isns: &mut impl IsnSource,
        out: &mut HostOut,
    ) -> Result<(), Errno> {
        let lport = match port {
            Some(p) => {
                if self.listener_on(p).is_some() {
                    return Err(Errno::AddrInUse);
                }
                if self.demux.contains_key(&(p, to.0, to.1)) {
                    return Err(if self.cfg.eaddrnotavail_for_tuple_in_use {
                        Errno::AddrNotAvail
                    } else {
                        Errno::AddrInUse
                    });
                }
                p
            }
            None => self.ephemeral_port(),
        };
        let (iss, drawn) = self.next_isn(isns);
        let (tcb, o) = Tcb::connect(self.cfg, lport, to.1, iss, now);
        let c = self.add_conn(tcb, to.0, now, None);
        self.conns[c].iss_drawn = drawn;
        self.conns[c].handle = Some(sock.to_string());
        self.bind(sock, Handle::Conn(c));
        self.absorb(c, o, now, out);
        Ok(())
    }

    fn send(&mut self, now: u64, sock: &str, data: &[u8], out: &mut HostOut) -> CallResult {
        let c = self.live_conn(sock)?;
        let st = self.conns[c].tcb.state();
        if matches!(st, State::SynSent | State::SynReceived) {
            return Err(Errno::NotConn);
        }
        if st == State::Closed || self.conns[c].tcb.write_closed() || !self.conns[c].alive {
            return Err(Errno::Pipe);
        }
        self.conns[c].app_sent.extend_from_slice(data);
        let o = self.conns[c].tcb.on_call(Call::Send(data.to_vec()), now);
        self.absorb(c, o, now, out);
        Ok(Vec::new())
    }

    fn recv(
        &mut self,
        now: u64,
        sock: &str,
        n: usize,
        acc: &mut Vec<u8>,
        out: &mut HostOut,
    ) -> Option<CallResult> {
        let c = match self.live_conn(sock) {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        if self.conns[c].read_shut || !self.conns[c].alive && self.conns[c].tcb.readable() == 0 {
            return Some(Ok(std::mem::take(acc)));
        }
        let want = n - acc.len();
        if want > 0 && self.conns[c].tcb.readable() > 0 {
            let o = self.conns[c].tcb.on_call(Call::Recv(want), now);
            self.conns[c].app_read.extend_from_slice(&o.data);
            acc.extend_from_slice(&o.data);
            self.absorb(c, o, now, out);
        }
        let tcb = &self.conns[c].tcb;
        if acc.len() == n || tcb.at_eof() || tcb.state() == State::Closed {
            return Some(Ok(std::mem::take(acc)));
        }
        None
    }

    fn shutdown(&mut self, now: u64, sock: &str, how: How, out: &mut HostOut) -> CallResult {
        let c = self.live_conn(sock)?;
        if !self.conns[c].tcb.state().is_synchronized() || !self.conns[c].alive {
            return Err(Errno::NotConn);
        }
        if how != How::Write {
            self.conns[c].read_shut = true;
        }
        if how != How::Read {
            let o = self.conns[c].tcb.on_call(Call::Close, now);
            self.absorb(c, o, now, out);
        }
        Ok(Vec::new())
    }

    fn close(&mut self, now: u64, sock: &str, out: &mut HostOut) -> CallResult {
        match self.handles.get(sock).cloned() {
            Some(Handle::Listener(l)) => {
                if self.listeners[l].open {
                    self.listeners[l].open = false;
                    self.listeners[l].trajectory.push((State::Closed, now));
                    // Connections nobody accepted are reset, as Linux does.
                    let queued: Vec<usize> = self.listeners[l].queue.drain(..).collect();
                    for c in queued {
                        let o = self.conns[c].tcb.on_call(Call::Abort, now);
                        self.absorb(c, o, now, out);
                    }
                }
                Ok(Vec::new())
            }
            Some(Handle::Conn(c)) => {
                if self.conns[c].alive {
                    let o = self.conns[c].tcb.on_call(Call::Close, now);
                    self.absorb(c, o, now, out);
                }
                Ok(Vec::new())
            }
            None => Err(Errno::NotConn),
        }
    }

    fn abort(&mut self, now: u64, sock: &str, out: &mut HostOut) -> CallResult {
        let c = self.conn_of(sock).ok_or(Errno::NotConn)?;
        if self.conns[c].alive {
            let o = self.conns[c].tcb.on_call(Call::Abort, now);
            self.absorb(c, o, now, out);
        }
        Ok(Vec::new())
    }
}
