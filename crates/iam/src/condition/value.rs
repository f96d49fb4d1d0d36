//! Typed condition values: decimal numbers, dates, booleans and IP address ranges, read the
//! same way from a policy and from a request context.

use std::cmp::Ordering;
use std::net::IpAddr;

use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// An exact decimal number (`-12`, `3.50`), compared without floating-point rounding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    negative: bool,
    /// Integer digits without leading zeros.
    integer: String,
    /// Fraction digits without trailing zeros.
    fraction: String,
}

impl Decimal {
    /// Reads `[+-]digits[.digits]`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if integer.is_empty() && fraction.is_empty()
            || !all_digits(integer)
            || !all_digits(fraction)
        {
            return None;
        }
        if unsigned.ends_with('.') || unsigned.starts_with('.') && fraction.is_empty() {
            return None;
        }
        let integer = integer.trim_start_matches('0').to_owned();
        let fraction = fraction.trim_end_matches('0').to_owned();
        let is_zero = integer.is_empty() && fraction.is_empty();
        Some(Self {
            negative: negative && !is_zero,
            integer,
            fraction,
        })
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        self.integer
            .len()
            .cmp(&other.integer.len())
            .then_with(|| self.integer.cmp(&other.integer))
            .then_with(|| self.fraction.cmp(&other.fraction))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reads a date: epoch seconds (`1700000000`), RFC 3339 / ISO 8601 date-times (a time without
/// an offset is UTC), or a calendar date (`2024-01-31`, midnight UTC).
pub(crate) fn parse_date(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().ok()?;
        return OffsetDateTime::from_unix_timestamp(seconds).ok();
    }
    if let Ok(date_time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(date_time);
    }
    if let Ok(date_time) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(date_time);
    }
    if let Ok(date_time) = PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(date_time.assume_offset(UtcOffset::UTC));
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_offset(UtcOffset::UTC))
}

/// Reads `true` / `false` in any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An IPv4 or IPv6 address range in CIDR notation; a bare address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// Reads `10.0.0.0/8`, `2001:db8::/32`, `203.0.113.7`; host bits may be set.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            Some(prefix) if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) => {
                prefix.parse().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        (prefix_len <= max).then_some(Self {
            network,
            prefix_len,
        })
    }

    /// The prefix length in bits.
    pub(crate) fn prefix_len(self) -> u8 {
        self.prefix_len
    }

    /// Whether the range is IPv4.
    pub(crate) fn is_ipv4(self) -> bool {
        self.network.is_ipv4()
    }

    /// Whether `address` is in the range. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as
    /// dual-stack sockets report IPv4 peers) is compared as the IPv4 address it carries.
    pub(crate) fn contains(self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            IpAddr::V4(_) => address,
        };
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_compare_exactly() {
        assert_eq!(dec("10"), dec("010.000"));
        assert_eq!(dec("-0"), dec("0"));
        assert!(dec("0.5") > dec("0.25"));
        assert!(dec("-0.5") < dec("-0.25"));
        assert!(dec("100") > dec("99.999"));
        assert!(dec("-100") < dec("1"));
        assert!(dec("+7") == dec("7"));
        assert!(dec(".5") == dec("0.5"));
        assert!(dec("12345678901234567890.1") > dec("12345678901234567890"));
        for bad in ["", "-", "1.", ".", "1e3", "1,000", "abc", "1.2.3", "--1"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_in_every_accepted_form() {
        let expected = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(parse_date("1700000000"), Some(expected));
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some(expected));
        assert_eq!(parse_date("2023-11-14T23:13:20+01:00"), Some(expected));
        assert_eq!(parse_date("2023-11-14T22:13:20"), Some(expected));
        assert_eq!(parse_date("2023-11-14T22:13:20.000Z"), Some(expected));
        assert_eq!(
            parse_date("2023-11-14"),
            Some(OffsetDateTime::from_unix_timestamp(1_699_920_000).unwrap())
        );
        for bad in ["", "yesterday", "2023-13-01", "2023-11-14T25:00:00Z"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn ipv4_ranges() {
        let range = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(range.contains("192.0.2.77".parse().unwrap()));
        assert!(!range.contains("192.0.3.1".parse().unwrap()));
        assert!(range.contains("::ffff:192.0.2.1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        let single = Cidr::parse("203.0.113.7").unwrap();
        assert_eq!(single.prefix_len(), 32);
        assert!(single.contains("203.0.113.7".parse().unwrap()));
        assert!(!single.contains("203.0.113.8".parse().unwrap()));
        assert!(
            Cidr::parse("10.1.2.3/8")
                .unwrap()
                .contains("10.200.0.1".parse().unwrap())
        );
    }

    #[test]
    fn ipv6_ranges() {
        let range = Cidr::parse("2001:db8::/32").unwrap();
        assert!(!range.is_ipv4());
        assert!(range.contains("2001:db8:1234::1".parse().unwrap()));
        assert!(!range.contains("2001:db9::1".parse().unwrap()));
        assert!(!range.contains("192.0.2.1".parse().unwrap()));
        assert!(
            Cidr::parse("::/0")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(
            Cidr::parse("2001:db8::1/128")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
        assert!(
            !Cidr::parse("192.0.2.0/24")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn malformed_ranges() {
        for bad in [
            "",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0/8",
            "host/8",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
