//! Policy JSON to typed policy, refusing anything AWS would refuse (and the few things Coffer
//! cannot honour: services other than S3 and IAM, principals other than accounts and users).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{ActionElement, Effect, Policy, PrincipalElement, ResourceElement, Statement, Version};
use crate::action::{ActionPattern, Service};
use crate::arn::{IAM_ARN_PREFIX, S3_ARN_PREFIX, bucket_arn};
use crate::condition;
use crate::error::PolicyError;
use crate::variable::Template;

/// Which kind of document is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Attached to users and groups: no principal.
    Identity,
    /// Attached to a bucket: a principal in every statement, S3 only.
    Bucket,
}

const TOP_LEVEL_FIELDS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_FIELDS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses a whole document.
pub(crate) fn parse_policy(document: &str, kind: Kind) -> Result<Policy, PolicyError> {
    let value: Value =
        serde_json::from_str(document).map_err(|e| PolicyError::InvalidJson(e.to_string()))?;
    let top = value.as_object().ok_or(PolicyError::NotAnObject)?;
    reject_unknown_fields(top, TOP_LEVEL_FIELDS)?;
    let version = match top.get("Version") {
        None => None,
        Some(Value::String(v)) if v == "2012-10-17" => Some(Version::V2012_10_17),
        Some(Value::String(v)) if v == "2008-10-17" => Some(Version::V2008_10_17),
        Some(Value::String(v)) => return Err(PolicyError::InvalidVersion(v.clone())),
        Some(_) => return Err(wrong_type("Version", "a string")),
    };
    let id = optional_string(top, "Id")?;
    let statements = match top.get("Statement") {
        None => return Err(PolicyError::MissingField("Statement")),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(PolicyError::EmptyElement("Statement".to_owned()));
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err(wrong_type("Statement", "an object or a list of objects")),
    };
    let variables = version == Some(Version::V2012_10_17);
    let mut sids = HashSet::new();
    let mut parsed = Vec::with_capacity(statements.len());
    for statement in statements {
        let statement = statement
            .as_object()
            .ok_or_else(|| wrong_type("Statement", "an object or a list of objects"))?;
        let statement = parse_statement(statement, kind, variables)?;
        if let Some(sid) = &statement.sid
            && !sids.insert(sid.clone())
        {
            return Err(PolicyError::DuplicateSid(sid.clone()));
        }
        parsed.push(statement);
    }
    Ok(Policy {
        version,
        id,
        statements: parsed,
    })
}

fn parse_statement(
    statement: &Map<String, Value>,
    kind: Kind,
    variables: bool,
) -> Result<Statement, PolicyError> {
    reject_unknown_fields(statement, STATEMENT_FIELDS)?;
    let sid = optional_string(statement, "Sid")?;
    let effect = match statement.get("Effect") {
        None => return Err(PolicyError::MissingField("Effect")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => return Err(PolicyError::InvalidEffect(e.clone())),
        Some(_) => return Err(wrong_type("Effect", "a string")),
    };

    let principal = match either(statement, "Principal", "NotPrincipal")? {
        Some(_) if kind == Kind::Identity => return Err(PolicyError::PrincipalNotAllowed),
        Some((value, negated)) => Some(PrincipalElement::parse(value, negated)?),
        None if kind == Kind::Bucket => return Err(PolicyError::MissingField("Principal")),
        None => None,
    };

    let (action_value, negated) =
        either(statement, "Action", "NotAction")?.ok_or(PolicyError::MissingField("Action"))?;
    let element = if negated { "NotAction" } else { "Action" };
    let patterns = string_list(action_value, element)?
        .iter()
        .map(|raw| ActionPattern::parse(raw))
        .collect::<Result<Vec<_>, _>>()?;
    if kind == Kind::Bucket
        && let Some(iam) = patterns.iter().find(|p| p.service() == Service::Iam)
    {
        return Err(PolicyError::InvalidAction(iam.raw().to_owned()));
    }
    let actions = ActionElement { negated, patterns };

    let (resource_value, negated) = either(statement, "Resource", "NotResource")?
        .ok_or(PolicyError::MissingField("Resource"))?;
    let element = if negated { "NotResource" } else { "Resource" };
    let templates = string_list(resource_value, element)?
        .iter()
        .map(|raw| check_resource(raw, kind).map(|()| Template::parse(raw, variables)))
        .collect::<Result<Vec<_>, _>>()?;
    let resources = ResourceElement { negated, templates };

    let conditions = match statement.get("Condition") {
        None => Vec::new(),
        Some(block) => condition::parse_block(block, variables)?,
    };
    Ok(Statement {
        sid,
        effect,
        principal,
        actions,
        resources,
        conditions,
    })
}

/// A resource is `*`, an S3 ARN, or (identity policies only) an IAM ARN.
fn check_resource(raw: &str, kind: Kind) -> Result<(), PolicyError> {
    let is_arn_of = |prefix: &str| {
        raw.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty())
    };
    let valid = raw == "*"
        || is_arn_of(S3_ARN_PREFIX)
        || (kind == Kind::Identity && is_arn_of(IAM_ARN_PREFIX));
    if valid {
        Ok(())
    } else {
        Err(PolicyError::InvalidResource(raw.to_owned()))
    }
}

/// Refuses `Resource` entries of a bucket policy that cannot name `bucket` or objects in it.
pub(crate) fn check_bucket_scope(policy: &Policy, bucket: &str) -> Result<(), PolicyError> {
    let bucket_resource = bucket_arn(bucket);
    let object_prefix = format!("{bucket_resource}/");
    for statement in &policy.statements {
        // `NotResource` names what is excluded; any value is meaningful there.
        if statement.resources.negated {
            continue;
        }
        for template in &statement.resources.templates {
            let pattern = template.to_static_pattern();
            if !pattern.matches(&bucket_resource)
                && !pattern.could_match_with_prefix(&object_prefix)
            {
                return Err(PolicyError::ResourceOutsideBucket {
                    resource: template.raw().to_owned(),
                    bucket: bucket.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// The value of `positive` or of `negative` (with `true`), refusing both; `None` if neither.
fn either<'a>(
    statement: &'a Map<String, Value>,
    positive: &'static str,
    negative: &'static str,
) -> Result<Option<(&'a Value, bool)>, PolicyError> {
    match (statement.get(positive), statement.get(negative)) {
        (Some(_), Some(_)) => Err(PolicyError::ConflictingElements(positive, negative)),
        (Some(value), None) => Ok(Some((value, false))),
        (None, Some(value)) => Ok(Some((value, true))),
        (None, None) => Ok(None),
    }
}

fn string_list(value: &Value, element: &str) -> Result<Vec<String>, PolicyError> {
    let wrong = || wrong_type(element, "a string or a list of strings");
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => {
            Err(PolicyError::EmptyElement(element.to_owned()))
        }
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong))
            .collect(),
        _ => Err(wrong()),
    }
}

fn optional_string(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, PolicyError> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

fn reject_unknown_fields(object: &Map<String, Value>, known: &[&str]) -> Result<(), PolicyError> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(field) => Err(PolicyError::UnknownField {
            field: field.clone(),
        }),
        None => Ok(()),
    }
}

fn wrong_type(element: &str, expected: &'static str) -> PolicyError {
    PolicyError::WrongType {
        element: element.to_owned(),
        expected,
    }
}
