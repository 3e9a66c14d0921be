//! The control API's methods: one small function per method, grouped by domain, and
//! one table ([`methods`]) that the handler serves and `docs/control-api.md` is
//! generated from. Each function parses its params, calls the engine or the agent
//! runtime once, and returns the engine's type unchanged.

mod agents;
mod env;
mod events;
mod presets;
mod system;
mod tasks;
mod usage;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::Engine;
use crate::engine::AgentRuntime;
use crate::presets::PresetName;
use crate::rpc::{Connection, ErrorObject};

/// What a method answers.
pub(crate) type Reply = Pin<Box<dyn Future<Output = Result<Value, ErrorObject>> + Send>>;

/// One request to serve.
pub(crate) struct Call {
    /// The engine host's agents (and, through it, the engine).
    pub runtime: Arc<AgentRuntime>,
    /// The connection it came on (where a subscription sends events).
    pub conn: Connection,
    /// Its params.
    pub params: Option<Value>,
    /// The connection's event subscription, if any.
    pub subscription: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Call {
    fn engine(&self) -> &Engine {
        self.runtime.engine()
    }

    /// The params as `T`; missing params are `{}`.
    fn params<T: DeserializeOwned>(&self) -> Result<T, ErrorObject> {
        serde_json::from_value(self.params.clone().unwrap_or_else(|| json!({})))
            .map_err(|e| invalid(format!("invalid params: {e}")))
    }
}

/// One method: its documentation and the function that serves it.
pub struct Method {
    /// The method name.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its params (JSON), or `-`.
    pub params: &'static str,
    /// Its result (JSON).
    pub result: &'static str,
    /// The error codes it can answer with.
    pub errors: &'static str,
    /// Serves it.
    pub(crate) serve: fn(Call) -> Reply,
}

/// Every method, in the documented order.
pub fn methods() -> impl Iterator<Item = &'static Method> {
    [
        system::METHODS,
        agents::METHODS,
        presets::METHODS,
        events::METHODS,
        tasks::METHODS,
        usage::METHODS,
        env::METHODS,
    ]
    .into_iter()
    .flatten()
}

/// The method called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Method> {
    methods().find(|m| m.name == name)
}

/// The answer of a method whose work is synchronous.
fn ready(answer: Result<Value, ErrorObject>) -> Reply {
    Box::pin(std::future::ready(answer))
}

fn invalid(message: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorObject::INVALID_PARAMS, message)
}

fn engine_error(err: crate::Error) -> ErrorObject {
    ErrorObject::new(i64::from(err.code()), err.to_string())
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, ErrorObject> {
    serde_json::to_value(value)
        .map_err(|e| ErrorObject::new(ErrorObject::INTERNAL_ERROR, e.to_string()))
}

fn preset_name(name: &str) -> Result<PresetName, ErrorObject> {
    PresetName::parse(name).map_err(|e| invalid(e.to_string()))
}
