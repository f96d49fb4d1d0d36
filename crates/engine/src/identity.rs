//! Identities as policies see them: a user and every policy that applies to it.

use coffer_core::AccountId;
use coffer_iam::{IdentityPolicy, UserIdentity};

use crate::{Engine, EngineError};

impl Engine {
    /// The IAM user `user_name` of `account` and its effective identity policies (attached to
    /// it or to its groups; AWS-managed ones by name). `None` when the user does not exist.
    /// A policy that no longer parses or exists is skipped (and logged): it grants nothing.
    pub async fn resolve_user(
        &self,
        account: &AccountId,
        user_name: &str,
    ) -> Result<Option<(UserIdentity, Vec<IdentityPolicy>)>, EngineError> {
        let Some(user) = self.meta.get_user(account, user_name).await? else {
            return Ok(None);
        };
        let arns = self
            .meta
            .effective_policy_arns(account, &user.user_name)
            .await?;
        let mut policies = Vec::with_capacity(arns.len());
        for arn in arns {
            let document = match coffer_iam::managed::managed_policy(&arn) {
                Some(managed) => Some(managed.document.to_owned()),
                None => {
                    let name = arn.rsplit('/').next().unwrap_or_default();
                    self.meta
                        .get_policy(account, name)
                        .await?
                        .map(|p| p.document)
                }
            };
            match document.map(|d| IdentityPolicy::parse(&d)) {
                Some(Ok(policy)) => policies.push(policy),
                Some(Err(e)) => tracing::error!(%arn, error = %e, "attached policy does not parse"),
                None => tracing::warn!(%arn, "attached policy no longer exists"),
            }
        }
        let identity = UserIdentity {
            account_id: account.to_string(),
            user_name: user.user_name,
            user_id: user.user_id,
            path: user.path,
        };
        Ok(Some((identity, policies)))
    }
}
