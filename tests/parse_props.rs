//! Option and size parsing on random input, with the properties the `parse`
//! fuzz target checks (`fuzz/`, see `tests/common/parse_checks.rs`): never
//! a panic, a usage error has only du's lines, a block size is above 0.
//!
//! One test: parsing reads environment variables and the working
//! directory, which this test sets.
#[path = "common/parse_checks.rs"]
mod parse_checks;

use std::ffi::OsString;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use parse_checks::*;

/// Options, option values and odd words, combined at random.
const WORDS: &[&str] = &[
    "-s",
    "-a",
    "-b",
    "-c",
    "-k",
    "-m",
    "-h",
    "-l",
    "-L",
    "-H",
    "-D",
    "-P",
    "-x",
    "-0",
    "-sh",
    "-ab",
    "-B",
    "-BK",
    "-B1",
    "-B0",
    "--block-size",
    "--block-size=",
    "--block-size=KiB",
    "--si",
    "--inodes",
    "--apparent-size",
    "-d",
    "-d1",
    "--max-depth",
    "--max-depth=",
    "-j",
    "-j0",
    "--threads",
    "--threads=1024",
    "--backend",
    "--backend=uring",
    "--pin",
    "--pin=numa",
    "--ring-depth",
    "--ring-workers",
    "--max-open-dirs",
    "--exclude",
    "--exclude=*",
    "-X",
    "--exclude-from",
    "--dups",
    "--min-size",
    "--min-size=",
    "--hardlinks",
    "--json",
    "--format",
    "--format=json",
    "--format=prometheus",
    "--format=du",
    "--top",
    "--top=2",
    "--compare",
    "--compare=old",
    "--hash-io",
    "--stats",
    "--help",
    "--version",
    "--",
    "-",
    "",
    ".",
    "..",
    "0",
    "1",
    "08",
    "0x10",
    "-1",
    "+5",
    " 7",
    "K",
    "KB",
    "KiB",
    "KD",
    "1x",
    "Y",
    "18446744073709551616",
    "99999999999999999999999",
    "human-readable",
    "si",
    "'1K",
    "a\nb",
    "1\n",
    "\r",
    "x\u{1}",
    "\u{e9}",
    "auto",
    "linux",
    "std",
];

fn word() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => "-[a-zA-Z0-9]{1,4}".prop_map(String::into_bytes),
        1 => "--[a-z-]{1,12}(=[a-zA-Z0-9 ]{0,6})?".prop_map(String::into_bytes),
    ]
}

/// Options that take a value, each followed by a value (often odd).
fn option_with_value() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let option = proptest::sample::select(
        &[
            "-B",
            "--block-size",
            "-d",
            "--max-depth",
            "-j",
            "--backend",
            "--pin",
            "--ring-depth",
            "--min-size",
            "--top",
            "--compare",
            "--format",
            "--exclude",
            "-X",
        ][..],
    );
    let value = prop_oneof![
        proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
        "[0-9KMBi\\n\\r\\x01 ]{0,6}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    (option, value, any::<bool>()).prop_map(|(o, v, dups)| {
        let mut args = vec![o.as_bytes().to_vec(), v];
        if dups {
            args.push(b"--dups".to_vec());
        }
        args
    })
}

fn env_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => proptest::sample::select(WORDS).prop_map(|w| Some(w.to_string())),
        1 => ".{0,6}".prop_map(Some),
    ]
}

/// A size spec: digits and suffixes, or anything.
fn spec() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ +'-]{0,2}(0x|0)?[0-9a-fA-F]{0,22}[KMGTPEZYkmgtpRQ]?(B|iB|D)?",
        ".{0,12}",
        proptest::sample::select(WORDS).prop_map(str::to_string),
    ]
}

fn config(cases: u32) -> Config {
    let env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            env.cases
        } else {
            cases
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            env.rng_seed
        } else {
            RngSeed::Fixed(0x7061_7273_6573)
        },
        failure_persistence: None,
        ..env
    }
}

#[test]
fn parsing_keeps_its_invariants() {
    let dir = sandbox();

    // Found by fuzzing: `--f` is du's abbreviation of --files0-from, and
    // a run that reads its paths from a list has none on the command line.
    set_unit_env(&vec![None; UNIT_VARS.len()]);
    check_cli(&[OsString::from("--f"), OsString::new()]);
    check_cli(&[OsString::from("--files0-from=list")]);

    let mut runner = TestRunner::new(config(2000));
    let specs = runner.run(&spec(), |s| {
        check_units_spec(&s);
        check_c_number(&s);
        Ok(())
    });

    let mut runner = TestRunner::new(config(1500));
    let lines = runner.run(
        &(
            proptest::collection::vec(
                prop_oneof![word().prop_map(|w| vec![w]), option_with_value()],
                0..6,
            )
            .prop_map(|v| v.concat()),
            proptest::collection::vec(env_value(), UNIT_VARS.len()),
        ),
        |(args, env)| {
            set_unit_env(&env);
            let args: Vec<OsString> = args.iter().map(|a| confine(a)).collect();
            check_cli(&args);
            Ok(())
        },
    );

    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = specs {
        panic!("size specs: {e}");
    }
    if let Err(e) = lines {
        panic!("command lines: {e}");
    }
}
