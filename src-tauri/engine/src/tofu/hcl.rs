//! Writing HCL literals. OpenTofu parses a `TF_VAR_` value of a complex type
//! (our user_data maps) as an HCL expression, where `${` and `%{` start
//! template sequences; the cloud-config is full of both (shell, apt's
//! `${distro_id}`), so they are escaped as `$${` / `%%{` (F-2).

use std::collections::BTreeMap;

/// A quoted HCL string literal whose value is exactly `s`.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An HCL object literal `{ "k" = "v", ... }` of strings, keys sorted.
pub fn string_map(map: &BTreeMap<String, String>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&string(k));
        out.push_str(" = ");
        out.push_str(&string(v));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_templates_quotes_and_controls() {
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("x=${HOME} %{ if }"), r#""x=$${HOME} %%{ if }""#);
        assert_eq!(string("$$ 100% $x {"), r#""$$ 100% $x {""#);
        assert_eq!(string("l1\nl2\t\r\u{1}"), r#""l1\nl2\t\r\u0001""#);
        assert_eq!(string("grüße"), "\"grüße\"");
    }

    #[test]
    fn map_is_sorted_and_comma_separated() {
        let mut m = BTreeMap::new();
        m.insert("nbg1".to_owned(), "b".to_owned());
        m.insert("fsn1".to_owned(), "a".to_owned());
        assert_eq!(string_map(&m), r#"{"fsn1" = "a","nbg1" = "b"}"#);
        assert_eq!(string_map(&BTreeMap::new()), "{}");
    }
}
