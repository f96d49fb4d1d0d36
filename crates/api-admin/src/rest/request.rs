//! Reading requests and writing responses: query parameters, JSON bodies with a size limit,
//! pagination, and the formats every response shares (times, human-readable sizes).

use std::collections::HashMap;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default page size of list endpoints.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size of list endpoints.
pub const MAX_LIMIT: usize = 1000;

/// The response type of every handler.
pub type ApiResponse = http::Response<Full<Bytes>>;

/// Query parameters of a request.
#[derive(Debug, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses a raw query string (`a=1&b=x%20y`).
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A string parameter.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A string parameter of at most `max` bytes.
    pub fn bounded_str(&self, name: &str, max: usize) -> Result<Option<&str>, ApiError> {
        match self.str(name) {
            Some(v) if v.len() > max => Err(ApiError::field(
                name,
                format!("must be at most {max} bytes long"),
            )),
            other => Ok(other),
        }
    }

    /// A boolean parameter (`true` / `false`), `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.str(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(ApiError::field(name, "must be true or false")),
        }
    }

    /// The page size: `limit`, 1..=[`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.str("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(ApiError::field(
                    "limit",
                    format!("must be an integer between 1 and {MAX_LIMIT}"),
                )),
            },
        }
    }

    /// The opaque cursor from a previous page.
    pub fn cursor(&self) -> Result<Option<&str>, ApiError> {
        self.bounded_str("cursor", 4096)
    }
}

/// Reads a whole body of at most [`MAX_BODY_BYTES`].
pub async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt as _;
    match http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::BodyTooLarge(MAX_BODY_BYTES))
        }
        Err(e) => Err(ApiError::MalformedBody(format!(
            "the request body could not be read: {e}"
        ))),
    }
}

/// Parses a JSON body; a body of the wrong shape is a validation error naming the field.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::MalformedBody(
            "a JSON request body is required".to_owned(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        describe(&path, &inner)
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedBody(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

fn describe(path: &str, e: &serde_json::Error) -> ApiError {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("missing field `")
        && let Some(field) = rest.split('`').next()
    {
        let field = if path == "." || path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::field(&field, "is required");
    }
    if e.is_data() && path != "." && !path.is_empty() {
        return ApiError::field(path, text);
    }
    if e.is_data() {
        return ApiError::MalformedBody(format!("the body does not match the schema: {text}"));
    }
    ApiError::MalformedBody(format!("the body is not valid JSON: {text}"))
}

/// Distinguishes a field given as `null` (`Some(None)`) from an absent one (`None`), for
/// updates where `null` removes a value.
#[allow(clippy::option_option)] // Absent, null and a value are three different requests.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResponse {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, body, "application/json"),
        Err(e) => {
            tracing::error!(error = %e, "response did not serialize");
            with_type(
                StatusCode::INTERNAL_SERVER_ERROR,
                br#"{"code":"InternalError","message":"response serialization failed","request_id":""}"#
                    .to_vec(),
                "application/json",
            )
        }
    }
}

/// A response with a body of the given content type.
pub fn with_type(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> ApiResponse {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}

/// `2023-01-15T10:30:00Z` from ms since the epoch.
pub fn timestamp(millis: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// `1.0 GB` for 1073741824 (binary multiples, one decimal).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// One page cut from a sorted sequence: the items after `cursor` (by `key`), at most
/// `limit`, and the cursor of the next page when more follow.
pub fn page_after<T, K: Ord>(
    items: Vec<T>,
    cursor: Option<&K>,
    limit: usize,
    key: impl Fn(&T) -> K,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|item| cursor.is_none_or(|c| key(item) > *c))
        .collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next = if more {
        rest.last().map(cursor_of)
    } else {
        None
    };
    (rest, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_read_like_the_reference() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1_024_000), "1000.0 KB");
        assert_eq!(human_size(26_214_400), "25.0 MB");
        assert_eq!(human_size(1_073_741_824), "1.0 GB");
        assert_eq!(timestamp(1_673_778_600_000), "2023-01-15T10:30:00Z");
    }

    #[test]
    fn pages_cover_everything_once() {
        let items: Vec<u32> = (1..=7).collect();
        let mut cursor = None;
        let mut seen = Vec::new();
        for _ in 0..10 {
            let (page, next) = page_after(
                items.clone(),
                cursor.as_ref(),
                3,
                |i| *i,
                ToString::to_string,
            );
            seen.extend(page);
            match next {
                Some(n) => cursor = Some(n.parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn body_errors_name_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            name: String,
            limit: Option<u32>,
        }
        let err = json_body::<Body>(br#"{"limit": 3}"#).unwrap_err();
        assert!(
            matches!(err, ApiError::Validation { ref field, .. } if field == "name"),
            "{err:?}"
        );
        let err = json_body::<Body>(br#"{"name": "x", "limit": "many"}"#).unwrap_err();
        assert!(
            matches!(err, ApiError::Validation { ref field, .. } if field == "limit"),
            "{err:?}"
        );
        assert!(json_body::<Body>(b"{").is_err());
        assert!(json_body::<Body>(br#"{"name": "x"} trailing"#).is_err());
    }
}
