//! Who makes a request: nobody (anonymous), the root of an account, or an IAM user.

use crate::arn;

/// The authenticated (or not) caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An unsigned request. Only what a bucket policy grants to `"*"` is allowed.
    Anonymous,
    /// The account itself, signing with the account's root credentials.
    AccountRoot {
        /// The 15-digit account id.
        account_id: String,
    },
    /// An IAM user of an account.
    User(UserIdentity),
}

/// An IAM user as the policy language sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentity {
    /// The 15-digit id of the account the user belongs to.
    pub account_id: String,
    /// The user's name (`aws:username`).
    pub user_name: String,
    /// The user's unique id (`aws:userid`).
    pub user_id: String,
    /// The user's IAM path, `/` unless set (for example `/division/team/`).
    pub path: String,
}

impl UserIdentity {
    /// The user's ARN: `arn:aws:iam::<account>:user<path><name>`.
    pub fn arn(&self) -> String {
        arn::user_arn(&self.account_id, &self.path, &self.user_name)
    }
}

impl Principal {
    /// The account the principal belongs to; `None` when anonymous.
    pub fn account_id(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::AccountRoot { account_id } => Some(account_id),
            Self::User(user) => Some(&user.account_id),
        }
    }

    /// The principal's ARN (`aws:PrincipalArn`); `None` when anonymous.
    pub fn arn(&self) -> Option<String> {
        match self {
            Self::Anonymous => None,
            Self::AccountRoot { account_id } => Some(arn::account_root_arn(account_id)),
            Self::User(user) => Some(user.arn()),
        }
    }

    /// `aws:PrincipalType`: `Anonymous`, `Account` or `User`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Self::Anonymous => "Anonymous",
            Self::AccountRoot { .. } => "Account",
            Self::User(_) => "User",
        }
    }

    /// `aws:userid`: `anonymous`, the account id for the root, the unique id for a user.
    pub fn user_id(&self) -> &str {
        match self {
            Self::Anonymous => "anonymous",
            Self::AccountRoot { account_id } => account_id,
            Self::User(user) => &user.user_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_keys() {
        let user = Principal::User(UserIdentity {
            account_id: "123456789012345".into(),
            user_name: "alice".into(),
            user_id: "AIDA1".into(),
            path: "/eng/".into(),
        });
        assert_eq!(
            user.arn().as_deref(),
            Some("arn:aws:iam::123456789012345:user/eng/alice")
        );
        assert_eq!(user.principal_type(), "User");
        assert_eq!(user.user_id(), "AIDA1");
        let root = Principal::AccountRoot {
            account_id: "123456789012345".into(),
        };
        assert_eq!(
            root.arn().as_deref(),
            Some("arn:aws:iam::123456789012345:root")
        );
        assert_eq!(root.user_id(), "123456789012345");
        assert_eq!(Principal::Anonymous.arn(), None);
        assert_eq!(Principal::Anonymous.user_id(), "anonymous");
    }
}
