#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aiswitch::fuzzing::rpc_message(data));
