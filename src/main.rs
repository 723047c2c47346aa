//! The `fdu` binary: see the library's `cli` module.
#![forbid(unsafe_code)]

fn main() {
    let status = fdu::cli::main(std::env::args_os());
    std::process::exit(status as i32);
}
