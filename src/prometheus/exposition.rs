//! The Prometheus text exposition format (version 0.0.4): metric families with their
//! `# HELP` and `# TYPE` lines, samples with escaped label values.

use std::fmt::Write;

/// The kind of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (totals since the ledger began).
    Counter,
    /// Goes up and down (state now).
    Gauge,
}

/// One metric family: its samples under one name, kind and help text.
#[derive(Debug, Clone)]
pub struct Family {
    /// The Prometheus name (`aiswitch_tokens_total`).
    pub name: String,
    /// Counter or gauge.
    pub kind: Kind,
    /// What it measures.
    pub help: String,
    /// Its samples: labels and value.
    pub samples: Vec<(Vec<(String, String)>, f64)>,
}

/// The metrics of one moment, family by family: rendered as Prometheus text for a
/// scrape, or sent to an OpenTelemetry collector (`otlp`).
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    /// Starts a metric family; its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        self.families.push(Family {
            name: name.to_owned(),
            kind,
            help: help.to_owned(),
            samples: Vec::new(),
        });
    }

    /// One sample of the current family (`name` is the family's).
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        if let Some(family) = self.families.last_mut() {
            debug_assert_eq!(family.name, name, "a sample of the family just started");
            let labels = labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            family.samples.push((labels, value));
        }
    }

    /// The families, in the order they were started.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The page in the Prometheus text format.
    pub fn into_text(self) -> String {
        let mut text = String::new();
        for family in &self.families {
            let kind = match family.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            };
            let name = &family.name;
            let help = family.help.replace('\\', r"\\").replace('\n', r"\n");
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in &family.samples {
                text.push_str(name);
                if !labels.is_empty() {
                    text.push('{');
                    for (i, (key, value)) in labels.iter().enumerate() {
                        if i > 0 {
                            text.push(',');
                        }
                        let _ = write!(text, "{key}=\"{}\"", escape(value));
                    }
                    text.push('}');
                }
                let _ = writeln!(text, " {value}");
            }
        }
        text
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_families_declared() {
        let mut page = Exposition::default();
        page.family("aiswitch_x_total", Kind::Counter, "X.");
        page.sample("aiswitch_x_total", &[("model", "a \"b\"\\c\nd")], 2.5);
        page.sample("aiswitch_x_total", &[], 1.0);
        assert_eq!(
            page.into_text(),
            "# HELP aiswitch_x_total X.\n# TYPE aiswitch_x_total counter\n\
             aiswitch_x_total{model=\"a \\\"b\\\"\\\\c\\nd\"} 2.5\naiswitch_x_total 1\n"
        );
    }
}
