//! Groups: CreateGroup, GetGroup, ListGroups, DeleteGroup, AddUserToGroup,
//! RemoveUserFromGroup, ListGroupsForUser.

use coffer_core::time::now_millis;
use coffer_meta::Group;

use super::params::{Params, check_name, check_path};
use super::users::{new_id, user_xml};
use super::xml::{Xml, date};
use super::{IamApi, IamCaller, IamError};

fn group_xml(out: &mut Xml, group: &Group) {
    out.leaf("Path", &group.path)
        .leaf("GroupName", &group.group_name)
        .leaf("GroupId", &group.group_id)
        .leaf("Arn", &group.arn())
        .leaf("CreateDate", &date(group.created_at));
}

impl IamApi {
    async fn existing_group(&self, caller: &IamCaller, name: &str) -> Result<Group, IamError> {
        self.engine
            .meta()
            .get_group(&caller.account, name)
            .await?
            .ok_or_else(|| {
                IamError::no_such_entity(format!("The group with name {name} cannot be found."))
            })
    }

    pub(super) async fn create_group(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let name = params.required("GroupName")?;
        check_name("GroupName", name, 128)?;
        let path = params.get("Path").unwrap_or("/");
        check_path(path)?;
        let group = Group {
            account_id: caller.account.clone(),
            group_name: name.to_owned(),
            group_id: new_id("AGPA"),
            path: path.to_owned(),
            created_at: now_millis(),
        };
        Self::authorize(caller, "CreateGroup", &group.arn())?;
        self.engine
            .meta()
            .create_group(group.clone())
            .await
            .map_err(|e| match e {
                coffer_meta::MetaError::AlreadyExists(_) => {
                    IamError::already_exists(format!("Group with name {name} already exists."))
                }
                other => other.into(),
            })?;
        let mut out = Xml::new();
        out.node("Group", |g| group_xml(g, &group));
        Ok(Some(out))
    }

    pub(super) async fn get_group(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let group = self
            .existing_group(caller, params.required("GroupName")?)
            .await?;
        Self::authorize(caller, "GetGroup", &group.arn())?;
        let members = self
            .engine
            .meta()
            .group_members(&caller.account, &group.group_name)
            .await?;
        let mut out = Xml::new();
        out.node("Group", |g| group_xml(g, &group))
            .node("Users", |list| {
                for user in &members {
                    list.node("member", |u| user_xml(u, user));
                }
            })
            .leaf("IsTruncated", "false");
        Ok(Some(out))
    }

    pub(super) async fn list_groups(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        Self::authorize(
            caller,
            "ListGroups",
            &format!("arn:aws:iam::{}:group/", caller.account),
        )?;
        let max = params.max_items()?;
        let mut groups = self
            .engine
            .meta()
            .list_groups(
                &caller.account,
                params.path_prefix(),
                params.marker(),
                max + 1,
            )
            .await?;
        let truncated = groups.len() > max;
        groups.truncate(max);
        let mut out = Xml::new();
        out.node("Groups", |list| {
            for group in &groups {
                list.node("member", |g| group_xml(g, group));
            }
        })
        .leaf("IsTruncated", if truncated { "true" } else { "false" });
        if truncated && let Some(last) = groups.last() {
            out.leaf("Marker", &last.group_name);
        }
        Ok(Some(out))
    }

    pub(super) async fn delete_group(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let group = self
            .existing_group(caller, params.required("GroupName")?)
            .await?;
        Self::authorize(caller, "DeleteGroup", &group.arn())?;
        self.engine
            .meta()
            .delete_group(&caller.account, &group.group_name)
            .await?;
        Ok(None)
    }

    /// AddUserToGroup (`add`) and RemoveUserFromGroup.
    pub(super) async fn change_membership(
        &self,
        params: &Params,
        caller: &IamCaller,
        add: bool,
    ) -> Result<Option<Xml>, IamError> {
        let group = self
            .existing_group(caller, params.required("GroupName")?)
            .await?;
        let user = self
            .existing_user(caller, params.required("UserName")?)
            .await?;
        let action = if add {
            "AddUserToGroup"
        } else {
            "RemoveUserFromGroup"
        };
        Self::authorize(caller, action, &group.arn())?;
        let meta = self.engine.meta();
        if add {
            meta.add_user_to_group(&caller.account, &group.group_name, &user.user_name)
                .await?;
        } else {
            meta.remove_user_from_group(&caller.account, &group.group_name, &user.user_name)
                .await?;
        }
        Ok(None)
    }

    pub(super) async fn list_groups_for_user(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let user = self
            .existing_user(caller, params.required("UserName")?)
            .await?;
        Self::authorize(caller, "ListGroupsForUser", &user.arn())?;
        let groups = self
            .engine
            .meta()
            .groups_of_user(&caller.account, &user.user_name)
            .await?;
        let mut out = Xml::new();
        out.node("Groups", |list| {
            for group in &groups {
                list.node("member", |g| group_xml(g, group));
            }
        })
        .leaf("IsTruncated", "false");
        Ok(Some(out))
    }
}
