//! Benches of the pieces that decide fdu's speed, on generated trees.
//!
//! `cargo bench` runs them; CI only compiles them (`cargo bench --no-run`).
//! Set `FDU_BENCH_TREE=/path` to bench the whole-scan group on a tree of
//! your own (e.g. one made by `fdu-datasets`) instead of the generated one.
use std::ffi::CString;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lasso::Rodeo;

use fdu::links::LinkSet;
use fdu::scan::Scan;
use fdu::tree::{NodeId, Totals};
use fdu::walk::ScanOptions;
use fdu_platform::{Backend, BackendChoice, Follow};

/// A tree of 40 directories x 500 files (20k entries), made once.
fn tree() -> &'static Path {
    static TREE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &TREE
        .get_or_init(|| {
            let tmp = tempfile::Builder::new()
                .prefix("fdu-bench")
                .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                .expect("temp dir");
            let root = tmp.path().join("tree");
            for d in 0..40 {
                let dir = root.join(format!("dir{d:02}"));
                std::fs::create_dir_all(&dir).expect("mkdir");
                for f in 0..500 {
                    std::fs::write(dir.join(format!("file{f:04}")), vec![b'x'; f % 7 * 100])
                        .expect("write");
                }
            }
            (tmp, root)
        })
        .1
}

fn options(threads: usize) -> ScanOptions {
    ScanOptions {
        follow: false,
        follow_args: false,
        one_file_system: false,
        count_links: false,
        max_depth: 0,
        all: false,
        workers: fdu::adapt::Workers::Fixed(threads),
        exclude: None,
        max_open_dirs: None,
        placements: Vec::new(),
        separate_dirs: false,
        time: fdu::tree::TimeKind::Modified,
    }
}

fn bench_root() -> Vec<u8> {
    match std::env::var_os("FDU_BENCH_TREE") {
        Some(p) => p.into_encoded_bytes(),
        None => tree().as_os_str().as_encoded_bytes().to_vec(),
    }
}

fn whole_scan(c: &mut Criterion) {
    let root = bench_root();
    let mut group = c.benchmark_group("scan");
    group.sample_size(20);
    let mut backends = vec![("std", BackendChoice::Std)];
    if cfg!(target_os = "linux") {
        backends.push(("linux", BackendChoice::Linux));
        backends.push(("uring", BackendChoice::Uring));
    }
    for threads in [1, 2, 4, 8] {
        for &(name, backend) in &backends {
            let scan = Scan::new([&root])
                .options(options(threads))
                .backend(backend);
            if scan.run().is_err() {
                // io_uring refused here.
                continue;
            }
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, _| {
                b.iter(|| {
                    let report = scan.run().expect("ran once already");
                    black_box(report.tree.grand_total().disk)
                })
            });
        }
    }
    group.finish();
}

/// statx relative to an open directory fd vs stat by full path.
#[cfg(target_os = "linux")]
fn stat_one_directory(c: &mut Criterion) {
    let dir_path = tree().join("dir00");
    let names: Vec<CString> = (0..500)
        .map(|f| CString::new(format!("file{f:04}")).expect("no NUL"))
        .collect();
    let full: Vec<PathBuf> = (0..500)
        .map(|f| dir_path.join(format!("file{f:04}")))
        .collect();
    use fdu_platform::linux::{LinuxBackend, StatCall};
    let be = LinuxBackend::default();
    let statx = LinuxBackend {
        stat_call: StatCall::Statx,
    };
    let dir = be.open_path(&dir_path).expect("open");
    let mut group = c.benchmark_group("stat_500_entries");
    group.throughput(Throughput::Elements(500));
    group.bench_function("fstatat_relative_to_dir_fd", |b| {
        b.iter(|| {
            names
                .iter()
                .map(|n| be.stat_at(&dir, n, Follow::No).expect("stat").blocks)
                .sum::<u64>()
        })
    });
    if let Ok(ring) = fdu_platform::uring::UringBackend::new(Default::default()) {
        let ring_dir = ring.open_path(&dir_path).expect("open");
        let refs: Vec<&std::ffi::CStr> = names.iter().map(|n| n.as_c_str()).collect();
        group.bench_function("statx_batched_through_io_uring", |b| {
            b.iter(|| {
                let mut blocks = 0;
                ring.stat_many(&ring_dir, &refs, Follow::No, |_, m| {
                    blocks += m.expect("stat").blocks;
                });
                blocks
            })
        });
    }
    group.bench_function("statx_relative_to_dir_fd", |b| {
        b.iter(|| {
            names
                .iter()
                .map(|n| statx.stat_at(&dir, n, Follow::No).expect("stat").blocks)
                .sum::<u64>()
        })
    });
    group.bench_function("stat_by_full_path", |b| {
        b.iter(|| {
            full.iter()
                .map(|p| be.stat_path(p, Follow::No).expect("stat").blocks)
                .sum::<u64>()
        })
    });
    group.finish();
}

#[cfg(not(target_os = "linux"))]
fn stat_one_directory(_: &mut Criterion) {}

/// The sharded hard-link set with every thread inserting at once.
fn link_set_contention(c: &mut Criterion) {
    const PER_THREAD: u64 = 20_000;
    let mut group = c.benchmark_group("link_set");
    for threads in [1u64, 2, 4, 8] {
        group.throughput(Throughput::Elements(threads * PER_THREAD));
        group.bench_with_input(BenchmarkId::from_parameter(threads), &threads, |b, &n| {
            b.iter(|| {
                let set = LinkSet::new(n as usize);
                std::thread::scope(|s| {
                    for t in 0..n {
                        let set = &set;
                        s.spawn(move || {
                            for i in 0..PER_THREAD {
                                // Half the inodes are shared with the next thread.
                                let ino = if i % 2 == 0 { t * PER_THREAD + i } else { i };
                                set.record_file(
                                    (1, ino),
                                    Totals::default(),
                                    NodeId::new(t as usize, 0),
                                );
                            }
                        });
                    }
                });
                set.drain_files().len()
            })
        });
    }
    group.finish();
}

/// Interning directory names (lasso) and appending entry names to one
/// byte buffer (as the node tables do), against a heap allocation per name.
fn names(c: &mut Criterion) {
    let words: Vec<String> = (0..10_000).map(|i| format!("name-{}", i % 700)).collect();
    let mut group = c.benchmark_group("names_10k");
    group.throughput(Throughput::Elements(words.len() as u64));
    group.bench_function("lasso_intern", |b| {
        b.iter(|| {
            let mut rodeo: Rodeo = Rodeo::new();
            words.iter().map(|w| rodeo.get_or_intern(w.as_str())).last()
        })
    });
    group.bench_function("byte_buffer_append", |b| {
        b.iter(|| {
            let mut bytes: Vec<u8> = Vec::new();
            words
                .iter()
                .map(|w| {
                    let start = bytes.len();
                    bytes.extend_from_slice(w.as_bytes());
                    (start, w.len())
                })
                .last()
        })
    });
    group.bench_function("box_per_name", |b| {
        b.iter(|| {
            words
                .iter()
                .map(|w| w.as_bytes().to_vec().into_boxed_slice())
                .collect::<Vec<_>>()
                .len()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    whole_scan,
    stat_one_directory,
    link_set_contention,
    names
);
criterion_main!(benches);
