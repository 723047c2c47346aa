//! The ncdu export reader (`fdu::export::read`) on arbitrary bytes. The
//! properties: no panic; an error's offset is within the input; the events
//! of an accepted input are balanced, the root's `Dir` first and its
//! `EndDir` last; an accepted input that is UTF-8 (and has no `\ud` escape,
//! where the reader takes Python's surrogateescape) is JSON to serde_json
//! too; and what was read, written out again canonically, reads back the
//! same.
#![no_main]

use std::fmt::Write as _;

use libfuzzer_sys::fuzz_target;

use fdu::export::read::{Event, ReadError, Reader};
use fdu::export::{Entry, Excluded};

/// An event, owned.
#[derive(Debug, PartialEq, Eq)]
enum Ev {
    Dir(Entry),
    File(Entry),
    End,
}

/// Every event of `data`, checking their order as they come.
fn read(data: &[u8]) -> Result<Vec<Ev>, ReadError> {
    let mut r = Reader::new(data, "fuzz")?;
    let mut evs = Vec::new();
    let mut depth = 0usize;
    while let Some(ev) = r.next()? {
        assert!(depth > 0 || (evs.is_empty() && matches!(ev, Event::Dir(_))));
        match ev {
            Event::Dir(e) => {
                depth += 1;
                evs.push(Ev::Dir(e.clone()));
            }
            Event::File(e) => evs.push(Ev::File(e.clone())),
            Event::EndDir => {
                depth -= 1;
                evs.push(Ev::End);
            }
        }
        assert_eq!(r.depth(), depth);
        assert!(r.entry_offset() < data.len() as u64);
    }
    assert_eq!(depth, 0);
    assert!(r.next()?.is_none());
    Ok(evs)
}

/// `name` as a JSON string: bytes as they are but for `"`, `\` and
/// control bytes, as ncdu writes them.
fn string(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'"');
    for &b in name {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// An info object with every field the entry has.
fn info(out: &mut Vec<u8>, e: &Entry) {
    out.extend_from_slice(b"{\"name\":");
    string(out, &e.name);
    let mut s = String::new();
    write!(s, ",\"asize\":{},\"dsize\":{},\"dev\":{}", e.asize, e.dsize, e.dev).unwrap();
    if let Some(v) = e.ino {
        write!(s, ",\"ino\":{v}").unwrap();
    }
    if let Some(v) = e.nlink {
        write!(s, ",\"nlink\":{v}").unwrap();
    }
    write!(
        s,
        ",\"hlnkc\":{},\"read_error\":{},\"notreg\":{}",
        e.hlnkc, e.read_error, e.notreg
    )
    .unwrap();
    if let Some(x) = e.excluded {
        let x = match x {
            Excluded::Pattern => "pattern",
            Excluded::OtherFs => "otherfs",
            Excluded::KernFs => "kernfs",
            Excluded::FirmLink => "frmlnk",
            Excluded::Other => "something else",
        };
        write!(s, ",\"excluded\":\"{x}\"").unwrap();
    }
    for (k, v) in [("uid", e.uid), ("gid", e.gid), ("mode", e.mode)] {
        if let Some(v) = v {
            write!(s, ",\"{k}\":{v}").unwrap();
        }
    }
    if let Some(v) = e.mtime {
        write!(s, ",\"mtime\":{v}").unwrap();
    }
    out.extend_from_slice(s.as_bytes());
    out.push(b'}');
}

/// The events as an export again.
fn write(evs: &[Ev]) -> Vec<u8> {
    let mut out = b"[1,2,{},\n".to_vec();
    let mut first = true;
    for ev in evs {
        match ev {
            Ev::Dir(e) => {
                if !first {
                    out.push(b',');
                }
                out.push(b'[');
                info(&mut out, e);
            }
            Ev::File(e) => {
                out.push(b',');
                info(&mut out, e);
            }
            Ev::End => out.push(b']'),
        }
        first = false;
    }
    out.push(b']');
    out
}

fuzz_target!(|data: &[u8]| {
    let evs = match read(data) {
        Ok(evs) => evs,
        Err(e) => {
            assert!(e.offset <= data.len() as u64, "{e}");
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    if let Ok(text) = std::str::from_utf8(data) {
        let nesting = data.iter().filter(|&&b| b == b'[' || b == b'{').count();
        if !text.contains("\\ud") && !text.contains("\\uD") && nesting < 120 {
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                panic!("accepted, but serde_json says: {e}");
            }
        }
    }
    let again = write(&evs);
    match read(&again) {
        Ok(back) => assert_eq!(back, evs, "{}", again.escape_ascii()),
        Err(e) => panic!("{e}: {}", again.escape_ascii()),
    }
});
