//! Identifiers minted by the server: blob ids, upload ids, version ids and request ids.

/// 128 random bits as 32 lowercase hex characters.
fn random_hex128() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A new blob id: 32 hex characters, used as the blob's file name.
pub fn new_blob_id() -> String {
    random_hex128()
}

/// A new multipart upload id: time first, so one key's uploads list in initiation order.
pub fn new_upload_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{millis:012x}{}", &random_hex128()[..20])
}

/// A new request id as returned in `x-amz-request-id` (16 upper-case hex characters, as AWS).
pub fn new_request_id() -> String {
    hex::encode_upper(rand::random::<[u8; 8]>())
}

/// Whether `id` has the shape of a blob id; guards paths built from stored ids.
pub fn is_blob_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_shapes() {
        let b = new_blob_id();
        assert!(is_blob_id(&b));
        assert_ne!(b, new_blob_id());
        assert!(!is_blob_id("../etc/passwd"));
        assert_eq!(new_request_id().len(), 16);
        assert_eq!(new_upload_id().len(), 32);
    }
}
