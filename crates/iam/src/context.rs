//! The request context: what is asked (action on a resource), by whom, and the condition key
//! values that conditions and policy variables read.
//!
//! Condition key names are case-insensitive, so keys are stored lower-cased. A key may carry
//! several values (`s3:RequestObjectTagKeys`); a key with no values counts as absent.

use std::collections::BTreeMap;
use std::net::IpAddr;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::principal::Principal;

/// Everything a policy can test about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    action: String,
    resource: String,
    principal: Principal,
    canonical_user_id: Option<String>,
    /// Shared by the contexts [`RequestContext::for_target`] makes for one request's checks
    /// (copied only if one of them is changed).
    keys: std::sync::Arc<BTreeMap<String, Vec<String>>>,
}

impl RequestContext {
    /// A context for `action` (such as `s3:GetObject`) on `resource` (such as
    /// `arn:aws:s3:::bucket/key`) by `principal`.
    ///
    /// The principal's own keys are filled in: `aws:PrincipalType`, `aws:userid`, and when
    /// authenticated `aws:PrincipalAccount` and `aws:PrincipalArn`, and for a user
    /// `aws:username`.
    pub fn new(
        action: impl Into<String>,
        resource: impl Into<String>,
        principal: Principal,
    ) -> Self {
        let mut context = Self {
            action: action.into(),
            resource: resource.into(),
            principal,
            canonical_user_id: None,
            keys: std::sync::Arc::default(),
        };
        context.set("aws:PrincipalType", [context.principal.principal_type()]);
        context.set("aws:userid", [context.principal.user_id().to_owned()]);
        if let Some(account_id) = context.principal.account_id() {
            let account_id = account_id.to_owned();
            context.set("aws:PrincipalAccount", [account_id]);
        }
        if let Some(arn) = context.principal.arn() {
            context.set("aws:PrincipalArn", [arn]);
        }
        if let Principal::User(user) = &context.principal {
            let user_name = user.user_name.clone();
            context.set("aws:username", [user_name]);
        }
        context
    }

    /// The same request context aimed at another action and resource (for operations that need
    /// several permissions, such as `CopyObject`).
    #[must_use]
    pub fn for_target(&self, action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            principal: self.principal.clone(),
            canonical_user_id: self.canonical_user_id.clone(),
            keys: self.keys.clone(),
        }
    }

    /// Replaces the values of `key` (case-insensitive name).
    pub fn set<I, V>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        std::sync::Arc::make_mut(&mut self.keys).insert(
            key.to_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
    }

    /// Adds one value to `key`.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        std::sync::Arc::make_mut(&mut self.keys)
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Builder form of [`set`](Self::set) with a single value.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, [value.into()]);
        self
    }

    /// Sets `aws:SourceIp`.
    #[must_use]
    pub fn with_source_ip(self, ip: IpAddr) -> Self {
        self.with("aws:SourceIp", ip.to_string())
    }

    /// Sets `aws:SecureTransport` (`true` when the request came over TLS).
    #[must_use]
    pub fn with_secure_transport(self, secure: bool) -> Self {
        self.with("aws:SecureTransport", secure.to_string())
    }

    /// Sets `aws:CurrentTime` (ISO 8601) and `aws:EpochTime` (seconds) from `now`.
    #[must_use]
    pub fn with_current_time(self, now: OffsetDateTime) -> Self {
        let epoch = now.unix_timestamp().to_string();
        let context = self.with("aws:EpochTime", epoch);
        match now.format(&Rfc3339) {
            Ok(iso) => context.with("aws:CurrentTime", iso),
            Err(_) => context,
        }
    }

    /// Sets the canonical user id of the caller's account, matched by `{"CanonicalUser": ..}`
    /// principals in bucket policies.
    #[must_use]
    pub fn with_canonical_user_id(mut self, id: impl Into<String>) -> Self {
        self.canonical_user_id = Some(id.into());
        self
    }

    /// The values of `key` (case-insensitive); `None` when absent or empty.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        let found = match self.keys.get(key) {
            Some(values) => Some(values),
            None => self.keys.get(&key.to_lowercase()),
        };
        found.map(Vec::as_slice).filter(|values| !values.is_empty())
    }

    /// The action asked for, such as `s3:GetObject`.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The resource ARN the action is on.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Who is asking.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The canonical user id of the caller's account, if the caller set one.
    pub fn canonical_user_id(&self) -> Option<&str> {
        self.canonical_user_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::UserIdentity;

    #[test]
    fn principal_keys_are_filled_and_names_fold_case() {
        let user = Principal::User(UserIdentity {
            account_id: "111122223333444".into(),
            user_name: "Bob".into(),
            user_id: "AIDABOB".into(),
            path: "/".into(),
        });
        let context = RequestContext::new("s3:GetObject", "arn:aws:s3:::b/k", user)
            .with_secure_transport(true)
            .with("s3:Prefix", "home/");
        assert_eq!(
            context.values("AWS:USERNAME"),
            Some(&["Bob".to_owned()][..])
        );
        assert_eq!(
            context.values("aws:userid"),
            Some(&["AIDABOB".to_owned()][..])
        );
        assert_eq!(
            context.values("aws:principalaccount"),
            Some(&["111122223333444".to_owned()][..])
        );
        assert_eq!(
            context.values("aws:SecureTransport"),
            Some(&["true".to_owned()][..])
        );
        assert_eq!(context.values("s3:prefix"), Some(&["home/".to_owned()][..]));
        assert_eq!(context.values("s3:delimiter"), None);
    }

    #[test]
    fn empty_values_count_as_absent() {
        let mut context =
            RequestContext::new("s3:PutObject", "arn:aws:s3:::b/k", Principal::Anonymous);
        context.set("s3:RequestObjectTagKeys", Vec::<String>::new());
        assert_eq!(context.values("s3:RequestObjectTagKeys"), None);
        context.push("s3:RequestObjectTagKeys", "a");
        context.push("s3:RequestObjectTagKeys", "b");
        assert_eq!(
            context
                .values("s3:requestobjecttagkeys")
                .map(<[String]>::len),
            Some(2)
        );
        assert_eq!(context.values("aws:username"), None);
        assert_eq!(
            context.values("aws:PrincipalType"),
            Some(&["Anonymous".to_owned()][..])
        );
    }

    #[test]
    fn time_keys() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let context =
            RequestContext::new("s3:GetObject", "*", Principal::Anonymous).with_current_time(now);
        assert_eq!(
            context.values("aws:EpochTime"),
            Some(&["1700000000".to_owned()][..])
        );
        assert_eq!(
            context.values("aws:CurrentTime"),
            Some(&["2023-11-14T22:13:20Z".to_owned()][..])
        );
    }

    #[test]
    fn for_target_keeps_keys() {
        let context = RequestContext::new("s3:PutObject", "arn:aws:s3:::b/k", Principal::Anonymous)
            .with("s3:x-amz-acl", "private");
        let source = context.for_target("s3:GetObject", "arn:aws:s3:::src/k");
        assert_eq!(source.action(), "s3:GetObject");
        assert_eq!(source.resource(), "arn:aws:s3:::src/k");
        assert!(source.values("s3:x-amz-acl").is_some());
    }
}
