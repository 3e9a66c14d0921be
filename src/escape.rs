//! Text from files and agents shown on a terminal: control characters (carriage
//! returns, ANSI escapes, ...) are shown escaped, so a value cannot hide lines, move
//! the cursor or retitle the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character escaped (`\r`, `\n`, `\t`, `\e`, `\u{..}`);
/// borrowed unchanged when it has none.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\e"),
            c if is_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with control characters escaped except line breaks: for multi-line
/// output (an agent's reply, a TOML export) whose lines are meant as lines.
pub fn lines_for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_control(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(for_terminal)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// C0 and C1 controls and DEL, and the Unicode bidirectional overrides that can
/// reorder what is shown.
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_escaped() {
        assert_eq!(for_terminal("plain"), "plain");
        assert_eq!(
            for_terminal("a\rb\u{1b}]0;title\u{7}"),
            "a\\rb\\e]0;title\\u{7}"
        );
        assert_eq!(lines_for_terminal("one\ntwo\r"), "one\ntwo\\r");
    }
}
