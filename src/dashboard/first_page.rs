//! The page as the dashboard serves it: one response a browser can draw from. The
//! built `index.html` names its script and style as files; here they go inside the
//! page (the script under a per-response CSP nonce), with the answers to the
//! overview's first control calls taken just before. A fresh browser would otherwise
//! ask for two more files and then wait for the WebSocket before it drew anything:
//! on a small machine that was most of the first load (BENCHMARKS.md, Dashboard).
//!
//! The answers are a head start, not a second API: the page uses each one once, in
//! place of the same call (method and parameters equal), and subscribes to the events
//! after the answers' event id, so nothing that happened in between is missed. A call
//! the page makes with other parameters (a browser in another time zone asks for
//! another midnight) simply goes over the WebSocket.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::EngineHost;
use crate::calendar::{Calendar, Unit};

/// The longest the page waits for the first answers; past it the page is served
/// without them (and makes the calls itself).
const ANSWERS_WITHIN: Duration = Duration::from_millis(300);

/// How Vite's built page names its script: the text around the path.
const SCRIPT: (&str, &str) = (
    "<script type=\"module\" crossorigin src=\"/",
    "\"></script>",
);

/// Whether `page` names a script that `inline` can put inside it.
pub fn names_a_script(page: &str) -> bool {
    element(page, SCRIPT.0, SCRIPT.1).is_some()
}

/// The built page with its script and style inline and the first answers in a data
/// block. `None` when the page does not have the shape Vite builds (or its script
/// cannot sit inside a `<script>` element): then it is served as built.
pub fn inline(
    page: &str,
    file: impl Fn(&str) -> Option<&'static [u8]>,
    nonce: &str,
    answers: Option<&FirstAnswers>,
) -> Option<String> {
    let (before, script_path, after) = element(page, SCRIPT.0, SCRIPT.1)?;
    let script = std::str::from_utf8(file(script_path)?).ok()?;
    if script.contains("</script") {
        return None;
    }
    let mut out = String::with_capacity(page.len() + script.len() + 16 * 1024);
    let rest = match element(
        after,
        "<link rel=\"stylesheet\" crossorigin href=\"/",
        "\">",
    ) {
        Some((between, style_path, rest)) => {
            let style = std::str::from_utf8(file(style_path)?).ok()?;
            if style.contains("</style") {
                return None;
            }
            out.push_str(before);
            out.push_str("<style>");
            out.push_str(style);
            out.push_str("</style>");
            out.push_str(between);
            rest
        }
        None => {
            out.push_str(before);
            after
        }
    };
    if let Some(answers) = answers {
        // `<` never appears in JSON outside strings; escaped, no text ends the block.
        let data = serde_json::to_string(answers).ok()?.replace('<', "\\u003c");
        out.push_str("<script type=\"application/json\" id=\"first-answers\">");
        out.push_str(&data);
        out.push_str("</script>");
    }
    out.push_str(&format!("<script type=\"module\" nonce=\"{nonce}\">"));
    out.push_str(script);
    out.push_str("</script>");
    out.push_str(rest);
    Some(out)
}

/// `page` split around the first element that starts with `open` and ends with
/// `close`: the text before it, the path inside it, the text after it.
fn element<'a>(page: &'a str, open: &str, close: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let start = page.find(open)?;
    let path_start = start + open.len();
    let path_len = page[path_start..].find(close)?;
    let path = &page[path_start..path_start + path_len];
    (!path.contains(['"', '<', '>'])).then_some((
        &page[..start],
        path,
        &page[path_start + path_len + close.len()..],
    ))
}

/// The answers to the overview's first calls, and the event id they are current at.
#[derive(Debug, Serialize)]
pub struct FirstAnswers {
    /// The newest stored event when they were taken: the page subscribes after it.
    pub after: u64,
    /// Each call and its result.
    pub answers: Vec<Answer>,
}

/// One control call and its result.
#[derive(Debug, Serialize)]
pub struct Answer {
    /// The method.
    pub method: String,
    /// Its parameters, as the page sends them.
    pub params: Value,
    /// The result.
    pub result: Value,
}

/// The calls the overview makes as it loads, one per part it shows: the same file the
/// page reads (`ui/src/engine.svelte.ts`, `first`), so the two cannot drift apart.
const FIRST_CALLS: &str = include_str!("../../ui/src/first-calls.json");

/// One of [`FIRST_CALLS`]: a parameter `"today"` stands for today's midnight.
#[derive(serde::Deserialize)]
struct FirstCall {
    method: String,
    #[serde(default)]
    params: Value,
}

/// The overview's first calls with the parameters it sends; today starts at
/// `midnight_ms` (midnight in this machine's zone).
fn first_calls(midnight_ms: i64) -> Vec<(String, Value)> {
    let calls: std::collections::BTreeMap<String, FirstCall> =
        serde_json::from_str(FIRST_CALLS).expect("ui/src/first-calls.json is valid");
    calls
        .into_values()
        .map(|mut call| {
            if let Value::Object(params) = &mut call.params {
                for value in params.values_mut() {
                    if *value == "today" {
                        *value = json!(midnight_ms);
                    }
                }
            }
            (call.method, call.params)
        })
        .collect()
}

/// Asks the engine host for the first answers over one connection, within
/// `ANSWERS_WITHIN`; `None` when it cannot answer them all in time.
pub async fn first_answers(host: &EngineHost) -> Option<FirstAnswers> {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let midnight_ms = Calendar::new("system", "monday")
        .ok()?
        .bounds(Unit::Day, now_ms)
        .0;
    tokio::time::timeout(ANSWERS_WITHIN, ask(host, first_calls(midnight_ms)))
        .await
        .ok()
        .flatten()
}

async fn ask(host: &EngineHost, calls: Vec<(String, Value)>) -> Option<FirstAnswers> {
    let stream = host.connect().await.ok()?;
    let (read, mut write) = stream.into_split();
    // The subscription first: every answer is at least as new as its `after`.
    let mut requests =
        json!({ "jsonrpc": "2.0", "id": 0, "method": "event.subscribe" }).to_string();
    requests.push('\n');
    for (id, (method, params)) in calls.iter().enumerate() {
        let request = json!({ "jsonrpc": "2.0", "id": id + 1, "method": method, "params": params });
        requests.push_str(&request.to_string());
        requests.push('\n');
    }
    write.write_all(requests.as_bytes()).await.ok()?;
    let mut results: Vec<Option<Value>> = vec![None; calls.len()];
    let mut after = None;
    let mut lines = BufReader::new(read).lines();
    while after.is_none() || results.iter().any(Option::is_none) {
        let line = lines.next_line().await.ok()??;
        let Ok(reply) = serde_json::from_str::<Reply>(&line) else {
            continue; // an event notification
        };
        let result = reply.result?; // an error: the page makes its calls itself
        match reply.id {
            0 => after = Some(result.get("after")?.as_u64()?),
            id => *results.get_mut(id - 1)? = Some(result),
        }
    }
    let answers = calls
        .into_iter()
        .zip(results)
        .map(|((method, params), result)| Answer {
            method,
            params,
            result: result.unwrap_or(Value::Null),
        })
        .collect();
    Some(FirstAnswers {
        after: after?,
        answers,
    })
}

/// A reply to one of the calls (notifications have no `id` and do not parse).
#[derive(serde::Deserialize)]
struct Reply {
    id: usize,
    result: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<html><head><title>aiswitch</title>\n<script type=\"module\" crossorigin src=\"/assets/index-1.js\"></script>\n<link rel=\"stylesheet\" crossorigin href=\"/assets/index-2.css\">\n</head><body><div id=\"app\"></div></body></html>";

    fn files(path: &str) -> Option<&'static [u8]> {
        match path {
            "assets/index-1.js" => Some(b"console.log(1 < 2)"),
            "assets/index-2.css" => Some(b"body{margin:0}"),
            "assets/bad.js" => Some(b"const s = '</script>'"),
            _ => None,
        }
    }

    #[test]
    fn script_and_style_go_inside_the_page_with_the_answers_before_the_script() {
        let answers = FirstAnswers {
            after: 41,
            answers: vec![Answer {
                method: "task.list".into(),
                params: json!({ "limit": 20 }),
                result: json!({ "tasks": [{ "prompt": "</script><script>alert(1)</script>" }] }),
            }],
        };
        let page = inline(PAGE, files, "n0nce", Some(&answers)).expect("inlined");
        assert!(page.contains("<style>body{margin:0}</style>"), "{page}");
        assert!(
            page.contains("<script type=\"module\" nonce=\"n0nce\">console.log(1 < 2)</script>"),
            "{page}"
        );
        assert!(!page.contains("src=\"/assets"), "{page}");
        assert!(page.find("first-answers").unwrap() < page.find("n0nce").unwrap());
        // A task's prompt cannot end the data block.
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
        let data = page
            .split("id=\"first-answers\">")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        let parsed: Value = serde_json::from_str(data).unwrap();
        assert_eq!(parsed["after"], 41);
        assert_eq!(
            parsed["answers"][0]["result"]["tasks"][0]["prompt"],
            "</script><script>alert(1)</script>"
        );
    }

    #[test]
    fn the_first_calls_are_the_pages_with_today_filled_in() {
        let calls = first_calls(1_764_547_200_000);
        assert_eq!(calls.len(), 8);
        assert!(calls.contains(&("task.list".into(), json!({ "limit": 20 }))));
        assert!(calls.contains(&("agent.list".into(), Value::Null)));
        assert!(calls.contains(&(
            "tokens.summary".into(),
            json!({ "since_ms": 1_764_547_200_000_i64 })
        )));
    }

    #[test]
    fn a_page_of_another_shape_or_an_unsafe_script_is_served_as_built() {
        assert!(inline("<p>not built</p>", files, "n", None).is_none());
        let bad = PAGE.replace("index-1.js", "bad.js");
        assert!(inline(&bad, files, "n", None).is_none());
        let missing = PAGE.replace("index-1.js", "gone.js");
        assert!(inline(&missing, files, "n", None).is_none());
    }
}
