//! Users: CreateUser, GetUser, ListUsers, DeleteUser.

use coffer_core::time::now_millis;
use coffer_meta::User;

use super::params::{Params, check_name, check_path};
use super::xml::{Xml, date};
use super::{IamApi, IamCaller, IamError};

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A unique id with IAM's prefix (`AIDA`, `AGPA`, `ANPA`, `AKIA`): 21 characters.
pub(crate) fn new_id(prefix: &str) -> String {
    let tail: String = (0..17)
        .map(|_| ID_ALPHABET[rand::random_range(0..ID_ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// The `<User>` element body.
pub(crate) fn user_xml(out: &mut Xml, user: &User) {
    out.leaf("Path", &user.path)
        .leaf("UserName", &user.user_name)
        .leaf("UserId", &user.user_id)
        .leaf("Arn", &user.arn())
        .leaf("CreateDate", &date(user.created_at));
}

impl IamApi {
    /// The user named by `UserName`, or `NoSuchEntity`.
    pub(crate) async fn existing_user(
        &self,
        caller: &IamCaller,
        name: &str,
    ) -> Result<User, IamError> {
        self.engine
            .meta()
            .get_user(&caller.account, name)
            .await?
            .ok_or_else(|| {
                IamError::no_such_entity(format!("The user with name {name} cannot be found."))
            })
    }

    pub(super) async fn create_user(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let name = params.required("UserName")?;
        check_name("UserName", name, 64)?;
        let path = params.get("Path").unwrap_or("/");
        check_path(path)?;
        let user = User {
            account_id: caller.account.clone(),
            user_name: name.to_owned(),
            user_id: new_id("AIDA"),
            path: path.to_owned(),
            created_at: now_millis(),
        };
        Self::authorize(caller, "CreateUser", &user.arn())?;
        self.engine
            .meta()
            .create_user(user.clone())
            .await
            .map_err(|e| match e {
                coffer_meta::MetaError::AlreadyExists(_) => {
                    IamError::already_exists(format!("User with name {name} already exists."))
                }
                other => other.into(),
            })?;
        let mut out = Xml::new();
        out.node("User", |u| user_xml(u, &user));
        Ok(Some(out))
    }

    pub(super) async fn get_user(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let name = params.get("UserName").or_else(|| caller.user_name());
        let mut out = Xml::new();
        match name {
            Some(name) => {
                let user = self.existing_user(caller, name).await?;
                Self::authorize(caller, "GetUser", &user.arn())?;
                out.node("User", |u| user_xml(u, &user));
            }
            // The account root asking about itself.
            None => {
                let arn = format!("arn:aws:iam::{}:root", caller.account);
                out.node("User", |u| {
                    u.leaf("UserId", caller.account.as_str())
                        .leaf("Arn", &arn)
                        .leaf("CreateDate", &date(0));
                });
            }
        }
        Ok(Some(out))
    }

    pub(super) async fn list_users(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        Self::authorize(
            caller,
            "ListUsers",
            &format!("arn:aws:iam::{}:user/", caller.account),
        )?;
        let max = params.max_items()?;
        let mut users = self
            .engine
            .meta()
            .list_users(
                &caller.account,
                params.path_prefix(),
                params.marker(),
                max + 1,
            )
            .await?;
        let truncated = users.len() > max;
        users.truncate(max);
        let mut out = Xml::new();
        out.node("Users", |list| {
            for user in &users {
                list.node("member", |u| user_xml(u, user));
            }
        })
        .leaf("IsTruncated", if truncated { "true" } else { "false" });
        if truncated && let Some(last) = users.last() {
            out.leaf("Marker", &last.user_name);
        }
        Ok(Some(out))
    }

    pub(super) async fn delete_user(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let name = params.required("UserName")?;
        let user = self.existing_user(caller, name).await?;
        Self::authorize(caller, "DeleteUser", &user.arn())?;
        self.engine
            .meta()
            .delete_user(&caller.account, &user.user_name)
            .await?;
        Ok(None)
    }
}
