//! Identity records inside an account: IAM users, groups, managed policies and attachments.

use coffer_core::AccountId;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The account the user belongs to.
    pub account_id: AccountId,
    /// Name, unique within the account (case-insensitively, as in IAM).
    pub user_name: String,
    /// Stable id (`AIDA...`).
    pub user_id: String,
    /// IAM path (`/` by default).
    pub path: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

impl User {
    /// `arn:aws:iam::<account>:user<path><name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:user{}{}",
            self.account_id, self.path, self.user_name
        )
    }
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The account the group belongs to.
    pub account_id: AccountId,
    /// Name, unique within the account.
    pub group_name: String,
    /// Stable id (`AGPA...`).
    pub group_id: String,
    /// IAM path.
    pub path: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
}

impl Group {
    /// `arn:aws:iam::<account>:group<path><name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:group{}{}",
            self.account_id, self.path, self.group_name
        )
    }
}

/// A customer-managed policy of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// Owning account.
    pub account_id: AccountId,
    /// Name, unique within the account.
    pub policy_name: String,
    /// Stable id (`ANPA...`).
    pub policy_id: String,
    /// IAM path.
    pub path: String,
    /// Optional description.
    pub description: Option<String>,
    /// The policy JSON (default version).
    pub document: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last update, ms since the epoch.
    pub updated_at: i64,
}

impl ManagedPolicy {
    /// `arn:aws:iam::<account>:policy<path><name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:policy{}{}",
            self.account_id, self.path, self.policy_name
        )
    }
}

/// What a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
}

impl Principal {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
        }
    }
}

/// Changes to an account; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    /// New status.
    pub status: Option<crate::AccountStatus>,
    /// New quota (`Some(None)` removes it).
    pub quota_bytes: Option<Option<u64>>,
    /// New bucket limit.
    pub bucket_limit: Option<u32>,
}

/// Changes to an access key; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct AccessKeyUpdate {
    /// Active or not.
    pub active: Option<bool>,
    /// New bucket binding (`Some(None)` removes it).
    pub bucket_binding: Option<Option<Vec<String>>>,
    /// New owning user name (management API `user_name`).
    pub user_name: Option<Option<String>>,
}
