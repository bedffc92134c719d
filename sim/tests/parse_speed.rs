//! No scenario parse is worse than linear: a 10 MB scenario file (a 300,000-entry `wire` list,
//! or 150,000 `[[inject]]` tables) parses in seconds at most. Line numbers of array items used
//! to be found by counting newlines from the start of the file for each item, which made a long
//! `wire` list quadratic (hours for 10 MB). Measured on the 2-core CI VM: see README
//! "Reliability"; the bound asserted here is generous (a loaded machine must not fail it) yet
//! orders of magnitude below what a quadratic parse takes.

use std::time::{Duration, Instant};
use synclab_sim::scenario::parse_scenario;

const HEAD: &str =
    "synclab_scenario = 1\nname = \"big\"\n[[host]]\nname = \"A\"\n[[host]]\nname = \"B\"\n";
const TEN_MB: usize = 10_000_000;

fn timed(src: &str) -> Duration {
    assert!(src.len() >= TEN_MB);
    let start = Instant::now();
    let sc = parse_scenario("big.toml", src);
    let took = start.elapsed();
    assert!(sc.is_ok(), "{:?}", sc.err());
    eprintln!("{} bytes parsed in {took:?}", src.len());
    took
}

#[test]
fn a_ten_megabyte_wire_list_parses_in_well_under_a_second() {
    let mut src = format!("{HEAD}[expect]\nwire = [\n");
    let mut n = 0;
    while src.len() < TEN_MB {
        src.push_str(&format!("  \"A:5000>B:80 S seq={n}\",\n"));
        n += 1;
    }
    src.push_str("]\n");
    assert!(timed(&src) < Duration::from_secs(20));
}

#[test]
fn ten_megabytes_of_inject_tables_parse_in_well_under_a_second() {
    let mut src = HEAD.to_string();
    let mut n = 0;
    while src.len() < TEN_MB {
        src.push_str(&format!(
            "[[inject]]\nat_ms = {n}\nfrom = \"A:5000\"\nto = \"B:80\"\nflags = \"S\"\nseq = {n}\n"
        ));
        n += 1;
    }
    assert!(timed(&src) < Duration::from_secs(20));
}
