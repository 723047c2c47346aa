//! Reading ncdu exports: the streaming reader's throughput in bytes/s.
//!
//! The generated export has 1M entries in ncdu 1.18's shape (about 45 MB:
//! directories of 20 files, 2% hard links, a name in 50 escaped or not
//! UTF-8). Set `FDU_BENCH_EXPORT=/path` to also bench a real export (say
//! `ncdu -0 -o x.json` of an `fdu-datasets` tree), read from memory and from
//! the file. `cargo bench --bench export_read`.
use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use fdu::export::read::{Event, Reader};

/// An export of `entries` entries in ncdu 1.18's shape, the same every run.
fn synthesize(entries: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries * 48);
    out.extend_from_slice(
        b"[1,2,{\"progname\":\"ncdu\",\"progver\":\"1.18\",\"timestamp\":1700000000},\n",
    );
    out.extend_from_slice(
        b"[{\"name\":\"/bench/root\",\"asize\":4096,\"dsize\":4096,\"dev\":65024}",
    );
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut made = 1;
    let mut depth = 0;
    while made < entries {
        let r = rand();
        if made % 21 == 1 {
            // A new directory, after closing 0 to 2 levels (kept under 12).
            let close = if depth >= 12 { 3 } else { (r % 3) as usize }.min(depth);
            out.resize(out.len() + close, b']');
            depth -= close;
            write!(
                out,
                ",\n[{{\"name\":\"dir{made}\",\"asize\":4096,\"dsize\":4096}}"
            )
            .unwrap();
            depth += 1;
        } else {
            let size = r % 20_000;
            let name: &[u8] = match r % 50 {
                0 => b"caf\\u00e9 \\\"quoted\\\"",
                1 => b"raw\xff\xfe",
                _ => b"source_file",
            };
            out.extend_from_slice(b",\n{\"name\":\"");
            out.extend_from_slice(name);
            write!(
                out,
                "{made}.c\",\"asize\":{size},\"dsize\":{}",
                size.div_ceil(4096) * 4096
            )
            .unwrap();
            if r % 50 == 7 {
                write!(out, ",\"ino\":{},\"hlnkc\":true,\"nlink\":2", r >> 40).unwrap();
            }
            out.push(b'}');
        }
        made += 1;
    }
    out.resize(out.len() + depth, b']');
    out.extend_from_slice(b"]]");
    out
}

/// Reads every event; the total apparent size and entry count.
fn read_all<R: std::io::Read>(input: R) -> (u64, u64) {
    let mut r = Reader::new(input, "bench").expect("header");
    let (mut size, mut n) = (0, 0);
    while let Some(ev) = r.next().expect("valid export") {
        match ev {
            Event::Dir(e) | Event::File(e) => {
                size += e.asize;
                n += 1;
            }
            Event::EndDir => {}
        }
    }
    (size, n)
}

fn bench(c: &mut Criterion) {
    let data = synthesize(1_000_000);
    assert_eq!(read_all(&data[..]).1, 1_000_000);
    let mut g = c.benchmark_group("export_read");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("generated_1M", |b| {
        b.iter(|| black_box(read_all(&data[..])))
    });
    if let Some(path) = std::env::var_os("FDU_BENCH_EXPORT") {
        let real = std::fs::read(&path).expect("read FDU_BENCH_EXPORT");
        g.throughput(Throughput::Bytes(real.len() as u64));
        g.bench_function("file_in_memory", |b| {
            b.iter(|| black_box(read_all(&real[..])))
        });
        g.bench_function("file", |b| {
            b.iter(|| black_box(read_all(std::fs::File::open(&path).expect("open"))))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
