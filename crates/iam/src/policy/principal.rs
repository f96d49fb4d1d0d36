//! The `Principal` / `NotPrincipal` element of bucket policies: who a statement is about.
//!
//! Accepted forms: `"*"`, `{"AWS": "*"}` (both mean everyone, anonymous included), an account
//! id or `arn:aws:iam::<account>:root` (every principal of that account), a user ARN (that
//! user), `{"CanonicalUser": "<id>"}` (the account with that canonical id).

use serde_json::Value;

use crate::arn::{IamPrincipalArn, is_account_id, parse_iam_principal_arn};
use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::principal::Principal;

/// One principal named in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`.
    Everyone,
    /// An account id or account root ARN.
    Account(String),
    /// A user ARN.
    User(String),
    /// A canonical user id.
    CanonicalUser(String),
}

/// How a statement's principal element applies to the caller, weakest first.
///
/// The distinction between `Account` and `Direct` matters for IAM users: a bucket policy
/// that names only their account delegates to the account, and grants nothing by itself to a
/// user of the bucket owner's account (the user's identity policies must allow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalMatch {
    /// The statement is not about the caller.
    None,
    /// The statement names the caller's account, and the caller is a user of it.
    Account,
    /// The statement names the caller (or everyone, or the caller's account and the caller is
    /// its root).
    Direct,
}

/// `Principal` (`negated` false) or `NotPrincipal` (true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalElement {
    pub(crate) negated: bool,
    pub(crate) entries: Vec<PrincipalEntry>,
}

impl PrincipalElement {
    /// Parses the value of a `Principal` or `NotPrincipal` element.
    pub(crate) fn parse(value: &Value, negated: bool) -> Result<Self, PolicyError> {
        let element = if negated { "NotPrincipal" } else { "Principal" };
        let invalid = |v: &str| PolicyError::InvalidPrincipal(v.to_owned());
        let entries = match value {
            Value::String(s) if s == "*" => vec![PrincipalEntry::Everyone],
            Value::String(s) => return Err(invalid(s)),
            Value::Object(map) if map.is_empty() => {
                return Err(PolicyError::EmptyElement(element.to_owned()));
            }
            Value::Object(map) => {
                let mut entries = Vec::new();
                for (kind, names) in map {
                    for name in string_list(names, element)? {
                        entries.push(match kind.as_str() {
                            "AWS" => parse_aws_entry(&name).ok_or_else(|| invalid(&name))?,
                            "CanonicalUser" if is_canonical_id(&name) => {
                                PrincipalEntry::CanonicalUser(name)
                            }
                            "CanonicalUser" => return Err(invalid(&name)),
                            other => return Err(invalid(other)),
                        });
                    }
                }
                entries
            }
            _ => {
                return Err(PolicyError::WrongType {
                    element: element.to_owned(),
                    expected: "\"*\" or an object such as {\"AWS\": ...}",
                });
            }
        };
        Ok(Self { negated, entries })
    }

    /// Whether (and how) the statement applies to the caller of `context`.
    pub(crate) fn applies_to(&self, context: &RequestContext) -> PrincipalMatch {
        let best = self
            .entries
            .iter()
            .map(|entry| entry_match(entry, context))
            .max()
            .unwrap_or(PrincipalMatch::None);
        match (self.negated, best) {
            (false, best) => best,
            (true, PrincipalMatch::None) => PrincipalMatch::Direct,
            (true, _) => PrincipalMatch::None,
        }
    }

    /// Whether the element covers every caller, anonymous ones included.
    pub(crate) fn is_everyone(&self) -> bool {
        if self.negated {
            // `NotPrincipal` excludes only the listed principals: everyone else is covered.
            return !self.entries.contains(&PrincipalEntry::Everyone);
        }
        self.entries.contains(&PrincipalEntry::Everyone)
    }
}

fn entry_match(entry: &PrincipalEntry, context: &RequestContext) -> PrincipalMatch {
    let principal = context.principal();
    // Naming an account is a direct grant to its root and a delegation to its users.
    let account_strength = || match principal {
        Principal::AccountRoot { .. } => PrincipalMatch::Direct,
        Principal::User(_) => PrincipalMatch::Account,
        Principal::Anonymous => PrincipalMatch::None,
    };
    match entry {
        PrincipalEntry::Everyone => PrincipalMatch::Direct,
        PrincipalEntry::Account(account_id) if principal.account_id() == Some(account_id) => {
            account_strength()
        }
        PrincipalEntry::CanonicalUser(id) if context.canonical_user_id() == Some(id) => {
            account_strength()
        }
        PrincipalEntry::User(arn) => match principal {
            Principal::User(user) if user.arn() == *arn => PrincipalMatch::Direct,
            _ => PrincipalMatch::None,
        },
        PrincipalEntry::Account(_) | PrincipalEntry::CanonicalUser(_) => PrincipalMatch::None,
    }
}

fn parse_aws_entry(name: &str) -> Option<PrincipalEntry> {
    if name == "*" {
        return Some(PrincipalEntry::Everyone);
    }
    if is_account_id(name) {
        return Some(PrincipalEntry::Account(name.to_owned()));
    }
    match parse_iam_principal_arn(name)? {
        IamPrincipalArn::Root { account_id } => Some(PrincipalEntry::Account(account_id)),
        IamPrincipalArn::User { .. } => Some(PrincipalEntry::User(name.to_owned())),
    }
}

fn is_canonical_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn string_list(value: &Value, element: &str) -> Result<Vec<String>, PolicyError> {
    let wrong = || PolicyError::WrongType {
        element: element.to_owned(),
        expected: "a string or a list of strings",
    };
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::principal::UserIdentity;

    const ACCOUNT: &str = "111111111111111";
    const OTHER: &str = "222222222222222";

    fn user(account_id: &str, name: &str) -> Principal {
        Principal::User(UserIdentity {
            account_id: account_id.into(),
            user_name: name.into(),
            user_id: format!("AIDA{name}"),
            path: "/".into(),
        })
    }

    fn context(principal: Principal) -> RequestContext {
        RequestContext::new("s3:GetObject", "arn:aws:s3:::b/k", principal)
    }

    fn applies(element: &serde_json::Value, negated: bool, principal: Principal) -> PrincipalMatch {
        PrincipalElement::parse(element, negated)
            .unwrap()
            .applies_to(&context(principal))
    }

    #[test]
    fn everyone_forms_include_anonymous() {
        for element in [json!("*"), json!({"AWS": "*"}), json!({"AWS": ["*"]})] {
            assert_eq!(
                applies(&element, false, Principal::Anonymous),
                PrincipalMatch::Direct
            );
            assert_eq!(
                applies(&element, false, user(ACCOUNT, "a")),
                PrincipalMatch::Direct
            );
        }
    }

    #[test]
    fn account_forms_cover_root_and_users() {
        let root = || Principal::AccountRoot {
            account_id: ACCOUNT.into(),
        };
        for element in [
            json!({"AWS": ACCOUNT}),
            json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
        ] {
            assert_eq!(applies(&element, false, root()), PrincipalMatch::Direct);
            assert_eq!(
                applies(&element, false, user(ACCOUNT, "a")),
                PrincipalMatch::Account
            );
            assert_eq!(
                applies(&element, false, user(OTHER, "a")),
                PrincipalMatch::None
            );
            assert_eq!(
                applies(&element, false, Principal::Anonymous),
                PrincipalMatch::None
            );
        }
    }

    #[test]
    fn user_arns_cover_that_user_only() {
        let element = json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:user/alice")]});
        assert_eq!(
            applies(&element, false, user(ACCOUNT, "alice")),
            PrincipalMatch::Direct
        );
        assert_eq!(
            applies(&element, false, user(ACCOUNT, "bob")),
            PrincipalMatch::None
        );
        assert_eq!(
            applies(&element, false, user(OTHER, "alice")),
            PrincipalMatch::None
        );
        let root = Principal::AccountRoot {
            account_id: ACCOUNT.into(),
        };
        assert_eq!(applies(&element, false, root), PrincipalMatch::None);
        // Both the user and the account listed: the direct match wins.
        let both = json!({"AWS": [ACCOUNT, format!("arn:aws:iam::{ACCOUNT}:user/alice")]});
        assert_eq!(
            applies(&both, false, user(ACCOUNT, "alice")),
            PrincipalMatch::Direct
        );
    }

    #[test]
    fn canonical_users() {
        let element = PrincipalElement::parse(&json!({"CanonicalUser": "abc123"}), false).unwrap();
        let matching = context(user(ACCOUNT, "a")).with_canonical_user_id("abc123");
        assert_eq!(element.applies_to(&matching), PrincipalMatch::Account);
        assert_eq!(
            element.applies_to(&context(user(ACCOUNT, "a"))),
            PrincipalMatch::None
        );
    }

    #[test]
    fn not_principal_covers_everyone_else() {
        let element = json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:user/admin")]});
        assert_eq!(
            applies(&element, true, user(ACCOUNT, "admin")),
            PrincipalMatch::None
        );
        assert_eq!(
            applies(&element, true, user(ACCOUNT, "bob")),
            PrincipalMatch::Direct
        );
        assert_eq!(
            applies(&element, true, Principal::Anonymous),
            PrincipalMatch::Direct
        );
        let account = json!({"AWS": ACCOUNT});
        assert_eq!(
            applies(&account, true, user(ACCOUNT, "bob")),
            PrincipalMatch::None
        );
        assert_eq!(
            applies(&account, true, user(OTHER, "bob")),
            PrincipalMatch::Direct
        );
        assert!(
            PrincipalElement::parse(&element, true)
                .unwrap()
                .is_everyone()
        );
        assert!(
            !PrincipalElement::parse(&json!("*"), true)
                .unwrap()
                .is_everyone()
        );
    }

    #[test]
    fn bad_principals() {
        for bad in [
            json!("alice"),
            json!({"AWS": "arn:aws:iam::123:root"}),
            json!({"AWS": "arn:aws:iam::111111111111111:role/admin"}),
            json!({"AWS": "arn:aws:iam::111111111111111:user/*"}),
            json!({"AWS": "1234"}),
            json!({"Service": "cloudfront.amazonaws.com"}),
            json!({"Federated": "cognito-identity.amazonaws.com"}),
            json!({"CanonicalUser": "not canonical"}),
        ] {
            let err = PrincipalElement::parse(&bad, false).unwrap_err();
            assert!(
                matches!(err, PolicyError::InvalidPrincipal(_)),
                "{bad}: {err}"
            );
        }
        assert!(matches!(
            PrincipalElement::parse(&json!({}), false),
            Err(PolicyError::EmptyElement(_))
        ));
        assert!(matches!(
            PrincipalElement::parse(&json!({"AWS": []}), false),
            Err(PolicyError::EmptyElement(_))
        ));
        assert!(matches!(
            PrincipalElement::parse(&json!(7), false),
            Err(PolicyError::WrongType { .. })
        ));
        assert!(matches!(
            PrincipalElement::parse(&json!({"AWS": [1]}), false),
            Err(PolicyError::WrongType { .. })
        ));
    }
}
