//! The ladder diagram as SVG: two vertical time lines, each segment a slanted arrow from its
//! send time to its arrival time labelled like RFC 9293 §3.5, lost segments ending in a cross,
//! and each side's state written beside its line whenever it changes. Time runs down; each
//! distinct instant gets its own band (long idle gaps are cut and marked), so the figure reads
//! like the RFC's.

use super::ladder::{End, Ladder, Row};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

const XL: f64 = 250.0;
const XR: f64 = 750.0;
const SUB: f64 = 30.0;
const BAND: f64 = 58.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the diagram.
pub fn render(l: &Ladder) -> String {
    // Sub-slots: sends per (time, sender side), state labels per (time, side).
    let mut sends: HashMap<(u64, bool), usize> = HashMap::new();
    let mut seg_k: Vec<usize> = Vec::new();
    let mut need: BTreeMap<u64, usize> = BTreeMap::new();
    for r in &l.rows {
        match r {
            Row::Seg {
                t,
                end,
                from_left,
                dup,
                ..
            } => {
                let k = if *dup {
                    0
                } else {
                    let c = sends.entry((*t, *from_left)).or_insert(0);
                    *c += 1;
                    *c - 1
                };
                seg_k.push(k);
                let e = need.entry(*t).or_insert(1);
                *e = (*e).max(k + 1);
                if let End::At(a) = end {
                    let e = need.entry(*a).or_insert(1);
                    *e = (*e).max(k + 1);
                }
            }
            Row::State { t, .. } => {
                seg_k.push(0);
                need.entry(*t).or_insert(1);
            }
        }
    }
    // y of each instant, cutting long gaps.
    // A BTreeMap: the `t=` labels below are written in time order (a HashMap made the SVG
    // differ from run to run).
    let mut y_of: BTreeMap<u64, f64> = BTreeMap::new();
    let mut breaks: Vec<(f64, u64)> = Vec::new();
    let mut y = 110.0;
    let mut prev: Option<u64> = None;
    for (&t, &n) in &need {
        if let Some(p) = prev {
            if t - p > 500 {
                breaks.push((y - 6.0, t - p));
                y += 22.0;
            }
        }
        y_of.insert(t, y);
        y += BAND + SUB * (n as f64 - 1.0);
        prev = Some(t);
    }
    let height = y + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="{height:.0}" viewBox="0 0 1000 {height:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="13">"##
    );
    out.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f4e9c"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
"##,
    );
    let _ = writeln!(
        out,
        r##"<text x="500" y="28" text-anchor="middle" font-size="15" font-weight="bold">{} (seed {})</text>"##,
        esc(&l.scenario),
        l.seed
    );
    for (x, name) in [(XL, &l.left), (XR, &l.right)] {
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="72" text-anchor="middle" font-size="15" font-weight="bold">TCP Peer {}</text>
<line x1="{x}" y1="84" x2="{x}" y2="{:.0}" stroke="#333" stroke-width="2"/>"##,
            esc(name),
            height - 20.0
        );
    }
    for (by, gap) in &breaks {
        let _ = writeln!(
            out,
            r##"<line x1="60" y1="{by:.0}" x2="940" y2="{by:.0}" stroke="#999" stroke-dasharray="4 4"/><text x="500" y="{:.0}" text-anchor="middle" fill="#777" font-size="11">({gap} ms later)</text>"##,
            by + 14.0
        );
    }
    for (t, yy) in &y_of {
        let _ = writeln!(
            out,
            r##"<text x="16" y="{:.0}" fill="#777" font-size="11">t={t}</text>"##,
            yy + 4.0
        );
    }
    // State labels are collected, then drawn in time order, each only when its side's state
    // changes.
    let mut labels: Vec<(f64, bool, String, String)> = Vec::new();
    let mut state_label = |_: &mut String, left: bool, y: f64, st: &str, note: &str| {
        if !st.is_empty() {
            labels.push((y, left, st.to_string(), note.to_string()));
        }
    };
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    for (r, &k) in l.rows.iter().zip(&seg_k) {
        match r {
            Row::Seg {
                t,
                end,
                from_left,
                label,
                sender_state,
                receiver_state,
                injected,
                dup,
            } => {
                let (xs, xa) = if *from_left { (XL, XR) } else { (XR, XL) };
                let ys = y_of[t] + SUB * k as f64;
                let ya = match end {
                    End::At(a) => y_of[a] + SUB * k as f64,
                    End::Lost | End::InFlight => ys + 24.0,
                };
                if !injected {
                    state_label(&mut out, *from_left, ys, sender_state, "");
                }
                let color = if *injected { "#7a5a00" } else { "#1f4e9c" };
                let dash = if *injected || *dup {
                    r#" stroke-dasharray="6 3""#
                } else {
                    ""
                };
                let (x1, y1) = if *injected {
                    (xs + (xa - xs) * 0.15, ys - 10.0)
                } else {
                    (xs, ys)
                };
                let (ex, ey);
                let first;
                if *end == End::Lost {
                    let (xe, ye) = (xs + (xa - xs) * 0.6, ys + (ya - ys) * 0.6);
                    let _ = writeln!(
                        out,
                        r##"<line x1="{x1}" y1="{y1:.1}" x2="{xe:.1}" y2="{ye:.1}" stroke="{color}" stroke-width="1.5"{dash}/>
<path d="M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}" stroke="#c00" stroke-width="2.5"/>"##,
                        xe - 7.0,
                        ye - 7.0,
                        xe + 7.0,
                        ye + 7.0,
                        xe - 7.0,
                        ye + 7.0,
                        xe + 7.0,
                        ye - 7.0
                    );
                    (ex, ey, first) = (xe, ye, 0.45);
                } else {
                    let _ = writeln!(
                        out,
                        r##"<line x1="{x1}" y1="{y1:.1}" x2="{xa}" y2="{ya:.1}" stroke="{color}" stroke-width="1.5" marker-end="url(#arrow)"{dash}/>"##
                    );
                    // A quarter of the way from the sender first: arrows that cross
                    // (simultaneous open and close) keep their labels apart.
                    (ex, ey, first) = (xa, ya, 0.24);
                    state_label(&mut out, !*from_left, ya, receiver_state, "");
                }
                let mut text = label.clone();
                if *injected {
                    text = format!("old duplicate {text}");
                }
                if *dup {
                    text = format!("{text} (duplicate)");
                }
                // Slide the label along its arrow until it overlaps no label placed before.
                let w = text.len() as f64 * 7.3;
                let at = |f: f64| (x1 + (ex - x1) * f, y1 + (ey - y1) * f);
                let free = |(cx, cy): (f64, f64)| {
                    placed.iter().all(|&(px, py, pw): &(f64, f64, f64)| {
                        (cx - px).abs() * 2.0 >= w + pw || (cy - py).abs() >= 15.0
                    })
                };
                let (mx, my) = [
                    first,
                    first + 0.14,
                    first + 0.28,
                    first + 0.42,
                    first - 0.12,
                ]
                .into_iter()
                .map(at)
                .find(|&p| free(p))
                .unwrap_or_else(|| at(first));
                placed.push((mx, my, w));
                let _ = writeln!(
                    out,
                    r##"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="{color}" stroke="white" stroke-width="4" paint-order="stroke">{}</text>"##,
                    my - 6.0,
                    esc(&text)
                );
            }
            Row::State {
                t,
                left,
                state,
                note,
            } => {
                state_label(&mut out, *left, y_of[t], state, note);
            }
        }
    }
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut last_state: HashMap<bool, String> = HashMap::new();
    for (y, left, st, note) in labels {
        if note.is_empty() && last_state.get(&left) == Some(&st) {
            continue;
        }
        last_state.insert(left, st.clone());
        let (x, anchor) = if left {
            (XL - 12.0, "end")
        } else {
            (XR + 12.0, "start")
        };
        let note = if note.is_empty() {
            String::new()
        } else {
            format!(" ({note})")
        };
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="{:.0}" text-anchor="{anchor}" font-weight="bold" fill="#8a1c1c">{}{}</text>"##,
            y + 4.0,
            esc(&st),
            esc(&note)
        );
    }
    out.push_str("</svg>\n");
    out
}
