use super::*;
use crate::config::testing::*;

fn with(kw: &str, lines: &[&str]) -> Vec<String> {
    let mut v = vec![format!("{kw} f {{")];
    v.extend(lines.iter().map(|l| format!("  {l}")));
    v.push("}".into());
    v
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

#[test]
fn defaults_and_every_keyword() {
    let c = ok(&refs(&with("track_file", &["file /run/f"])));
    let f = &c.track_files[0];
    assert_eq!((f.loc.line, f.name.as_str()), (1, "f"));
    assert_eq!(f.path, PathBuf::from("/run/f"));
    assert_eq!((f.weight, f.reverse, f.init), (1, false, None));
    assert!(c.warnings.is_empty());
    let c = ok(&refs(&with(
        "track_file",
        &[
            "file /run/f",
            "weight -254 reverse",
            "init_file 5 overwrite",
        ],
    )));
    let f = &c.track_files[0];
    assert_eq!((f.weight, f.reverse), (-254, true));
    assert_eq!(
        f.init,
        Some(TrackFileInit {
            value: 5,
            overwrite: true
        })
    );
    let c = ok(&refs(&with("track_file", &["file /run/f", "init_file"])));
    assert_eq!(
        c.track_files[0].init,
        Some(TrackFileInit {
            value: 0,
            overwrite: false
        })
    );
}

#[test]
fn vrrp_track_file_is_the_deprecated_synonym() {
    let c = ok(&refs(&with("vrrp_track_file", &["file /run/f"])));
    assert_messages(
        &c.warnings,
        &["1:1: vrrp_track_file is deprecated (keepalived 2.0.21): write track_file"],
    );
    assert_eq!(c.track_files[0].name, "f");
}

#[test]
fn mistakes_are_located() {
    assert_errors(
        &refs(&with(
            "track_file",
            &[
                "file run/f",
                "weight 255",
                "weight 1 upside",
                "init_file x",
                "init_file 99999999999",
                "bogus",
            ],
        )),
        &[
            "2:8: 'run/f' must be an absolute path",
            "3:10: weight 255 is out of range: -254 to 254",
            "4:12: unknown weight option 'upside' (expected reverse)",
            "5:13: unknown init_file option 'x' (expected a number or overwrite)",
            "6:13: '99999999999' is not a valid init_file value",
            "7:3: unknown keyword 'bogus' in track_file (expected file, weight or init_file)",
            "1:1: track_file f needs a file (keepalived would drop it)",
        ],
    );
    assert_errors(
        &refs(&with(
            "track_file",
            &["file /run/a", "file /run/b", "weight 2", "weight 3"],
        )),
        &[
            "3:3: file is already set at /etc/afclusterd/t.conf:2:3",
            "5:3: weight is already set at /etc/afclusterd/t.conf:4:3",
        ],
    );
    let c = ok(&refs(&with(
        "track_file",
        &["file /run/f", "init_file 300"],
    )));
    assert_messages(
        &c.warnings,
        &["3:13: init_file value 300 is outside the sensible range -254 to 254"],
    );
}
