//! Properties of option and size parsing, shared by `tests/parse_props.rs`
//! (proptest, on every test run) and the `parse` fuzz target in `fuzz/`.
//!
//! Each check panics with a message when a property fails. The caller must
//! have called [`sandbox`] first: [`fdu::cli::parse`] reads `-X` files and
//! the CPU topology, and must find neither a real file nor `/sys`.

use std::ffi::OsString;
use std::path::PathBuf;

use fdu::cli::{parse, Parsed};
use fdu::units::{parse_c_number, NumberError, Units};

/// The environment variables [`fdu::cli::parse`] reads for units.
pub const UNIT_VARS: &[&str] = &[
    "DU_BLOCK_SIZE",
    "BLOCK_SIZE",
    "BLOCKSIZE",
    "POSIXLY_CORRECT",
];

/// Make parsing harmless: work in a new empty directory, with an empty
/// directory standing in for `/sys`. Command-line bytes must then be kept
/// free of `/` (see [`confine`]), so that `-X FILE` can only name an entry
/// of the empty directory (or `.`/`..`, directories, which fail to read).
/// Returns the directory.
pub fn sandbox() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fdu-parse-checks-{}", std::process::id()));
    let sys = dir.join("sys");
    std::fs::create_dir_all(&sys).expect("create the sandbox");
    std::env::set_current_dir(&dir).expect("enter the sandbox");
    std::env::set_var("FDU_SYSFS_ROOT", &sys);
    dir
}

/// `arg` with every `/` replaced, so that it names nothing outside the
/// sandbox.
pub fn confine(arg: &[u8]) -> OsString {
    let bytes: Vec<u8> = arg
        .iter()
        .map(|&b| if b == b'/' { b'_' } else { b })
        .collect();
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStringExt::from_vec(bytes)
    }
    #[cfg(not(unix))]
    {
        String::from_utf8_lossy(&bytes).into_owned().into()
    }
}

/// Set (or remove, for `None`) the unit variables parse reads.
pub fn set_unit_env(values: &[Option<String>]) {
    for (var, value) in UNIT_VARS.iter().zip(values) {
        match value {
            Some(v) if !v.contains('\0') && !v.is_empty() => std::env::set_var(var, v),
            Some(_) if *var == "POSIXLY_CORRECT" => std::env::set_var(var, "1"),
            _ => std::env::remove_var(var),
        }
    }
}

/// Parse `args` (after the program name): never panics; a usage error is
/// one non-empty line; a configuration has a block size above 0, at least
/// one thread and one path.
pub fn check_cli(args: &[OsString]) {
    let argv = std::iter::once(OsString::from("fdu")).chain(args.iter().cloned());
    match parse(argv) {
        Parsed::Usage(message) => {
            // du's lines: the message, then only the lines du adds to some
            // (never a line break that came from an argument).
            assert!(!message.is_empty(), "empty usage error for {args:?}");
            assert!(!message.contains('\r'), "a CR in {message:?} for {args:?}");
            for extra in message.lines().skip(1) {
                assert!(
                    extra == "Valid arguments are:"
                        || extra.starts_with("  - '")
                        || extra == "file operands cannot be combined with --files0-from",
                    "a line du does not print ({extra:?}) in {message:?} for {args:?}"
                );
            }
        }
        Parsed::Fatal(message) => {
            assert!(!message.is_empty(), "empty error for {args:?}");
            assert!(
                !message.contains(['\n', '\r']),
                "error of several lines for {args:?}: {message:?}"
            );
        }
        Parsed::Print(text) => assert!(!text.is_empty(), "nothing to print for {args:?}"),
        Parsed::Run(config) => {
            check_units(config.units, &format!("{args:?}"));
            let w = config.scan.workers;
            assert!(
                w.start() >= 1 && w.start() <= w.most(),
                "no thread for {args:?}"
            );
            // Paths come from the command line (`.` by default), or from
            // the --files0-from list (read when the run starts), or there
            // are none to scan: -f reads an export.
            assert!(
                !config.paths.is_empty() || config.files0_from.is_some() || config.import.is_some(),
                "no path for {args:?}"
            );
            if let Some(dups) = &config.dups {
                assert!(dups.threads >= 1, "no hashing thread for {args:?}");
            }
            // --top N has N >= 1 and prints du's lines; json and
            // prometheus never end lines with NUL; a JSON tree has no -t
            // (--compare's JSON is a list of changes: it takes --top and -t).
            use fdu::config::Format;
            assert!(config.top.map_or(true, |n| n >= 1), "--top 0 for {args:?}");
            if config.format != Format::Du {
                assert!(!config.null, "{args:?}");
                assert!(config.top.is_none() || config.compare.is_some(), "{args:?}");
            }
            if config.format == Format::Json && config.dups.is_none() && config.compare.is_none() {
                assert_eq!(config.threshold, 0, "-t with --json for {args:?}");
            }
            // --compare: one tree of sizes on each side, NEW a path.
            if config.compare.is_some() {
                assert_eq!(config.paths.len(), 1, "--compare operands for {args:?}");
                assert!(
                    config.paths[0] != b"-",
                    "--compare NEW is stdin for {args:?}"
                );
                assert!(
                    config.import.is_none()
                        && config.export.is_none()
                        && config.dups.is_none()
                        && config.files0_from.is_none()
                        && config.time.is_none()
                        && config.format != Format::Prometheus,
                    "--compare with a misfit for {args:?}"
                );
            }
        }
    }
}

/// Units that can print: a block size above 0, or a human base of 1000 or
/// 1024; every number formats to a non-empty ASCII field without a tab or
/// newline.
pub fn check_units(units: Units, what: &str) {
    match units {
        Units::Blocks { size, .. } => assert!(size > 0, "block size 0 from {what}"),
        Units::Human { base } => assert!(
            base == 1000 || base == 1024,
            "human base {base} from {what}"
        ),
    }
    for n in [
        0,
        1,
        511,
        512,
        1023,
        1024,
        1025,
        999_999,
        u64::MAX / 2,
        u64::MAX,
    ] {
        let mut out = Vec::new();
        units.format(n, &mut out);
        assert!(
            !out.is_empty() && out.iter().all(|b| b.is_ascii_graphic()),
            "{units:?} ({what}) formats {n} as {out:?}"
        );
    }
}

/// `Units::parse(spec)`: never panics; a block size is above 0; a plain
/// number is read as `parse_c_number` reads it.
pub fn check_units_spec(spec: &str) {
    if let Ok(units) = Units::parse(spec) {
        check_units(units, &format!("{spec:?}"));
        if let Ok((n, "")) = parse_c_number(spec) {
            if !spec.starts_with('\'') {
                assert_eq!(
                    units,
                    Units::Blocks {
                        size: n,
                        suffix: fdu::units::Suffix::None
                    },
                    "{spec:?} is the number {n}"
                );
            }
        }
    }
}

/// `parse_c_number(s)`: never panics; what follows the number is a suffix
/// of `s`; a plain decimal is its value; a leading `-` is refused.
pub fn check_c_number(s: &str) {
    match parse_c_number(s) {
        Ok((n, rest)) => {
            assert!(s.ends_with(rest), "{s:?}: rest {rest:?} is not a suffix");
            let digits = s.len() - rest.len();
            let body = s[..digits].trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
            let body = body.strip_prefix('+').unwrap_or(body);
            if !body.is_empty()
                && body.bytes().all(|b| b.is_ascii_digit())
                && !body.starts_with('0')
            {
                assert_eq!(body.parse::<u64>().ok(), Some(n), "{s:?} read as {n}");
            }
        }
        Err(NumberError::Negative) => assert!(
            s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
                .starts_with('-'),
            "{s:?} called negative"
        ),
        Err(_) => {}
    }
}
