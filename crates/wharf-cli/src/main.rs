//! `wharf`: the command-line client of the Wharf API.

fn main() -> std::process::ExitCode {
    wharf_cli::run()
}
