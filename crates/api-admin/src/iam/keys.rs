//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.

use coffer_core::time::now_millis;
use coffer_meta::{AccessKey, AccessKeyUpdate};

use super::params::Params;
use super::users::new_id;
use super::xml::{Xml, date};
use super::{IamApi, IamCaller, IamError};

/// Keys one user (or the root) may hold, as in IAM.
const MAX_KEYS: usize = 2;

const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn new_secret() -> String {
    (0..40)
        .map(|_| SECRET_ALPHABET[rand::random_range(0..SECRET_ALPHABET.len())] as char)
        .collect()
}

impl IamApi {
    /// The user a key action is about: `UserName`, else the caller itself (`None`: the root).
    async fn key_owner(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<(Option<String>, String), IamError> {
        match params.get("UserName").or_else(|| caller.user_name()) {
            Some(name) => {
                let user = self.existing_user(caller, name).await?;
                let arn = user.arn();
                Ok((Some(user.user_name), arn))
            }
            None => Ok((None, format!("arn:aws:iam::{}:root", caller.account))),
        }
    }

    /// A key of the caller's account, belonging to `user` (root when `None`).
    async fn own_key(
        &self,
        caller: &IamCaller,
        access_key_id: &str,
        user: Option<&str>,
    ) -> Result<AccessKey, IamError> {
        let key = self
            .engine
            .meta()
            .get_access_key(access_key_id)
            .await?
            .filter(|k| {
                k.account_id == caller.account
                    && k.user_name.as_deref().map(str::to_ascii_lowercase)
                        == user.map(str::to_ascii_lowercase)
            })
            .ok_or_else(|| {
                IamError::no_such_entity(format!(
                    "The Access Key with id {access_key_id} cannot be found."
                ))
            })?;
        Ok(key)
    }

    pub(super) async fn create_access_key(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let (user, arn) = self.key_owner(params, caller).await?;
        Self::authorize(caller, "CreateAccessKey", &arn)?;
        let meta = self.engine.meta();
        let existing = meta
            .list_access_keys(Some(&caller.account), user.as_deref())
            .await?
            .into_iter()
            .filter(|k| k.user_name.is_none() == user.is_none())
            .count();
        if existing >= MAX_KEYS {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}"
            )));
        }
        let key = meta
            .create_access_key(AccessKey {
                id: 0,
                access_key_id: new_id("AKIA")[..20].to_owned(),
                secret_key: new_secret(),
                account_id: caller.account.clone(),
                user_name: user,
                active: true,
                bucket_binding: None,
                created_at: now_millis(),
                last_used_at: None,
            })
            .await?;
        let mut out = Xml::new();
        out.node("AccessKey", |k| {
            if let Some(user) = &key.user_name {
                k.leaf("UserName", user);
            }
            k.leaf("AccessKeyId", &key.access_key_id)
                .leaf("Status", "Active")
                .leaf("SecretAccessKey", &key.secret_key)
                .leaf("CreateDate", &date(key.created_at));
        });
        Ok(Some(out))
    }

    pub(super) async fn list_access_keys(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let (user, arn) = self.key_owner(params, caller).await?;
        Self::authorize(caller, "ListAccessKeys", &arn)?;
        let keys: Vec<AccessKey> = self
            .engine
            .meta()
            .list_access_keys(Some(&caller.account), user.as_deref())
            .await?
            .into_iter()
            .filter(|k| k.user_name.is_none() == user.is_none())
            .collect();
        let mut out = Xml::new();
        out.node("AccessKeyMetadata", |list| {
            for key in &keys {
                list.node("member", |k| {
                    if let Some(user) = &key.user_name {
                        k.leaf("UserName", user);
                    }
                    k.leaf("AccessKeyId", &key.access_key_id)
                        .leaf("Status", if key.active { "Active" } else { "Inactive" })
                        .leaf("CreateDate", &date(key.created_at));
                });
            }
        })
        .leaf("IsTruncated", "false");
        Ok(Some(out))
    }

    pub(super) async fn update_access_key(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let id = params.required("AccessKeyId")?;
        let active = match params.required("Status")? {
            "Active" => true,
            "Inactive" => false,
            other => {
                return Err(IamError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'status' failed to \
                     satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
                )));
            }
        };
        let (user, arn) = self.key_owner(params, caller).await?;
        Self::authorize(caller, "UpdateAccessKey", &arn)?;
        let key = self.own_key(caller, id, user.as_deref()).await?;
        self.engine
            .meta()
            .update_access_key(
                &key.access_key_id,
                AccessKeyUpdate {
                    active: Some(active),
                    ..Default::default()
                },
            )
            .await?;
        Ok(None)
    }

    pub(super) async fn delete_access_key(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let id = params.required("AccessKeyId")?;
        let (user, arn) = self.key_owner(params, caller).await?;
        Self::authorize(caller, "DeleteAccessKey", &arn)?;
        let key = self.own_key(caller, id, user.as_deref()).await?;
        self.engine
            .meta()
            .delete_access_key(&key.access_key_id)
            .await?;
        Ok(None)
    }
}
