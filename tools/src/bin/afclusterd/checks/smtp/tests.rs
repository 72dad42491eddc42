use super::*;
use proptest::prelude::*;

#[test]
fn status_as_smtp_get_status_reads_it() {
    assert_eq!(status(b"220 mail ESMTP\r"), Some(220));
    assert_eq!(status(b"250"), Some(250));
    // keepalived's quirks, kept: a continuation line and "220\r" fail.
    assert_eq!(status(b"220-mail ESMTP\r"), None);
    assert_eq!(status(b"220\r"), None);
    assert_eq!(status(b"22 x"), None);
    assert_eq!(status(b"2200 x"), None);
    assert_eq!(status(b""), None);
}

#[test]
fn the_dialogue() {
    let helo = "foo.bar.com";
    assert_eq!(
        on_line(Stage::Banner, b"220 mx ESMTP\r", helo),
        Next::Send(b"HELO foo.bar.com\r\n".to_vec(), Stage::HeloReply)
    );
    assert_eq!(
        on_line(Stage::HeloReply, b"250 mx Hello\r", helo),
        Next::Send(b"QUIT\r\n".to_vec(), Stage::QuitReply)
    );
    // Any line answers QUIT.
    assert_eq!(
        on_line(Stage::QuitReply, b"500 what\r", helo),
        Next::Done(Ok(()))
    );
    assert!(matches!(
        on_line(Stage::Banner, b"554 go away\r", helo),
        Next::Done(Err(e)) if e == "bad greeting banner: 554 go away"
    ));
    assert!(matches!(
        on_line(Stage::HeloReply, b"501 no\r", helo),
        Next::Done(Err(e)) if e.starts_with("bad HELO response")
    ));
}

#[test]
fn lines_as_keepalived_reads_them() {
    let mut l = LineBuf::default();
    assert_eq!(l.push(b"220 a"), None);
    assert_eq!(l.push(b"b\r\n250 rest"), Some(b"220 ab\r".to_vec()));
    l.clear();
    assert_eq!(l.room(), 511);
    // 511 octets without a newline: it starts over.
    assert_eq!(l.push(&[b'x'; 511]), None);
    assert_eq!(l.room(), 511);
    assert_eq!(l.push(b"250 ok\n"), Some(b"250 ok".to_vec()));
}

proptest! {
    /// However a line is cut into reads, it comes out whole once its
    /// newline has come, and not before.
    #[test]
    fn line_split_anywhere(line in "[ -~]{0,200}", cuts in proptest::collection::vec(0usize..210, 0..5)) {
        let mut data = line.clone().into_bytes();
        data.extend(b"\r\n");
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.retain(|&c| c < data.len());
        cuts.sort();
        let mut l = LineBuf::default();
        let mut got = None;
        let mut from = 0;
        for c in cuts.into_iter().chain([data.len()]) {
            prop_assert!(got.is_none());
            got = l.push(&data[from..c]);
            from = c;
        }
        let mut want = line.into_bytes();
        want.push(b'\r');
        prop_assert_eq!(got, Some(want));
    }

    /// status() is Some exactly for three digits then a space or nothing.
    #[test]
    fn status_rule(line in proptest::collection::vec(any::<u8>(), 0..8)) {
        let want = line.len() >= 3
            && line[..3].iter().all(u8::is_ascii_digit)
            && (line.len() == 3 || line[3] == b' ');
        prop_assert_eq!(status(&line).is_some(), want);
    }
}
