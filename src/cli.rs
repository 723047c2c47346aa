//! The du-compatible command line: parsing, resolving du's option
//! interplay (the last unit option wins), running the scan and printing.
use std::ffi::OsString;
use std::io::{self, Write};

use clap::{Arg, ArgAction, ArgMatches, Command};

use fdu_platform::pin::{self, PinChoice, PinMode, Placement, Topology};
use fdu_platform::{Backend, BackendChoice, BackendKind};

use crate::diag::{self, ExitStatus};
use crate::exclude::Exclude;
use crate::tree::Totals;
use crate::units::{parse_c_number, Units, UnitsError};
use crate::walk::{scan_with, FileSink, ScanOptions, ScanOutcome};
#[cfg(target_os = "linux")]
use fdu_platform::uring::{UringBackend, UringConfig};

/// What is counted: du's `--apparent-size`, `--inodes` or disk usage.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Measure {
    /// Allocated bytes (the default).
    Disk,
    /// `st_size` (`--apparent-size`, `-b`).
    Apparent,
    /// Entries (`--inodes`).
    Inodes,
}

impl Measure {
    /// The number this measure takes from `totals`.
    pub fn of(self, totals: &Totals) -> u64 {
        match self {
            Measure::Disk => totals.disk,
            Measure::Apparent => totals.apparent,
            Measure::Inodes => totals.inodes,
        }
    }
}

/// A fully resolved invocation.
#[derive(Clone, Debug)]
pub struct Config {
    /// Scan options handed to the walker.
    pub scan: ScanOptions,
    /// What is counted.
    pub measure: Measure,
    /// How numbers are printed.
    pub units: Units,
    /// Print a grand total (`-c`).
    pub total: bool,
    /// End lines with NUL (`-0`).
    pub null: bool,
    /// The backend asked for (`auto` falls back silently when its first
    /// pick cannot run; an explicit choice fails instead).
    pub backend_choice: BackendChoice,
    /// The backend that runs, unless it cannot start (see `backend_choice`).
    pub backend: BackendKind,
    /// Ring tuning for the uring backend.
    #[cfg(target_os = "linux")]
    pub uring: UringConfig,
    /// How workers are pinned (`--pin`), resolved against the topology.
    pub pin: PinMode,
    /// The CPU topology the workers were placed on.
    pub topology: Topology,
    /// Paths to scan, as given (default `.`).
    pub paths: Vec<Vec<u8>>,
    /// Print scan statistics on stderr (`--stats`).
    pub stats: bool,
    /// Report duplicate files instead of sizes (`--dups`).
    pub dups: Option<crate::dups::DupsOptions>,
}

fn command() -> Command {
    let flag = |name: &'static str| Arg::new(name).action(ArgAction::Count);
    Command::new("fdu")
        .about("Summarize disk usage of each FILE, recursively for directories, in parallel.")
        .override_usage("fdu [OPTION]... [FILE]...\n       fdu --dups [OPTION]... [FILE]...")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .dont_collapse_args_in_usage(true)
        .arg(flag("null").short('0').long("null").help("end each output line with NUL, not newline"))
        .arg(flag("all").short('a').long("all").help("write counts for all files, not just directories"))
        .arg(flag("apparent-size").long("apparent-size").help("print apparent sizes rather than disk usage"))
        .arg(
            Arg::new("block-size")
                .short('B')
                .long("block-size")
                .value_name("SIZE")
                .action(ArgAction::Append)
                .allow_hyphen_values(true)
                .help("scale sizes by SIZE before printing them (e.g. -BM, -B 1K, -B KB)"),
        )
        .arg(flag("bytes").short('b').long("bytes").help("equivalent to '--apparent-size --block-size=1'"))
        .arg(flag("total").short('c').long("total").help("produce a grand total"))
        .arg(flag("dereference-args").short('D').visible_short_alias('H').long("dereference-args").help("dereference only symlinks that are listed on the command line"))
        .arg(
            Arg::new("max-depth")
                .short('d')
                .long("max-depth")
                .value_name("N")
                .action(ArgAction::Append)
                .allow_hyphen_values(true)
                .help("print the total for a directory only if it is N or fewer levels below the command line argument"),
        )
        .arg(flag("human-readable").short('h').long("human-readable").help("print sizes in human readable format (e.g., 1K 234M 2G)"))
        .arg(flag("inodes").long("inodes").help("list inode usage information instead of block usage"))
        .arg(flag("k").short('k').help("like --block-size=1K"))
        .arg(flag("dereference").short('L').long("dereference").help("dereference all symbolic links"))
        .arg(flag("count-links").short('l').long("count-links").help("count sizes many times if hard linked"))
        .arg(flag("m").short('m').help("like --block-size=1M"))
        .arg(flag("no-dereference").short('P').long("no-dereference").help("don't follow any symbolic links (this is the default)"))
        .arg(flag("summarize").short('s').long("summarize").help("display only a total for each argument"))
        .arg(flag("si").long("si").help("like -h, but use powers of 1000 not 1024"))
        .arg(flag("one-file-system").short('x').long("one-file-system").help("skip directories on different file systems"))
        .arg(
            Arg::new("exclude")
                .long("exclude")
                .value_name("PATTERN")
                .action(ArgAction::Append)
                .help("exclude files that match PATTERN"),
        )
        .arg(
            Arg::new("exclude-from")
                .short('X')
                .long("exclude-from")
                .value_name("FILE")
                .action(ArgAction::Append)
                .help("exclude files that match any pattern in FILE"),
        )
        .arg(
            Arg::new("threads")
                .short('j')
                .long("threads")
                .value_name("N")
                .value_parser(clap::value_parser!(u16).range(1..=1024))
                .help("worker threads (default: chosen for this machine, see README)"),
        )
        .arg(
            Arg::new("backend")
                .long("backend")
                .value_name("BACKEND")
                .value_parser(["auto", "linux", "uring", "std"])
                .default_value("auto")
                .help("syscall backend: auto, linux (openat/getdents64/fstatat), uring (statx/openat/close batched through io_uring) or std (std::fs)"),
        )
        .arg(
            Arg::new("pin")
                .long("pin")
                .value_name("MODE")
                .value_parser(["auto", "none", "cpu", "numa"])
                .default_value("auto")
                .help("pin workers: none, cpu (one CPU each), numa (spread over NUMA nodes), auto (numa on a multi-node machine, else none)"),
        )
        .arg(
            Arg::new("ring-depth")
                .long("ring-depth")
                .value_name("N")
                .value_parser(clap::value_parser!(u32).range(1..=4096))
                .help("uring backend: operations one submission can carry (default 256)"),
        )
        .arg(
            Arg::new("ring-workers")
                .long("ring-workers")
                .value_name("N")
                .value_parser(clap::value_parser!(u32).range(0..=4096))
                .help("uring backend: kernel io-wq workers per scanning thread (both pools), 0 for the kernel's limits (the default)"),
        )
        .arg(
            Arg::new("max-open-dirs")
                .long("max-open-dirs")
                .value_name("N")
                .value_parser(clap::value_parser!(u32).range(1..))
                .hide(true),
        )
        .arg(flag("dups").long("dups").help("report files with equal contents (groups of paths) instead of sizes"))
        .arg(
            Arg::new("min-size")
                .long("min-size")
                .value_name("SIZE")
                .help("with --dups: skip files smaller than SIZE (e.g. 4K, 1M; default 1: no empty files)"),
        )
        .arg(flag("hardlinks").long("hardlinks").help("with --dups: also list files with several hard links"))
        .arg(flag("json").long("json").help("with --dups: print one JSON document"))
        .arg(
            Arg::new("hash-io")
                .long("hash-io")
                .value_parser(["auto", "read"])
                .default_value("auto")
                .hide(true),
        )
        .arg(flag("stats").long("stats").help("after the scan, print counts, syscalls by kind and per-worker balance on stderr"))
        .arg(flag("help").long("help").help("display this help and exit"))
        .arg(flag("version").long("version").help("output version information and exit"))
        .arg(
            Arg::new("paths")
                .value_name("FILE")
                .num_args(0..)
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(OsString)),
        )
}

/// Position of the last occurrence of a flag or option, if any.
fn last_index(m: &ArgMatches, id: &str) -> Option<usize> {
    if m.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
        return None;
    }
    m.indices_of(id).and_then(|i| i.max())
}

fn flag(m: &ArgMatches, id: &str) -> bool {
    m.get_count(id) > 0
}

/// The units before any option: from the first of `DU_BLOCK_SIZE`,
/// `BLOCK_SIZE`, `BLOCKSIZE` that is set (even to an empty or invalid value,
/// which means the default, as in du).
fn env_units() -> Units {
    let posix = std::env::var_os("POSIXLY_CORRECT").is_some();
    ["DU_BLOCK_SIZE", "BLOCK_SIZE", "BLOCKSIZE"]
        .iter()
        .find_map(std::env::var_os)
        .and_then(|spec| Units::parse(spec.to_str()?).ok())
        .unwrap_or_else(|| Units::default_for_env(posix))
}

fn units_error(e: UnitsError, spec: &str) -> String {
    match e {
        UnitsError::Invalid => format!("invalid -B argument '{spec}'"),
        UnitsError::Suffix => format!("invalid suffix in -B argument '{spec}'"),
        UnitsError::TooLarge => format!("-B argument '{spec}' too large"),
    }
}

#[cfg(unix)]
pub(crate) fn os_bytes(s: OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(s)
}

#[cfg(not(unix))]
pub(crate) fn os_bytes(s: OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

#[cfg(unix)]
fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    std::os::unix::ffi::OsStringExt::from_vec(bytes)
}

#[cfg(not(unix))]
fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    String::from_utf8_lossy(&bytes).into_owned().into()
}

/// The result of parsing: run, or exit at once with what to print.
#[derive(Debug)]
pub enum Parsed {
    /// Scan with this configuration.
    Run(Box<Config>),
    /// Print this on stdout and exit 0 (`--help`, `--version`).
    Print(String),
    /// A usage error, already worded for `fdu: ...`.
    Usage(String),
}

/// Parse a command line (the first item is the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed {
    let args: Vec<OsString> = args.into_iter().collect();
    match parse_args(&args) {
        // One line, whatever control characters the arguments hold.
        Parsed::Usage(message) => Parsed::Usage(escape_controls(&message)),
        parsed => parsed,
    }
}

/// `text` with its control characters escaped (`\n`, `\x01`).
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The first line of clap's error, which names the offending argument.
fn clap_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.trim_start_matches("error: ").to_string()
}

/// clap's message for `args`, which it refused with `e`. The message is
/// the first line of clap's error; an argument holding a newline would cut
/// it short, so the arguments are parsed again with their control
/// characters escaped (which refuses them the same way) for the message.
fn clap_message(e: &clap::Error, args: &[OsString]) -> String {
    let escaped: Vec<OsString> = args.iter().map(escape_arg).collect();
    let line = match command().try_get_matches_from(&escaped) {
        Err(again) if escaped != args => clap_line(&again),
        _ => clap_line(e),
    };
    if line.is_empty() {
        "invalid usage".to_string()
    } else {
        line
    }
}

/// `arg` with its ASCII control characters escaped as [`escape_controls`]
/// does, and every other byte kept.
fn escape_arg(arg: &OsString) -> OsString {
    let mut out = Vec::new();
    for b in os_bytes(arg.clone()) {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            b => out.push(b),
        }
    }
    os_from_bytes(out)
}

fn parse_args(args: &[OsString]) -> Parsed {
    let mut cmd = command();
    let m = match cmd.try_get_matches_from_mut(args) {
        Ok(m) => m,
        Err(e) => return Parsed::Usage(clap_message(&e, args)),
    };
    if flag(&m, "help") {
        return Parsed::Print(cmd.render_help().to_string());
    }
    if flag(&m, "version") {
        return Parsed::Print(format!("fdu {}\n", env!("CARGO_PKG_VERSION")));
    }

    // Unit options: the last one given wins, as in du.
    let mut units = env_units();
    let mut events: Vec<(usize, &str)> = ["human-readable", "si", "k", "m", "bytes"]
        .iter()
        .filter_map(|id| last_index(&m, id).map(|i| (i, *id)))
        .collect();
    let block_specs: Vec<(usize, &String)> = match (
        m.indices_of("block-size"),
        m.get_many::<String>("block-size"),
    ) {
        (Some(idx), Some(vals)) => idx.zip(vals).collect(),
        _ => Vec::new(),
    };
    for (i, _) in &block_specs {
        events.push((*i, "block-size"));
    }
    events.sort();
    for (i, id) in events {
        units = match id {
            "human-readable" => Units::Human { base: 1024 },
            "si" => Units::Human { base: 1000 },
            "k" => Units::parse("1K").expect("valid"),
            "m" => Units::parse("1M").expect("valid"),
            "bytes" => Units::parse("1").expect("valid"),
            _ => {
                let spec = block_specs
                    .iter()
                    .find(|(j, _)| *j == i)
                    .map(|(_, s)| s.as_str())
                    .unwrap_or_default();
                match Units::parse(spec) {
                    Ok(u) => u,
                    Err(e) => return Parsed::Usage(units_error(e, spec)),
                }
            }
        };
    }

    let summarize = flag(&m, "summarize");
    let all = flag(&m, "all");
    if summarize && all {
        return Parsed::Usage("cannot both summarize and show all entries".into());
    }
    let mut max_depth = usize::MAX;
    if let Some(text) = m
        .get_many::<String>("max-depth")
        .and_then(|mut v| v.next_back())
    {
        match parse_c_number(text) {
            Ok((d, "")) => max_depth = usize::try_from(d).unwrap_or(usize::MAX),
            _ => return Parsed::Usage(format!("invalid maximum depth '{text}'")),
        }
        if summarize && max_depth != 0 {
            return Parsed::Usage(format!(
                "summarizing conflicts with --max-depth={max_depth}"
            ));
        }
    }
    if summarize {
        max_depth = 0;
    }

    let measure = if flag(&m, "inodes") {
        units = units.for_inodes();
        Measure::Inodes
    } else if flag(&m, "apparent-size") || flag(&m, "bytes") {
        Measure::Apparent
    } else {
        Measure::Disk
    };

    // -L, -H/-D and -P: the last one wins.
    let deref = ["dereference", "dereference-args", "no-dereference"]
        .iter()
        .filter_map(|id| last_index(&m, id).map(|i| (i, *id)))
        .max()
        .map(|(_, id)| id);
    let follow = deref == Some("dereference");
    let follow_args = deref == Some("dereference-args");

    let mut patterns: Vec<String> = m
        .get_many::<String>("exclude")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    for file in m.get_many::<String>("exclude-from").into_iter().flatten() {
        match std::fs::read(file) {
            Ok(text) => patterns.extend(
                String::from_utf8_lossy(&text)
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            ),
            Err(e) => {
                let e = fdu_platform::Errno::from(e);
                return Parsed::Usage(format!(
                    "cannot read exclude file {}: {e}",
                    diag::quote(file.as_bytes())
                ));
            }
        }
    }
    let exclude = (!patterns.is_empty()).then(|| Exclude::new(&patterns));

    let backend_choice = BackendChoice::parse(m.get_one::<String>("backend").expect("defaulted"))
        .expect("validated by clap");
    let backend = match backend_choice.resolve() {
        Ok(kind) => kind,
        Err(e) => return Parsed::Usage(e),
    };
    let threads = m
        .get_one::<u16>("threads")
        .map(|&n| usize::from(n))
        .unwrap_or_else(default_threads);
    // FDU_SYSFS_ROOT stands in for /sys (tests give fake topologies).
    let sysfs = std::env::var_os("FDU_SYSFS_ROOT").unwrap_or_else(|| "/sys".into());
    let topology = Topology::read(std::path::Path::new(&sysfs), &pin::allowed_cpus());
    let pin_mode = PinChoice::parse(m.get_one::<String>("pin").expect("defaulted"))
        .expect("validated by clap")
        .resolve(&topology);
    let placements: Vec<Placement> = match pin_mode {
        PinMode::None => Vec::new(),
        mode => pin::plan(&topology, mode, threads),
    };
    #[cfg(target_os = "linux")]
    let uring = {
        let mut cfg = UringConfig::default();
        if let Some(&depth) = m.get_one::<u32>("ring-depth") {
            cfg.depth = depth;
        }
        if let Some(&workers) = m.get_one::<u32>("ring-workers") {
            cfg.wq_workers = workers;
        }
        cfg
    };
    let mut paths: Vec<Vec<u8>> = m
        .get_many::<OsString>("paths")
        .map(|v| v.cloned().map(os_bytes).collect())
        .unwrap_or_default();
    if paths.is_empty() {
        paths.push(b".".to_vec());
    }
    let dups = match dups_options(&m) {
        Ok(d) => d,
        Err(message) => return Parsed::Usage(message),
    };
    Parsed::Run(Box::new(Config {
        scan: ScanOptions {
            follow,
            follow_args,
            one_file_system: flag(&m, "one-file-system"),
            count_links: flag(&m, "count-links"),
            max_depth,
            all,
            threads,
            exclude,
            max_open_dirs: m.get_one::<u32>("max-open-dirs").map(|&n| n as usize),
            placements,
        },
        measure,
        units,
        total: flag(&m, "total"),
        null: flag(&m, "null"),
        backend_choice,
        backend,
        #[cfg(target_os = "linux")]
        uring,
        pin: pin_mode,
        topology,
        paths,
        stats: flag(&m, "stats"),
        dups,
    }))
}

/// The `--dups` options, or a usage error: its own options need it, and
/// the options that shape du's lines do not apply to it.
fn dups_options(m: &ArgMatches) -> Result<Option<crate::dups::DupsOptions>, String> {
    let own = [
        ("min-size", "--min-size"),
        ("hardlinks", "--hardlinks"),
        ("json", "--json"),
    ];
    let given = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if !flag(m, "dups") {
        return match own.iter().find(|(id, _)| given(id)) {
            Some((_, name)) => Err(format!("{name} requires --dups")),
            None => Ok(None),
        };
    }
    let sized = [
        ("summarize", "--summarize"),
        ("max-depth", "--max-depth"),
        ("all", "--all"),
        ("total", "--total"),
        ("inodes", "--inodes"),
        ("count-links", "--count-links"),
        ("null", "--null"),
    ];
    if let Some((_, name)) = sized.iter().find(|(id, _)| given(id)) {
        return Err(format!("{name} does not apply to --dups"));
    }
    let min_size = match m.get_one::<String>("min-size") {
        None => 1,
        Some(text) => parse_size(text).ok_or_else(|| format!("invalid --min-size '{text}'"))?,
    };
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    Ok(Some(crate::dups::DupsOptions {
        min_size,
        hardlinks: flag(m, "hardlinks"),
        json: flag(m, "json"),
        threads: m
            .get_one::<u16>("threads")
            .map_or(cpus, |&n| usize::from(n)),
        io: match m.get_one::<String>("hash-io").map(String::as_str) {
            Some("read") => crate::dups::Io::Read,
            _ => crate::dups::Io::Auto,
        },
    }))
}

/// A byte count written as du writes block sizes (`0`, `4096`, `4K`, `1M`,
/// `10KB`, `2MiB`).
fn parse_size(text: &str) -> Option<u64> {
    if let Ok((0, "")) = parse_c_number(text) {
        return Some(0);
    }
    match Units::parse(text) {
        Ok(Units::Blocks { size, .. }) => Some(size),
        _ => None,
    }
}

/// The default worker count: eight per CPU this process may run on, at
/// least 8 and at most 64. Measured on 2 CPUs (README, `perf/runs/`): warm,
/// 8 to 24 workers are within noise of each other; cold, 16 finish 1-3%
/// before 8 on local ext4, and on a file system with 1-5 ms per request
/// 32-64 workers finish 1.4-5x before 8, as more metadata requests are in
/// flight.
pub fn default_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cpus * 8).clamp(8, 64)
}

/// Writes du's lines, and goes quiet once stdout is closed.
struct Printer<W: Write> {
    out: W,
    units: Units,
    measure: Measure,
    end: u8,
    closed: bool,
    /// A write failed for another reason than a closed pipe.
    failed: bool,
    buf: Vec<u8>,
}

impl<W: Write> Printer<W> {
    fn line(&mut self, totals: &Totals, path: &[u8]) {
        if self.closed {
            return;
        }
        self.buf.clear();
        self.units.format(self.measure.of(totals), &mut self.buf);
        self.buf.push(b'\t');
        self.buf.extend_from_slice(path);
        self.buf.push(self.end);
        if let Err(e) = self.out.write_all(&self.buf) {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: io::Error) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            diag::report(&format!("write error: {}", fdu_platform::Errno::from(e)));
            self.failed = true;
        }
        self.closed = true;
    }

    fn finish(&mut self) {
        if !self.closed {
            if let Err(e) = self.out.flush() {
                self.fail(e);
            }
        }
    }
}

/// Run a parsed configuration, printing to stdout; returns the exit status.
pub fn run(config: &Config) -> ExitStatus {
    if let Some(dups) = &config.dups {
        return crate::dups::run(config, dups);
    }
    let stdout = io::stdout();
    let mut printer = Printer {
        out: io::BufWriter::with_capacity(64 * 1024, stdout.lock()),
        units: config.units,
        measure: config.measure,
        end: if config.null { 0 } else { b'\n' },
        closed: false,
        failed: false,
        buf: Vec::new(),
    };
    let started = std::time::Instant::now();
    let scanned = match scan_on_backend(config, &config.scan, None, &mut |t, p| printer.line(t, p))
    {
        Ok(scanned) => scanned,
        Err(status) => return status,
    };
    let outcome = &scanned.outcome;
    if config.total {
        printer.line(&outcome.grand_total, b"total");
    }
    printer.finish();
    if config.stats {
        print_stats(config, &scanned, started.elapsed());
    }
    // A reader that went away (`fdu -a / | head`) is not an error; any
    // other write error is.
    if outcome.errors > 0 || printer.failed {
        ExitStatus::Partial
    } else {
        ExitStatus::Ok
    }
}

/// A scan that ran: on which backend, and what it counted.
pub(crate) struct Scanned {
    /// The backend that ran (`auto` may have fallen back).
    pub ran: BackendKind,
    /// The io_uring setup, when the uring backend ran.
    pub ring: Option<String>,
    /// What the walker counted.
    pub outcome: ScanOutcome,
}

/// Scan `config.paths` with `scan` options on the configured backend,
/// passing regular files to `files` and du's lines to `line`.
///
/// When the uring backend cannot start, an explicit `--backend uring` is
/// reported and `Err(1)` returned; `auto` falls back to the linux backend.
pub(crate) fn scan_on_backend(
    config: &Config,
    scan: &ScanOptions,
    files: Option<&dyn FileSink>,
    line: &mut dyn FnMut(&Totals, &[u8]),
) -> Result<Scanned, ExitStatus> {
    let mut run = |backend: &dyn ScanWith| backend.scan(scan, &config.paths, files, &mut *line);
    let (ran, ring, outcome) = match config.backend {
        #[cfg(target_os = "linux")]
        BackendKind::Uring => match UringBackend::new(config.uring) {
            Ok(ring) => {
                let outcome = run(&ring);
                (BackendKind::Uring, Some(ring.describe()), outcome)
            }
            Err(e) if config.backend_choice == BackendChoice::Uring => {
                diag::report(&format!(
                    "cannot use the uring backend: io_uring_setup failed: {e}"
                ));
                return Err(ExitStatus::Partial);
            }
            Err(_) => (
                BackendKind::Linux,
                None,
                run(&fdu_platform::linux::LinuxBackend::default()),
            ),
        },
        #[cfg(target_os = "linux")]
        BackendKind::Linux => (
            BackendKind::Linux,
            None,
            run(&fdu_platform::linux::LinuxBackend::default()),
        ),
        #[cfg(not(target_os = "linux"))]
        BackendKind::Linux | BackendKind::Uring => {
            unreachable!("resolve() never picks a Linux backend here")
        }
        BackendKind::Std => (
            BackendKind::Std,
            None,
            run(&fdu_platform::stdfs::StdBackend),
        ),
    };
    Ok(Scanned { ran, ring, outcome })
}

/// A backend the CLI can scan with: erases the backend type so that the
/// backend is picked at run time.
trait ScanWith {
    fn scan(
        &self,
        scan: &ScanOptions,
        paths: &[Vec<u8>],
        files: Option<&dyn FileSink>,
        line: &mut dyn FnMut(&Totals, &[u8]),
    ) -> ScanOutcome;
}

impl<B: Backend> ScanWith for B {
    fn scan(
        &self,
        scan: &ScanOptions,
        paths: &[Vec<u8>],
        files: Option<&dyn FileSink>,
        line: &mut dyn FnMut(&Totals, &[u8]),
    ) -> ScanOutcome {
        scan_with(self, scan, paths, files, line)
    }
}

/// `--stats`: what the scan did, on stderr, after the output.
pub(crate) fn print_stats(config: &Config, scanned: &Scanned, elapsed: std::time::Duration) {
    let (ran, ring, outcome) = (scanned.ran, scanned.ring.as_deref(), &scanned.outcome);
    let s = &outcome.sum;
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.entries as f64 / secs
    } else {
        0.0
    };
    let mut text = format!(
        "fdu: stats: backend {}, {} threads, pin {}\n",
        ran.name(),
        outcome.workers.len(),
        config.pin.name(),
    );
    if let Some(ring) = ring {
        text.push_str(&format!("io_uring     {ring}\n"));
    }
    text.push_str(&format!(
        "entries      {}\n\
         directories  {}\n\
         errors       {}\n\
         elapsed      {:.3} s\n\
         entries/s    {:.0}\n\
         syscalls     openat {}  getdents64 {}  fstatat {}  close {}  io_uring_enter {}\n\
         ring ops     statx {}  openat {}  close {}\n\
         worker  entries  dirs  steals  cpus\n",
        s.entries,
        s.dirs,
        s.errors,
        secs,
        rate,
        s.openat - s.ring_openat,
        s.getdents,
        s.stat - s.ring_stat,
        s.openat.saturating_sub(s.ring_close),
        s.uring_enter,
        s.ring_stat,
        s.ring_openat,
        s.ring_close,
    ));
    for (i, w) in outcome.workers.iter().enumerate() {
        let cpus = config
            .scan
            .placements
            .get(i)
            .map_or_else(|| "any".to_string(), |p| cpu_list(&p.cpus));
        text.push_str(&format!(
            "{i:>6}  {:>7}  {:>4}  {:>6}  {cpus}\n",
            w.entries, w.dirs, w.steals
        ));
    }
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// CPUs as a cpulist (`0-3,8`).
fn cpu_list(cpus: &[usize]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if j > i {
            out.push_str(&format!("{}-{}", cpus[i], cpus[j]));
        } else {
            out.push_str(&cpus[i].to_string());
        }
        i = j + 1;
    }
    if out.is_empty() {
        out.push_str("any");
    }
    out
}

/// Parse and run: the whole program.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitStatus {
    match parse(args) {
        Parsed::Run(config) => run(&config),
        Parsed::Print(text) => {
            let _ = io::stdout().write_all(text.as_bytes());
            ExitStatus::Ok
        }
        Parsed::Usage(message) => {
            diag::report(&format!("{message} (try 'fdu --help')"));
            ExitStatus::Usage
        }
    }
}
