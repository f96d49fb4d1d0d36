//! The IAM query API: `Action=CreateUser&UserName=...` by GET or form POST, signed with SigV4
//! for the service `iam`, answered in IAM's XML. Served on the S3 listener, which routes here
//! every request whose credential scope names `iam`.
//!
//! Every action acts inside the caller's account. The account root may do everything; an IAM
//! user needs an identity policy allowing the `iam:` action.

mod error;
mod groups;
mod keys;
mod params;
mod policies;
pub mod sigv4;
mod users;
mod xml;

use std::sync::Arc;

use bytes::Bytes;
use coffer_core::AccountId;
use coffer_engine::Engine;
use coffer_iam::{ApplicablePolicies, IdentityPolicy, Principal, RequestContext};
use coffer_meta::AccountStatus;
use http::{Request, Response, StatusCode};

pub use error::IamError;
use params::Params;
use xml::Xml;

/// Called after every change to identities, so caches elsewhere forget what they knew.
pub type ChangeHook = Arc<dyn Fn() + Send + Sync>;

/// The IAM query API over the engine.
#[derive(Clone)]
pub struct IamApi {
    engine: Engine,
    on_change: ChangeHook,
}

/// Who is calling, once the signature has been verified.
pub(crate) struct IamCaller {
    pub account: AccountId,
    pub principal: Principal,
    pub policies: Vec<IdentityPolicy>,
}

impl IamCaller {
    /// The caller's own user name, when it is a user.
    pub fn user_name(&self) -> Option<&str> {
        match &self.principal {
            Principal::User(user) => Some(&user.user_name),
            _ => None,
        }
    }
}

impl IamApi {
    /// The API over `engine`; `on_change` runs after every change to users, keys, groups or
    /// policies.
    pub fn new(engine: Engine, on_change: ChangeHook) -> Self {
        Self { engine, on_change }
    }

    /// Answers one request (body already read) with IAM's XML.
    pub async fn handle(&self, request: Request<Bytes>, request_id: &str) -> Response<Bytes> {
        let (status, body) = match self.serve(&request).await {
            Ok((action, result)) => (StatusCode::OK, xml::response(&action, result, request_id)),
            Err(e) => (e.status, xml::error(&e, request_id)),
        };
        let mut response = Response::new(Bytes::from(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/xml"),
        );
        response
    }

    async fn serve(&self, request: &Request<Bytes>) -> Result<(String, Option<Xml>), IamError> {
        let caller = self.authenticate(request).await?;
        let params = Params::from_request(request)?;
        let action = params.required("Action")?.to_owned();
        let result = self.dispatch(&action, &params, &caller).await?;
        if is_mutation(&action) {
            (self.on_change)();
        }
        Ok((action, result))
    }

    async fn authenticate(&self, request: &Request<Bytes>) -> Result<IamCaller, IamError> {
        let auth = match sigv4::parse_authorization(request.headers()) {
            Some(Ok(auth)) => auth,
            Some(Err(e)) => return Err(IamError::invalid_input(e.to_string())),
            None => {
                return Err(IamError::access_denied(
                    "Request is missing Authentication Token",
                ));
            }
        };
        let meta = self.engine.meta();
        let key = meta
            .get_access_key(&auth.access_key)
            .await?
            .filter(|k| k.active)
            .ok_or_else(IamError::invalid_token)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        sigv4::verify(
            &auth,
            request.method(),
            request.uri(),
            request.headers(),
            request.body(),
            &key.secret_key,
            now,
        )
        .map_err(|e| IamError::signature(e.to_string()))?;
        let account = meta.get_account(&key.account_id).await?;
        if account.status == AccountStatus::Suspended {
            return Err(IamError::account_suspended());
        }
        let (principal, policies) = match &key.user_name {
            None => (
                Principal::AccountRoot {
                    account_id: account.id.to_string(),
                },
                Vec::new(),
            ),
            Some(name) => {
                let (user, policies) = self
                    .engine
                    .resolve_user(&account.id, name)
                    .await
                    .map_err(|e| IamError::internal(&e))?
                    .ok_or_else(IamError::invalid_token)?;
                (Principal::User(user), policies)
            }
        };
        Ok(IamCaller {
            account: account.id,
            principal,
            policies,
        })
    }

    /// Refuses `iam:{action}` on `resource` unless the caller's policies allow it.
    pub(crate) fn authorize(
        caller: &IamCaller,
        action: &str,
        resource: &str,
    ) -> Result<(), IamError> {
        let context =
            RequestContext::new(format!("iam:{action}"), resource, caller.principal.clone());
        let decision = coffer_iam::authorize(
            &context,
            &ApplicablePolicies {
                identity_policies: &caller.policies,
                bucket_policy: None,
                bucket_owner_account_id: None,
            },
        );
        if decision.allowed {
            Ok(())
        } else {
            let who = caller
                .principal
                .arn()
                .unwrap_or_else(|| "anonymous".to_owned());
            Err(IamError::access_denied(format!(
                "User: {who} is not authorized to perform: iam:{action} on resource: {resource}"
            )))
        }
    }

    async fn dispatch(
        &self,
        action: &str,
        params: &Params,
        caller: &IamCaller,
    ) -> Result<Option<Xml>, IamError> {
        match action {
            "CreateUser" => self.create_user(params, caller).await,
            "GetUser" => self.get_user(params, caller).await,
            "ListUsers" => self.list_users(params, caller).await,
            "DeleteUser" => self.delete_user(params, caller).await,
            "CreateAccessKey" => self.create_access_key(params, caller).await,
            "ListAccessKeys" => self.list_access_keys(params, caller).await,
            "UpdateAccessKey" => self.update_access_key(params, caller).await,
            "DeleteAccessKey" => self.delete_access_key(params, caller).await,
            "CreateGroup" => self.create_group(params, caller).await,
            "GetGroup" => self.get_group(params, caller).await,
            "ListGroups" => self.list_groups(params, caller).await,
            "DeleteGroup" => self.delete_group(params, caller).await,
            "AddUserToGroup" => self.change_membership(params, caller, true).await,
            "RemoveUserFromGroup" => self.change_membership(params, caller, false).await,
            "ListGroupsForUser" => self.list_groups_for_user(params, caller).await,
            "CreatePolicy" => self.create_policy(params, caller).await,
            "GetPolicy" => self.get_policy(params, caller).await,
            "GetPolicyVersion" => self.get_policy_version(params, caller).await,
            "ListPolicies" => self.list_policies(params, caller).await,
            "DeletePolicy" => self.delete_policy(params, caller).await,
            "AttachUserPolicy" => {
                self.attach(params, caller, coffer_meta::Principal::User)
                    .await
            }
            "DetachUserPolicy" => {
                self.detach(params, caller, coffer_meta::Principal::User)
                    .await
            }
            "AttachGroupPolicy" => {
                self.attach(params, caller, coffer_meta::Principal::Group)
                    .await
            }
            "DetachGroupPolicy" => {
                self.detach(params, caller, coffer_meta::Principal::Group)
                    .await
            }
            "ListAttachedUserPolicies" => {
                self.list_attached(params, caller, coffer_meta::Principal::User)
                    .await
            }
            "ListAttachedGroupPolicies" => {
                self.list_attached(params, caller, coffer_meta::Principal::Group)
                    .await
            }
            "ListRoles" => {
                Self::authorize(caller, "ListRoles", "*")?;
                let mut out = Xml::new();
                out.node("Roles", |_| {}).leaf("IsTruncated", "false");
                Ok(Some(out))
            }
            other => Err(IamError::invalid_action(other)),
        }
    }
}

/// Actions that change identities (caches elsewhere must forget).
fn is_mutation(action: &str) -> bool {
    [
        "Create", "Delete", "Update", "Attach", "Detach", "Add", "Remove",
    ]
    .iter()
    .any(|verb| action.starts_with(verb))
}
