//! First start: the first account and its root access key, and the first operator API key.

use std::io::Write as _;

use coffer_api_admin::rest::ApiKeyStore;
use coffer_core::AccountId;
use coffer_core::time::now_millis;
use coffer_meta::{AccessKey, Account, AccountStatus, MetaStore};
use rand::Rng as _;

const KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_string(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A new access key id (`AKIA` + 16 characters).
pub fn new_access_key_id() -> String {
    format!("AKIA{}", random_string(KEY_ID_ALPHABET, 16))
}

/// A new 40-character secret key.
pub fn new_secret_key() -> String {
    random_string(SECRET_ALPHABET, 40)
}

/// Creates the first account and its root key on the first start of a data directory. The
/// credentials come from `COFFER_ROOT_ACCESS_KEY` / `COFFER_ROOT_SECRET_KEY` or are generated
/// and printed once on standard output (never logged). A marker file records that this was
/// done, so deleting every key later (revoking a leaked one) never brings a key back.
pub async fn ensure_first_account(
    meta: &dyn MetaStore,
    data_dir: &std::path::Path,
) -> Result<(), String> {
    let marker = data_dir.join(".bootstrapped");
    if marker.exists() {
        return Ok(());
    }
    let existing = meta.list_accounts("", 1).await.map_err(|e| e.to_string())?;
    let has_key = !meta
        .list_access_keys(None, None)
        .await
        .map_err(|e| e.to_string())?
        .is_empty();
    if has_key {
        return write_marker(&marker);
    }
    let from_env = (
        std::env::var("COFFER_ROOT_ACCESS_KEY").ok(),
        std::env::var("COFFER_ROOT_SECRET_KEY").ok(),
    );
    let (access_key_id, secret_key, generated) = match from_env {
        (Some(a), Some(s)) if !a.is_empty() && s.len() >= 8 => (a, s, false),
        (Some(_), _) | (_, Some(_)) => {
            return Err(
                "COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY must be set together \
                 (secret at least 8 characters)"
                    .to_owned(),
            );
        }
        _ => (new_access_key_id(), new_secret_key(), true),
    };
    // An account without any key is what a crash between the two writes below leaves: give it
    // the key instead of creating another account.
    let account_id = match existing.into_iter().next() {
        Some(account) => account.id,
        None => {
            let account_id = AccountId::random();
            meta.create_account(Account {
                id: account_id.clone(),
                name: "root".to_owned(),
                status: AccountStatus::Active,
                quota_bytes: None,
                bucket_limit: 100,
                created_at: now_millis(),
            })
            .await
            .map_err(|e| e.to_string())?;
            account_id
        }
    };
    meta.create_access_key(AccessKey {
        id: 0,
        access_key_id: access_key_id.clone(),
        secret_key: secret_key.clone(),
        account_id: account_id.clone(),
        user_name: None,
        active: true,
        bucket_binding: None,
        created_at: now_millis(),
        last_used_at: None,
    })
    .await
    .map_err(|e| e.to_string())?;
    tracing::info!(account_id = %account_id, "created the first account");
    write_marker(&marker)?;
    if generated {
        let mut out = std::io::stdout().lock();
        // Shown once: the secret is not stored in any log.
        let _ = writeln!(
            out,
            "First start: created account {account_id} with a root access key.\n\
             \n    AWS_ACCESS_KEY_ID={access_key_id}\n    AWS_SECRET_ACCESS_KEY={secret_key}\n\n\
             Keep the secret now: it is not shown again."
        );
        let _ = out.flush();
    }
    Ok(())
}

/// Creates the first operator API key of the management API when none exists. The key comes
/// from `COFFER_OPERATOR_API_KEY` (at least 32 characters) or is generated and printed once on
/// standard output (never logged); only its hash is stored.
pub async fn ensure_operator_key(keys: &ApiKeyStore) -> Result<(), String> {
    if keys.has_operator_key().await {
        return Ok(());
    }
    let supplied = std::env::var("COFFER_OPERATOR_API_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let (key, record) = keys
        .create("bootstrap", None, supplied.as_deref())
        .await
        .map_err(|e| format!("COFFER_OPERATOR_API_KEY: {e}"))?;
    tracing::info!(key_id = %record.id, "created the first operator API key");
    if supplied.is_none() {
        let mut out = std::io::stdout().lock();
        // Shown once: only its hash is stored.
        let _ = writeln!(
            out,
            "First start: created an operator API key for the management API.\n\
             \n    COFFER_API_KEY={key}\n\n\
             Keep it now: it is not shown again."
        );
        let _ = out.flush();
    }
    Ok(())
}

fn write_marker(path: &std::path::Path) -> Result<(), String> {
    std::fs::write(path, b"the first account and its root key were created\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
