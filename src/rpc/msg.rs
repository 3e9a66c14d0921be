//! JSON-RPC 2.0 messages: requests, notifications, responses, error objects, and the
//! id that is an integer or a string.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request id: a number or a string, as the peer chose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// An integer id (what aiswitch sends).
    Number(i64),
    /// A string id.
    String(String),
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// A call that expects a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Correlates the response.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Value>,
}

/// A call without a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Value>,
}

/// The JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code (-32700..-32600 are the protocol's own).
    pub code: i64,
    /// One line for people.
    pub message: String,
    /// Extra data, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON is not a valid request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i64 = -32603;

    /// An error with a code and a message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `method` is not handled here.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            Self::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )
    }
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's id; `None` when the peer could not read the request's id.
    pub id: Option<RequestId>,
    /// The result, or the error.
    pub outcome: Result<Value, ErrorObject>,
}

/// Any JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response.
    Response(Response),
}

/// Why bytes are not a JSON-RPC message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all (includes invalid UTF-8).
    #[error("not JSON ({0})")]
    NotJson(String),
    /// JSON, but not a JSON-RPC 2.0 message.
    #[error("not a JSON-RPC 2.0 message ({0})")]
    Invalid(String),
}

impl ParseError {
    /// The JSON-RPC error code to answer with.
    pub fn code(&self) -> i64 {
        match self {
            Self::NotJson(_) => ErrorObject::PARSE_ERROR,
            Self::Invalid(_) => ErrorObject::INVALID_REQUEST,
        }
    }
}

/// The wire shape, every field optional, so one parse tells the kinds apart.
#[derive(Deserialize)]
struct Wire {
    jsonrpc: Option<String>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Value>,
    method: Option<String>,
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    error: Option<ErrorObject>,
}

/// Keeps an explicit `null` as `Some(Value::Null)`, apart from a missing field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Message {
    /// Parses one message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
        if wire.jsonrpc.as_deref() != Some("2.0") {
            return Err(ParseError::Invalid("\"jsonrpc\" must be \"2.0\"".into()));
        }
        let id =
            match wire.id {
                None | Some(Value::Null) => None,
                Some(value) => Some(serde_json::from_value::<RequestId>(value).map_err(|_| {
                    ParseError::Invalid("\"id\" must be a number or a string".into())
                })?),
            };
        if let Some(method) = wire.method {
            return Ok(match id {
                Some(id) => Self::Request(Request {
                    id,
                    method,
                    params: wire.params,
                }),
                None => Self::Notification(Notification {
                    method,
                    params: wire.params,
                }),
            });
        }
        let outcome = match (wire.result, wire.error) {
            (_, Some(error)) => Err(error),
            (Some(result), None) => Ok(result),
            (None, None) => {
                return Err(ParseError::Invalid(
                    "neither \"method\", \"result\" nor \"error\"".into(),
                ));
            }
        };
        Ok(Self::Response(Response { id, outcome }))
    }

    /// The message as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        use serde_json::json;
        let value = match self {
            Self::Request(r) => match &r.params {
                Some(p) => json!({"jsonrpc": "2.0", "id": r.id, "method": r.method, "params": p}),
                None => json!({"jsonrpc": "2.0", "id": r.id, "method": r.method}),
            },
            Self::Notification(n) => match &n.params {
                Some(p) => json!({"jsonrpc": "2.0", "method": n.method, "params": p}),
                None => json!({"jsonrpc": "2.0", "method": n.method}),
            },
            Self::Response(r) => match &r.outcome {
                Ok(result) => json!({"jsonrpc": "2.0", "id": r.id, "result": result}),
                Err(error) => json!({"jsonrpc": "2.0", "id": r.id, "error": error}),
            },
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request(r) => Some(&r.method),
            Self::Notification(n) => Some(&n.method),
            Self::Response(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_apart() {
        let req = Message::parse(br#"{"jsonrpc":"2.0","id":"a","method":"m","params":[1]}"#);
        assert!(matches!(
            req,
            Ok(Message::Request(Request {
                id: RequestId::String(_),
                ..
            }))
        ));
        let note = Message::parse(br#"{"jsonrpc":"2.0","method":"n"}"#);
        assert!(matches!(note, Ok(Message::Notification(_))));
        let resp = Message::parse(br#"{"jsonrpc":"2.0","id":7,"result":null}"#).expect("resp");
        assert_eq!(
            resp,
            Message::Response(Response {
                id: Some(RequestId::Number(7)),
                outcome: Ok(Value::Null)
            })
        );
        let err = Message::parse(br#"{"jsonrpc":"2.0","id":7,"error":{"code":-1,"message":"x"}}"#);
        assert!(matches!(
            err,
            Ok(Message::Response(Response {
                outcome: Err(_),
                ..
            }))
        ));
    }

    #[test]
    fn bad_messages() {
        assert!(matches!(
            Message::parse(b"hello"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            Message::parse(b"\xff\xfe"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            Message::parse(br#"{"jsonrpc":"1.0","method":"m"}"#),
            Err(ParseError::Invalid(_))
        ));
        assert!(matches!(
            Message::parse(br#"{"jsonrpc":"2.0","id":{},"method":"m"}"#),
            Err(ParseError::Invalid(_))
        ));
    }

    #[test]
    fn round_trip() {
        let msg = Message::Request(Request {
            id: RequestId::Number(1),
            method: "initialize".into(),
            params: Some(serde_json::json!({"protocolVersion": 1})),
        });
        assert_eq!(Message::parse(&msg.to_json()).expect("parse"), msg);
    }
}
