//! The test suite's fake provider as a program, for trying an agent CLI by hand:
//! `cargo run --example fake-provider` prints its URL, then one line per request
//! (method, path, API, auth, model; with
//! `FAKE_PROVIDER_BODIES=1` the JSON body too).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/common/fake_provider.rs"]
#[allow(dead_code)]
mod fake_provider;

fn main() {
    let provider = fake_provider::FakeProvider::start(fake_provider::Usage::default());
    println!("{}", provider.url());
    // FAKE_PROVIDER_BODIES=1 prints each request's JSON body too.
    let dump_bodies = std::env::var_os("FAKE_PROVIDER_BODIES").is_some();
    let mut shown = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let seen = provider.seen();
        for s in &seen[shown..] {
            eprintln!(
                "{} {} {:?} auth={} model={} stream={}",
                s.method,
                s.uri,
                s.api,
                s.auth.as_deref().unwrap_or("-"),
                s.model.as_deref().unwrap_or("-"),
                s.stream
            );
            if dump_bodies {
                eprintln!("{}", s.body);
            }
        }
        shown = seen.len();
    }
}
