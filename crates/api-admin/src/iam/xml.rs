//! IAM's XML responses.

use std::fmt::Write as _;

/// IAM's XML namespace.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Escapes text for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds the body of a result element.
#[derive(Debug, Default)]
pub struct Xml(String);

impl Xml {
    /// An empty body.
    pub fn new() -> Self {
        Self::default()
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        let _ = write!(self.0, "<{name}>{}</{name}>", escape(text));
        self
    }

    /// `<name>...</name>` with a nested body.
    pub fn node(&mut self, name: &str, body: impl FnOnce(&mut Xml)) -> &mut Self {
        let mut inner = Xml::new();
        body(&mut inner);
        let _ = write!(self.0, "<{name}>{}</{name}>", inner.0);
        self
    }

    /// The text built.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `<{Action}Response><{Action}Result>…</…Result><ResponseMetadata>…</…></…Response>`.
pub fn response(action: &str, result: Option<Xml>, request_id: &str) -> String {
    let result = result.map_or_else(String::new, |r| {
        format!("<{action}Result>{}</{action}Result>", r.into_string())
    });
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{NAMESPACE}\">{result}\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        escape(request_id)
    )
}

/// `<ErrorResponse>` for an error.
pub fn error(e: &super::IamError, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{NAMESPACE}\"><Error>\
         <Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId>\
         </ErrorResponse>",
        e.fault(),
        e.code,
        escape(&e.message),
        escape(request_id)
    )
}

/// An ISO 8601 timestamp (`2026-11-24T10:00:00Z`) of milliseconds since the epoch.
pub fn date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&format).unwrap_or_default()
}
