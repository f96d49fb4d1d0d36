//! Amazon Resource Names as Coffer uses them: S3 buckets and objects, IAM account roots and
//! users, and account ids.

/// The resource of requests that name no bucket (`ListBuckets`): matched by `"*"` and by
/// `"arn:aws:s3:::*"` in policies, as AWS's own examples for `s3:ListAllMyBuckets` expect.
pub const ALL_BUCKETS_ARN: &str = "arn:aws:s3:::*";

/// The prefix of every S3 ARN.
pub const S3_ARN_PREFIX: &str = "arn:aws:s3:::";

/// The prefix of every IAM ARN.
pub const IAM_ARN_PREFIX: &str = "arn:aws:iam::";

/// `arn:aws:s3:::<bucket>`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("{S3_ARN_PREFIX}{bucket}")
}

/// `arn:aws:s3:::<bucket>/<key>`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("{S3_ARN_PREFIX}{bucket}/{key}")
}

/// `arn:aws:iam::<account>:root`, the ARN that names a whole account.
pub fn account_root_arn(account_id: &str) -> String {
    format!("{IAM_ARN_PREFIX}{account_id}:root")
}

/// `arn:aws:iam::<account>:user<path><name>`; `path` is `/` or `/a/b/`.
pub fn user_arn(account_id: &str, path: &str, user_name: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!("{IAM_ARN_PREFIX}{account_id}:user{path}{user_name}")
}

/// Whether `s` is an account id a policy may name: 15 digits (Coffer) or 12 digits (AWS).
pub fn is_account_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 12) && s.bytes().all(|b| b.is_ascii_digit())
}

/// An IAM principal named by ARN in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IamPrincipalArn {
    /// `arn:aws:iam::<account>:root`.
    Root { account_id: String },
    /// `arn:aws:iam::<account>:user/<path/>name`.
    User { account_id: String },
}

/// Reads an IAM principal ARN (`root` or `user/...`); `None` for anything else, including
/// ARNs with wildcards, which AWS does not allow in `Principal`.
pub(crate) fn parse_iam_principal_arn(arn: &str) -> Option<IamPrincipalArn> {
    let rest = arn.strip_prefix(IAM_ARN_PREFIX)?;
    if arn.contains(['*', '?']) {
        return None;
    }
    let (account_id, resource) = rest.split_once(':')?;
    if !is_account_id(account_id) {
        return None;
    }
    let account_id = account_id.to_owned();
    if resource == "root" {
        return Some(IamPrincipalArn::Root { account_id });
    }
    let name_and_path = resource.strip_prefix("user/")?;
    let valid = !name_and_path.is_empty()
        && !name_and_path.ends_with('/')
        && !name_and_path.contains("//")
        && name_and_path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    valid.then_some(IamPrincipalArn::User { account_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders() {
        assert_eq!(bucket_arn("b"), "arn:aws:s3:::b");
        assert_eq!(object_arn("b", "a/b c"), "arn:aws:s3:::b/a/b c");
        assert_eq!(
            user_arn("123456789012345", "", "bob"),
            "arn:aws:iam::123456789012345:user/bob"
        );
        assert_eq!(
            account_root_arn("123456789012"),
            "arn:aws:iam::123456789012:root"
        );
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("123456789012345"));
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901234a"));
    }

    #[test]
    fn principal_arns() {
        let acct = "123456789012345".to_owned();
        assert_eq!(
            parse_iam_principal_arn("arn:aws:iam::123456789012345:root"),
            Some(IamPrincipalArn::Root {
                account_id: acct.clone()
            })
        );
        assert_eq!(
            parse_iam_principal_arn("arn:aws:iam::123456789012345:user/a/b/carol"),
            Some(IamPrincipalArn::User { account_id: acct })
        );
        for bad in [
            "arn:aws:iam::123:root",
            "arn:aws:iam::123456789012345:role/r",
            "arn:aws:iam::123456789012345:user/*",
            "arn:aws:iam::123456789012345:user/",
            "arn:aws:s3:::bucket",
            "123456789012345",
        ] {
            assert_eq!(parse_iam_principal_arn(bad), None, "{bad}");
        }
    }
}
