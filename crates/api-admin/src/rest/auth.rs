//! Who is calling: the API key of `Authorization: Bearer <key>`, and what it may reach.
//! Operator keys reach everything; account keys reach their own account only.

use coffer_core::AccountId;

use super::error::ApiError;
use super::key_store::ApiKeyStore;

/// The caller of a management request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An operator key: every account.
    Operator {
        /// The key's id.
        key_id: String,
    },
    /// An account key: that account only.
    Account {
        /// The key's id.
        key_id: String,
        /// The account.
        account_id: AccountId,
    },
}

impl Principal {
    /// The id of the key used.
    pub fn key_id(&self) -> &str {
        match self {
            Self::Operator { key_id } | Self::Account { key_id, .. } => key_id,
        }
    }

    /// Refuses account keys.
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match self {
            Self::Operator { .. } => Ok(()),
            Self::Account { .. } => Err(ApiError::Forbidden(
                "this endpoint needs an operator API key".to_owned(),
            )),
        }
    }

    /// Refuses a key of another account than `account`.
    pub fn require_account(&self, account: &AccountId) -> Result<(), ApiError> {
        match self {
            Self::Operator { .. } => Ok(()),
            Self::Account { account_id, .. } if account_id == account => Ok(()),
            Self::Account { .. } => Err(ApiError::forbidden()),
        }
    }

    /// The account an account key is scoped to; `None` for operators.
    pub fn own_account(&self) -> Option<&AccountId> {
        match self {
            Self::Operator { .. } => None,
            Self::Account { account_id, .. } => Some(account_id),
        }
    }

    /// The account a request acts on: the `requested` one (checked against the key's scope)
    /// or, when none was named, the key's own. Operators must name one (`field`).
    pub fn target_account(
        &self,
        requested: Option<&str>,
        field: &str,
    ) -> Result<AccountId, ApiError> {
        let requested = requested
            .map(|r| {
                r.parse::<AccountId>()
                    .map_err(|_| ApiError::field(field, "must be a 15-digit account id"))
            })
            .transpose()?;
        match (requested, self) {
            (Some(account), principal) => {
                principal.require_account(&account)?;
                Ok(account)
            }
            (None, Self::Account { account_id, .. }) => Ok(account_id.clone()),
            (None, Self::Operator { .. }) => Err(ApiError::field(
                field,
                "is required with an operator API key",
            )),
        }
    }

    /// An optional account filter: as given (checked), or the key's own for account keys.
    pub fn account_filter(
        &self,
        requested: Option<&str>,
        field: &str,
    ) -> Result<Option<AccountId>, ApiError> {
        match (requested, self) {
            (None, Self::Operator { .. }) => Ok(None),
            (requested, _) => self.target_account(requested, field).map(Some),
        }
    }
}

/// Authenticates a request from its `Authorization` header.
pub async fn authenticate(
    keys: &ApiKeyStore,
    authorization: Option<&http::HeaderValue>,
) -> Result<Principal, ApiError> {
    let header = authorization.and_then(|v| v.to_str().ok()).ok_or_else(|| {
        ApiError::Unauthorized(
            "an API key is required: send `Authorization: Bearer <key>`".to_owned(),
        )
    })?;
    let presented = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <key>`".to_owned())
        })?;
    let record = keys
        .verify(presented)
        .await
        .ok_or_else(|| ApiError::Unauthorized("the API key is not valid".to_owned()))?;
    match record.account_id {
        None => Ok(Principal::Operator { key_id: record.id }),
        Some(account) => Ok(Principal::Account {
            key_id: record.id,
            account_id: account
                .parse()
                .map_err(|_| ApiError::Internal(format!("API key {account} has a bad account")))?,
        }),
    }
}
