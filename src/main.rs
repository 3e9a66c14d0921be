//! The `aiswitch` command: a thin front-end that parses arguments, calls the engine
//! and prints the result.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
