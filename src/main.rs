//! The `fdu` binary: see the library's `cli` module.
#![forbid(unsafe_code)]

fn main() {
    if let Some(argv0) = std::env::args_os().next() {
        fdu::diag::set_program_name(&argv0);
    }
    let status = fdu::cli::main(std::env::args_os());
    std::process::exit(status as i32);
}
