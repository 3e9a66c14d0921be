//! OTLP/HTTP JSON bodies (the protobuf JSON mapping of OpenTelemetry's
//! `ExportLogsServiceRequest` and `ExportMetricsServiceRequest`): one log record per
//! usage event, and the metric families of the Prometheus page as OTLP metrics.
//! Only what the ledger holds goes out: counts, costs and names, never a prompt or
//! a key (the ledger has neither).

use serde_json::{Value, json};

use crate::prometheus::{Exposition, Family, Kind};
use crate::store::UsageRecord;

/// Who sends: the resource every batch names.
fn resource() -> Value {
    json!({
        "attributes": [
            attribute("service.name", text("aiswitch")),
            attribute("service.version", text(crate::VERSION)),
        ]
    })
}

fn scope() -> Value {
    json!({ "name": "aiswitch", "version": crate::VERSION })
}

fn attribute(key: &str, value: Value) -> Value {
    json!({ "key": key, "value": value })
}

fn text(value: &str) -> Value {
    json!({ "stringValue": value })
}

/// An int64, which the JSON mapping writes as a string.
fn int(value: impl Into<i128>) -> Value {
    json!({ "intValue": value.into().to_string() })
}

fn nanos(ms: i64) -> String {
    (i128::from(ms) * 1_000_000).to_string()
}

/// One log record per usage event, named `aiswitch.usage`, with the OpenTelemetry
/// GenAI names where they exist (`gen_ai.request.model`, `gen_ai.usage.*`).
pub fn logs(records: &[UsageRecord], now_ms: i64) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut attributes = vec![
                attribute("event.name", text("aiswitch.usage")),
                attribute("aiswitch.usage.id", int(r.id)),
                attribute("aiswitch.agent", text(&r.agent)),
                attribute("gen_ai.usage.input_tokens", int(r.input)),
                attribute("gen_ai.usage.output_tokens", int(r.output)),
                attribute("aiswitch.tokens.cache_read", int(r.cache_read)),
                attribute("aiswitch.tokens.cache_write", int(r.cache_write)),
                attribute("aiswitch.tokens.reasoning", int(r.reasoning)),
                attribute("aiswitch.cost_source", text(&r.cost_source)),
                attribute("aiswitch.count_source", text(&r.count_source)),
            ];
            let optional = [
                ("aiswitch.instance", &r.instance),
                ("aiswitch.preset", &r.preset),
                ("aiswitch.provider", &r.provider),
                ("gen_ai.request.model", &r.model),
                ("aiswitch.task", &r.task),
                ("aiswitch.session", &r.session),
                ("aiswitch.project", &r.project),
            ];
            for (key, value) in optional {
                if let Some(value) = value {
                    attributes.push(attribute(key, text(value)));
                }
            }
            if let Some(cost) = r.cost_usd {
                attributes.push(attribute(
                    "aiswitch.cost_usd",
                    json!({ "doubleValue": cost }),
                ));
            }
            let model = r.model.as_deref().unwrap_or("-");
            json!({
                "timeUnixNano": nanos(r.at_ms),
                "observedTimeUnixNano": nanos(now_ms),
                "severityNumber": 9,
                "severityText": "INFO",
                "body": text(&format!(
                    "{} used {} input and {} output tokens of {model}",
                    r.agent, r.input, r.output
                )),
                "attributes": attributes,
            })
        })
        .collect();
    json!({
        "resourceLogs": [{
            "resource": resource(),
            "scopeLogs": [{ "scope": scope(), "logRecords": records }],
        }]
    })
}

/// The OpenTelemetry name of a Prometheus family: `aiswitch_tokens_total` →
/// `aiswitch.tokens`, `aiswitch_agent_cpu_percent` → `aiswitch.agent_cpu_percent`.
pub fn metric_name(family: &str) -> String {
    let bare = family.strip_prefix("aiswitch_").unwrap_or(family);
    let bare = bare.strip_suffix("_total").unwrap_or(bare);
    format!("aiswitch.{bare}")
}

/// The families as OTLP metrics: counters as cumulative monotonic sums since
/// `start_ms`, gauges as gauges, every value a double.
pub fn metrics(page: &Exposition, start_ms: i64, now_ms: i64) -> Value {
    let metrics: Vec<Value> = page
        .families()
        .iter()
        .filter(|f| !f.samples.is_empty())
        .map(|family| metric(family, start_ms, now_ms))
        .collect();
    json!({
        "resourceMetrics": [{
            "resource": resource(),
            "scopeMetrics": [{ "scope": scope(), "metrics": metrics }],
        }]
    })
}

fn metric(family: &Family, start_ms: i64, now_ms: i64) -> Value {
    let points: Vec<Value> = family
        .samples
        .iter()
        .map(|(labels, value)| {
            let attributes: Vec<Value> =
                labels.iter().map(|(k, v)| attribute(k, text(v))).collect();
            let mut point = json!({
                "attributes": attributes,
                "timeUnixNano": nanos(now_ms),
                "asDouble": value,
            });
            if family.kind == Kind::Counter {
                point["startTimeUnixNano"] = json!(nanos(start_ms));
            }
            point
        })
        .collect();
    let mut metric = json!({
        "name": metric_name(&family.name),
        "description": family.help,
    });
    match family.kind {
        // 2: AGGREGATION_TEMPORALITY_CUMULATIVE.
        Kind::Counter => {
            metric["sum"] = json!({
                "aggregationTemporality": 2,
                "isMonotonic": true,
                "dataPoints": points,
            });
        }
        Kind::Gauge => metric["gauge"] = json!({ "dataPoints": points }),
    }
    metric
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds_follow_the_prometheus_families() {
        assert_eq!(metric_name("aiswitch_tokens_total"), "aiswitch.tokens");
        assert_eq!(
            metric_name("aiswitch_budget_spent"),
            "aiswitch.budget_spent"
        );
        let mut page = Exposition::default();
        page.family("aiswitch_cost_usd_total", Kind::Counter, "Cost.");
        page.sample("aiswitch_cost_usd_total", &[("agent", "claude")], 1.5);
        page.family("aiswitch_budget_limit", Kind::Gauge, "Limit.");
        let body = metrics(&page, 1_000, 2_000);
        let list = &body["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
        assert_eq!(
            list.as_array().map(Vec::len),
            Some(1),
            "empty families are left out"
        );
        let sum = &list[0]["sum"];
        assert_eq!(sum["aggregationTemporality"], 2);
        assert_eq!(sum["dataPoints"][0]["startTimeUnixNano"], "1000000000");
        assert_eq!(sum["dataPoints"][0]["asDouble"], 1.5);
    }
}
