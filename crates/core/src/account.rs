//! Account identifiers: fifteen decimal digits, zero padded.

use std::fmt;
use std::str::FromStr;

/// An account id as shown to customers: exactly 15 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

/// The reason a string is not an account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an account id is exactly 15 decimal digits")]
pub struct InvalidAccountId;

impl AccountId {
    /// Builds the id of the `n`-th account (zero padded to 15 digits).
    pub fn from_number(n: u64) -> Result<Self, InvalidAccountId> {
        if n > 999_999_999_999_999 {
            return Err(InvalidAccountId);
        }
        Ok(Self(format!("{n:015}")))
    }

    /// Draws a random, not yet checked for uniqueness, account id.
    pub fn random() -> Self {
        let n: u64 = rand::random_range(100_000_000_000_000..=999_999_999_999_999);
        Self(n.to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccountId {
    type Err = InvalidAccountId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidAccountId)
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_parses() {
        let id = AccountId::from_number(42).unwrap();
        assert_eq!(id.as_str(), "000000000000042");
        assert_eq!("000000000000042".parse::<AccountId>().unwrap(), id);
        assert!("42".parse::<AccountId>().is_err());
        assert!("00000000000004x".parse::<AccountId>().is_err());
        assert_eq!(AccountId::random().as_str().len(), 15);
    }
}
