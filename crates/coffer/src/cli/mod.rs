//! `coffer admin ...`: the management API from the shell. Each subcommand is one API call;
//! answers print as tables (lists) or `field: value` lines, or as JSON with `--json`.

mod client;
mod output;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{Value, json};

use client::{ApiClient, CliError};
use output::Shape;

/// Options shared by every `coffer admin` command.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the admin listener.
    #[arg(
        long,
        env = "COFFER_ADMIN_ENDPOINT",
        default_value = "http://127.0.0.1:9001",
        global = true
    )]
    pub endpoint: String,
    /// API key (operator or account).
    #[arg(long, env = "COFFER_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// PEM file of a CA to trust besides the system's (self-signed deployments).
    #[arg(long, env = "COFFER_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Deployment statistics.
    Stats,
    /// Accounts (operator keys).
    #[command(subcommand)]
    Account(AccountCommand),
    /// S3 credentials (access keys).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Buckets, their objects and uploads.
    #[command(subcommand)]
    Bucket(BucketCommand),
    /// Presigned S3 URLs.
    #[command(subcommand)]
    Presign(PresignCommand),
    /// Management API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

/// Paging options of list commands.
#[derive(Debug, Args)]
struct Page {
    /// Items per page (1..=1000).
    #[arg(long)]
    limit: Option<u32>,
    /// Cursor printed by the previous page.
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Lists accounts.
    List(Page),
    /// Creates an account.
    Create {
        /// Unique name.
        name: String,
        /// Storage quota in bytes.
        #[arg(long)]
        quota: Option<u64>,
        /// Most buckets.
        #[arg(long)]
        bucket_limit: Option<u32>,
    },
    /// Shows an account with its usage.
    Get {
        /// 15-digit account id.
        id: String,
    },
    /// Changes quota or bucket limit.
    Update {
        /// 15-digit account id.
        id: String,
        /// New quota in bytes.
        #[arg(long, conflicts_with = "no_quota")]
        quota: Option<u64>,
        /// Removes the quota.
        #[arg(long)]
        no_quota: bool,
        /// New bucket limit.
        #[arg(long)]
        bucket_limit: Option<u32>,
    },
    /// Suspends an account (every S3 request refused).
    Suspend {
        /// 15-digit account id.
        id: String,
    },
    /// Resumes a suspended account.
    Resume {
        /// 15-digit account id.
        id: String,
    },
    /// Marks a migration started (writes refused, reads served).
    MigrationStart {
        /// 15-digit account id.
        id: String,
    },
    /// Marks a migration done.
    MigrationDone {
        /// 15-digit account id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Lists credentials.
    List {
        #[command(flatten)]
        page: Page,
        /// Only this account's.
        #[arg(long)]
        account: Option<String>,
    },
    /// Creates a credential (the secret is shown once).
    Create {
        /// The account (operators must give it).
        #[arg(long)]
        account: Option<String>,
        /// IAM user owning the key.
        #[arg(long)]
        user: Option<String>,
        /// Custom access key id.
        #[arg(long)]
        access_key: Option<String>,
        /// Custom secret.
        #[arg(long)]
        secret_key: Option<String>,
        /// Bind to these buckets (repeat or comma-separate).
        #[arg(long = "bucket", value_delimiter = ',')]
        buckets: Vec<String>,
    },
    /// Shows a credential and its buckets.
    Get {
        /// Credential id.
        id: i64,
    },
    /// Changes a credential.
    Update {
        /// Credential id.
        id: i64,
        /// Enable (true) or disable (false).
        #[arg(long)]
        active: Option<bool>,
        /// New owning IAM user.
        #[arg(long)]
        user: Option<String>,
        /// Bind to these buckets (repeat or comma-separate).
        #[arg(long = "bucket", value_delimiter = ',', conflicts_with = "unbind")]
        buckets: Vec<String>,
        /// Removes the bucket binding.
        #[arg(long)]
        unbind: bool,
    },
    /// Deletes a credential.
    Delete {
        /// Credential id.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum BucketCommand {
    /// Lists buckets.
    List {
        #[command(flatten)]
        page: Page,
        /// Only this account's.
        #[arg(long)]
        account: Option<String>,
    },
    /// Creates a bucket.
    Create {
        /// Bucket name.
        name: String,
        /// Owning account (operators must give it).
        #[arg(long)]
        account: Option<String>,
        /// Region.
        #[arg(long)]
        region: Option<String>,
    },
    /// Shows a bucket and its first objects.
    Get {
        /// Bucket name.
        name: String,
    },
    /// Deletes a bucket.
    Delete {
        /// Bucket name.
        name: String,
        /// Delete its objects, versions and uploads too.
        #[arg(long)]
        force: bool,
    },
    /// Lists a bucket's objects.
    Objects {
        /// Bucket name.
        name: String,
        /// Only keys starting with this.
        #[arg(long)]
        prefix: Option<String>,
        /// Fold keys at this delimiter.
        #[arg(long)]
        delimiter: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Shows one object.
    Object {
        /// Bucket name.
        name: String,
        /// Object key.
        key: String,
    },
    /// Deletes objects.
    DeleteObjects {
        /// Bucket name.
        name: String,
        /// Keys.
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Lists multipart uploads in progress.
    Uploads {
        /// Bucket name.
        name: String,
        #[command(flatten)]
        page: Page,
    },
    /// Aborts a multipart upload.
    AbortUpload {
        /// Bucket name.
        name: String,
        /// Upload id.
        upload_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum PresignCommand {
    /// Generates a presigned URL.
    Create {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// Access key id to sign with.
        #[arg(long)]
        access_key: String,
        /// GET, PUT, POST or DELETE.
        #[arg(long, default_value = "GET")]
        method: String,
        /// Lifetime in seconds (1..=604800).
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
    },
    /// Lists presigned URLs still active.
    List(Page),
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Lists API keys.
    List(Page),
    /// Creates an API key (shown once): an operator key, or with --account an account key.
    Create {
        /// Label.
        #[arg(long)]
        name: Option<String>,
        /// Scope the key to this account.
        #[arg(long)]
        account: Option<String>,
    },
    /// Deletes an API key.
    Delete {
        /// Key id.
        id: String,
    },
}

/// One API call and how to print its answer.
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
    shape: Shape,
}

fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn key_path(key: &str) -> String {
    key.split('/').map(segment).collect::<Vec<_>>().join("/")
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value {
            serializer.append_pair(name, value);
        }
    }
    let text = serializer.finish();
    if text.is_empty() {
        text
    } else {
        format!("?{text}")
    }
}

fn page_query(page: &Page, extra: &[(&str, Option<String>)]) -> String {
    let mut pairs = vec![
        ("limit", page.limit.map(|l| l.to_string())),
        ("cursor", page.cursor.clone()),
    ];
    pairs.extend(extra.iter().cloned());
    query(&pairs)
}

fn get(path: String, shape: Shape) -> Call {
    Call {
        method: Method::GET,
        path,
        body: None,
        shape,
    }
}

fn with_body(method: Method, path: String, body: Value) -> Call {
    Call {
        method,
        path,
        body: Some(body),
        shape: Shape::Object,
    }
}

fn account_call(command: AccountCommand) -> Call {
    const COLUMNS: &[&str] = &[
        "id",
        "name",
        "status",
        "quota_bytes",
        "bucket_limit",
        "bucket_count",
        "created_at",
    ];
    let state = |id: &str, action: &str| Call {
        method: Method::POST,
        path: format!("/api/v1/accounts/{}/{action}", segment(id)),
        body: None,
        shape: Shape::Object,
    };
    match command {
        AccountCommand::List(page) => get(
            format!("/api/v1/accounts{}", page_query(&page, &[])),
            Shape::List {
                field: "accounts",
                columns: COLUMNS,
            },
        ),
        AccountCommand::Create {
            name,
            quota,
            bucket_limit,
        } => with_body(
            Method::POST,
            "/api/v1/accounts".into(),
            json!({"name": name, "quota_bytes": quota, "bucket_limit": bucket_limit}),
        ),
        AccountCommand::Get { id } => {
            get(format!("/api/v1/accounts/{}", segment(&id)), Shape::Object)
        }
        AccountCommand::Update {
            id,
            quota,
            no_quota,
            bucket_limit,
        } => {
            let mut body = serde_json::Map::new();
            if no_quota {
                body.insert("quota_bytes".into(), Value::Null);
            } else if let Some(q) = quota {
                body.insert("quota_bytes".into(), json!(q));
            }
            if let Some(l) = bucket_limit {
                body.insert("bucket_limit".into(), json!(l));
            }
            with_body(
                Method::PATCH,
                format!("/api/v1/accounts/{}", segment(&id)),
                Value::Object(body),
            )
        }
        AccountCommand::Suspend { id } => state(&id, "suspend"),
        AccountCommand::Resume { id } => state(&id, "resume"),
        AccountCommand::MigrationStart { id } => state(&id, "migration/start"),
        AccountCommand::MigrationDone { id } => state(&id, "migration/done"),
    }
}

fn key_call(command: KeyCommand) -> Call {
    const COLUMNS: &[&str] = &[
        "id",
        "access_key",
        "account_id",
        "user_name",
        "is_active",
        "bucket_binding",
        "created_at",
    ];
    match command {
        KeyCommand::List { page, account } => get(
            format!(
                "/api/v1/credentials{}",
                page_query(&page, &[("account_id", account)])
            ),
            Shape::List {
                field: "credentials",
                columns: COLUMNS,
            },
        ),
        KeyCommand::Create {
            account,
            user,
            access_key,
            secret_key,
            buckets,
        } => with_body(
            Method::POST,
            "/api/v1/credentials".into(),
            json!({
                "account_id": account,
                "user_name": user,
                "access_key": access_key,
                "secret_key": secret_key,
                "buckets": if buckets.is_empty() { Value::Null } else { json!(buckets) },
            }),
        ),
        KeyCommand::Get { id } => get(format!("/api/v1/credentials/{id}"), Shape::Object),
        KeyCommand::Update {
            id,
            active,
            user,
            buckets,
            unbind,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(a) = active {
                body.insert("is_active".into(), json!(a));
            }
            if let Some(u) = user {
                body.insert("user_name".into(), json!(u));
            }
            if unbind {
                body.insert("buckets".into(), Value::Null);
            } else if !buckets.is_empty() {
                body.insert("buckets".into(), json!(buckets));
            }
            with_body(
                Method::PATCH,
                format!("/api/v1/credentials/{id}"),
                Value::Object(body),
            )
        }
        KeyCommand::Delete { id } => Call {
            method: Method::DELETE,
            path: format!("/api/v1/credentials/{id}"),
            body: None,
            shape: Shape::Object,
        },
    }
}

fn bucket_call(command: BucketCommand) -> Call {
    const COLUMNS: &[&str] = &[
        "name",
        "owner",
        "account_id",
        "region",
        "object_count",
        "total_size_human",
        "created_at",
    ];
    const OBJECTS: &[&str] = &["key", "size_human", "content_type", "etag", "created_at"];
    const UPLOADS: &[&str] = &[
        "upload_id",
        "object_key",
        "initiated_by",
        "part_count",
        "total_size_human",
        "initiated_at",
    ];
    let delete = |path: String| Call {
        method: Method::DELETE,
        path,
        body: None,
        shape: Shape::Object,
    };
    match command {
        BucketCommand::List { page, account } => get(
            format!(
                "/api/v1/buckets{}",
                page_query(&page, &[("account_id", account)])
            ),
            Shape::List {
                field: "buckets",
                columns: COLUMNS,
            },
        ),
        BucketCommand::Create {
            name,
            account,
            region,
        } => with_body(
            Method::POST,
            "/api/v1/buckets".into(),
            json!({"name": name, "account_id": account, "region": region}),
        ),
        BucketCommand::Get { name } => {
            get(format!("/api/v1/buckets/{}", segment(&name)), Shape::Object)
        }
        BucketCommand::Delete { name, force } => delete(format!(
            "/api/v1/buckets/{}{}",
            segment(&name),
            query(&[("force", force.then(|| "true".to_owned()))])
        )),
        BucketCommand::Objects {
            name,
            prefix,
            delimiter,
            page,
        } => get(
            format!(
                "/api/v1/buckets/{}/objects{}",
                segment(&name),
                page_query(&page, &[("prefix", prefix), ("delimiter", delimiter)])
            ),
            Shape::List {
                field: "objects",
                columns: OBJECTS,
            },
        ),
        BucketCommand::Object { name, key } => get(
            format!(
                "/api/v1/buckets/{}/objects/{}",
                segment(&name),
                key_path(&key)
            ),
            Shape::Object,
        ),
        BucketCommand::DeleteObjects { name, keys } => with_body(
            Method::POST,
            format!("/api/v1/buckets/{}/delete-objects", segment(&name)),
            json!({"keys": keys}),
        ),
        BucketCommand::Uploads { name, page } => get(
            format!(
                "/api/v1/buckets/{}/uploads{}",
                segment(&name),
                page_query(&page, &[])
            ),
            Shape::List {
                field: "uploads",
                columns: UPLOADS,
            },
        ),
        BucketCommand::AbortUpload { name, upload_id } => delete(format!(
            "/api/v1/buckets/{}/uploads/{}",
            segment(&name),
            segment(&upload_id)
        )),
    }
}

fn presign_call(command: PresignCommand) -> Call {
    const COLUMNS: &[&str] = &[
        "id",
        "bucket_name",
        "object_key",
        "method",
        "access_key",
        "expires_at",
    ];
    match command {
        PresignCommand::Create {
            bucket,
            key,
            access_key,
            method,
            expires_in,
        } => with_body(
            Method::POST,
            "/api/v1/presigned-urls".into(),
            json!({
                "bucket_name": bucket,
                "object_key": key,
                "access_key": access_key,
                "method": method.to_uppercase(),
                "expires_in": expires_in,
            }),
        ),
        PresignCommand::List(page) => get(
            format!("/api/v1/presigned-urls{}", page_query(&page, &[])),
            Shape::List {
                field: "urls",
                columns: COLUMNS,
            },
        ),
    }
}

fn api_key_call(command: ApiKeyCommand) -> Call {
    const COLUMNS: &[&str] = &["id", "name", "scope", "account_id", "created_at"];
    match command {
        ApiKeyCommand::List(page) => get(
            format!("/api/v1/api-keys{}", page_query(&page, &[])),
            Shape::List {
                field: "api_keys",
                columns: COLUMNS,
            },
        ),
        ApiKeyCommand::Create { name, account } => with_body(
            Method::POST,
            "/api/v1/api-keys".into(),
            json!({"name": name, "account_id": account}),
        ),
        ApiKeyCommand::Delete { id } => Call {
            method: Method::DELETE,
            path: format!("/api/v1/api-keys/{}", segment(&id)),
            body: None,
            shape: Shape::Object,
        },
    }
}

/// Runs one `coffer admin` command; the exit code says whether it worked.
pub fn run(args: AdminArgs) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("coffer: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(args)) {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("coffer: {e}");
            match e {
                CliError::Usage(_) => std::process::ExitCode::from(2),
                _ => std::process::ExitCode::FAILURE,
            }
        }
    }
}

async fn execute(args: AdminArgs) -> Result<String, CliError> {
    let api_key = args
        .api_key
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            CliError::Usage("an API key is needed: --api-key or COFFER_API_KEY".to_owned())
        })?;
    let client = ApiClient::new(&args.endpoint, &api_key, args.ca_cert.as_deref())?;
    let call = match args.command {
        AdminCommand::Stats => get("/api/v1/stats".into(), Shape::Object),
        AdminCommand::Account(c) => account_call(c),
        AdminCommand::Key(c) => key_call(c),
        AdminCommand::Bucket(c) => bucket_call(c),
        AdminCommand::Presign(c) => presign_call(c),
        AdminCommand::ApiKey(c) => api_key_call(c),
    };
    let answer = client
        .call(call.method, &call.path, call.body.as_ref())
        .await?;
    if args.json {
        return serde_json::to_string_pretty(&answer)
            .map_err(|e| CliError::Transport(e.to_string()));
    }
    Ok(output::render(&answer, call.shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_queries_are_encoded() {
        assert_eq!(key_path("a b/c+d"), "a%20b/c%2Bd");
        assert_eq!(
            query(&[("prefix", Some("a b".into())), ("limit", None)]),
            "?prefix=a+b"
        );
        assert_eq!(query(&[("limit", None)]), "");
        let call = bucket_call(BucketCommand::Delete {
            name: "b1".into(),
            force: true,
        });
        assert_eq!(call.path, "/api/v1/buckets/b1?force=true");
        let call = account_call(AccountCommand::Update {
            id: "000000000000001".into(),
            quota: None,
            no_quota: true,
            bucket_limit: Some(3),
        });
        assert_eq!(
            call.body.unwrap(),
            json!({"quota_bytes": null, "bucket_limit": 3})
        );
    }
}
