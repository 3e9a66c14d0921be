//! The control API: JSON-RPC 2.0 over `control.sock` in the runtime directory, served
//! by the daemon on the same rpc layer as the agents. The method table
//! ([`methods::methods`]) is what the daemon serves and the one source of
//! `docs/control-api.md` (a test keeps the two equal).

mod client;
mod handler;
pub mod methods;
mod server;
mod subscription;

pub use client::{ControlClient, ControlError};
pub use handler::ControlHandler;
pub use server::{ServerOptions, serve};

/// The protocol version `system.version` reports; the CLI refuses a daemon that
/// speaks another. It covers the methods and the events: 2 is the typed event stream
/// (`events::Event`, resumable with `since`).
pub const PROTOCOL_VERSION: u32 = 2;

/// Error code: a second daemon could not take the single-instance lock.
pub const LOCK_FAILED: i64 = -40301;
/// Error code: the peer runs as another user.
pub const PEER_REFUSED: i64 = -40302;

/// The socket's file name in the runtime directory.
pub const SOCKET_NAME: &str = "control.sock";

/// The *Events* part of the document, from [`crate::events::catalogue`].
fn events_section() -> String {
    let mut doc = String::from(
        "\n## Events\n\n\
         Each `event` notification is one object, internally tagged by `event`, with the\n\
         stored event's `id` (absent for live events) and `at_ms` (ms since the epoch):\n\
         `{\"id\": 42, \"at_ms\": 1764561600000, \"event\": \"preset_added\", ...}`. Stored\n\
         events are resumable: `event.subscribe {\"since\": 42}` sends every stored event after\n\
         42, in commit order, then the live stream, each stored event once. Live events\n\
         (agent states and log lines, per-agent task progress) exist only while the daemon\n\
         runs. The Rust client (`ControlClient::next_event`) hands out `EventRecord`s.\n\n\
         | event | stored | what | example |\n|---|---|---|---|\n",
    );
    for (event, what) in crate::events::catalogue::examples() {
        let example = serde_json::to_string(&event).unwrap_or_default();
        doc.push_str(&format!(
            "| `{}` | {} | {what} | `{example}` |\n",
            event.kind(),
            if event.is_stored() { "yes" } else { "live" }
        ));
    }
    doc
}

/// `docs/control-api.md`, generated from the method table.
pub fn api_document() -> String {
    let mut doc = String::from(
        "# aiswitch control API\n\n\
         Generated from the method table (`src/control/methods/`), the one the daemon serves;\n\
         a test fails when this file and the code differ. Regenerate with `UPDATE_DOCS=1 cargo test --lib control`.\n\n\
         JSON-RPC 2.0, one message per line, on the Unix socket `control.sock` in the runtime\n\
         directory (`$AISWITCH_HOME/run` or `$XDG_RUNTIME_DIR/aiswitch`). The socket is mode\n\
         0600 and the daemon refuses peers of another user (`SO_PEERCRED`, error -40302).\n\
         A client that sends nothing is disconnected after a timeout; one that stops reading\n\
         its events is disconnected when 10,000 messages wait for it. Messages over 16 MiB\n\
         close the connection; malformed ones get -32700 / -32600 and the connection goes on.\n\n\
         Server-pushed notifications after `event.subscribe`: method `event`, params one\n\
         event (listed under *Events* below). Another aiswitch process that committed events\n\
         sends the notification `event.wake` (no params, no reply): the host reads them from\n\
         the store and pushes them.\n\n\
         Error codes: the JSON-RPC ones (-32700 parse error, -32600 invalid request, -32601\n\
         method not found, -32602 invalid params) and -40001 agent not found, -40005 agent\n\
         busy, -40101 task not found, -40501 budget exceeded (hard stop), -40601 alert not found, -40201 preset not found, -40301 lock acquisition failed (a daemon runs),\n\
         -40302 peer refused, -40403 configuration error, -40404 storage error.\n\n\
         | method | what | params | result | errors |\n|---|---|---|---|---|\n",
    );
    for m in methods::methods() {
        doc.push_str(&format!(
            "| `{}` | {} | `{}` | `{}` | {} |\n",
            m.name, m.summary, m.params, m.result, m.errors
        ));
    }
    doc.push_str(
        "\nExample:\n\n```text\n\
         → {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"agent.start\",\"params\":{\"agent\":\"aiswitch-agent\"}}\n\
         ← {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"agent\":\"aiswitch-agent\",\"state\":\"idle\",\"pid\":4300,...}}\n\
         → {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}\n\
         ← {\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32601,\"message\":\"method not found: nope\"}}\n```\n",
    );
    doc.push_str(&events_section());
    doc
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/control-api.md");
        let generated = super::api_document();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &generated).expect("write docs");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/control-api.md is out of date: run `UPDATE_DOCS=1 cargo test --lib control`"
        );
    }

    #[test]
    fn every_method_is_served_once_under_its_name() {
        let names: Vec<&str> = super::methods::methods().map(|m| m.name).collect();
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(names.len(), unique.len(), "a method name is listed twice");
        for name in names {
            let found = super::methods::find(name).map(|m| m.name);
            assert_eq!(found, Some(name));
        }
        assert!(super::methods::find("nope").is_none());
    }
}
