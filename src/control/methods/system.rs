//! `system.*`: liveness and versions.

use serde_json::json;

use super::{Method, ready};
use crate::control::PROTOCOL_VERSION;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "system.ping",
        summary: "Liveness check.",
        params: "-",
        result: r#""pong""#,
        errors: "-",
        serve: |_| ready(Ok(json!("pong"))),
    },
    Method {
        name: "system.version",
        summary: "Versions; the CLI checks `protocol`.",
        params: "-",
        result: r#"{"version": "0.1.0", "protocol": 2, "pid": 4242}"#,
        errors: "-",
        serve: |_| {
            ready(Ok(
                json!({ "version": crate::VERSION, "protocol": PROTOCOL_VERSION, "pid": std::process::id() }),
            ))
        },
    },
];
