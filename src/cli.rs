//! The du-compatible command line: parsing, resolving du's option
//! interplay (the last unit option wins), running the scan and printing.
use std::ffi::OsString;
use std::io::{self, Write};

use clap::{Arg, ArgAction, ArgMatches, Command};

use fdu_platform::pin::{self, PinChoice, PinMode, Placement, Topology};
use fdu_platform::BackendChoice;

use crate::adapt::{Workers, MAX_WORKERS};
use crate::checkpoint::{Header, Journal, Saved, Start};
use crate::config::os_bytes;
pub use crate::config::{
    CheckpointOptions, Config, DupsOptions, ExportOptions, Format, Io, Measure, TimeOptions, Toggle,
};
use crate::diag::{self, ExitStatus};
use crate::exclude::Exclude;
use crate::output::du::Printer;
use crate::output::progress::{Meter, Mode};
use crate::output::stats::print_stats;
use crate::scan::{Report, Scan};
use crate::stream::{Stream, Streamed};
use crate::timefmt::TimeFormat;
use crate::tree::TimeKind;
use crate::units::{parse_c_number, parse_threshold, StrtolError, Units, UnitsError};
use crate::walk::ScanOptions;
#[cfg(target_os = "linux")]
use fdu_platform::uring::UringConfig;

/// The one definition of fdu's command line: du's options in the order of
/// du's `long_options` (which is the order getopt lists the candidates of
/// an ambiguous abbreviation in), then fdu's own. `--help` text, shell
/// completions and the man page are all made from it.
pub fn command() -> Command {
    let flag = |name: &'static str| Arg::new(name).action(ArgAction::Count);
    let value = |name: &'static str, value_name: &'static str| {
        Arg::new(name)
            .value_name(value_name)
            .action(ArgAction::Append)
            .allow_hyphen_values(true)
    };
    Command::new("fdu")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Summarize device usage of the set of FILEs, recursively for directories, in parallel.")
        .override_usage("fdu [OPTION]... [FILE]...\n       fdu [OPTION]... --files0-from=F\n       fdu --dups [OPTION]... [FILE]...\n       fdu --compare=OLD [OPTION]... [NEW]")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .dont_collapse_args_in_usage(true)
        .arg(flag("all").short('a').long("all").help("write counts for all files, not just directories"))
        .arg(flag("apparent-size").long("apparent-size").help("print apparent sizes rather than device usage"))
        .arg(value("block-size", "SIZE").short('B').long("block-size").help("scale sizes by SIZE before printing them (e.g. -BM, -B 1K, -B KB)"))
        .arg(flag("bytes").short('b').long("bytes").help("equivalent to '--apparent-size --block-size=1'"))
        .arg(flag("count-links").short('l').long("count-links").help("count sizes many times if hard linked"))
        .arg(flag("dereference").short('L').long("dereference").help("dereference all symbolic links"))
        .arg(flag("dereference-args").short('D').visible_short_alias('H').long("dereference-args").help("dereference only symlinks that are listed on the command line"))
        .arg(value("exclude", "PATTERN").long("exclude").help("exclude files that match PATTERN"))
        .arg(value("exclude-from", "FILE").short('X').long("exclude-from").help("exclude files that match any pattern in FILE"))
        .arg(
            value("files0-from", "F")
                .long("files0-from")
                .value_parser(clap::value_parser!(OsString))
                .value_hint(clap::ValueHint::FilePath)
                .help("summarize device usage of the NUL-terminated file names specified in file F; if F is -, then read names from standard input"),
        )
        .arg(flag("human-readable").short('h').long("human-readable").help("print sizes in human readable format (e.g., 1K 234M 2G)"))
        .arg(flag("inodes").long("inodes").help("list inode usage information instead of block usage"))
        .arg(flag("si").long("si").help("like -h, but use powers of 1000 not 1024"))
        .arg(value("max-depth", "N").short('d').long("max-depth").help("print the total for a directory (or file, with --all) only if it is N or fewer levels below the command line argument"))
        .arg(flag("null").short('0').long("null").help("end each output line with NUL, not newline"))
        .arg(flag("no-dereference").short('P').long("no-dereference").help("don't follow any symbolic links (this is the default)"))
        .arg(flag("one-file-system").short('x').long("one-file-system").help("skip directories on different file systems"))
        .arg(flag("separate-dirs").short('S').long("separate-dirs").help("for directories do not include size of subdirectories"))
        .arg(flag("summarize").short('s').long("summarize").help("display only a total for each argument"))
        .arg(flag("total").short('c').long("total").help("produce a grand total"))
        .arg(value("threshold", "SIZE").short('t').long("threshold").help("exclude entries smaller than SIZE if positive, or entries greater than SIZE if negative"))
        .arg(
            Arg::new("time")
                .long("time")
                .value_name("WORD")
                .num_args(0..=1)
                .require_equals(true)
                .action(ArgAction::Append)
                .help("show time of the last modification of any file in the directory, or any of its subdirectories; with WORD (atime, access, use, ctime or status), that time instead"),
        )
        .arg(value("time-style", "STYLE").long("time-style").help("show times using STYLE: full-iso, long-iso, iso, or +FORMAT (FORMAT as in 'date')"))
        .arg(flag("k").short('k').help("like --block-size=1K"))
        .arg(flag("m").short('m').help("like --block-size=1M"))
        .arg(flag("help").long("help").help("display this help and exit"))
        .arg(flag("version").long("version").help("output version information and exit"))
        .arg(
            Arg::new("threads")
                .short('j')
                .long("threads")
                .value_name("N")
                .value_parser(parse_workers)
                .help("worker threads: auto (the default: as many as the storage keeps busy, chosen while scanning; see README) or a number from 1 to 1024"),
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
        .arg(flag("stats").long("stats").help("after the scan, print counts, syscalls by kind and per-worker balance on stderr"))
        .arg(flag("mpi").long("mpi").help("one scan over the processes of an MPI job (mpirun -n N fdu --mpi ...): every rank walks, rank 0 prints (needs a build with --features mpi; see README)"))
        // Scans that outlast a run (src/checkpoint.rs).
        .arg(
            Arg::new("checkpoint")
                .long("checkpoint")
                .value_name("FILE")
                .value_parser(clap::value_parser!(OsString))
                .help("keep the scan's state in FILE as it goes (du's lines only), so that --resume FILE can finish it after a kill"),
        )
        .arg(value("checkpoint-interval", "SECS").long("checkpoint-interval").help("with --checkpoint: take a checkpoint every SECS seconds (default 60)"))
        .arg(
            Arg::new("resume")
                .long("resume")
                .value_name("FILE")
                .value_parser(clap::value_parser!(OsString))
                .help("finish the scan whose checkpoint is FILE, with its options, printing all of its output (takes no other option but --stats and --progress/--no-progress)"),
        )
        // Progress on stderr (output::progress); the last of the two wins.
        .arg(flag("progress").long("progress").help("show progress on stderr: a line redrawn in place on a terminal, else a plain line every 5 seconds (default: only on a terminal, after 1 second, and not with -0 or --json)"))
        .arg(flag("no-progress").long("no-progress").help("show no progress on stderr"))
        .arg(flag("dups").long("dups").help("report files with equal contents (groups of paths) instead of sizes"))
        .arg(
            Arg::new("min-size")
                .long("min-size")
                .value_name("SIZE")
                .help("with --dups: skip files smaller than SIZE (e.g. 4K, 1M; default 1: no empty files)"),
        )
        .arg(flag("hardlinks").long("hardlinks").help("with --dups: also list files with several hard links"))
        .arg(flag("json").long("json").help("same as --format=json (with --dups: the groups as one JSON document)"))
        // Outputs (src/output/): --format, --top.
        .arg(
            Arg::new("format")
                .long("format")
                .value_name("FORMAT")
                .value_parser(["du", "json", "prometheus"])
                .action(ArgAction::Append)
                .help("du (du's lines, the default), json (one document: the tree, exact bytes) or prometheus (a textfile collector file); json and prometheus show each FILE only, unless -d, -s or -a say otherwise"),
        )
        .arg(value("top", "N").long("top").help("print only the N largest of the lines du would print (directories, files too with -a), largest first"))
        .arg(
            Arg::new("compare")
                .long("compare")
                .value_name("OLD")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(OsString))
                .value_hint(clap::ValueHint::AnyPath)
                .help("print what changed from OLD to the FILE operand: +SIZE or -SIZE for each of du's lines whose size changed; each side is an export of fdu, ncdu or gdu ('-' is stdin, for OLD only) or a directory, scanned now"),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FILE")
                .value_parser(clap::value_parser!(OsString))
                .help("write the scan of one directory to FILE ('-' for stdout) in ncdu's JSON export format, instead of printing sizes"),
        )
        .arg(
            Arg::new("input-file")
                .short('f')
                .long("input-file")
                .value_name("FILE")
                .value_parser(clap::value_parser!(OsString))
                .help("report from FILE ('-' for stdin), an export of fdu, ncdu or gdu, instead of scanning"),
        )
        .arg(flag("extended").short('e').long("extended").help("with -o: also export each entry's owner, group, mode and modification time"))
        .arg(
            Arg::new("hash-io")
                .long("hash-io")
                .value_parser(["auto", "read"])
                .default_value("auto")
                .hide(true),
        )
        .arg(
            Arg::new("completions")
                .long("completions")
                .value_name("SHELL")
                .value_parser(["bash", "zsh", "fish"])
                .help("print the completion script for SHELL (bash, zsh or fish) and exit"),
        )
        .arg(flag("man").long("man").help("print the man page (roff) and exit"))
        .arg(
            Arg::new("paths")
                .value_name("FILE")
                .num_args(0..)
                .action(ArgAction::Append)
                .value_hint(clap::ValueHint::AnyPath)
                .value_parser(clap::value_parser!(OsString)),
        )
}

/// Whether an option takes an argument, as in getopt's `struct option`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HasArg {
    No,
    Required,
    /// Only as `--name=VALUE` (`--time`).
    Optional,
}

/// One option as getopt sees it.
struct OptSpec {
    id: String,
    long: Option<String>,
    shorts: Vec<char>,
    has_arg: HasArg,
    hidden: bool,
    /// One of du's options (not fdu's own).
    du: bool,
}

/// du 9.1's long options: an abbreviation that fits one of them and some
/// of fdu's own options means du's (`--thr` is `--threshold`, not
/// `--threads`), so that du's command lines mean the same to fdu.
const DU_LONGS: &[&str] = &[
    "all",
    "apparent-size",
    "block-size",
    "bytes",
    "count-links",
    "dereference",
    "dereference-args",
    "exclude",
    "exclude-from",
    "files0-from",
    "human-readable",
    "inodes",
    "si",
    "max-depth",
    "null",
    "no-dereference",
    "one-file-system",
    "separate-dirs",
    "summarize",
    "total",
    "threshold",
    "time",
    "time-style",
    "help",
    "version",
];

fn opt_specs(cmd: &Command) -> Vec<OptSpec> {
    cmd.get_arguments()
        .filter(|a| !a.is_positional())
        .map(|a| {
            let has_arg = if !a.get_action().takes_values() {
                HasArg::No
            } else if a.get_num_args().is_some_and(|r| r.min_values() == 0) {
                HasArg::Optional
            } else {
                HasArg::Required
            };
            let mut shorts: Vec<char> = a.get_short().into_iter().collect();
            shorts.extend(a.get_visible_short_aliases().unwrap_or_default());
            OptSpec {
                id: a.get_id().to_string(),
                long: a.get_long().map(str::to_string),
                shorts,
                has_arg,
                hidden: a.is_hide_set(),
                du: a.get_long().is_some_and(|l| DU_LONGS.contains(&l)),
            }
        })
        .collect()
}

/// The command line after [`getopt`]: long options spelled out in full,
/// and how each option taking a value was written (for du's messages,
/// which name `-t` or `--threshold` as typed).
struct Normalized {
    args: Vec<OsString>,
    /// `(option id, name as written, value)` for every option that takes
    /// a value, in command-line order (`--time` may have none).
    written: Vec<Written>,
}

/// One option that takes a value, as given.
struct Written {
    id: String,
    name: String,
    value: Option<Vec<u8>>,
}

impl Normalized {
    /// Every occurrence of option `id`: the name as written and the value.
    fn all<'s>(&'s self, id: &'s str) -> impl Iterator<Item = &'s Written> + 's {
        self.written.iter().filter(move |w| w.id == id)
    }
}

/// GNU getopt_long's reading of the command line, in its words: long
/// options may be abbreviated to any unambiguous prefix (an exact name
/// wins), `--name=VALUE` or `--name VALUE`, short options clustered
/// (`-sh`, `-d1`, `-d 1`), `--` ends the options. The result spells every
/// option out, for clap to parse without guessing.
fn getopt(args: Vec<OsString>, specs: &[OptSpec]) -> Result<Normalized, String> {
    let mut out = Normalized {
        args: Vec::with_capacity(args.len()),
        written: Vec::new(),
    };
    let mut it = args.into_iter();
    out.args.extend(it.next());
    let with_value = |name: &str, value: &[u8]| {
        let mut v = format!("--{name}=").into_bytes();
        v.extend_from_slice(value);
        os_from_bytes(v)
    };
    while let Some(arg) = it.next() {
        let bytes = os_bytes(arg.clone());
        if bytes == b"--" {
            out.args.push(arg);
            out.args.extend(it.by_ref());
            break;
        }
        if let Some(body) = bytes.strip_prefix(b"--") {
            let (name, value) = match body.iter().position(|&b| b == b'=') {
                Some(i) => (&body[..i], Some(&body[i + 1..])),
                None => (body, None),
            };
            let shown = String::from_utf8_lossy(&bytes).into_owned();
            let exact = specs
                .iter()
                .find(|s| s.long.as_deref().map(str::as_bytes) == Some(name));
            let spec = match exact {
                Some(spec) => spec,
                None => {
                    let mut candidates: Vec<&OptSpec> = specs
                        .iter()
                        .filter(|s| !s.hidden)
                        .filter(|s| {
                            s.long
                                .as_deref()
                                .is_some_and(|l| l.as_bytes().starts_with(name))
                        })
                        .collect();
                    if candidates.iter().any(|s| s.du) {
                        candidates.retain(|s| s.du);
                    }
                    match candidates.as_slice() {
                        [] => return Err(format!("unrecognized option '{}'", self::shown(&shown))),
                        [one] => *one,
                        many => {
                            let names: Vec<String> = many
                                .iter()
                                .map(|s| format!("'--{}'", s.long.as_deref().unwrap_or_default()))
                                .collect();
                            return Err(format!(
                                "option '{}' is ambiguous; possibilities: {}",
                                self::shown(&shown),
                                names.join(" ")
                            ));
                        }
                    }
                }
            };
            let long = spec.long.as_deref().unwrap_or_default();
            match (spec.has_arg, value) {
                (HasArg::No, Some(_)) => {
                    return Err(format!("option '--{long}' doesn't allow an argument"))
                }
                (HasArg::No, None) => out.args.push(format!("--{long}").into()),
                (HasArg::Optional, None) => {
                    out.written.push(Written {
                        id: spec.id.clone(),
                        name: format!("--{long}"),
                        value: None,
                    });
                    out.args.push(format!("--{long}").into());
                }
                (_, Some(v)) => {
                    out.written.push(Written {
                        id: spec.id.clone(),
                        name: format!("--{long}"),
                        value: Some(v.to_vec()),
                    });
                    out.args.push(with_value(long, v));
                }
                (HasArg::Required, None) => {
                    let Some(v) = it.next() else {
                        return Err(format!("option '--{long}' requires an argument"));
                    };
                    let v = os_bytes(v);
                    out.args.push(with_value(long, &v));
                    out.written.push(Written {
                        id: spec.id.clone(),
                        name: format!("--{long}"),
                        value: Some(v),
                    });
                }
            }
            continue;
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            out.args.push(arg);
            continue;
        }
        // A cluster of short options.
        let text = String::from_utf8_lossy(&bytes[1..]).into_owned();
        for (i, c) in text.char_indices() {
            let Some(spec) = specs.iter().find(|s| s.shorts.contains(&c)) else {
                return Err(format!("invalid option -- '{}'", shown(&c.to_string())));
            };
            if spec.has_arg == HasArg::No {
                out.args.push(format!("-{c}").into());
                continue;
            }
            let attached = &bytes[1 + i + c.len_utf8()..];
            let v = if !attached.is_empty() {
                attached.to_vec()
            } else {
                match it.next() {
                    Some(v) => os_bytes(v),
                    None => return Err(format!("option requires an argument -- '{c}'")),
                }
            };
            let long = spec.long.as_deref().unwrap_or(&spec.id);
            out.args.push(with_value(long, &v));
            out.written.push(Written {
                id: spec.id.clone(),
                name: format!("-{c}"),
                value: Some(v),
            });
            break;
        }
    }
    Ok(out)
}

/// `text` as a message shows it: control characters escaped (`\n`,
/// `\x01`), as du's quoting shows them, so that what a user typed never
/// breaks a message's lines.
fn shown(text: &str) -> String {
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

/// clap's message for `args`, which it refused with `e`: the first line of
/// its error. An argument holding a newline would cut that short, so the
/// arguments are parsed again with their control characters escaped (which
/// refuses them the same way) for the message.
fn clap_message(e: &clap::Error, args: &[OsString]) -> String {
    let escaped: Vec<OsString> = args
        .iter()
        .map(|a| os_from_bytes(shown(&a.to_string_lossy()).into_bytes()))
        .collect();
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

#[cfg(unix)]
fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    std::os::unix::ffi::OsStringExt::from_vec(bytes)
}

#[cfg(not(unix))]
fn os_from_bytes(bytes: Vec<u8>) -> OsString {
    String::from_utf8_lossy(&bytes).into_owned().into()
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
/// which means what du makes of it: see [`Units::parse_env`]).
fn env_units() -> Units {
    let posix = std::env::var_os("POSIXLY_CORRECT").is_some();
    match ["DU_BLOCK_SIZE", "BLOCK_SIZE", "BLOCKSIZE"]
        .iter()
        .find_map(std::env::var_os)
    {
        Some(spec) => Units::parse_env(&spec.to_string_lossy(), posix),
        None => Units::default_for_env(posix),
    }
}

/// gnulib's `xstrtol_fatal` message for option `name` (as written: `-B`,
/// `--block-size`) and its argument.
fn strtol_message(e: StrtolError, name: &str, arg: &str) -> String {
    match e {
        StrtolError::Invalid => format!("invalid {name} argument '{}'", shown(arg)),
        StrtolError::Suffix => format!("invalid suffix in {name} argument '{}'", shown(arg)),
        StrtolError::Overflow => format!("{name} argument '{}' too large", shown(arg)),
    }
}

fn units_error(e: UnitsError, name: &str, spec: &str) -> String {
    let e = match e {
        UnitsError::Invalid => StrtolError::Invalid,
        UnitsError::Suffix => StrtolError::Suffix,
        UnitsError::TooLarge => StrtolError::Overflow,
    };
    strtol_message(e, name, spec)
}

/// gnulib's `argmatch`: `arg` is one of `choices` or an unambiguous prefix
/// of them (prefixes of several choices meaning the same are fine). The
/// error is du's, on one line.
fn argmatch<T: Copy + PartialEq>(
    arg: &str,
    choices: &[(&str, T)],
    context: &str,
) -> Result<T, String> {
    if let Some((_, v)) = choices.iter().find(|(c, _)| *c == arg) {
        return Ok(*v);
    }
    let mut found: Option<T> = None;
    let mut ambiguous = false;
    for (c, v) in choices {
        if c.starts_with(arg) {
            match found {
                None => found = Some(*v),
                Some(f) if f != *v => ambiguous = true,
                Some(_) => {}
            }
        }
    }
    let what = match (found, ambiguous) {
        (Some(v), false) => return Ok(v),
        (Some(_), true) => "ambiguous",
        (None, _) => "invalid",
    };
    // "Valid arguments are:" and the list, one line per group, as du.
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut last: Option<T> = None;
    for (c, v) in choices {
        if last == Some(*v) {
            groups.last_mut().expect("a group").push(format!("'{c}'"));
        } else {
            groups.push(vec![format!("'{c}'")]);
        }
        last = Some(*v);
    }
    let valid: Vec<String> = groups
        .iter()
        .map(|g| format!("\n  - {}", g.join(", ")))
        .collect();
    Err(format!(
        "{what} argument '{}' for '{context}'\nValid arguments are:{}",
        shown(arg),
        valid.concat()
    ))
}

/// `--time[=WORD]` and `--time-style`/`TIME_STYLE`, as du resolves them.
fn time_options(norm: &Normalized) -> Result<Option<TimeOptions>, String> {
    let mut kind = None;
    for w in norm.all("time") {
        kind = Some(match &w.value {
            None => TimeKind::Modified,
            Some(v) => argmatch(
                &String::from_utf8_lossy(v),
                &[
                    ("atime", TimeKind::Accessed),
                    ("access", TimeKind::Accessed),
                    ("use", TimeKind::Accessed),
                    ("ctime", TimeKind::Changed),
                    ("status", TimeKind::Changed),
                ],
                "--time",
            )?,
        });
    }
    let Some(kind) = kind else {
        return Ok(None);
    };
    let style: Vec<u8> = match norm.all("time-style").last().and_then(|w| w.value.clone()) {
        Some(style) => style,
        None => match std::env::var_os("TIME_STYLE").map(os_bytes) {
            // "locale" is ignored, for compatibility with ls.
            None => b"long-iso".to_vec(),
            Some(s) if s == b"locale" => b"long-iso".to_vec(),
            Some(s) if s.first() == Some(&b'+') => {
                // Anything after a newline is ignored, as ls does.
                let end = s.iter().position(|&b| b == b'\n').unwrap_or(s.len());
                s[..end].to_vec()
            }
            Some(s) => {
                let mut rest: &[u8] = &s;
                while let Some(r) = rest.strip_prefix(b"posix-") {
                    rest = r;
                }
                rest.to_vec()
            }
        },
    };
    let format = match style.strip_prefix(b"+") {
        Some(f) => f.to_vec(),
        None => argmatch(
            &String::from_utf8_lossy(&style),
            &[
                ("full-iso", &b"%Y-%m-%d %H:%M:%S.%N %z"[..]),
                ("long-iso", &b"%Y-%m-%d %H:%M"[..]),
                ("iso", &b"%Y-%m-%d"[..]),
            ],
            "time style",
        )?
        .to_vec(),
    };
    Ok(Some(TimeOptions {
        kind,
        format: TimeFormat::new(format),
    }))
}

/// The result of parsing: run, or exit at once with what to print.
#[derive(Debug)]
pub enum Parsed {
    /// Scan with this configuration.
    Run(Box<Config>),
    /// Print this on stdout and exit 0 (`--help`, `--version`).
    Print(String),
    /// A usage error, already worded for `fdu: ...` (lines after the
    /// first as du prints them), followed by du's `Try 'fdu --help' for
    /// more information.` line.
    Usage(String),
    /// An invalid option value that du reports without that line (its
    /// `xstrtol_fatal` errors: `-B`, `-t`).
    Fatal(String),
}

/// Parse a command line (the first item is the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Parsed {
    let mut cmd = command();
    let specs = opt_specs(&cmd);
    let raw: Vec<OsString> = args.into_iter().collect();
    let norm = match getopt(raw.clone(), &specs) {
        Ok(n) => n,
        Err(message) => return Parsed::Usage(message),
    };
    let m = match cmd.try_get_matches_from_mut(norm.args.clone()) {
        Ok(m) => m,
        Err(e) => return Parsed::Usage(clap_message(&e, &norm.args)),
    };
    if flag(&m, "help") {
        return Parsed::Print(help_text());
    }
    if flag(&m, "version") {
        return Parsed::Print(version_text());
    }
    if let Some(shell) = m.get_one::<String>("completions") {
        return Parsed::Print(completions(shell));
    }
    if flag(&m, "man") {
        return Parsed::Print(man_page());
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
                let n = block_specs.iter().position(|(j, _)| *j == i).unwrap_or(0);
                let spec = block_specs[n].1.as_str();
                match Units::parse(spec) {
                    Ok(u) => u,
                    Err(e) => {
                        let name = norm
                            .all("block-size")
                            .nth(n)
                            .map_or("-B", |w| w.name.as_str());
                        return Parsed::Fatal(units_error(e, name, spec));
                    }
                }
            }
        };
    }

    // -t: each occurrence is checked, the last one counts.
    let mut threshold = 0i64;
    for w in norm.all("threshold") {
        let text = String::from_utf8_lossy(w.value.as_deref().unwrap_or_default()).into_owned();
        threshold = match parse_threshold(&text) {
            Ok(t) => t,
            Err(e) => return Parsed::Fatal(strtol_message(e, &w.name, &text)),
        };
        if threshold == 0 && text.starts_with('-') {
            return Parsed::Fatal("invalid --threshold argument '-0'".into());
        }
    }

    let time = match time_options(&norm) {
        Ok(t) => t,
        Err(message) => return Parsed::Usage(message),
    };
    // Local time comes from the C library's localtime_r and strftime.
    if cfg!(not(unix)) && time.is_some() {
        return Parsed::Usage("--time is only available on Unix systems".into());
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
            _ => {
                return Parsed::Usage(format!("invalid maximum depth '{}'", shown(text)));
            }
        }
        if summarize && max_depth != 0 {
            return Parsed::Usage(format!(
                "warning: summarizing conflicts with --max-depth={max_depth}"
            ));
        }
    }
    if summarize {
        max_depth = 0;
    }

    let mut warnings = Vec::new();
    let measure = if flag(&m, "inodes") {
        if flag(&m, "apparent-size") || flag(&m, "bytes") {
            warnings.push(
                "warning: options --apparent-size and -b are ineffective with --inodes".to_string(),
            );
        }
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
                return Parsed::Usage(format!("{}: {e}", diag::quotef(file.as_bytes())));
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
    let workers = m
        .get_one::<Workers>("threads")
        .copied()
        .unwrap_or_else(Workers::auto);
    // FDU_SYSFS_ROOT stands in for /sys (tests give fake topologies).
    let sysfs = std::env::var_os("FDU_SYSFS_ROOT").unwrap_or_else(|| "/sys".into());
    let topology = Topology::read(std::path::Path::new(&sysfs), &pin::allowed_cpus());
    let pin_mode = PinChoice::parse(m.get_one::<String>("pin").expect("defaulted"))
        .expect("validated by clap")
        .resolve(&topology);
    let placements: Vec<Placement> = match pin_mode {
        PinMode::None => Vec::new(),
        mode => pin::plan(&topology, mode, workers.most()),
    };
    let time_kind = time.as_ref().map_or(TimeKind::Modified, |t| t.kind);
    #[cfg(target_os = "linux")]
    let uring = {
        let mut cfg = UringConfig {
            times: time_kind != TimeKind::Modified,
            ..UringConfig::default()
        };
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
    let files0_from = m
        .get_many::<OsString>("files0-from")
        .and_then(|mut v| v.next_back())
        .cloned()
        .map(os_bytes);
    let compare = match compare_options(&m, &paths) {
        Ok(c) => c,
        Err(message) => return Parsed::Usage(message),
    };
    let import = match import_options(&m, &paths) {
        Ok(i) => i,
        Err(message) => return Parsed::Usage(message),
    };
    if files0_from.is_some() {
        if let Some(extra) = paths.first() {
            return Parsed::Usage(format!(
                "extra operand {}\nfile operands cannot be combined with --files0-from",
                diag::quote(extra)
            ));
        }
    } else if paths.is_empty() {
        paths.push(b".".to_vec());
    }
    // --progress, --no-progress: the last one wins.
    let progress = match ["progress", "no-progress"]
        .iter()
        .filter_map(|id| last_index(&m, id).map(|i| (i, *id)))
        .max()
    {
        Some((_, "progress")) => Toggle::On,
        Some(_) => Toggle::Off,
        None => Toggle::Auto,
    };
    let mut dups = match dups_options(&m) {
        Ok(d) => d,
        Err(message) => return Parsed::Usage(message),
    };
    let export = match export_options(&m, &paths, files0_from.is_some()) {
        Ok(e) => e,
        Err(message) => return Parsed::Usage(message),
    };
    // --format, --json, --top (src/output/).
    let (format, top) = match output_options(&m, dups.is_some(), compare.is_some()) {
        Ok(o) => o,
        Err(message) => return Parsed::Usage(message),
    };
    if let Some(dups) = &mut dups {
        dups.json = format == Format::Json;
    }
    let depth_given = given(&m, "max-depth");
    // A tree in JSON or Prometheus shows each FILE only by default; the
    // changes of --compare are du's lines in any format.
    if format != Format::Du && !depth_given && !all && compare.is_none() {
        max_depth = 0;
    }
    let resume = m.get_one::<OsString>("resume").cloned().map(os_bytes);
    if resume.is_some() {
        let own = ["resume", "stats", "progress", "no-progress"];
        let other = m
            .ids()
            .map(|id| id.as_str())
            .find(|id| !own.contains(id) && given(&m, id));
        if let Some(id) = other {
            let name = specs
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.long.clone().map(|l| format!("--{l}")))
                .unwrap_or_else(|| "a FILE operand".to_string());
            return Parsed::Usage(format!(
                "--resume takes the checkpoint's options: {name} does not apply to it"
            ));
        }
    }
    let checkpoint = match checkpoint_options(&m, &raw, format, top, dups.is_some(), follow) {
        Ok(c) => c,
        Err(message) => return Parsed::Usage(message),
    };
    let mpi = flag(&m, "mpi");
    if mpi {
        if let Err(message) = mpi_options(&m, follow) {
            return Parsed::Usage(message);
        }
    }
    Parsed::Run(Box::new(Config {
        scan: ScanOptions {
            follow,
            follow_args,
            one_file_system: flag(&m, "one-file-system"),
            count_links: flag(&m, "count-links"),
            max_depth,
            all,
            workers,
            exclude,
            max_open_dirs: m.get_one::<u32>("max-open-dirs").map(|&n| n as usize),
            placements,
            separate_dirs: flag(&m, "separate-dirs"),
            time: time_kind,
        },
        threshold,
        time,
        files0_from,
        warnings,
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
        mpi,
        dups,
        export,
        import,
        compare,
        format,
        top,
        progress,
        checkpoint,
        resume,
    }))
}

/// `--checkpoint FILE` and `--checkpoint-interval SECS`, or a usage error:
/// a checkpoint keeps du's lines as they are streamed, so the outputs
/// built on the whole tree (`-o`, `--format`, `--top`, `--dups`, `-f`)
/// have none, nor has `-L` (without `-l`), which sets symlinked
/// directories aside to the end.
fn checkpoint_options(
    m: &ArgMatches,
    raw: &[OsString],
    format: Format,
    top: Option<usize>,
    dups: bool,
    follow: bool,
) -> Result<Option<CheckpointOptions>, String> {
    let interval = match m
        .get_many::<String>("checkpoint-interval")
        .and_then(|mut v| v.next_back())
    {
        None => std::time::Duration::from_secs(60),
        Some(text) => match text.parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs.is_finite() && secs < 1e9 => {
                std::time::Duration::from_secs_f64(secs)
            }
            _ => return Err(format!("invalid --checkpoint-interval '{}'", shown(text))),
        },
    };
    let Some(file) = m.get_one::<OsString>("checkpoint") else {
        return match given(m, "checkpoint-interval") {
            true => Err("--checkpoint-interval requires --checkpoint".to_string()),
            false => Ok(None),
        };
    };
    let misfit = if given(m, "output") {
        Some("-o")
    } else if given(m, "input-file") {
        Some("-f")
    } else if dups {
        Some("--dups")
    } else if format != Format::Du {
        Some(if flag(m, "json") {
            "--json"
        } else {
            "--format"
        })
    } else if top.is_some() {
        Some("--top")
    } else if given(m, "resume") {
        Some("--resume")
    } else if follow && !flag(m, "count-links") {
        Some("--dereference")
    } else {
        None
    };
    if let Some(name) = misfit {
        return Err(format!("--checkpoint does not apply to {name}"));
    }
    Ok(Some(CheckpointOptions {
        file: os_bytes(file.clone()),
        interval,
        argv: raw.iter().skip(1).cloned().map(os_bytes).collect(),
    }))
}

/// `--mpi`, or a usage error: a scan spread over MPI ranks prints what
/// one process prints (du's lines, `--json`, `--format`, `--top`, `-o`,
/// `--compare`, with `--progress` and `--files0-from`); `-L`, `-f`,
/// `--dups`, `--checkpoint` and `--resume` are not spread yet (README,
/// "Many nodes").
fn mpi_options(m: &ArgMatches, follow: bool) -> Result<(), String> {
    if !cfg!(feature = "mpi") {
        return Err(
            "--mpi: this fdu was built without MPI (cargo build --release --features mpi)"
                .to_string(),
        );
    }
    let misfits = [
        ("dups", "--dups"),
        ("input-file", "-f"),
        ("checkpoint", "--checkpoint"),
        ("resume", "--resume"),
    ];
    if let Some((_, name)) = misfits.iter().find(|(id, _)| given(m, id)) {
        return Err(format!("--mpi does not apply to {name} yet"));
    }
    if follow {
        return Err("--mpi does not apply to --dereference yet".to_string());
    }
    Ok(())
}

/// Whether this process is a rank other than 0 of an MPI job given
/// `--mpi` (as the launchers tell it, before MPI starts): rank 0 alone
/// reports a usage error that every rank finds.
fn mpi_follower(args: &[OsString]) -> bool {
    args.iter().skip(1).any(|a| a == "--mpi")
        && [
            "OMPI_COMM_WORLD_RANK",
            "PMIX_RANK",
            "PMI_RANK",
            "SLURM_PROCID",
        ]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .is_some_and(|r| r.trim() != "0")
}

/// The options that shape du's lines: they do not apply where no line is
/// printed (`--dups`, `-o`).
const LINE_SHAPERS: &[(&str, &str)] = &[
    ("separate-dirs", "--separate-dirs"),
    ("threshold", "--threshold"),
    ("time", "--time"),
    ("summarize", "--summarize"),
    ("max-depth", "--max-depth"),
    ("all", "--all"),
    ("total", "--total"),
    ("null", "--null"),
    ("top", "--top"),
];

/// The first option of `lists` given on the command line: its name.
fn first_given(m: &ArgMatches, lists: &[&[(&str, &'static str)]]) -> Option<&'static str> {
    lists
        .iter()
        .flat_map(|list| list.iter())
        .find(|(id, _)| given(m, id))
        .map(|&(_, name)| name)
}

/// Whether option `id` was given on the command line (not defaulted).
fn given(m: &ArgMatches, id: &str) -> bool {
    m.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
}

/// `--compare OLD`, or a usage error: NEW is the one FILE operand (`.`
/// by default, never stdin), each side one tree of sizes (so no `-o`,
/// `-f`, `--dups` or `--files0-from`), and what prints something else
/// than changes of sizes does not apply.
fn compare_options(m: &ArgMatches, paths: &[Vec<u8>]) -> Result<Option<Vec<u8>>, String> {
    let given = |id: &str| given(m, id);
    let Some(old) = m
        .get_many::<OsString>("compare")
        .and_then(|mut v| v.next_back())
    else {
        return Ok(None);
    };
    if let Some(extra) = paths.get(1) {
        return Err(format!(
            "extra operand {}: --compare takes one FILE operand, the newer side",
            diag::quote(extra)
        ));
    }
    if paths.first().is_some_and(|p| p == b"-") {
        return Err("--compare reads standard input for OLD only, not for the FILE operand".into());
    }
    let exclusive = [
        ("output", "-o"),
        ("input-file", "-f"),
        ("dups", "--dups"),
        ("files0-from", "--files0-from"),
        ("checkpoint", "--checkpoint"),
        ("resume", "--resume"),
    ];
    if let Some((_, name)) = exclusive.iter().find(|(id, _)| given(id)) {
        return Err(format!("--compare cannot be combined with {name}"));
    }
    let misfits = [("time", "--time"), ("extended", "-e"), ("stats", "--stats")];
    if let Some((_, name)) = misfits.iter().find(|(id, _)| given(id)) {
        return Err(format!("{name} does not apply to --compare"));
    }
    if m.get_many::<String>("format")
        .and_then(|mut v| v.next_back())
        .is_some_and(|f| f == "prometheus")
    {
        return Err("--format=prometheus does not apply to --compare".into());
    }
    Ok(Some(os_bytes(old.clone())))
}

/// `-f FILE`, or a usage error: a report from an export takes no operand,
/// and what only a scan can do does not apply to it.
fn import_options(m: &ArgMatches, paths: &[Vec<u8>]) -> Result<Option<Vec<u8>>, String> {
    let given = |id: &str| given(m, id);
    let Some(file) = m.get_one::<OsString>("input-file") else {
        return Ok(None);
    };
    if let Some(extra) = paths.first() {
        return Err(format!(
            "extra operand {}: file operands cannot be combined with -f",
            diag::quote(extra)
        ));
    }
    let scanning = [
        ("files0-from", "--files0-from"),
        ("dereference", "--dereference"),
        ("dereference-args", "--dereference-args"),
        ("one-file-system", "--one-file-system"),
        ("exclude", "--exclude"),
        ("exclude-from", "--exclude-from"),
        ("dups", "--dups"),
        ("output", "-o"),
        ("stats", "--stats"),
    ];
    if let Some((_, name)) = scanning.iter().find(|(id, _)| given(id)) {
        return Err(format!("{name} does not apply to -f"));
    }
    Ok(Some(os_bytes(file.clone())))
}

/// `-o FILE` and `-e`, or a usage error: an export holds one directory,
/// and du's output options do not apply to it.
fn export_options(
    m: &ArgMatches,
    paths: &[Vec<u8>],
    files0: bool,
) -> Result<Option<ExportOptions>, String> {
    let given = |id: &str| given(m, id);
    let Some(file) = m.get_one::<OsString>("output") else {
        return match given("extended") {
            true => Err("--extended requires -o".to_string()),
            false => Ok(None),
        };
    };
    if flag(m, "dups") {
        return Err("-o cannot be combined with --dups".to_string());
    }
    if files0 || paths.len() != 1 {
        return Err("-o exports one directory: give exactly one FILE operand".to_string());
    }
    let export_misfits = [("json", "--json"), ("format", "--format")];
    if let Some(name) = first_given(m, &[LINE_SHAPERS, &export_misfits]) {
        return Err(format!("{name} does not apply to -o"));
    }
    Ok(Some(ExportOptions {
        file: os_bytes(file.clone()),
        extended: flag(m, "extended"),
    }))
}

/// `--format`, `--json` (`--format=json`) and `--top`, or a usage error
/// naming the option that does not fit: a tree in JSON has no `-t` (a
/// node left out would take its children with it), machine-readable
/// outputs have no `-0` and no `--top`, `--dups` has no Prometheus output.
/// The changes of `--compare` are a list, not a tree: in JSON they take
/// `-t` and `--top` as its lines do.
fn output_options(
    m: &ArgMatches,
    dups: bool,
    compare: bool,
) -> Result<(Format, Option<usize>), String> {
    let given = |id: &str| given(m, id);
    let json = flag(m, "json");
    let format = match m
        .get_many::<String>("format")
        .and_then(|mut v| v.next_back())
    {
        Some(name) => Format::from_name(name).expect("checked by clap"),
        None if json => Format::Json,
        None => Format::Du,
    };
    if json && format != Format::Json {
        return Err(format!("--json conflicts with --format={}", format.name()));
    }
    let name = match json {
        true => "--json".to_string(),
        false => format!("--format={}", format.name()),
    };
    if dups && format == Format::Prometheus {
        return Err(format!("{name} does not apply to --dups"));
    }
    let misfits: &[(&str, &str)] = match format {
        Format::Du => &[],
        Format::Json if compare => &[("null", "--null")],
        Format::Json => &[
            ("threshold", "--threshold"),
            ("null", "--null"),
            ("top", "--top"),
        ],
        Format::Prometheus => &[("null", "--null"), ("top", "--top")],
    };
    if let Some((_, option)) = misfits.iter().find(|(id, _)| given(id)) {
        return Err(format!("{option} does not apply to {name}"));
    }
    let top = match m.get_many::<String>("top").and_then(|mut v| v.next_back()) {
        None => None,
        Some(text) => match parse_c_number(text) {
            Ok((n, "")) if n > 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err(format!("invalid --top '{}'", shown(text))),
        },
    };
    Ok((format, top))
}

/// The `--dups` options, or a usage error: its own options need it, and
/// the options that shape du's lines do not apply to it.
fn dups_options(m: &ArgMatches) -> Result<Option<DupsOptions>, String> {
    let own = [("min-size", "--min-size"), ("hardlinks", "--hardlinks")];
    let given = |id: &str| given(m, id);
    if !flag(m, "dups") {
        return match own.iter().find(|(id, _)| given(id)) {
            Some((_, name)) => Err(format!("{name} requires --dups")),
            None => Ok(None),
        };
    }
    let dups_misfits = [("inodes", "--inodes"), ("count-links", "--count-links")];
    if let Some(name) = first_given(m, &[LINE_SHAPERS, &dups_misfits]) {
        return Err(format!("{name} does not apply to --dups"));
    }
    let min_size = match m.get_one::<String>("min-size") {
        None => 1,
        Some(text) => {
            parse_size(text).ok_or_else(|| format!("invalid --min-size '{}'", shown(text)))?
        }
    };
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    Ok(Some(DupsOptions {
        min_size,
        hardlinks: flag(m, "hardlinks"),
        json: flag(m, "json"),
        threads: match m.get_one::<Workers>("threads") {
            Some(&Workers::Fixed(n)) => n,
            _ => cpus,
        },
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

/// Run a parsed configuration, printing to stdout; returns the exit status.
pub fn run(config: &Config) -> ExitStatus {
    if let Some(file) = &config.resume {
        return resume(config, file);
    }
    for warning in &config.warnings {
        diag::report(warning);
    }
    #[cfg(feature = "mpi")]
    if config.mpi {
        return crate::ranks::run(config, std::time::Instant::now());
    }
    let mut list_failed = false;
    let listed;
    let config = match &config.files0_from {
        None => config,
        Some(from) => {
            let Some((paths, failed)) = crate::files0::read(from) else {
                return ExitStatus::Partial;
            };
            list_failed = failed;
            listed = Config {
                paths,
                files0_from: None,
                ..config.clone()
            };
            &listed
        }
    };
    let list_status = if list_failed {
        ExitStatus::Partial
    } else {
        ExitStatus::Ok
    };
    // Progress on stderr while the scan runs, erased before the output.
    let meter = Meter::start(Mode::for_config(config));
    if let Some(dups) = &config.dups {
        return crate::dups::run(config, dups, &meter).max(list_status);
    }
    if let Some(export) = &config.export {
        return crate::output::ncdu::run(config, export, &meter);
    }
    if let Some(old) = &config.compare {
        return compare(config, old, &meter);
    }
    let started = std::time::Instant::now();
    if config.import.is_none()
        && !config.paths.is_empty()
        && config.format == Format::Du
        && config.top.is_none()
        && crate::stream::streams(&config.scan)
    {
        return stream(config, &meter, started).max(list_status);
    }
    let report = if let Some(file) = &config.import {
        match crate::import::read(file, &config.scan, &diag::Stderr) {
            Ok(report) => report,
            Err(status) => return status,
        }
    } else if config.paths.is_empty() {
        Report::empty(config.backend, config.scan.separate_dirs)
    } else {
        let scan = Scan::from_config(config).errors(meter.errors());
        match meter.run(&scan, crate::count::Count::new) {
            Ok(ran) => Report::from(ran),
            Err(failed) => return crate::scan::report_failure(failed),
        }
    };
    meter.finish();
    let failed = crate::output::print(
        config,
        &report,
        started.elapsed(),
        crate::output::Stdout::new(),
    );
    let ring = report.ring.as_deref();
    conclude(
        config,
        report.ran,
        ring,
        &report.outcome,
        failed,
        started,
        None,
    )
    .max(list_status)
}

/// `--compare OLD NEW`: both sides loaded at once, then their changes
/// printed. Exit status 2 when a side cannot be read (an export that is
/// not one), else 1 when either side had entries that could not be read
/// or the output failed, else 0.
fn compare(config: &Config, old: &[u8], meter: &Meter) -> ExitStatus {
    let new = config.paths.first().map_or(&b"."[..], Vec::as_slice);
    let (old, new) = crate::compare::load_both(config, old, new, meter);
    meter.finish();
    crate::output::compare::conclude(config, old, new)
}

/// After the output: `--stats`, then the exit status. A reader that went
/// away (`fdu -a / | head`) is not an error; any other write error
/// (`write_failed`) is, as is an entry that could not be read.
fn conclude(
    config: &Config,
    ran: fdu_platform::BackendKind,
    ring: Option<&str>,
    outcome: &crate::walk::ScanOutcome,
    write_failed: bool,
    started: std::time::Instant,
    carried: Option<u64>,
) -> ExitStatus {
    if config.stats {
        print_stats(config, ran, ring, outcome, started.elapsed(), carried);
    }
    if outcome.errors > 0 || write_failed {
        ExitStatus::Partial
    } else {
        ExitStatus::Ok
    }
}

/// A scan whose du lines are printed as they are known (see
/// [`crate::stream`]); returns the exit status.
fn stream(config: &Config, meter: &Meter, started: std::time::Instant) -> ExitStatus {
    if !crate::count::charge_at_once(&config.scan) {
        // Lines inside the arguments: nodes are freed as they are printed,
        // and glibc's eight malloc arenas per CPU would each keep their own
        // peak (measured: 27-42 MB against 20-23 MB for `-a` on 1M entries
        // at 16 workers). One per CPU; `-s` keeps the default, where the
        // cap only cost time.
        fdu_platform::limits::cap_malloc_arenas(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        );
    }
    let journal = match &config.checkpoint {
        None => None,
        Some(ck) => {
            let header = Header {
                version: env!("CARGO_PKG_VERSION").to_string(),
                cwd: std::env::current_dir()
                    .map(|d| os_bytes(d.into_os_string()))
                    .unwrap_or_default(),
                argv: ck.argv.clone(),
                paths: config.paths.clone(),
                roots: config
                    .paths
                    .iter()
                    .map(|p| root_id(p, &config.scan))
                    .collect(),
                interval: ck.interval,
            };
            match Journal::create(&ck.file, &header) {
                Ok(j) => Some((j, None)),
                Err(message) => {
                    diag::report(&message);
                    return ExitStatus::Partial;
                }
            }
        }
    };
    let printer = Printer::new(config, crate::output::Stdout::beside(meter));
    stream_on(config, meter, started, printer, journal, None)
}

/// What a resumed scan starts from: its checkpoint, to go on with, and
/// where the earlier run stood.
type Checkpointing = (Journal, Option<Start>);

/// Stream du's lines to `printer` (which may hold lines of an earlier run,
/// `carried` entries' worth), keeping a checkpoint if asked.
fn stream_on<W: Write + Send>(
    config: &Config,
    meter: &Meter,
    started: std::time::Instant,
    printer: Printer<'_, W>,
    checkpoint: Option<Checkpointing>,
    carried: Option<u64>,
) -> ExitStatus {
    let scan = Scan::from_config(config).errors(meter.errors());
    let made = |opts, args: &_| {
        let stream = Stream::new(opts, args, printer);
        match checkpoint {
            Some((journal, resume)) => stream.checkpointed(journal, resume),
            None => stream,
        }
    };
    let ran = match meter.run(&scan, made) {
        Ok(ran) => ran,
        Err(failed) => return crate::scan::report_failure(failed),
    };
    meter.finish();
    let Streamed {
        lines: printer,
        grand,
        checkpoint_failed,
    } = ran.result;
    let failed = printer.end(config, &grand) || checkpoint_failed;
    let ring = ran.ring.as_deref();
    conclude(
        config,
        ran.ran,
        ring,
        &ran.outcome,
        failed,
        started,
        carried,
    )
}

/// A path argument's `(st_dev, st_ino)` as the scan stats it (following
/// a symlink under `-L`, `-H`): what a checkpoint checks its tree by.
fn root_id(path: &[u8], opts: &ScanOptions) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let p = crate::walk::os_path(path);
        let meta = match opts.follow || opts.follow_args {
            true => std::fs::metadata(p),
            false => std::fs::symlink_metadata(p),
        };
        meta.ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, opts);
        None
    }
}

/// `--resume FILE`: the checkpoint's scan, its lines printed again, then
/// walked on from where it stood. A checkpoint that cannot be read, is
/// not one, is of another version or of another tree is refused (exit 2)
/// and left as it is.
fn resume(asked: &Config, file: &[u8]) -> ExitStatus {
    let refuse = |message: &str| {
        diag::report(message);
        ExitStatus::Usage
    };
    let mut saved = match Saved::read(file) {
        Ok(saved) => saved,
        Err(refused) => return refuse(&refused.0),
    };
    let shown = diag::quote(file);
    // The scan's paths may be relative to where it ran.
    let file = match std::path::absolute(crate::walk::os_path(file)) {
        Ok(p) => os_bytes(p.into_os_string()),
        Err(e) => {
            return refuse(&format!(
                "cannot resume {shown}: {}",
                fdu_platform::Errno::from(e)
            ))
        }
    };
    let header = &saved.header;
    if let Err(e) = std::env::set_current_dir(crate::walk::os_path(&header.cwd)) {
        return refuse(&format!(
            "cannot resume {shown}: cannot change to {}: {}",
            diag::quote(&header.cwd),
            fdu_platform::Errno::from(e)
        ));
    }
    let argv = std::iter::once(OsString::from("fdu"))
        .chain(header.argv.iter().cloned().map(os_from_bytes));
    let mut config = match parse(argv) {
        Parsed::Run(config) if config.checkpoint.is_some() => *config,
        _ => return refuse(&format!("{shown}: corrupt checkpoint (its command line)")),
    };
    config.paths = header.paths.clone();
    config.files0_from = None;
    config.stats |= asked.stats;
    if asked.progress != Toggle::Auto {
        config.progress = asked.progress;
    }
    config.checkpoint = Some(CheckpointOptions {
        file: file.clone(),
        interval: header.interval,
        argv: header.argv.clone(),
    });
    for (path, id) in header.paths.iter().zip(&header.roots) {
        if root_id(path, &config.scan) != *id {
            return refuse(&format!(
                "{shown}: checkpoint of another tree: {} is not what it was",
                diag::quote(path)
            ));
        }
    }
    for warning in &config.warnings {
        diag::report(warning);
    }
    let journal = match Journal::reopen(&file, &saved) {
        Ok(j) => j,
        Err(message) => {
            diag::report(&message);
            return ExitStatus::Partial;
        }
    };
    let started = std::time::Instant::now();
    let meter = Meter::start(Mode::for_config(&config));
    let mut printer = Printer::new(&config, crate::output::Stdout::beside(&meter));
    saved.lines(|totals, path| crate::stream::Lines::line(&mut printer, totals, path));
    let carried = saved.carried();
    let before = match saved.errors() {
        0 => ExitStatus::Ok,
        _ => ExitStatus::Partial,
    };
    let resume = saved.start();
    drop(saved);
    if !crate::count::charge_at_once(&config.scan) {
        fdu_platform::limits::cap_malloc_arenas(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        );
    }
    let status = stream_on(
        &config,
        &meter,
        started,
        printer,
        Some((journal, Some(resume))),
        Some(carried),
    );
    status.max(before)
}

/// Parse and run: the whole program. Its process-wide effect: the soft
/// descriptor limit is raised to the hard one first (the library itself
/// budgets within whatever limit it finds).
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitStatus {
    fdu_platform::limits::raise_nofile();
    let args: Vec<OsString> = args.into_iter().collect();
    let follower = mpi_follower(&args);
    match parse(args) {
        Parsed::Run(config) => run(&config),
        Parsed::Print(text) => {
            let _ = io::stdout().write_all(text.as_bytes());
            ExitStatus::Ok
        }
        Parsed::Usage(_) | Parsed::Fatal(_) if follower => ExitStatus::Usage,
        Parsed::Usage(message) => {
            let name = diag::program_name();
            diag::report(&format!(
                "{message}\nTry '{name} --help' for more information."
            ));
            ExitStatus::Usage
        }
        Parsed::Fatal(message) => {
            diag::report(&message);
            ExitStatus::Usage
        }
    }
}

/// `fdu --help`: du's text for du's options, in du's order and layout,
/// then fdu's own options.
pub fn help_text() -> String {
    let mut text = String::from(
        "\
Usage: fdu [OPTION]... [FILE]...
  or:  fdu [OPTION]... --files0-from=F
  or:  fdu --dups [OPTION]... [FILE]...
  or:  fdu --compare=OLD [OPTION]... [NEW]
Summarize device usage of the set of FILEs, recursively for directories,
in parallel.

Mandatory arguments to long options are mandatory for short options too.
  -0, --null            end each output line with NUL, not newline
  -a, --all             write counts for all files, not just directories
      --apparent-size   print apparent sizes rather than device usage; although
                          the apparent size is usually smaller, it may be
                          larger due to holes in ('sparse') files, internal
                          fragmentation, indirect blocks, and the like
  -B, --block-size=SIZE  scale sizes by SIZE before printing them; e.g.,
                           '-BM' prints sizes in units of 1,048,576 bytes;
                           see SIZE format below
  -b, --bytes           equivalent to '--apparent-size --block-size=1'
  -c, --total           produce a grand total
  -D, --dereference-args  dereference only symlinks that are listed on the
                          command line
  -d, --max-depth=N     print the total for a directory (or file, with --all)
                          only if it is N or fewer levels below the command
                          line argument;  --max-depth=0 is the same as
                          --summarize
      --files0-from=F   summarize device usage of the
                          NUL-terminated file names specified in file F;
                          if F is -, then read names from standard input
  -H                    equivalent to --dereference-args (-D)
  -h, --human-readable  print sizes in human readable format (e.g., 1K 234M 2G)
      --inodes          list inode usage information instead of block usage
  -k                    like --block-size=1K
  -L, --dereference     dereference all symbolic links
  -l, --count-links     count sizes many times if hard linked
  -m                    like --block-size=1M
  -P, --no-dereference  don't follow any symbolic links (this is the default)
  -S, --separate-dirs   for directories do not include size of subdirectories
      --si              like -h, but use powers of 1000 not 1024
  -s, --summarize       display only a total for each argument
  -t, --threshold=SIZE  exclude entries smaller than SIZE if positive,
                          or entries greater than SIZE if negative
      --time            show time of the last modification of any file in the
                          directory, or any of its subdirectories
      --time=WORD       show time as WORD instead of modification time:
                          atime, access, use, ctime or status
      --time-style=STYLE  show times using STYLE, which can be:
                            full-iso, long-iso, iso, or +FORMAT;
                            FORMAT is interpreted like in 'date'
  -X, --exclude-from=FILE  exclude files that match any pattern in FILE
      --exclude=PATTERN    exclude files that match PATTERN
  -x, --one-file-system    skip directories on different file systems
      --help        display this help and exit
      --version     output version information and exit

fdu's own options:
",
    );
    // fdu's options, from the clap definition.
    let cmd = command();
    let own = [
        "threads",
        "backend",
        "pin",
        "ring-depth",
        "ring-workers",
        "stats",
        "mpi",
        "progress",
        "no-progress",
        "dups",
        "min-size",
        "hardlinks",
        "json",
        "output",
        "extended",
        "input-file",
        "format",
        "top",
        "compare",
        "checkpoint",
        "checkpoint-interval",
        "resume",
        "completions",
        "man",
    ];
    for id in own {
        let Some(arg) = cmd.get_arguments().find(|a| a.get_id() == id) else {
            continue;
        };
        let mut head = match arg.get_short() {
            Some(c) => format!("  -{c}, "),
            None => "      ".to_string(),
        };
        head.push_str("--");
        head.push_str(arg.get_long().unwrap_or(id));
        if arg.get_action().takes_values() {
            let name = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map_or("VALUE".to_string(), |n| n.to_string());
            head.push('=');
            head.push_str(&name);
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        text.push_str(&wrap_help(&head, &help));
    }
    text.push_str(
        "
Display values are in units of the first available SIZE from --block-size,
and the DU_BLOCK_SIZE, BLOCK_SIZE and BLOCKSIZE environment variables.
Otherwise, units default to 1024 bytes (or 512 if POSIXLY_CORRECT is set).

The SIZE argument is an integer and optional unit (example: 10K is 10*1024).
Units are K,M,G,T,P,E,Z,Y (powers of 1024) or KB,MB,... (powers of 1000).
Binary prefixes can be used, too: KiB=K, MiB=M, and so on.
",
    );
    text
}

/// `head` and `help` in du's layout: help from column 25 (or after two
/// spaces past a long head), continuation lines indented by 26, lines of
/// at most 80 columns.
fn wrap_help(head: &str, help: &str) -> String {
    let mut out = String::new();
    let mut line = head.to_string();
    if line.len() < 22 {
        line.push_str(&" ".repeat(24 - line.len()));
    } else {
        line.push_str("  ");
    }
    let mut first = true;
    for word in help.split_whitespace() {
        let fits = line.len() + word.len() < 80;
        if !first && !fits {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(26);
        } else if !first {
            line.push(' ');
        }
        line.push_str(word);
        first = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

/// `fdu --version`, as GNU tools print theirs.
pub fn version_text() -> String {
    format!(
        "fdu (fdu) {}\n\
         License MIT OR Apache-2.0: <https://opensource.org/licenses/MIT>,\n\
         <https://www.apache.org/licenses/LICENSE-2.0>.\n\
         This is free software: you are free to change and redistribute it.\n\
         There is NO WARRANTY, to the extent permitted by law.\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The completion script for `shell` (`bash`, `zsh` or `fish`), generated
/// from [`command`].
pub fn completions(shell: &str) -> String {
    let shell = match shell {
        "zsh" => clap_complete::Shell::Zsh,
        "fish" => clap_complete::Shell::Fish,
        _ => clap_complete::Shell::Bash,
    };
    let mut cmd = command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fdu", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The man page (roff), generated from [`command`].
pub fn man_page() -> String {
    let cmd = command().long_about(
        "Summarize device usage of the set of FILEs, recursively for directories, \
         in parallel, printing what GNU du prints. Long options may be abbreviated \
         to any unambiguous prefix.",
    );
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd).render(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `-j`/`--threads`: `auto`, or a count from 1 to [`MAX_WORKERS`].
fn parse_workers(value: &str) -> Result<Workers, String> {
    if value == "auto" {
        return Ok(Workers::auto());
    }
    match value.parse::<usize>() {
        Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(Workers::Fixed(n)),
        _ => Err(format!(
            "'{value}' is not auto or a number from 1 to {MAX_WORKERS}"
        )),
    }
}
