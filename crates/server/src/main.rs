//! The `muster` command line: serve, connection, token (and more as they land).

/// Rust's heap in `muster`: glibc malloc held to two arenas (for memory) made the tokio
/// workers, the readers and the writer queue on its locks; with mimalloc's per-thread
/// heaps a 20,000-user Okta sync ran ~1,400 → ~2,100 creates/s at a similar peak RSS
/// (BENCHMARKS.md, "Allocator"). SQLite still allocates from glibc (`tune_allocator`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    muster_server::tune_allocator();
    std::process::exit(muster_server::cli::main());
}
