//! The ratios `synclab bench` reports: each is ours ÷ a peer's figure, computed within each round
//! (both measured in that round, interleaved with everything else) and given as min/median/max
//! over the rounds, beside the goal issue 13 sets for it.

use super::{names, Figure};
use serde::Serialize;

/// Which way a ratio should go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Better {
    /// Ours is a rate: higher is better, the goal is a floor.
    #[serde(rename = ">=")]
    Higher,
    /// Ours is a cost (ns): lower is better, the goal is a ceiling.
    #[serde(rename = "<=")]
    Lower,
}

/// One ratio's definition: `numerator / denominator` (figure names), its goal.
#[derive(Clone, Debug)]
pub struct RatioDef {
    /// The `--json` key.
    pub key: &'static str,
    /// Ours.
    pub numerator: String,
    /// The peer.
    pub denominator: String,
    /// Which way is better.
    pub better: Better,
    /// The goal from issue 13, if it sets one.
    pub goal: Option<f64>,
    /// Whether the figures exist in this build (iceoryx2 needs its cargo feature).
    pub built: bool,
}

/// One ratio's measured spread.
#[derive(Clone, Debug, Serialize)]
pub struct Ratio {
    /// The `--json` key.
    pub key: &'static str,
    /// `numerator ÷ denominator`, in words.
    pub what: String,
    /// Smallest over the rounds.
    pub min: f64,
    /// Median over the rounds.
    pub median: f64,
    /// Largest over the rounds.
    pub max: f64,
    /// The goal, if any.
    pub goal: Option<f64>,
    /// `>=` (higher is better) or `<=`.
    pub better: Better,
    /// Whether the median meets the goal (`null` without a goal).
    pub meets_goal: Option<bool>,
    /// The per-round values.
    pub rounds: Vec<f64>,
}

fn def(key: &'static str, num: String, den: &str, better: Better, goal: Option<f64>) -> RatioDef {
    RatioDef {
        key,
        numerator: num,
        denominator: den.to_string(),
        better,
        goal,
        built: true,
    }
}

/// Every ratio, in report order.
pub fn definitions() -> Vec<RatioDef> {
    use Better::{Higher, Lower};
    let single = names::spsc_single();
    let mut v = vec![
        def(
            "spsc_single_vs_rtrb_single",
            single.clone(),
            names::RTRB_SINGLE,
            Higher,
            Some(1.0),
        ),
        def(
            "spsc_threads_single_vs_rtrb_single",
            names::spsc_single_threads(),
            names::RTRB_SINGLE,
            Higher,
            Some(1.0),
        ),
        def(
            "spsc_batch_vs_rtrb_chunk",
            names::SPSC_BATCH.into(),
            names::RTRB_CHUNK,
            Higher,
            Some(1.0),
        ),
    ];
    #[cfg(feature = "iceoryx2")]
    let (ice_tp, ice_rtt) = (super::iceoryx2::THROUGHPUT, super::iceoryx2::ROUND_TRIP);
    #[cfg(not(feature = "iceoryx2"))]
    let (ice_tp, ice_rtt) = ("iceoryx2 (not built)", "iceoryx2 round trip (not built)");
    let mut ice = def(
        "spsc_vs_iceoryx2",
        single.clone(),
        ice_tp,
        Higher,
        Some(40.0),
    );
    ice.built = super::ICEORYX2_BUILT;
    v.push(ice);
    let mut ice_rtt = def(
        "rtt_vs_iceoryx2",
        names::RTT_RINGS.into(),
        ice_rtt,
        Lower,
        None,
    );
    ice_rtt.built = super::ICEORYX2_BUILT;
    v.push(ice_rtt);
    v.push(def(
        "rtt_vs_cacheline",
        names::RTT_RINGS.into(),
        names::RTT_LINE,
        Lower,
        Some(1.05),
    ));
    v.push(def(
        "rtt_vs_two_lines",
        names::RTT_RINGS.into(),
        names::RTT_TWO_LINES,
        Lower,
        None,
    ));
    v.push(def(
        "two_lines_vs_cacheline",
        names::RTT_TWO_LINES.into(),
        names::RTT_LINE,
        Lower,
        None,
    ));
    for (key, what, ledger) in [
        ("sem_vs_glibc", "acquire", false),
        ("sem_ledger_vs_glibc", "acquire", true),
        ("sem_try_vs_glibc", "try", false),
        ("sem_try_ledger_vs_glibc", "try", true),
    ] {
        v.push(def(
            key,
            names::sem(what, ledger),
            &names::glibc(what),
            Lower,
            Some(1.0),
        ));
    }
    for (key, what) in [
        ("sem_ledger_local_vs_glibc", "acquire"),
        ("sem_try_ledger_local_vs_glibc", "try"),
    ] {
        v.push(def(
            key,
            names::sem_local(what),
            &names::glibc(what),
            Lower,
            Some(1.0),
        ));
    }
    for (key, k) in [
        ("mpmc_1x1_vs_arrayqueue", 1),
        ("mpmc_vs_arrayqueue", 2),
        ("mpmc_4x4_vs_arrayqueue", 4),
    ] {
        v.push(def(
            key,
            names::mpmc(k),
            &names::arrayqueue(k),
            Higher,
            Some(2.0),
        ));
    }
    // ArrayQueue has no batch operation: this compares our batches with its single operations
    // (the key says so); `mpmc_vs_arrayqueue` is the like-for-like figure.
    v.push(def(
        "mpmc_batch_vs_arrayqueue_single",
        names::mpmc_batch(2),
        &names::arrayqueue(2),
        Higher,
        // No goal: batches against single operations is not like for like (issue 13's goal is
        // `mpmc_vs_arrayqueue`).
        None,
    ));
    for (key, size, goal) in [
        ("frames_64b_vs_memcpy", 64, None),
        ("frames_1k_vs_memcpy", 1024, None),
        ("frames_64k_vs_memcpy", 64 * 1024, Some(0.5)),
    ] {
        v.push(def(
            key,
            names::frames(size),
            &names::memcpy(size),
            Higher,
            goal,
        ));
    }
    v.push(def(
        "frames_64k_copying_vs_memcpy",
        names::frames_copying(64 * 1024),
        &names::memcpy(64 * 1024),
        Higher,
        None,
    ));
    v.push(def(
        "spsc_vs_pipe",
        single.clone(),
        super::pipe::THROUGHPUT,
        Higher,
        None,
    ));
    v.push(def(
        "spsc_vs_unix_socket",
        single,
        super::unix_socket::THROUGHPUT,
        Higher,
        None,
    ));
    v
}

/// Computes every built ratio from `figures`, round by round. An error names a missing figure
/// or a round count that differs between the two figures.
pub fn compute(figures: &[Figure]) -> Result<Vec<Ratio>, String> {
    compute_selected(figures, None)
}

/// The figures that the ratios named `keys` need, or an error naming the first key that is not
/// a built ratio (with the keys that are).
pub fn figures_for(keys: &[String]) -> Result<Vec<String>, String> {
    let defs: Vec<RatioDef> = definitions().into_iter().filter(|d| d.built).collect();
    let mut names = Vec::new();
    for key in keys {
        let Some(d) = defs.iter().find(|d| d.key == key.as_str()) else {
            let known: Vec<&str> = defs.iter().map(|d| d.key).collect();
            return Err(format!(
                "no ratio named {key:?} in this build; the ratios are: {}",
                known.join(", ")
            ));
        };
        for name in [&d.numerator, &d.denominator] {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    Ok(names)
}

/// [`compute`] for the ratios named `keys` only (all of them for `None`).
pub fn compute_selected(figures: &[Figure], keys: Option<&[String]>) -> Result<Vec<Ratio>, String> {
    let find = |name: &str| {
        figures
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| format!("no figure named {name:?}"))
    };
    let mut out = Vec::new();
    let chosen = |d: &RatioDef| keys.is_none_or(|k| k.iter().any(|k| k.as_str() == d.key));
    for d in definitions().into_iter().filter(|d| d.built && chosen(d)) {
        let (num, den) = (find(&d.numerator)?, find(&d.denominator)?);
        if num.samples.len() != den.samples.len() {
            return Err(format!("{}: rounds differ", d.key));
        }
        let rounds: Vec<f64> = num
            .samples
            .iter()
            .zip(&den.samples)
            .map(|(a, b)| a / b)
            .collect();
        let min = rounds.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rounds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let median = super::median(&rounds);
        out.push(Ratio {
            key: d.key,
            what: format!("{} ÷ {}", d.numerator, d.denominator),
            min,
            median,
            max,
            goal: d.goal,
            better: d.better,
            meets_goal: d.goal.map(|g| match d.better {
                Better::Higher => median >= g,
                Better::Lower => median <= g,
            }),
            rounds,
        });
    }
    Ok(out)
}

/// The keys of ratios not built into this binary, with why.
pub fn not_built() -> Vec<(&'static str, &'static str)> {
    definitions()
        .into_iter()
        .filter(|d| !d.built)
        .map(|d| (d.key, "not built: build synclab with `--features iceoryx2`"))
        .collect()
}

/// The ratios as a Markdown table: key, goal, min, median, max.
pub fn markdown_table(ratios: &[Ratio]) -> String {
    let mut s = String::from(
        "| ratio | goal | min | median | max | median meets goal |\n|---|---|---|---|---|---|\n",
    );
    for r in ratios {
        let goal = r.goal.map_or("—".to_string(), |g| {
            let op = if r.better == Better::Higher {
                "≥"
            } else {
                "≤"
            };
            format!("{op} {g}")
        });
        let meets = match r.meets_goal {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        };
        s.push_str(&format!(
            "| `{}` | {goal} | {:.3} | {:.3} | {:.3} | {meets} |\n",
            r.key, r.min, r.median, r.max
        ));
    }
    s
}
