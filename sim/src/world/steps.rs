//! Scenario steps: each host runs its own steps in file order; a step starts when the previous
//! one returned and not before its `at_ms`; blocking calls are polled after every event. When a
//! call returns, its `expect_error`, `expect_data` and `returns_at_ms` are checked.

use super::queue::Ev;
use super::World;
use crate::oracle::protocol::Cause;
use crate::oracle::Failure;
use crate::socket::HostId;
use serde_json::json;

/// One host's progress through its steps.
#[derive(Clone, Debug)]
pub(super) struct Runner {
    steps: Vec<usize>,
    cur: usize,
    started: bool,
    acc: Vec<u8>,
    wake: Option<u64>,
}

impl Runner {
    pub(super) fn new(steps: impl Iterator<Item = usize>) -> Runner {
        Runner {
            steps: steps.collect(),
            cur: 0,
            started: false,
            acc: Vec::new(),
            wake: None,
        }
    }
}

impl World<'_> {
    pub(super) fn advance_steps(&mut self) {
        for h in 0..self.hosts.len() {
            self.advance_host(h);
        }
    }

    fn advance_host(&mut self, h: HostId) {
        let now = self.now;
        loop {
            let r = &mut self.runners[h];
            let Some(&si) = r.steps.get(r.cur) else {
                return;
            };
            let step = &self.sc.steps[si];
            let first = !r.started;
            if first {
                if let Some(at) = step.at_ms.filter(|&at| now < at) {
                    if r.wake != Some(at) {
                        r.wake = Some(at);
                        self.queue.push(at, Ev::Wake);
                    }
                    return;
                }
                r.started = true;
                let host = self.hosts[h].name.clone();
                let (call, sock, line) = (step.call.name(), step.sock.clone(), step.line);
                self.record(|| {
                    json!({"t": now, "ev": "call", "host": host, "step": si, "line": line,
                           "call": call, "sock": sock})
                });
            }
            let mut acc = std::mem::take(&mut self.runners[h].acc);
            let mut out = self.out_buf();
            let res = self.hosts[h].call(
                now,
                &step.sock,
                &step.call,
                first,
                &mut acc,
                &mut self.chance,
                &mut out,
            );
            self.runners[h].acc = acc;
            self.take(h, out, Cause::Call);
            let Some(res) = res else {
                return;
            };
            let r = &mut self.runners[h];
            r.cur += 1;
            r.started = false;
            let host = self.hosts[h].name.clone();
            let (result, len) = match &res {
                Ok(d) => ("ok".to_string(), d.len()),
                Err(e) => (e.name().to_string(), 0),
            };
            self.record(|| json!({"t": now, "ev": "return", "host": host, "step": si, "result": result, "len": len}));
            self.check_step(si, &res);
        }
    }

    fn step_failure(&mut self, si: usize, expected: String, actual: String) {
        let step = &self.sc.steps[si];
        self.failures.push(Failure {
            kind: "step".into(),
            line: Some(step.line),
            expected: format!(
                "{} {} {:?}: {expected}",
                self.hosts[step.host].name,
                step.call.name(),
                step.sock
            ),
            actual,
            t: self.now,
            last_segments: Vec::new(),
        });
    }

    fn check_step(&mut self, si: usize, res: &Result<Vec<u8>, crate::tcp::Errno>) {
        let step = &self.sc.steps[si];
        match (res, step.expect_error) {
            (Err(e), Some(x)) if *e == x => {}
            (Err(e), Some(x)) => self.step_failure(si, format!("error {x}"), format!("error {e}")),
            (Ok(_), Some(x)) => self.step_failure(si, format!("error {x}"), "success".into()),
            (Err(e), None) => self.step_failure(si, "success".into(), format!("error {e}")),
            (Ok(d), None) => {
                if let Some(exp) = &step.expect_data {
                    if d != exp {
                        let show = |b: &[u8]| format!("{:?}", String::from_utf8_lossy(b));
                        self.step_failure(
                            si,
                            format!("data {}", show(exp)),
                            format!("data {}", show(d)),
                        );
                    }
                }
            }
        }
        if let Some(t) = step.returns_at_ms {
            if t != self.now {
                self.step_failure(
                    si,
                    format!("to return at {t} ms"),
                    format!("returned at {} ms", self.now),
                );
            }
        }
    }

    /// At the end: a step still blocked (or never reached) fails the scenario.
    pub(super) fn finish_steps(&mut self) {
        for h in 0..self.hosts.len() {
            let r = &self.runners[h];
            if let Some(&si) = r.steps.get(r.cur) {
                let what = if r.started {
                    "still blocked"
                } else {
                    "never started"
                };
                self.step_failure(si, "to return before the run ended".into(), what.into());
            }
        }
    }
}
