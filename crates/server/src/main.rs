//! The `muster` command line: serve, connection, token (and more as they land).

fn main() {
    muster_server::tune_allocator();
    std::process::exit(muster_server::cli::main());
}
