//! The `Condition` element: operators, their values, and how they test a request context.
//!
//! Semantics, as AWS documents them:
//! - operators in a block, and keys under one operator, are AND'ed; the values listed for one
//!   key are OR'ed (NOR for negated operators such as `StringNotEquals`);
//! - a key missing from the request makes a condition false, except that negated operators are
//!   then true, `...IfExists` operators are then true, `ForAllValues:` is then true and
//!   `ForAnyValue:` is then false;
//! - `Null` tests presence only: `"true"` holds when the key is absent.
//!
//! Condition key names are case-insensitive; values are compared as each operator says.

mod value;

use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;

use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::variable::Template;

pub(crate) use value::Cidr;
use value::{Decimal, parse_bool, parse_date};

/// How an ordered operator compares the request value with the policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

impl Comparison {
    fn holds<T: Ord>(self, request: &T, policy: &T) -> bool {
        match self {
            Self::Equals => request == policy,
            Self::LessThan => request < policy,
            Self::LessThanEquals => request <= policy,
            Self::GreaterThan => request > policy,
            Self::GreaterThanEquals => request >= policy,
        }
    }
}

/// The family of an operator, without negation, `IfExists` or set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `String(Not)Equals`, `String(Not)EqualsIgnoreCase`, `String(Not)Like`.
    String { ignore_case: bool, like: bool },
    /// `Numeric...`
    Numeric(Comparison),
    /// `Date...`
    Date(Comparison),
    /// `Bool`
    Bool,
    /// `BinaryEquals`
    Binary,
    /// `IpAddress` / `NotIpAddress`
    IpAddress,
    /// `Arn(Not)Equals`, `Arn(Not)Like` (the same test: component-wise wildcard match).
    Arn,
    /// `Null`
    Null,
}

/// `ForAnyValue:` or `ForAllValues:`, for keys with several values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// A parsed condition operator name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) qualifier: Option<SetQualifier>,
    pub(crate) family: Family,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
}

impl Operator {
    /// Reads an operator name such as `ForAnyValue:StringNotLikeIfExists`.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        use Comparison as C;
        let strip_prefix_ci = |s: &'_ str, prefix: &str| -> Option<usize> {
            s.get(..prefix.len())
                .filter(|head| head.eq_ignore_ascii_case(prefix))
                .map(|_| prefix.len())
        };
        let (qualifier, rest) = if let Some(n) = strip_prefix_ci(name, "ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), &name[n..])
        } else if let Some(n) = strip_prefix_ci(name, "ForAllValues:") {
            (Some(SetQualifier::ForAllValues), &name[n..])
        } else {
            (None, name)
        };
        let suffix = "ifexists";
        let lower = rest.to_ascii_lowercase();
        let (base, if_exists) = match lower.strip_suffix(suffix) {
            Some(base) => (base.to_owned(), true),
            None => (lower, false),
        };
        let string = |ignore_case, like| Family::String { ignore_case, like };
        let (family, negated) = match base.as_str() {
            "stringequals" => (string(false, false), false),
            "stringnotequals" => (string(false, false), true),
            "stringequalsignorecase" => (string(true, false), false),
            "stringnotequalsignorecase" => (string(true, false), true),
            "stringlike" => (string(false, true), false),
            "stringnotlike" => (string(false, true), true),
            "numericequals" => (Family::Numeric(C::Equals), false),
            "numericnotequals" => (Family::Numeric(C::Equals), true),
            "numericlessthan" => (Family::Numeric(C::LessThan), false),
            "numericlessthanequals" => (Family::Numeric(C::LessThanEquals), false),
            "numericgreaterthan" => (Family::Numeric(C::GreaterThan), false),
            "numericgreaterthanequals" => (Family::Numeric(C::GreaterThanEquals), false),
            "dateequals" => (Family::Date(C::Equals), false),
            "datenotequals" => (Family::Date(C::Equals), true),
            "datelessthan" => (Family::Date(C::LessThan), false),
            "datelessthanequals" => (Family::Date(C::LessThanEquals), false),
            "dategreaterthan" => (Family::Date(C::GreaterThan), false),
            "dategreaterthanequals" => (Family::Date(C::GreaterThanEquals), false),
            "bool" => (Family::Bool, false),
            "binaryequals" => (Family::Binary, false),
            "ipaddress" => (Family::IpAddress, false),
            "notipaddress" => (Family::IpAddress, true),
            "arnequals" | "arnlike" => (Family::Arn, false),
            "arnnotequals" | "arnnotlike" => (Family::Arn, true),
            "null" => (Family::Null, false),
            _ => return None,
        };
        // `Null` tests presence itself: it takes neither `IfExists` nor a set qualifier.
        if family == Family::Null && (if_exists || qualifier.is_some()) {
            return None;
        }
        Some(Self {
            qualifier,
            family,
            negated,
            if_exists,
        })
    }
}

/// The values of one condition, read for its operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Values {
    /// String and ARN operators (may contain policy variables).
    Templates(Vec<Template>),
    Numbers(Vec<Decimal>),
    Dates(Vec<OffsetDateTime>),
    /// `Bool` and `Null`.
    Bools(Vec<bool>),
    Cidrs(Vec<Cidr>),
    /// `BinaryEquals`: base64 text compared as written.
    Binary(Vec<String>),
}

/// One operator applied to one key: `"StringLike": {"s3:prefix": ["home/", "home/*"]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    pub(crate) operator: Operator,
    /// Lower-cased key name.
    pub(crate) key: String,
    pub(crate) values: Values,
}

/// Parses a `Condition` block into its conditions. `variables` says whether policy variables
/// are read in values (policy `Version` 2012-10-17).
pub(crate) fn parse_block(block: &Value, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let wrong_type = |element: &str| PolicyError::WrongType {
        element: element.to_owned(),
        expected: "an object",
    };
    let operators = block.as_object().ok_or_else(|| wrong_type("Condition"))?;
    let mut conditions = Vec::new();
    for (operator_name, keys) in operators {
        let operator = Operator::parse(operator_name)
            .ok_or_else(|| PolicyError::InvalidConditionOperator(operator_name.clone()))?;
        let keys = keys
            .as_object()
            .ok_or_else(|| wrong_type(&format!("Condition {operator_name}")))?;
        for (key, raw_values) in keys {
            if key.trim().is_empty() {
                return Err(PolicyError::InvalidConditionKey(key.clone()));
            }
            let texts = value_texts(raw_values, operator_name, key)?;
            let values = read_values(operator, &texts, variables).map_err(|(value, reason)| {
                PolicyError::InvalidConditionValue {
                    operator: operator_name.clone(),
                    key: key.clone(),
                    value,
                    reason,
                }
            })?;
            conditions.push(Condition {
                operator,
                key: key.to_lowercase(),
                values,
            });
        }
    }
    Ok(conditions)
}

/// A condition value may be a string, number or boolean, or a non-empty list of them.
fn value_texts(raw: &Value, operator: &str, key: &str) -> Result<Vec<String>, PolicyError> {
    let element = || format!("Condition {operator} {key}");
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let expected = "a string, number or boolean, or a list of them";
    match raw {
        Value::Array(items) if items.is_empty() => Err(PolicyError::EmptyElement(element())),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                scalar(item).ok_or_else(|| PolicyError::WrongType {
                    element: element(),
                    expected,
                })
            })
            .collect(),
        other => Ok(vec![scalar(other).ok_or_else(|| {
            PolicyError::WrongType {
                element: element(),
                expected,
            }
        })?]),
    }
}

fn read_values(
    operator: Operator,
    texts: &[String],
    variables: bool,
) -> Result<Values, (String, &'static str)> {
    fn each<T>(
        texts: &[String],
        reason: &'static str,
        read: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, (String, &'static str)> {
        texts
            .iter()
            .map(|t| read(t).ok_or_else(|| (t.clone(), reason)))
            .collect()
    }
    Ok(match operator.family {
        Family::String { .. } | Family::Arn => Values::Templates(
            texts
                .iter()
                .map(|t| Template::parse(t, variables))
                .collect(),
        ),
        Family::Numeric(_) => Values::Numbers(each(texts, "expected a number", Decimal::parse)?),
        Family::Date(_) => Values::Dates(each(
            texts,
            "expected an ISO 8601 date or epoch seconds",
            parse_date,
        )?),
        Family::Bool | Family::Null => {
            Values::Bools(each(texts, "expected \"true\" or \"false\"", parse_bool)?)
        }
        Family::IpAddress => Values::Cidrs(each(
            texts,
            "expected an IP address or CIDR range",
            Cidr::parse,
        )?),
        Family::Binary => Values::Binary(texts.to_vec()),
    })
}

impl Condition {
    /// Whether the condition holds for the request.
    pub(crate) fn evaluate(&self, context: &RequestContext) -> bool {
        let present = context.values(&self.key);
        let operator = self.operator;
        if operator.family == Family::Null {
            let Values::Bools(expected_absent) = &self.values else {
                return false;
            };
            return expected_absent
                .iter()
                .any(|absent| *absent == present.is_none());
        }
        let Some(request_values) = present else {
            if operator.if_exists {
                return true;
            }
            return match operator.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => operator.negated,
            };
        };
        let holds_for = |value: &String| self.matches_any(value, context) != operator.negated;
        match operator.qualifier {
            Some(SetQualifier::ForAnyValue) => request_values.iter().any(holds_for),
            Some(SetQualifier::ForAllValues) => request_values.iter().all(holds_for),
            None => request_values.iter().any(|v| self.matches_any(v, context)) != operator.negated,
        }
    }

    /// Whether one request value matches any policy value (the operator read positively).
    fn matches_any(&self, request_value: &str, context: &RequestContext) -> bool {
        match (&self.values, self.operator.family) {
            (Values::Templates(templates), Family::String { ignore_case, like }) => {
                templates.iter().any(|template| {
                    if like {
                        template
                            .to_pattern(context)
                            .is_some_and(|p| p.matches(request_value))
                    } else if ignore_case {
                        template
                            .to_text(context)
                            .is_some_and(|t| t.to_lowercase() == request_value.to_lowercase())
                    } else {
                        template
                            .to_text(context)
                            .is_some_and(|t| t == request_value)
                    }
                })
            }
            (Values::Templates(templates), Family::Arn) => {
                let request_parts: Vec<&str> = request_value.splitn(6, ':').collect();
                request_parts.len() == 6
                    && templates.iter().any(|template| {
                        let Some(parts) = template.to_pattern(context).and_then(|p| p.split_arn())
                        else {
                            return false;
                        };
                        parts
                            .iter()
                            .zip(&request_parts)
                            .all(|(pattern, part)| pattern.matches(part))
                    })
            }
            (Values::Numbers(numbers), Family::Numeric(comparison)) => {
                Decimal::parse(request_value).is_some_and(|request| {
                    numbers
                        .iter()
                        .any(|policy| comparison.holds(&request, policy))
                })
            }
            (Values::Dates(dates), Family::Date(comparison)) => parse_date(request_value)
                .is_some_and(|request| {
                    dates
                        .iter()
                        .any(|policy| comparison.holds(&request, policy))
                }),
            (Values::Bools(bools), Family::Bool) => {
                parse_bool(request_value).is_some_and(|request| bools.contains(&request))
            }
            (Values::Cidrs(ranges), Family::IpAddress) => request_value
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|address| ranges.iter().any(|range| range.contains(address))),
            (Values::Binary(values), Family::Binary) => values.iter().any(|v| v == request_value),
            _ => false,
        }
    }
}

/// Whether every condition holds (an empty block always holds).
pub(crate) fn all_hold(conditions: &[Condition], context: &RequestContext) -> bool {
    conditions
        .iter()
        .all(|condition| condition.evaluate(context))
}

#[cfg(test)]
mod tests;
