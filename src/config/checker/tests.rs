//! The checkers' own grammar; their inheritance is tested with the
//! virtual servers (virtual_server/tests.rs).

use std::path::Path;

use super::*;
use crate::config::{Config, ConfigErrors};

const FILE: &str = "/etc/afclusterd/t.conf";

fn load(text: &str) -> Result<Config, ConfigErrors> {
    Config::from_text(text, Path::new(FILE))
}

/// A virtual server whose one real server has `checker`, after `before`.
fn with_checker(before: &str, checker: &str) -> String {
    format!(
        "{before}virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.0.0.2 80 {{\n{checker}\n }}\n}}\n"
    )
}

fn file_check(c: &Config) -> &FileCheck {
    match &c.virtual_servers[0].real_servers[0].checkers[0] {
        Checker::File(f) => f,
        other => panic!("not a FILE_CHECK: {other:?}"),
    }
}

const DEF: &str = "track_file maint {\n file /run/maint\n weight 5 reverse\n}\n";

#[test]
fn file_check_takes_the_track_file_s_weight_unless_it_has_one() {
    let c = load(&with_checker(DEF, "FILE_CHECK {\n track_file maint\n}")).unwrap();
    let f = file_check(&c);
    assert_eq!(
        (f.file.as_str(), f.weight, f.reverse, f.own_weight),
        ("maint", 5, true, false)
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    for (line, want) in [
        ("weight 0", (0, false)),
        ("weight -2147483647 noreverse", (-i32::MAX, false)),
        ("weight 2147483647 reverse", (i32::MAX, true)),
    ] {
        let c = load(&with_checker(
            DEF,
            &format!("FILE_CHECK {{\n track_file maint\n {line}\n}}"),
        ))
        .unwrap();
        let f = file_check(&c);
        assert_eq!(
            ((f.weight, f.reverse), f.own_weight),
            (want, true),
            "{line}"
        );
    }
}

#[test]
fn file_check_mistakes_are_located() {
    let cases = [
        ("FILE_CHECK {\n}", "8:1: FILE_CHECK needs track_file NAME"),
        (
            "FILE_CHECK {\n track_file nosuch\n}",
            "9:13: there is no track_file 'nosuch'",
        ),
        (
            "FILE_CHECK {\n track_file maint\n weight\n}",
            "10:2: track file weight missing",
        ),
        (
            "FILE_CHECK {\n track_file maint\n weight 2147483648\n}",
            "10:9: '2147483648' is not a valid weight",
        ),
        (
            "FILE_CHECK {\n track_file maint\n weight 1 sideways\n}",
            "10:11: unknown track file weight option 'sideways'",
        ),
        (
            "FILE_CHECK {\n track_file maint\n delay_loop 3\n}",
            "10:2: unknown keyword 'delay_loop' in FILE_CHECK",
        ),
        (
            "FILE_CHECK {\n track_file maint\n track_file maint\n}",
            "10:2: track_file is already set",
        ),
        ("FILE_CHECK", "8:1: FILE_CHECK needs a { block }"),
    ];
    for (checker, want) in cases {
        let e = load(&with_checker(DEF, checker)).expect_err(checker);
        let want = format!("{FILE}:{want}");
        assert!(
            e.0.len() == 1 && e.0[0].to_string().starts_with(&want),
            "{checker}: {e}"
        );
    }
}

#[test]
fn a_track_file_defined_after_its_file_check_is_a_warning() {
    let c = load(&(with_checker("", "FILE_CHECK {\n track_file maint\n}") + DEF)).unwrap();
    assert_eq!(file_check(&c).weight, 5);
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0]
            .to_string()
            .contains("track_file maint is defined further down"),
        "{:?}",
        c.warnings
    );
    // A definition with errors is reported once, not again by its user.
    let e = load(&with_checker(
        "track_file maint {\n weight 1\n}\n",
        "FILE_CHECK {\n track_file maint\n}",
    ))
    .unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert!(e.0[0].message.contains("needs a file"), "{e}");
}

#[test]
fn a_reload_keeps_a_file_check_that_follows_the_same_file_the_same_way() {
    let a = load(&with_checker(DEF, "FILE_CHECK {\n track_file maint\n}")).unwrap();
    let b = load(&with_checker(
        DEF,
        "FILE_CHECK {\n track_file maint\n weight 5 reverse\n}",
    ))
    .unwrap();
    let c = load(&with_checker(
        DEF,
        "FILE_CHECK {\n track_file maint\n weight 5\n}",
    ))
    .unwrap();
    let of = |c: &Config| c.virtual_servers[0].real_servers[0].checkers[0].clone();
    assert!(of(&b).same_check(&of(&a)));
    assert!(!of(&c).same_check(&of(&a)));
}
