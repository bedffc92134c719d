//! `synclab bench --svg FILE`: a chart of the ratios, one horizontal bar per ratio (its median),
//! a whisker from its min to its max over the rounds, and its goal as a vertical mark; the axis
//! is logarithmic (the ratios span from hundredths to tens), with a line at 1 (parity).

use super::ratios::{Better, Ratio};
use std::fmt::Write as _;

const LABEL_W: f64 = 250.0;
const PLOT_W: f64 = 520.0;
/// Room right of the plot for the largest value labels.
const RIGHT_MARGIN: f64 = 90.0;
const ROW_H: f64 = 26.0;
const TOP: f64 = 50.0;
/// The axis spans 10^LO ..= 10^HI.
const LO: f64 = -2.0;
const HI: f64 = 2.0;

fn x_of(v: f64) -> f64 {
    let l = v.max(10f64.powf(LO)).min(10f64.powf(HI)).log10();
    LABEL_W + (l - LO) / (HI - LO) * PLOT_W
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chart as an SVG document; `title` goes on top (escaped).
pub fn chart(ratios: &[Ratio], title: &str) -> String {
    let height = TOP + ROW_H * ratios.len() as f64 + 60.0;
    let width = LABEL_W + PLOT_W + RIGHT_MARGIN;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="14" font-weight="bold">{}</text>"##,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="38" fill="#555">bar: median ratio (ours ÷ peer) · whisker: min–max over rounds · black mark: goal · green: meets it, red: misses, grey: no goal</text>"##
    );
    let bottom = TOP + ROW_H * ratios.len() as f64;
    for e in (LO as i32)..=(HI as i32) {
        let v = 10f64.powi(e);
        let x = x_of(v);
        let stroke = if e == 0 { "#000" } else { "#ddd" };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{bottom}" stroke="{stroke}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{v}</text>"##,
            bottom + 16.0
        );
    }
    for (i, r) in ratios.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let mid = y + ROW_H / 2.0;
        let colour = match r.meets_goal {
            Some(true) => "#3a3",
            Some(false) => "#d44",
            None => "#999",
        };
        let x0 = x_of(10f64.powf(LO));
        let xm = x_of(r.median);
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LABEL_W - 8.0,
            mid + 4.0,
            escape(r.key)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}: median {:.3} (min {:.3}, max {:.3})</title></rect>"##,
            y + 5.0,
            (xm - x0).max(1.0),
            ROW_H - 10.0,
            escape(&r.what),
            r.median,
            r.min,
            r.max
        );
        let (xa, xb) = (x_of(r.min), x_of(r.max));
        let _ = writeln!(
            s,
            r##"<path d="M{xa:.1} {mid:.1}H{xb:.1}M{xa:.1} {:.1}V{:.1}M{xb:.1} {:.1}V{:.1}" stroke="#000" fill="none"/>"##,
            mid - 4.0,
            mid + 4.0,
            mid - 4.0,
            mid + 4.0
        );
        if let Some(g) = r.goal {
            let xg = x_of(g);
            let op = if r.better == Better::Higher {
                "≥"
            } else {
                "≤"
            };
            let _ = writeln!(
                s,
                r##"<line x1="{xg:.1}" y1="{:.1}" x2="{xg:.1}" y2="{:.1}" stroke="#000" stroke-width="3"><title>goal {op} {g}</title></line>"##,
                y + 2.0,
                y + ROW_H - 2.0
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#333">{:.2}</text>"##,
            xb.max(xm) + 6.0,
            mid + 4.0,
            r.median
        );
    }
    s.push_str("</svg>\n");
    s
}
