//! `synclab sim merge`: the JSON reports of the N shards of one sweep or search joined into one
//! report, as if it had run unsharded: counts summed, findings (and a search's scenarios) put
//! back in job order, the deepest path the deepest of all. The reports must come from the same
//! command (`mode` and `params` equal) and be the shards `0..N` of one `N`, each once.

use super::KEPT_FINDINGS;
use serde_json::{json, Map, Value};

/// Why reports cannot be merged (bad input: exit 2).
pub type MergeError = String;

fn field<'v>(name: &str, v: &'v Value, key: &str) -> Result<&'v Value, MergeError> {
    v.get(key)
        .ok_or_else(|| format!("{name}: not a shard report of `sim explore --json` (no `{key}`)"))
}

fn num(name: &str, v: &Value, key: &str) -> Result<u64, MergeError> {
    field(name, v, key)?
        .as_u64()
        .ok_or_else(|| format!("{name}: `{key}` is not a non-negative integer"))
}

fn secs(v: &Value) -> f64 {
    v["elapsed_s"].as_f64().unwrap_or(0.0)
}

/// Checks the shards belong together and are complete; returns the shard count.
fn check_shards(reports: &[(String, Value)]) -> Result<u64, MergeError> {
    let (first_name, first) = reports.first().ok_or("no reports to merge")?;
    let count = num(first_name, field(first_name, first, "shard")?, "count")?;
    let mut have = vec![None::<&str>; count as usize];
    for (name, v) in reports {
        for key in ["mode", "params"] {
            if field(name, v, key)? != &first[key] {
                return Err(format!(
                    "{name}: `{key}` differs from {first_name}'s: not shards of one command"
                ));
            }
        }
        let shard = field(name, v, "shard")?;
        if num(name, shard, "count")? != count {
            return Err(format!(
                "{name}: shard count differs from {first_name}'s ({count})"
            ));
        }
        let i = num(name, shard, "index")?;
        match have.get_mut(i as usize) {
            None => return Err(format!("{name}: shard index {i} is not below {count}")),
            Some(Some(other)) => return Err(format!("{name}: shard {i} again (also {other})")),
            Some(slot) => *slot = Some(name),
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| have[i as usize].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing shards: {}", missing.join(", ")));
    }
    Ok(count)
}

fn sum(reports: &[(String, Value)], key: &str) -> Result<u64, MergeError> {
    reports.iter().map(|(n, v)| num(n, v, key)).sum()
}

fn merge_sweep(
    reports: &[(String, Value)],
    out: &mut Map<String, Value>,
) -> Result<(), MergeError> {
    for key in [
        "runs",
        "segments",
        "expectation_failures",
        "oracle_failures",
    ] {
        out.insert(key.into(), json!(sum(reports, key)?));
    }
    let mut findings: Vec<Value> = reports
        .iter()
        .flat_map(|(_, v)| v["findings"].as_array().cloned().unwrap_or_default())
        .collect();
    findings.sort_by_key(|f| f["job"].as_u64().unwrap_or(u64::MAX));
    findings.truncate(KEPT_FINDINGS);
    let elapsed: f64 = reports.iter().map(|(_, v)| secs(v)).sum();
    let runs = out["runs"].as_u64().unwrap_or(0);
    out.insert("ok".into(), json!(out["oracle_failures"] == 0));
    out.insert("findings".into(), json!(findings));
    out.insert("elapsed_s".into(), json!(elapsed));
    out.insert(
        "runs_per_s".into(),
        json!(if elapsed > 0.0 {
            runs as f64 / elapsed
        } else {
            0.0
        }),
    );
    Ok(())
}

fn merge_search(
    reports: &[(String, Value)],
    out: &mut Map<String, Value>,
) -> Result<(), MergeError> {
    for key in ["states", "transitions", "paths", "oracle_failures"] {
        out.insert(key.into(), json!(sum(reports, key)?));
    }
    let deepest = reports
        .iter()
        .map(|(n, v)| num(n, v, "deepest"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut per: Vec<Value> = reports
        .iter()
        .flat_map(|(_, v)| v["scenarios"].as_array().cloned().unwrap_or_default())
        .collect();
    per.sort_by_key(|s| s["job"].as_u64().unwrap_or(u64::MAX));
    let complete = per.iter().all(|s| s["complete"] == true);
    out.insert(
        "deepest".into(),
        json!(deepest.into_iter().max().unwrap_or(0)),
    );
    out.insert("depth".into(), reports[0].1["depth"].clone());
    out.insert("ok".into(), json!(out["oracle_failures"] == 0 && complete));
    out.insert("scenarios".into(), json!(per));
    out.insert(
        "elapsed_s".into(),
        json!(reports.iter().map(|(_, v)| secs(v)).sum::<f64>()),
    );
    Ok(())
}

/// Merges shard reports (`(file name, JSON)`) into one report (its `shards` says how many).
/// `elapsed_s` is the sum of the shards' (their total compute time, not a wall-clock time).
pub fn merge(reports: &[(String, Value)]) -> Result<Value, MergeError> {
    let count = check_shards(reports)?;
    let first = &reports[0].1;
    let mut out = Map::new();
    out.insert("mode".into(), first["mode"].clone());
    out.insert("params".into(), first["params"].clone());
    out.insert("shards".into(), json!(count));
    match first["mode"].as_str() {
        Some("sweep") => merge_sweep(reports, &mut out)?,
        Some("exhaustive") => merge_search(reports, &mut out)?,
        _ => {
            return Err(format!(
                "{}: unknown `mode` {}",
                reports[0].0, first["mode"]
            ))
        }
    }
    Ok(Value::Object(out))
}
