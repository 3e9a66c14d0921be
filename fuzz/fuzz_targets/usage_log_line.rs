#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aiswitch::fuzzing::usage_log_line(data));
