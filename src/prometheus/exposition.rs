//! The Prometheus text exposition format (version 0.0.4): metric families with their
//! `# HELP` and `# TYPE` lines, samples with escaped label values.

use std::fmt::Write;

/// The kind of a metric family.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Only goes up (totals since the ledger began).
    Counter,
    /// Goes up and down (state now).
    Gauge,
}

/// A page of metrics being written.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts a metric family; its samples follow.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{key}=\"{}\"", escape(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// The page.
    pub fn into_text(self) -> String {
        self.text
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
