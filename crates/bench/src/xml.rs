//! Just enough XML reading for the few S3 answers the bench parses (ListObjectsV2, multipart).
//! S3 documents are flat and namespaced by element name, so element text by name suffices.

/// The text of each `<tag>…</tag>` element in `document`, in order (entities still escaped).
pub fn elements<'a>(document: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = document;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else {
            break;
        };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    found
}

/// The text of the first `<tag>` element, unescaped.
pub fn first(document: &str, tag: &str) -> Option<String> {
    elements(document, tag).first().map(|text| unescape(text))
}

/// Replaces the five predefined XML entities (all S3 emits for plain keys).
pub fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listing_elements() {
        let document = "<ListBucketResult><Prefix></Prefix><Contents><Key>a/1</Key></Contents>\
            <Contents><Key>a&amp;2</Key></Contents><CommonPrefixes><Prefix>b/</Prefix>\
            </CommonPrefixes><IsTruncated>true</IsTruncated></ListBucketResult>";
        let keys: Vec<String> = elements(document, "Contents")
            .into_iter()
            .filter_map(|c| first(c, "Key"))
            .collect();
        assert_eq!(keys, ["a/1", "a&2"]);
        let prefixes: Vec<String> = elements(document, "CommonPrefixes")
            .into_iter()
            .filter_map(|c| first(c, "Prefix"))
            .collect();
        assert_eq!(prefixes, ["b/"]);
        assert_eq!(first(document, "IsTruncated").as_deref(), Some("true"));
        assert_eq!(first(document, "NextContinuationToken"), None);
    }
}
