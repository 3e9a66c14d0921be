//! `event.*`: the connection's subscription to the engine's events.

use serde_json::{Value, json};

use super::{Call, Method, ready};
use crate::rpc::ErrorObject;

pub(super) const METHODS: &[Method] = &[
    Method {
        name: "event.subscribe",
        summary: "Receive `event` notifications (see Events): first `subscribed`, then with `since` the stored events after that id, then every event as it happens. A new subscribe replaces the old one.",
        params: r#"{"since": 41} or -"#,
        result: r#"{"subscribed": true, "after": 41}"#,
        errors: "-",
        serve: |call| ready(subscribe(&call)),
    },
    Method {
        name: "event.unsubscribe",
        summary: "Stop receiving events.",
        params: "-",
        result: r#"{"subscribed": false}"#,
        errors: "-",
        serve: |call| ready(unsubscribe(&call)),
    },
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeParams {
    /// Resume after this event id.
    #[serde(default)]
    since: Option<i64>,
}

fn subscribe(call: &Call) -> Result<Value, ErrorObject> {
    let p: SubscribeParams = call.params()?;
    let (task, after) =
        crate::control::subscription::start(&call.runtime, call.conn.clone(), p.since);
    if let Some(old) = call
        .subscription
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replace(task)
    {
        old.abort();
    }
    Ok(json!({ "subscribed": true, "after": after }))
}

fn unsubscribe(call: &Call) -> Result<Value, ErrorObject> {
    if let Some(task) = call
        .subscription
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    {
        task.abort();
    }
    Ok(json!({ "subscribed": false }))
}
