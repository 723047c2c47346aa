//! `fdu-datasets SHAPE DIR --entries N --seed S`: make a benchmark tree and
//! write its manifest to `DIR.manifest.json`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use fdu_datasets::{create, manifest_path, Manifest, Plan, Shape};

/// Make a deterministic benchmark tree for fdu.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Tree shape.
    #[arg(value_enum)]
    shape: Shape,
    /// Directory to create (must not exist unless --force).
    dir: PathBuf,
    /// Entries in the tree, root included (`find DIR | wc -l`).
    #[arg(long, short = 'n', default_value_t = 1_000_000)]
    entries: u64,
    /// PRNG seed.
    #[arg(long, short = 's', default_value_t = 1)]
    seed: u64,
    /// Worker threads for files and links (default: available cores).
    #[arg(long, short = 'j')]
    threads: Option<usize>,
    /// Remove DIR and its manifest first if they exist.
    #[arg(long)]
    force: bool,
    /// Only print the manifest; create nothing.
    #[arg(long)]
    plan_only: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.entries == 0 || args.entries > u64::from(u32::MAX) {
        eprintln!("fdu-datasets: --entries must be in 1..=4294967295");
        return ExitCode::from(2);
    }
    let t0 = Instant::now();
    let plan = Plan::new(args.shape, args.entries, args.seed);
    let manifest = Manifest::of(&plan);
    let json = manifest.to_json();
    let planned = t0.elapsed();
    if args.plan_only {
        print!("{json}");
        return ExitCode::SUCCESS;
    }
    let mpath = manifest_path(&args.dir);
    if args.force {
        if args.dir.symlink_metadata().is_ok() {
            eprintln!("fdu-datasets: removing {}", args.dir.display());
            if let Err(e) = std::fs::remove_dir_all(&args.dir) {
                eprintln!("fdu-datasets: remove {}: {e}", args.dir.display());
                return ExitCode::FAILURE;
            }
        }
        let _ = std::fs::remove_file(&mpath);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let t = match create(&plan, &args.dir, threads) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fdu-datasets: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The manifest is written last: its presence means the tree is complete.
    let tmp = {
        let mut s = mpath.clone().into_os_string();
        s.push(".tmp");
        PathBuf::from(s)
    };
    if let Err(e) = std::fs::write(&tmp, &json).and_then(|()| std::fs::rename(&tmp, &mpath)) {
        eprintln!("fdu-datasets: {}: {e}", mpath.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "fdu-datasets: {} {} entries (seed {}) in {}: plan {:.2?}, dirs {:.2?}, files {:.2?}, links {:.2?}, total {:.2?} ({threads} threads)",
        args.shape,
        manifest.total_entries,
        args.seed,
        args.dir.display(),
        planned,
        t.dirs,
        t.files,
        t.links,
        t0.elapsed(),
    );
    eprintln!("fdu-datasets: manifest {}", mpath.display());
    ExitCode::SUCCESS
}
