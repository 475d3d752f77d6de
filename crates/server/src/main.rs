//! The `muster` command line: serve, connection, token (and more as they land).

/// Rust's heap in `muster`: glibc malloc held to two arenas (for memory) made the tokio
/// workers, the readers and the writer queue on its locks; with mimalloc's per-thread
/// heaps a 20,000-user Okta sync ran ~1,400 → ~2,100 creates/s at a similar peak RSS
/// (BENCHMARKS.md, "Allocator"). SQLite still allocates from glibc (`tune_allocator`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same value in its v2 and v3 headers).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc returns freed pages to the OS after `purge_delay` ms (10 by default), and under
/// steady load pages are reused before that, so a read phase after a sync kept what both
/// had touched: peak RSS 142–187 MB at 100,000 users, 155 MB with immediate purging, at the
/// same throughput (BENCHMARKS.md, "Memory"). Purge at once unless MIMALLOC_PURGE_DELAY says
/// otherwise.
fn purge_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an option value; 15 is purge_delay in the
        // mimalloc this crate links (libmimalloc-sys 0.1.49, v3 and v2 headers alike).
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
    }
}

fn main() {
    purge_freed_memory_at_once();
    muster_server::tune_allocator();
    std::process::exit(muster_server::cli::main());
}
