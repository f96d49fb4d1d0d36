//! Policy variables: `${aws:username}` and friends in `Resource` and in condition values.
//!
//! A variable names any condition key of the request context (case-insensitive) and is
//! replaced by its value when the key has exactly one value. `${key, 'default'}` supplies a
//! value for when it has none. `${*}`, `${?}` and `${$}` stand for the literal characters.
//! Variables are read only in policies of `Version` `2012-10-17`; in older policies the text
//! is literal. A variable that cannot be resolved makes the value it sits in match nothing.

use crate::context::RequestContext;
use crate::wildcard::Pattern;

/// One piece of a value that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Policy text: `*` and `?` in it are wildcards where the operator reads wildcards.
    Text(String),
    /// Text that is always literal (from `${*}`, `${?}`, `${$}`).
    Literal(String),
    /// A reference to a context key, with an optional default.
    Variable {
        key: String,
        default: Option<String>,
    },
}

/// A policy value (a resource or a condition value) with its variables parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    raw: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `raw`; with `variables` false (old policy versions) the whole value is text.
    pub(crate) fn parse(raw: &str, variables: bool) -> Self {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = raw;
        // Without variables (old policy versions) the whole value is text.
        while let Some(start) = rest.find("${").filter(|_| variables) {
            let after_open = &rest[start + 2..];
            let Some(end) = after_open.find('}') else {
                break;
            };
            if let Some(part) = parse_variable(&after_open[..end]) {
                text.push_str(&rest[..start]);
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(part);
                rest = &after_open[end + 1..];
            } else {
                text.push_str(&rest[..start + 2]);
                rest = after_open;
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Self {
            raw: raw.to_owned(),
            parts,
        }
    }

    /// The value as written in the policy.
    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    /// Whether the value refers to a context key.
    pub(crate) fn has_variables(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Variable { .. }))
    }

    /// The value as a wildcard pattern for this request; `None` if a variable is unresolved.
    pub(crate) fn to_pattern(&self, context: &RequestContext) -> Option<Pattern> {
        let mut pattern = Pattern::default();
        for part in &self.parts {
            match part {
                Part::Text(text) => pattern.push_wildcard_text(text),
                Part::Literal(text) => pattern.push_literal(text),
                Part::Variable { key, default } => {
                    pattern.push_literal(&resolve(context, key, default.as_deref())?);
                }
            }
        }
        Some(pattern)
    }

    /// The value as plain text for this request; `None` if a variable is unresolved.
    pub(crate) fn to_text(&self, context: &RequestContext) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) | Part::Literal(text) => out.push_str(text),
                Part::Variable { key, default } => {
                    out.push_str(&resolve(context, key, default.as_deref())?);
                }
            }
        }
        Some(out)
    }

    /// The value as a pattern valid for any request: every variable becomes `*`. Used to check
    /// a policy without a request (resource scoping, public-access analysis).
    pub(crate) fn to_static_pattern(&self) -> Pattern {
        let mut pattern = Pattern::default();
        for part in &self.parts {
            match part {
                Part::Text(text) => pattern.push_wildcard_text(text),
                Part::Literal(text) => pattern.push_literal(text),
                Part::Variable { .. } => pattern.push_any_sequence(),
            }
        }
        pattern
    }
}

fn resolve(context: &RequestContext, key: &str, default: Option<&str>) -> Option<String> {
    match context.values(key) {
        Some([value]) => Some(value.clone()),
        _ => default.map(str::to_owned),
    }
}

/// Reads the inside of `${...}`; `None` if it is not a variable (then the text is literal).
fn parse_variable(inner: &str) -> Option<Part> {
    let inner = inner.trim();
    match inner {
        "*" | "?" | "$" => return Some(Part::Literal(inner.to_owned())),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => (key.trim(), Some(parse_default(default.trim())?)),
        None => (inner, None),
    };
    let valid_key = !key.is_empty()
        && key.contains(':')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/_-.@+=".contains(c));
    valid_key.then(|| Part::Variable {
        key: key.to_lowercase(),
        default,
    })
}

/// Reads `'text'`, where `''` stands for one quote.
fn parse_default(quoted: &str) -> Option<String> {
    let body = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A lone quote inside the default is malformed; a doubled one is a quote.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::{Principal, UserIdentity};

    fn context_for(user_name: &str) -> RequestContext {
        let user = Principal::User(UserIdentity {
            account_id: "123456789012345".into(),
            user_name: user_name.into(),
            user_id: "AIDA7".into(),
            path: "/".into(),
        });
        RequestContext::new("s3:GetObject", "arn:aws:s3:::b/k", user)
    }

    #[test]
    fn substitutes_username_and_userid() {
        let template = Template::parse("arn:aws:s3:::b/home/${aws:username}/*", true);
        assert!(template.has_variables());
        let pattern = template.to_pattern(&context_for("alice")).unwrap();
        assert!(pattern.matches("arn:aws:s3:::b/home/alice/notes.txt"));
        assert!(!pattern.matches("arn:aws:s3:::b/home/bob/notes.txt"));
        let id = Template::parse("${AWS:UserId}", true);
        assert_eq!(id.to_text(&context_for("x")).as_deref(), Some("AIDA7"));
    }

    #[test]
    fn substituted_values_are_literal() {
        let template = Template::parse("home/${aws:username}", true);
        let pattern = template.to_pattern(&context_for("a*")).unwrap();
        assert!(pattern.matches("home/a*"));
        assert!(!pattern.matches("home/abc"));
    }

    #[test]
    fn special_characters() {
        let template = Template::parse("a${*}b${?}c${$}d*", true);
        let pattern = template.to_pattern(&context_for("x")).unwrap();
        assert!(pattern.matches("a*b?c$dzzz"));
        assert!(!pattern.matches("aXb?c$d"));
        assert_eq!(
            template.to_text(&context_for("x")).as_deref(),
            Some("a*b?c$d*")
        );
    }

    #[test]
    fn missing_keys_and_defaults() {
        let anonymous = RequestContext::new("s3:GetObject", "*", Principal::Anonymous);
        let template = Template::parse("home/${aws:username}/*", true);
        assert_eq!(template.to_pattern(&anonymous), None);
        let with_default = Template::parse("home/${aws:username, 'guest'}/*", true);
        assert!(
            with_default
                .to_pattern(&anonymous)
                .unwrap()
                .matches("home/guest/x")
        );
        let quoted = Template::parse("${aws:username,'it''s'}", true);
        assert_eq!(quoted.to_text(&anonymous).as_deref(), Some("it's"));
    }

    #[test]
    fn multi_valued_keys_do_not_resolve() {
        let mut context = context_for("a");
        context.set("s3:RequestObjectTagKeys", ["x", "y"]);
        assert_eq!(
            Template::parse("${s3:RequestObjectTagKeys}", true).to_text(&context),
            None
        );
    }

    #[test]
    fn old_versions_and_malformed_variables_are_literal() {
        let old = Template::parse("home/${aws:username}", false);
        assert!(!old.has_variables());
        assert_eq!(
            old.to_text(&context_for("a")).as_deref(),
            Some("home/${aws:username}")
        );
        for raw in [
            "${",
            "${}",
            "${no colon}",
            "${aws:username",
            "a${aws:x, bad}",
        ] {
            let template = Template::parse(raw, true);
            assert!(!template.has_variables(), "{raw}");
            assert_eq!(template.to_text(&context_for("a")).as_deref(), Some(raw));
        }
    }

    #[test]
    fn static_pattern_widens_variables() {
        let template = Template::parse("arn:aws:s3:::b/${aws:username}/*", true);
        assert!(
            template
                .to_static_pattern()
                .matches("arn:aws:s3:::b/anyone/x")
        );
        assert_eq!(template.raw(), "arn:aws:s3:::b/${aws:username}/*");
    }
}
