use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::testing::{assert_errors, assert_messages, ok};
use crate::config::{Checker, Config};

fn http(c: &Checker) -> &HttpCheck {
    match c {
        Checker::Http(h) => h,
        other => panic!("not HTTP_GET/SSL_GET: {other:?}"),
    }
}

/// A virtual server with one real server holding `checker` (lines 6...).
fn with(checker: &[&str]) -> Vec<String> {
    let mut l: Vec<String> = [
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  delay_loop 4",
        "  real_server 10.0.1.1 8080 {",
        "    weight 1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    l.extend(checker.iter().map(|s| format!("    {s}")));
    l.push("  }".into());
    l.push("}".into());
    l
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(|s| s.as_str()).collect()
}

fn first(checker: &[&str]) -> HttpCheck {
    let c = ok(&refs(&with(checker)));
    http(&c.virtual_servers[0].real_servers[0].checkers[0]).clone()
}

#[test]
fn defaults_are_keepalived_s() {
    let h = first(&["HTTP_GET {", "  url {", "    path /", "  }", "}"]);
    assert!(!h.tls);
    assert_eq!(h.protocol, HttpProtocol::V1_0);
    assert_eq!(h.retry, 1);
    assert_eq!(h.delay_before_retry, Duration::from_secs(3));
    assert_eq!(h.connect_timeout, Duration::from_secs(5));
    assert_eq!(h.delay_loop, Duration::from_secs(4));
    assert_eq!(h.warmup_max(), Duration::from_secs(4));
    assert!(!h.enable_sni && !h.fast_recovery);
    let u = &h.urls[0];
    assert_eq!(u.path, "/");
    assert_eq!(u.status.ranges(), [(200, 299)]);
    assert_eq!((u.digest, &u.host, &u.sni), (None, &None, &None));
}

#[test]
fn every_keyword() {
    let h = first(&[
        "SSL_GET {",
        "  url {",
        "    path /a",
        "    digest 9B3A0C85A887A256D6939DA88AABD8CD",
        "    status_code 200-299 401 503",
        "    virtualhost a.example",
        "  }",
        "  url {",
        "    path /b",
        "    regex \"ready|ok\"",
        "    regex_options caseless",
        "    regex_no_match",
        "    regex_min_offset 2",
        "    regex_max_offset 10",
        "  }",
        "  virtualhost c.example",
        "  http_protocol 1.1",
        "  enable_sni",
        "  fast_recovery on",
        "  connect_ip 10.0.2.2",
        "  connect_port 8443",
        "  bindto 10.0.0.9",
        "  bind_port 4000",
        "  connect_timeout 1.5",
        "  retry 4",
        "  delay_before_retry 0.5",
        "  warmup 2",
        "  delay_loop 7",
        "}",
    ]);
    assert!(h.tls && h.enable_sni && h.fast_recovery);
    assert_eq!(h.protocol, HttpProtocol::V1_1);
    assert_eq!(h.connect_ip, Some("10.0.2.2".parse().unwrap()));
    assert_eq!((h.connect_port, h.bind_port), (Some(8443), 4000));
    assert_eq!(h.bind_to, Some("10.0.0.9".parse().unwrap()));
    assert_eq!(h.connect_timeout, Duration::from_millis(1500));
    assert_eq!(
        (h.retry, h.delay_before_retry),
        (4, Duration::from_millis(500))
    );
    assert_eq!(
        (h.warmup, h.delay_loop),
        (Some(Duration::from_secs(2)), Duration::from_secs(7))
    );
    let a = &h.urls[0];
    assert_eq!(
        a.digest.map(|d| crate::http_check::hex(&d)).as_deref(),
        Some("9b3a0c85a887a256d6939da88aabd8cd")
    );
    assert_eq!(a.status.ranges(), [(200, 299), (401, 401), (503, 503)]);
    assert_eq!(a.host.as_deref(), Some("a.example"));
    assert_eq!(a.sni.as_deref(), Some("a.example"));
    let b = &h.urls[1];
    assert_eq!(b.host.as_deref(), Some("c.example"), "the checker's");
    let r = b.regex.as_ref().unwrap();
    assert!(r.no_match);
    assert_eq!((r.min_offset, r.max_offset), (2, Some(10)));
    assert!(r.matches(b"xx  READY"));
    assert!(!r.matches(b"ready"), "before min_offset");
    assert!(!r.matches(b"01234567890ok"), "starts after max_offset");
}

#[test]
fn host_and_sni_inheritance() {
    // url > checker > real server > virtual server for Host; SNI skips the
    // real server (keepalived's ssl_connect).
    let c = ok(&[
        "virtual_server 10.0.0.1 443 {",
        "  protocol TCP",
        "  virtualhost vs.example",
        "  real_server 10.0.1.1 443 {",
        "    virtualhost rs.example",
        "    SSL_GET {",
        "      enable_sni",
        "      url {",
        "        path /",
        "      }",
        "    }",
        "  }",
        "  real_server 10.0.1.2 443 {",
        "    SSL_GET {",
        "      url {",
        "        path /",
        "      }",
        "    }",
        "  }",
        "}",
    ]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let vs = &c.virtual_servers[0];
    let u = &http(&vs.real_servers[0].checkers[0]).urls[0];
    assert_eq!(u.host.as_deref(), Some("rs.example"));
    assert_eq!(u.sni.as_deref(), Some("vs.example"));
    let u = &http(&vs.real_servers[1].checkers[0]).urls[0];
    assert_eq!(u.host.as_deref(), Some("vs.example"));
    assert_eq!(u.sni, None, "no enable_sni");
}

#[test]
fn timing_is_inherited_from_the_servers() {
    let c = ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  retry 3",
        "  connect_timeout 2",
        "  real_server 10.0.1.1 80 {",
        "    delay_before_retry 1",
        "    HTTP_GET {",
        "      url {",
        "        path /",
        "      }",
        "    }",
        "  }",
        "}",
    ]);
    let h = http(&c.virtual_servers[0].real_servers[0].checkers[0]);
    assert_eq!(h.retry, 3);
    assert_eq!(h.connect_timeout, Duration::from_secs(2));
    assert_eq!(h.delay_before_retry, Duration::from_secs(1));
    assert_eq!(h.delay_loop, Duration::from_secs(60));
}

#[test]
fn mistakes_are_located() {
    assert_errors(
        &refs(&with(&[
            "HTTP_GET {",
            "  url {",
            "    path /",
            "    digest 123",
            "    status_code 200 99 600 300-200",
            "    frobnicate",
            "    regex a(?=b)",
            "    regex_options firstline",
            "  }",
            "  url {",
            "    digest 9b3a0c85a887a256d6939da88aabd8cg",
            "  }",
            "  url {",
            "  }",
            "  http_protocol 2",
            "  bind_if eth0",
            "  alpha",
            "  connect_port 0",
            "  weight 3",
            "}",
            "SSL_GET {",
            "  connect_timeout 3",
            "}",
        ])),
        &[
            "9:16: digest '123' has 3 characters",
            // keepalived reports each bad code; the first is enough here.
            "10:25: '99' is not an HTTP status code",
            "11:9: unknown keyword 'frobnicate' in url",
            "12:15: regex 'a(?=b)' cannot be compiled",
            "13:23: regex option 'firstline' is not supported",
            "16:16: digest '9b3a0c85a887a256d6939da88aabd8cg': 'cg' at offset 30 is not hexadecimal",
            "18:7: url needs a path",
            "20:21: unknown http_protocol '2'",
            "21:7: bind_if is not supported by afclusterd's HTTP_GET",
            "22:7: alpha is not supported per checker",
            "23:20: connect_port 0 is out of range",
            "24:7: unknown keyword 'weight' in HTTP_GET",
            "26:5: SSL_GET needs at least one url",
        ],
    );
}

#[test]
fn warnings_keep_the_check() {
    let c = ok(&refs(&with(&[
        "HTTP_GET {",
        "  nb_get_retry 2",
        "  url {",
        "    path /",
        "    regex_no_match",
        "  }",
        "  url {",
        "    path /x",
        "    regex x",
        "    regex_min_offset 5",
        "    regex_max_offset 3",
        "  }",
        "}",
    ])));
    assert_messages(
        &c.warnings,
        &[
            "7:7: nb_get_retry is deprecated",
            "10:9: regex settings without a regex",
            "16:9: regex_min_offset 5 is beyond regex_max_offset 3",
        ],
    );
    let h = http(&c.virtual_servers[0].real_servers[0].checkers[0]);
    assert_eq!(h.retry, 2);
    assert!(h.urls[0].regex.is_none());
    let r = h.urls[1].regex.as_ref().unwrap();
    assert_eq!((r.min_offset, r.max_offset), (0, None));
}

#[test]
fn status_ranges() {
    assert_eq!(status_range("200"), Some((200, 200)));
    assert_eq!(status_range("100-599"), Some((100, 599)));
    assert_eq!(status_range("200-200"), Some((200, 200)));
    for bad in [
        "",
        "-",
        "99",
        "600",
        "200-",
        "-200",
        "300-200",
        "+200",
        "2 0",
        "200-300-400",
    ] {
        assert_eq!(status_range(bad), None, "{bad:?}");
    }
    let mut s = StatusCodes::none();
    s.insert(100, 100);
    s.insert(598, 599);
    assert!(s.contains(100) && s.contains(599) && !s.contains(101) && !s.contains(600));
    assert!(!s.contains(0) && !s.contains(99));
}

#[test]
fn same_check_follows_keepalived_s_compare() {
    let a = first(&["HTTP_GET {", "  url {", "    path /", "  }", "}"]);
    let mut b = a.clone();
    b.retry = 9;
    b.delay_loop = Duration::from_secs(1);
    assert!(b.same_check(&a), "timing is not compared");
    b.urls[0].path = "/x".into();
    assert!(!b.same_check(&a));
    let mut b = a.clone();
    b.connect_timeout = Duration::from_secs(1);
    assert!(!b.same_check(&a));
}

// keepalived's samples (Debian's package) that use HTTP_GET or SSL_GET.

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn sample(name: &str) -> Result<Config, crate::config::ConfigErrors> {
    let path = Path::new(SAMPLES).join(name);
    assert!(
        path.exists(),
        "{}: missing (is keepalived installed?)",
        path.display()
    );
    Config::load(&path)
}

fn sample_checks(c: &Config) -> Vec<&HttpCheck> {
    c.virtual_servers
        .iter()
        .flat_map(|vs| &vs.real_servers)
        .flat_map(|rs| &rs.checkers)
        .filter_map(|c| match c {
            Checker::Http(h) => Some(h),
            _ => None,
        })
        .collect()
}

#[test]
fn keepalived_ssl_get_sample() {
    // Its VRRP instance uses auth_type AH, which afclusterd refuses; the
    // checkers are read.
    let e = sample("keepalived.conf.SSL_GET").unwrap_err();
    assert_eq!(e.0.len(), 1, "only auth_type AH is refused:\n{e}");
    assert!(e.0[0].to_string().contains("auth_type AH"), "{e}");
    let text = std::fs::read_to_string(Path::new(SAMPLES).join("keepalived.conf.SSL_GET"))
        .unwrap()
        .replace("auth_type AH", "auth_type PASS");
    let c = Config::from_text(&text, Path::new("/x/keepalived.conf.SSL_GET"))
        .unwrap_or_else(|e| panic!("{e}"));
    let checks = sample_checks(&c);
    assert!(checks.len() >= 2, "{checks:?}");
    let h = checks[0];
    assert!(h.tls);
    assert_eq!((h.retry, h.delay_before_retry), (3, Duration::from_secs(3)));
    assert_eq!(h.connect_timeout, Duration::from_secs(3));
    assert_eq!(h.urls.len(), 2);
    assert_eq!(h.urls[1].path, "/mrtg/");
    assert_eq!(
        crate::http_check::hex(&h.urls[1].digest.unwrap()),
        "9b3a0c85a887a256d6939da88aabd8cd"
    );
}

#[test]
fn keepalived_samples_with_http_checks_are_read() {
    for name in [
        "keepalived.conf.HTTP_GET.port",
        "keepalived.conf.status_code",
        "keepalived.conf.inhibit",
        "keepalived.conf.virtualhost",
        "keepalived.conf.sample",
    ] {
        let r = sample(name);
        let checks = match &r {
            Ok(c) => sample_checks(c).len(),
            Err(e) => {
                let bad: Vec<String> =
                    e.0.iter()
                        .map(|e| e.to_string())
                        .filter(|m| m.contains("GET") || m.contains("url") || m.contains("status"))
                        .collect();
                assert!(bad.is_empty(), "{name}: {bad:?}");
                continue;
            }
        };
        assert!(checks > 0, "{name}");
    }
    let c = sample("keepalived.conf.status_code").unwrap_or_else(|e| panic!("{e}"));
    let u = &sample_checks(&c)[0].urls[0];
    assert_eq!(
        u.status.ranges(),
        [(200, 299), (400, 499), (503, 503), (505, 505)]
    );
}
