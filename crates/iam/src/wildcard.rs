//! Wildcard patterns of the policy language: `*` matches any run of characters (including
//! none), `?` matches exactly one character, every other character matches itself.
//!
//! Matching is case-sensitive; callers that need case-insensitive matching (actions) fold both
//! sides to lower case first. A pattern is a token list rather than a string so that characters
//! coming from policy variables such as `${*}` stay literal.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// Matches this character only.
    Char(char),
    /// `*`: any run of characters, possibly empty.
    AnySequence,
    /// `?`: exactly one character.
    AnyChar,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles `pattern`, reading `*` and `?` as wildcards.
    pub(crate) fn new(pattern: &str) -> Self {
        let mut compiled = Self::default();
        compiled.push_wildcard_text(pattern);
        compiled
    }

    /// Appends text in which `*` and `?` are wildcards.
    pub(crate) fn push_wildcard_text(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(|c| match c {
            '*' => Token::AnySequence,
            '?' => Token::AnyChar,
            other => Token::Char(other),
        }));
    }

    /// Appends text that matches itself only.
    pub(crate) fn push_literal(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(Token::Char));
    }

    /// Appends a `*`.
    pub(crate) fn push_any_sequence(&mut self) {
        self.tokens.push(Token::AnySequence);
    }

    /// Whether the pattern contains `*` or `?`.
    pub(crate) fn has_wildcards(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Char(_)))
    }

    /// Whether the whole of `text` matches the pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let tokens = &self.tokens;
        let (mut p, mut t) = (0usize, 0usize);
        // Where to resume after the last `*`: (token after the star, text position it covers to).
        let mut resume: Option<(usize, usize)> = None;
        while let Some(&c) = text.get(t) {
            match tokens.get(p) {
                Some(Token::AnySequence) => {
                    resume = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                Some(Token::AnyChar) => {
                    p += 1;
                    t += 1;
                    continue;
                }
                Some(Token::Char(expected)) if *expected == c => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
            // Mismatch: let the last `*` swallow one more character, or fail.
            let Some((after_star, covered)) = resume else {
                return false;
            };
            p = after_star;
            t = covered + 1;
            resume = Some((after_star, covered + 1));
        }
        tokens
            .get(p..)
            .is_none_or(|rest| rest.iter().all(|t| *t == Token::AnySequence))
    }

    /// Whether some string that starts with `prefix` matches the pattern.
    pub(crate) fn could_match_with_prefix(&self, prefix: &str) -> bool {
        let n = self.tokens.len();
        let mut states = vec![false; n + 1];
        states[0] = true;
        self.close_over_stars(&mut states);
        for c in prefix.chars() {
            let mut next = vec![false; n + 1];
            for (i, token) in self.tokens.iter().enumerate() {
                if !states[i] {
                    continue;
                }
                match token {
                    Token::AnySequence => next[i] = true,
                    Token::AnyChar => next[i + 1] = true,
                    Token::Char(expected) if *expected == c => next[i + 1] = true,
                    Token::Char(_) => {}
                }
            }
            self.close_over_stars(&mut next);
            if !next.contains(&true) {
                return false;
            }
            states = next;
        }
        // Whatever tokens remain, some suffix satisfies them.
        true
    }

    fn close_over_stars(&self, states: &mut [bool]) {
        for (i, token) in self.tokens.iter().enumerate() {
            if states[i] && *token == Token::AnySequence {
                states[i + 1] = true;
            }
        }
    }

    /// Splits the pattern at its first five literal colons into the six ARN components
    /// (`arn:partition:service:region:account:resource`); `None` if there are fewer.
    pub(crate) fn split_arn(&self) -> Option<Vec<Pattern>> {
        let mut parts = vec![Pattern::default()];
        for token in &self.tokens {
            if *token == Token::Char(':') && parts.len() < 6 {
                parts.push(Pattern::default());
            } else if let Some(last) = parts.last_mut() {
                last.tokens.push(*token);
            }
        }
        (parts.len() == 6).then_some(parts)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters and `?` one
/// character (case-sensitive, as in `StringLike` and `Resource`).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything/at:all"));
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a*c", "ac"));
        assert!(!wildcard_match("a*c", "acb"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*a*b*", "xxaxxbxx"));
        assert!(!wildcard_match("*a*b*", "xxbxxaxx"));
        assert!(wildcard_match("**", "x"));
        assert!(wildcard_match("a*b?d*", "aXXbcdYY"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
        assert!(!wildcard_match("?", ""));
    }

    #[test]
    fn matching_is_case_sensitive_and_unicode_aware() {
        assert!(!wildcard_match(
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::bucket/key"
        ));
        assert!(wildcard_match("caf?", "café"));
        assert!(wildcard_match("*/ünï/*", "a/ünï/b"));
    }

    #[test]
    fn backtracking_finds_late_matches() {
        assert!(wildcard_match("*aab", "aaaaaab"));
        assert!(wildcard_match("a*a*a*b", "aaaaaaab"));
        assert!(!wildcard_match("a*a*a*b", "aaaaaaa"));
    }

    #[test]
    fn literal_text_keeps_wildcard_characters_literal() {
        let mut pattern = Pattern::default();
        pattern.push_literal("home/*");
        assert!(pattern.matches("home/*"));
        assert!(!pattern.matches("home/x"));
        pattern.push_wildcard_text("/?");
        assert!(pattern.matches("home/*/x"));
        let mut literal = Pattern::default();
        literal.push_literal("a?");
        assert!(!literal.has_wildcards());
        assert!(Pattern::new("a?").has_wildcards());
    }

    #[test]
    fn prefix_feasibility() {
        let p = Pattern::new("arn:aws:s3:::bucket/*");
        assert!(p.could_match_with_prefix("arn:aws:s3:::bucket/"));
        assert!(p.could_match_with_prefix("arn:aws:s3:::buc"));
        assert!(!p.could_match_with_prefix("arn:aws:s3:::other/"));
        let any = Pattern::new("arn:aws:s3:::*");
        assert!(any.could_match_with_prefix("arn:aws:s3:::bucket/"));
        let exact = Pattern::new("arn:aws:s3:::bucket");
        assert!(!exact.could_match_with_prefix("arn:aws:s3:::bucket/"));
        assert!(
            Pattern::new("arn:aws:s3:::b?cket/k").could_match_with_prefix("arn:aws:s3:::bucket/")
        );
    }

    #[test]
    fn arn_components() {
        let parts = Pattern::new("arn:aws:iam::*:user/a:b").split_arn().unwrap();
        assert_eq!(parts.len(), 6);
        assert!(parts[4].matches("123"));
        assert!(parts[5].matches("user/a:b"));
        assert!(Pattern::new("arn:aws:s3").split_arn().is_none());
    }
}
