//! The simulator's part of `synclab demo`.

use synclab_sim::demo::handshake_under_loss;

#[test]
fn demo_handshake_and_close_under_loss() {
    for seed in [1, 2, 3] {
        let d = handshake_under_loss(seed);
        assert!(d.ok, "{}", d.text());
        assert_eq!(d.seed, seed);
        assert!(d.segments >= 7);
        let text = d.text();
        assert!(text.contains("<SEQ=100><CTL=SYN>"), "{text}");
        assert!(
            text.contains("ESTABLISHED") && text.contains("TIME-WAIT"),
            "{text}"
        );
        assert_eq!(d.to_json()["ok"], true);
    }
    let d = handshake_under_loss(1);
    assert!(
        d.lost > 0 && d.text().contains(" X "),
        "seed 1 loses segments: {}",
        d.text()
    );
}
