use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;
use crate::config::checker::StatusCodes;

fn md5_of(b: &[u8]) -> [u8; 16] {
    Md5::digest(b).into()
}

fn url(path: &str) -> Url {
    Url {
        loc: crate::config::Location {
            file: std::path::Path::new("/t").into(),
            line: 1,
            column: 1,
        },
        path: path.into(),
        digest: None,
        status: StatusCodes::default_codes(),
        virtualhost: None,
        host: None,
        sni: None,
        regex: None,
    }
}

fn whole(bytes: &[u8]) -> Result<Received, HeadError> {
    let mut r = Response::new(MAX_REGEX_BODY);
    let _ = r.feed(bytes);
    r.finish()
}

#[test]
fn requests_as_keepalived_sends_them() {
    let v4: SocketAddr = "10.0.0.1:8080".parse().unwrap();
    let v6: SocketAddr = "[fd00::1]:80".parse().unwrap();
    assert_eq!(
        request("/a", HttpProtocol::V1_0, None, v4),
        b"GET /a HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1:8080\r\n\r\n"
    );
    assert_eq!(
        request("/", HttpProtocol::V1_0C, Some("www.x"), v6),
        b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.x\r\n\r\n"
    );
    assert_eq!(
        request("/", HttpProtocol::V1_1, None, v6),
        b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [fd00::1]:80\r\n\r\n"
    );
}

#[test]
fn head_status_and_length() {
    let r = whole(b"HTTP/1.0 404 Not Found\r\ncontent-LENGTH: 3\r\n\r\nabcdef").unwrap();
    let h = r.head.unwrap();
    assert_eq!((h.status, h.content_length), (404, Some(3)));
    assert_eq!(r.body_len, 6);
    assert_eq!(
        r.digest,
        md5_of(b"abc"),
        "the digest stops at Content-Length"
    );
    assert_eq!(r.body, b"abc");
    // No Content-Length, or a bad one: the whole body.
    let r = whole(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nabcdef").unwrap();
    assert_eq!(r.head.unwrap().content_length, None);
    assert_eq!(r.digest, md5_of(b"abcdef"));
    // No reason phrase.
    assert_eq!(
        whole(b"HTTP/1.1 204\r\n\r\n").unwrap().head.unwrap().status,
        204
    );
}

#[test]
fn incomplete_and_malformed_heads() {
    assert_eq!(whole(b"").unwrap().head, None);
    assert_eq!(
        whole(b"HTTP/1.0 200 OK\r\nServer: x\r\n").unwrap().head,
        None
    );
    assert!(matches!(
        whole(b"SSH-2.0-OpenSSH\r\n\r\n"),
        Err(HeadError::Malformed(_))
    ));
    let mut big = b"HTTP/1.0 200 OK\r\nX: ".to_vec();
    big.resize(MAX_HEAD + 10, b'a');
    assert_eq!(whole(&big), Err(HeadError::TooLong));
}

#[test]
fn judging_a_url() {
    let ok = b"HTTP/1.0 200 OK\r\n\r\nhello ready";
    let mut u = url("/");
    assert_eq!(judge(&u, whole(ok)), Ok(200));
    assert_eq!(judge(&u, whole(b"")), Err(Failure::NoData));
    assert_eq!(
        judge(&u, whole(b"HTTP/1.0 503 x\r\n\r\n")),
        Err(Failure::Status(503))
    );
    u.digest = Some(md5_of(b"hello ready"));
    assert_eq!(judge(&u, whole(ok)), Ok(200));
    u.digest = Some([0; 16]);
    assert_eq!(
        judge(&u, whole(ok)),
        Err(Failure::Digest(md5_of(b"hello ready")))
    );
}

#[test]
fn regex_through_the_config() {
    let c = crate::config::testing::ok(&[
        "virtual_server 10.0.0.1 80 {",
        "  protocol TCP",
        "  real_server 10.0.1.1 80 {",
        "    HTTP_GET {",
        "      url {",
        "        path /",
        "        regex \"^status: (ok|ready)$\"",
        "        regex_options multiline caseless",
        "      }",
        "      url {",
        "        path /",
        "        regex error",
        "        regex_no_match",
        "      }",
        "    }",
        "  }",
        "}",
    ]);
    let crate::config::Checker::Http(h) = &c.virtual_servers[0].real_servers[0].checkers[0] else {
        panic!()
    };
    let yes = b"HTTP/1.0 200 OK\r\n\r\nx\nStatus: OK\ny";
    let no = b"HTTP/1.0 200 OK\r\n\r\nstatus: down\nerror";
    assert_eq!(judge(&h.urls[0], whole(yes)), Ok(200));
    assert_eq!(
        judge(&h.urls[0], whole(no)),
        Err(Failure::Regex { matched: false })
    );
    assert_eq!(judge(&h.urls[1], whole(yes)), Ok(200));
    assert_eq!(
        judge(&h.urls[1], whole(no)),
        Err(Failure::Regex { matched: true })
    );
}

/// A response split anywhere reads as the whole.
fn split_feed(bytes: &[u8], cuts: &[usize]) -> Result<Received, HeadError> {
    let mut r = Response::new(MAX_REGEX_BODY);
    let mut at = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    for c in cuts.into_iter().chain([bytes.len()]) {
        if r.feed(&bytes[at..c]).is_err() {
            break;
        }
        at = c;
    }
    r.finish()
}

/// Status, headers, body, Content-Length.
type Generated = (u16, Vec<(String, String)>, Vec<u8>, Option<usize>);

fn response_strategy() -> impl Strategy<Value = Generated> {
    (
        100u16..600,
        proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,12}", "[ -~]{0,30}"), 0..6),
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::option::of(0usize..400),
    )
}

fn render(status: u16, headers: &[(String, String)], body: &[u8], len: Option<usize>) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} Whatever\r\n").into_bytes();
    for (n, v) in headers {
        if n.eq_ignore_ascii_case("content-length") {
            continue;
        }
        out.extend_from_slice(format!("{n}: {}\r\n", v.trim()).as_bytes());
    }
    if let Some(l) = len {
        out.extend_from_slice(format!("Content-Length: {l}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

proptest! {
    #[test]
    fn any_split_reads_the_same(
        (status, headers, body, len) in response_strategy(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let bytes = render(status, &headers, &body, len);
        let a = whole(&bytes).unwrap();
        let b = split_feed(&bytes, &cuts).unwrap();
        prop_assert_eq!(&a, &b);
        let h = a.head.unwrap();
        prop_assert_eq!(h.status, status);
        prop_assert_eq!(h.content_length, len);
        prop_assert_eq!(a.body_len, body.len());
        let digested = &body[..body.len().min(len.unwrap_or(usize::MAX))];
        prop_assert_eq!(a.digest, md5_of(digested));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let u = url("/");
        let whole_r = whole(&bytes);
        let split_r = split_feed(&bytes, &cuts);
        // Splitting may only find a malformed head earlier or later, never
        // change a verdict on a complete one.
        if let (Ok(a), Ok(b)) = (&whole_r, &split_r) {
            prop_assert_eq!(a, b);
        }
        let _ = judge(&u, whole_r);
    }

    #[test]
    fn status_codes_match_their_ranges(a in 100u16..600, b in 100u16..600, probe in 0u16..700) {
        let (lo, hi) = (a.min(b), a.max(b));
        let mut s = StatusCodes::none();
        s.insert(lo, hi);
        prop_assert_eq!(s.contains(probe), (lo..=hi).contains(&probe));
        prop_assert_eq!(s.ranges(), vec![(lo, hi)]);
    }
}
