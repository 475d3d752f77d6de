//! cargo-fuzz target: scim::fuzz::filter (the same body the stable proptests run).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scim::fuzz::filter(data);
});
