//! Feeds arbitrary bytes to the protocol server's request path (frame → header → guard → body):
//! nothing may panic, and nothing may request an allocation sized by an unchecked wire count.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    broker_embedded::fuzzing::decode_requests(data);
});
