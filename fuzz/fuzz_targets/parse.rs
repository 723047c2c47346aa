//! Option and size parsing on arbitrary input: `fdu::cli::parse` on
//! argument vectors (with arbitrary unit variables), `Units::parse` and
//! `parse_c_number` on strings. The properties are those of
//! `tests/parse_props.rs` (`tests/common/parse_checks.rs`): no panic, a
//! usage error has only du's lines, a block size is above 0. Nothing is scanned:
//! only `parse` runs, in an empty directory, with no `/` in any argument.
#![no_main]

#[path = "../../tests/common/parse_checks.rs"]
mod parse_checks;

use std::ffi::OsString;
use std::sync::Once;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Command-line arguments after the program name.
    args: Vec<Vec<u8>>,
    /// DU_BLOCK_SIZE, BLOCK_SIZE, BLOCKSIZE, POSIXLY_CORRECT.
    env: [Option<String>; 4],
    /// A block size spec, also read as a C number.
    spec: String,
}

static SANDBOX: Once = Once::new();

fuzz_target!(|input: Input| {
    SANDBOX.call_once(|| {
        parse_checks::sandbox();
    });
    parse_checks::check_units_spec(&input.spec);
    parse_checks::check_c_number(&input.spec);
    parse_checks::set_unit_env(&input.env);
    let args: Vec<OsString> = input
        .args
        .iter()
        .map(|a| parse_checks::confine(a))
        .collect();
    parse_checks::check_cli(&args);
});
