//! The `muster` command line: serve, connection, token (and more as they land).

fn main() {
    std::process::exit(muster_server::cli::main());
}
