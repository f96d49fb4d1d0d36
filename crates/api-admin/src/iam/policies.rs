//! Managed policies: CreatePolicy, GetPolicy, GetPolicyVersion, ListPolicies, DeletePolicy, and
//! attaching them to users and groups.

use coffer_core::time::now_millis;
use coffer_iam::IdentityPolicy;
use coffer_meta::{ManagedPolicy, Principal};
use sha2::Digest as _;

use super::params::{Params, check_name, check_path};
use super::users::new_id;
use super::xml::{Xml, date};
use super::{IamApi, IamCaller, IamError};

/// Local policies one account may hold.
const MAX_POLICIES: usize = 1500;

/// A policy as the API shows it: one of the account's, or an AWS-managed one.
struct PolicyView {
    name: String,
    id: String,
    arn: String,
    path: String,
    description: Option<String>,
    document: String,
    created_at: i64,
    updated_at: i64,
}

impl From<ManagedPolicy> for PolicyView {
    fn from(p: ManagedPolicy) -> Self {
        Self {
            arn: p.arn(),
            name: p.policy_name,
            id: p.policy_id,
            path: p.path,
            description: p.description,
            document: p.document,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

fn aws_view(p: &coffer_iam::managed::ManagedPolicy) -> PolicyView {
    let digest = sha2::Sha256::digest(p.name.as_bytes());
    let id: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    PolicyView {
        name: p.name.to_owned(),
        id: format!("ANPA{id}"),
        arn: p.arn.to_owned(),
        path: "/".to_owned(),
        description: Some(p.description.to_owned()),
        document: p.document.to_owned(),
        created_at: 0,
        updated_at: 0,
    }
}

fn policy_xml(out: &mut Xml, p: &PolicyView, attachments: u64) {
    out.leaf("PolicyName", &p.name)
        .leaf("PolicyId", &p.id)
        .leaf("Arn", &p.arn)
        .leaf("Path", &p.path)
        .leaf("DefaultVersionId", "v1")
        .leaf("AttachmentCount", &attachments.to_string())
        .leaf("PermissionsBoundaryUsageCount", "0")
        .leaf("IsAttachable", "true");
    if let Some(description) = &p.description {
        out.leaf("Description", description);
    }
    out.leaf("CreateDate", &date(p.created_at))
        .leaf("UpdateDate", &date(p.updated_at));
}

/// RFC 3986 percent-encoding, as IAM returns policy documents.
fn url_encode(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes()
        .fold(String::with_capacity(s.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
            out
        })
}

impl IamApi {
    /// The policy an ARN names (AWS-managed or the caller's account's), or `NoSuchEntity`.
    async fn policy_by_arn(&self, caller: &IamCaller, arn: &str) -> Result<PolicyView, IamError> {
        let missing = || {
            IamError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
        };
        if let Some(managed) = coffer_iam::managed::managed_policy(arn).filter(|m| m.arn == arn) {
            return Ok(aws_view(managed));
        }
        let prefix = format!("arn:aws:iam::{}:policy/", caller.account);
        if !arn.starts_with(&prefix) {
            return Err(missing());
        }
        let name = arn.rsplit('/').next().unwrap_or_default();
        let policy = self
            .engine
            .meta()
            .get_policy(&caller.account, name)
            .await?
            .filter(|p| p.arn() == arn)
            .ok_or_else(missing)?;
        Ok(policy.into())
    }

    pub(super) async fn create_policy(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let name = params.required("PolicyName")?;
        check_name("PolicyName", name, 128)?;
        let document = params.required("PolicyDocument")?;
        let path = params.get("Path").unwrap_or("/");
        check_path(path)?;
        IdentityPolicy::parse(document).map_err(|e| IamError::malformed_policy(e.to_string()))?;
        let now = now_millis();
        let policy = ManagedPolicy {
            account_id: caller.account.clone(),
            policy_name: name.to_owned(),
            policy_id: new_id("ANPA"),
            path: path.to_owned(),
            description: params.get("Description").map(str::to_owned),
            document: document.to_owned(),
            created_at: now,
            updated_at: now,
        };
        Self::authorize(caller, "CreatePolicy", &policy.arn())?;
        let meta = self.engine.meta();
        if meta
            .list_policies(&caller.account, "/", "", MAX_POLICIES)
            .await?
            .len()
            >= MAX_POLICIES
        {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for PoliciesPerAccount: {MAX_POLICIES}"
            )));
        }
        meta.create_policy(policy.clone())
            .await
            .map_err(|e| match e {
                coffer_meta::MetaError::AlreadyExists(_) => IamError::already_exists(format!(
                    "A policy called {name} already exists. Duplicate names are not allowed."
                )),
                other => other.into(),
            })?;
        let mut out = Xml::new();
        out.node("Policy", |p| policy_xml(p, &policy.into(), 0));
        Ok(Some(out))
    }

    pub(super) async fn get_policy(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let arn = params.required("PolicyArn")?;
        let policy = self.policy_by_arn(caller, arn).await?;
        Self::authorize(caller, "GetPolicy", arn)?;
        let attachments = self
            .engine
            .meta()
            .attachment_count(&caller.account, arn)
            .await?;
        let mut out = Xml::new();
        out.node("Policy", |p| policy_xml(p, &policy, attachments));
        Ok(Some(out))
    }

    pub(super) async fn get_policy_version(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let arn = params.required("PolicyArn")?;
        let version = params.required("VersionId")?;
        let policy = self.policy_by_arn(caller, arn).await?;
        Self::authorize(caller, "GetPolicyVersion", arn)?;
        if version != "v1" {
            return Err(IamError::no_such_entity(format!(
                "Policy {arn} version {version} does not exist or is not attachable."
            )));
        }
        let mut out = Xml::new();
        out.node("PolicyVersion", |v| {
            v.leaf("Document", &url_encode(&policy.document))
                .leaf("VersionId", "v1")
                .leaf("IsDefaultVersion", "true")
                .leaf("CreateDate", &date(policy.created_at));
        });
        Ok(Some(out))
    }

    pub(super) async fn list_policies(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        Self::authorize(
            caller,
            "ListPolicies",
            &format!("arn:aws:iam::{}:policy/", caller.account),
        )?;
        let scope = params.get("Scope").unwrap_or("All");
        let only_attached = params.get("OnlyAttached") == Some("true");
        let max = params.max_items()?;
        let meta = self.engine.meta();
        let mut views: Vec<PolicyView> = Vec::new();
        if scope == "All" || scope == "AWS" {
            views.extend(coffer_iam::managed::MANAGED_POLICIES.iter().map(aws_view));
        }
        if scope == "All" || scope == "Local" {
            views.extend(
                meta.list_policies(&caller.account, params.path_prefix(), "", MAX_POLICIES)
                    .await?
                    .into_iter()
                    .map(PolicyView::from),
            );
        }
        views.retain(|v| v.path.starts_with(params.path_prefix()));
        // Pages follow the ARN order; the marker is the last ARN shown.
        views.sort_by(|a, b| a.arn.cmp(&b.arn));
        let marker = params.marker();
        let mut page = Vec::new();
        let mut truncated = false;
        for view in views.into_iter().filter(|v| v.arn.as_str() > marker) {
            let attachments = meta.attachment_count(&caller.account, &view.arn).await?;
            if only_attached && attachments == 0 {
                continue;
            }
            if page.len() == max {
                truncated = true;
                break;
            }
            page.push((view, attachments));
        }
        let mut out = Xml::new();
        out.node("Policies", |list| {
            for (view, attachments) in &page {
                list.node("member", |p| policy_xml(p, view, *attachments));
            }
        })
        .leaf("IsTruncated", if truncated { "true" } else { "false" });
        if truncated && let Some((last, _)) = page.last() {
            out.leaf("Marker", &last.arn);
        }
        Ok(Some(out))
    }

    pub(super) async fn delete_policy(
        &self,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        let arn = params.required("PolicyArn")?;
        let policy = self.policy_by_arn(caller, arn).await?;
        if coffer_iam::managed::managed_policy(arn).is_some() {
            return Err(IamError::invalid_input(
                "AWS managed policies cannot be deleted.",
            ));
        }
        Self::authorize(caller, "DeletePolicy", arn)?;
        self.engine
            .meta()
            .delete_policy(&caller.account, &policy.name)
            .await?;
        Ok(None)
    }

    /// The user or group an attachment action names; returns (its name, its ARN).
    async fn attachment_target(
        &self,
        params: &Params,
        caller: &IamCaller,
        kind: Principal,
    ) -> Result<(String, String), IamError> {
        match kind {
            Principal::User => {
                let user = self
                    .existing_user(caller, params.required("UserName")?)
                    .await?;
                let arn = user.arn();
                Ok((user.user_name, arn))
            }
            Principal::Group => {
                let name = params.required("GroupName")?;
                let group = self
                    .engine
                    .meta()
                    .get_group(&caller.account, name)
                    .await?
                    .ok_or_else(|| {
                        IamError::no_such_entity(format!(
                            "The group with name {name} cannot be found."
                        ))
                    })?;
                let arn = group.arn();
                Ok((group.group_name, arn))
            }
        }
    }

    fn verb(kind: Principal, attach: bool) -> &'static str {
        match (kind, attach) {
            (Principal::User, true) => "AttachUserPolicy",
            (Principal::User, false) => "DetachUserPolicy",
            (Principal::Group, true) => "AttachGroupPolicy",
            (Principal::Group, false) => "DetachGroupPolicy",
        }
    }

    pub(super) async fn attach(
        &self,
        params: &Params,
        caller: &IamCaller,
        kind: Principal,
    ) -> Result<Option<Xml>, IamError> {
        let arn = params.required("PolicyArn")?;
        let (name, target_arn) = self.attachment_target(params, caller, kind).await?;
        self.policy_by_arn(caller, arn).await?;
        Self::authorize(caller, Self::verb(kind, true), &target_arn)?;
        self.engine
            .meta()
            .attach_policy(&caller.account, kind, &name, arn)
            .await?;
        Ok(None)
    }

    pub(super) async fn detach(
        &self,
        params: &Params,
        caller: &IamCaller,
        kind: Principal,
    ) -> Result<Option<Xml>, IamError> {
        let arn = params.required("PolicyArn")?;
        let (name, target_arn) = self.attachment_target(params, caller, kind).await?;
        Self::authorize(caller, Self::verb(kind, false), &target_arn)?;
        self.engine
            .meta()
            .detach_policy(&caller.account, kind, &name, arn)
            .await
            .map_err(|e| match e {
                coffer_meta::MetaError::NoSuchEntity(_) => IamError::no_such_entity(format!(
                    "Policy {arn} was not found attached to {name}."
                )),
                other => other.into(),
            })?;
        Ok(None)
    }

    pub(super) async fn list_attached(
        &self,
        params: &Params,
        caller: &IamCaller,
        kind: Principal,
    ) -> Result<Option<Xml>, IamError> {
        let (name, target_arn) = self.attachment_target(params, caller, kind).await?;
        let action = match kind {
            Principal::User => "ListAttachedUserPolicies",
            Principal::Group => "ListAttachedGroupPolicies",
        };
        Self::authorize(caller, action, &target_arn)?;
        let arns = self
            .engine
            .meta()
            .attached_policies(&caller.account, kind, &name)
            .await?;
        let mut out = Xml::new();
        out.node("AttachedPolicies", |list| {
            for arn in &arns {
                list.node("member", |p| {
                    p.leaf("PolicyName", arn.rsplit('/').next().unwrap_or_default())
                        .leaf("PolicyArn", arn);
                });
            }
        })
        .leaf("IsTruncated", "false");
        Ok(Some(out))
    }
}
