//! The parameters of a query-API request: the query string, plus the form body of a POST.

use bytes::Bytes;
use http::Request;

use super::IamError;

/// Parameter values by name (the first occurrence wins).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

/// Most items a list action returns when `MaxItems` is absent.
const DEFAULT_MAX_ITEMS: usize = 100;

impl Params {
    /// Reads the query string and, for a form POST, the body.
    pub fn from_request(request: &Request<Bytes>) -> Result<Self, IamError> {
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        if request.method() == http::Method::POST {
            let form = request
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            if !form && !request.body().is_empty() {
                return Err(IamError::invalid_input(
                    "The request body must be application/x-www-form-urlencoded",
                ));
            }
            pairs.extend(form_urlencoded::parse(request.body()).into_owned());
        }
        Ok(Self(pairs))
    }

    /// A parameter, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that must be present.
    pub fn required(&self, name: &str) -> Result<&str, IamError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            IamError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                lower_first(name)
            ))
        })
    }

    /// `MaxItems`, 1..=1000 (default 100).
    pub fn max_items(&self) -> Result<usize, IamError> {
        match self.get("MaxItems") {
            None => Ok(DEFAULT_MAX_ITEMS),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    IamError::validation(
                        "1 validation error detected: Value at 'maxItems' failed to satisfy \
                         constraint: Member must have value between 1 and 1000",
                    )
                }),
        }
    }

    /// `Marker` (the last name of the previous page), or empty.
    pub fn marker(&self) -> &str {
        self.get("Marker").unwrap_or_default()
    }

    /// `PathPrefix` (default `/`).
    pub fn path_prefix(&self) -> &str {
        self.get("PathPrefix").unwrap_or("/")
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Checks an IAM name (user, group, policy): 1..=`max` of `[\w+=,.@-]`.
pub fn check_name(field: &str, value: &str, max: usize) -> Result<(), IamError> {
    let valid = !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "1 validation error detected: Value '{value}' at '{}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have \
             length between 1 and {max}",
            lower_first(field)
        )))
    }
}

/// Checks an IAM path: `/`, or `/segments/` of printable ASCII, at most 512 characters.
pub fn check_path(value: &str) -> Result<(), IamError> {
    let valid = value.starts_with('/')
        && value.ends_with('/')
        && value.len() <= 512
        && value.chars().all(|c| ('!'..='~').contains(&c));
    if valid {
        Ok(())
    } else {
        Err(IamError::validation(format!(
            "The specified value for path is invalid. It must begin and end with / and contain \
             only printable ASCII characters: {value}"
        )))
    }
}
