//! Range and conditional requests for downloads (RFC 9110 §13, §14): `Range`
//! with `If-Range`, and `If-None-Match`, against a representation known by its
//! strong ETag and its size.
//!
//! Written here rather than taken from the `headers` crate (`headers::Range`,
//! `IfNoneMatch`, `IfRange`, as `axum-extra`'s `TypedHeader` offers them) because
//! its `Range` does not give the distinction this server answers by:
//! `satisfiable_ranges` drops a range that starts past the end, so "ignore the
//! header and send 200" (several ranges, another unit, a malformed value — what
//! RFC 9110 §14.2 lets a server do) cannot be told from "416 with
//! `Content-Range: bytes */size`". Its decoder also refuses what RFC 9110 reads
//! case-insensitively (`BYTES=`) or with optional whitespace. Both conditionals
//! are one comparison each once the ETag is known, so the crate would add a
//! dependency without removing code.

use std::ops::Range;

use axum::http::{HeaderMap, header};

/// What a download request asks for, after its conditional headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// 304: the client's copy (`If-None-Match`) is current.
    NotModified,
    /// 200: the whole representation.
    Full,
    /// 206: these bytes.
    Part(Range<u64>),
    /// 416: a range that starts past the end.
    Unsatisfiable,
}

/// What a GET or HEAD with `headers` asks of a representation with strong ETag
/// `etag` (quoted) and `size` bytes.
pub fn evaluate(headers: &HeaderMap, etag: &str, size: u64) -> Wanted {
    if if_none_match(headers, etag) {
        return Wanted::NotModified;
    }
    match header_str(headers, header::RANGE).filter(|_| if_range_allows(headers, etag)) {
        Some(range) => parse_range(range, size),
        None => Wanted::Full,
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Whether `If-None-Match` names `etag` (weak comparison) or is `*`.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    header_str(headers, header::IF_NONE_MATCH).is_some_and(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    })
}

/// Whether a `Range` may be served: without `If-Range`, or when it names this
/// exact content (a date or another ETag means "send it all").
fn if_range_allows(headers: &HeaderMap, etag: &str) -> bool {
    header_str(headers, header::IF_RANGE).is_none_or(|value| value == etag)
}

/// Reads `bytes=a-b`, `bytes=a-` or `bytes=-n` for `size` bytes. Anything else
/// (several ranges, another unit, a malformed value) is ignored: [`Wanted::Full`].
fn parse_range(value: &str, size: u64) -> Wanted {
    let Some((unit, spec)) = value.split_once('=') else {
        return Wanted::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return Wanted::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Full;
    };
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match number(last) {
            None => Wanted::Full,
            Some(0) => Wanted::Unsatisfiable,
            Some(_) if size == 0 => Wanted::Unsatisfiable,
            Some(suffix) => Wanted::Part(size.saturating_sub(suffix)..size),
        };
    }
    let Some(first) = number(first) else {
        return Wanted::Full;
    };
    let last = if last.is_empty() {
        None
    } else {
        match number(last) {
            Some(last) if last >= first => Some(last),
            _ => return Wanted::Full,
        }
    };
    if first >= size {
        return Wanted::Unsatisfiable;
    }
    let end = last.map_or(size, |last| last.saturating_add(1).min(size));
    Wanted::Part(first..end)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let cases = [
            ("bytes=0-0", Wanted::Part(0..1)),
            ("bytes=10-19", Wanted::Part(10..20)),
            ("bytes=90-", Wanted::Part(90..100)),
            ("bytes=-10", Wanted::Part(90..100)),
            ("bytes=-1000", Wanted::Part(0..100)),
            ("bytes=50-5000", Wanted::Part(50..100)),
            ("BYTES = 1-2", Wanted::Part(1..3)),
            ("bytes=100-", Wanted::Unsatisfiable),
            ("bytes=-0", Wanted::Unsatisfiable),
            ("bytes=5-1", Wanted::Full),
            ("bytes=0-1,5-6", Wanted::Full),
            ("items=0-1", Wanted::Full),
            ("bytes=x-1", Wanted::Full),
            ("bytes=+1-2", Wanted::Full),
            ("bytes", Wanted::Full),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_range(value, 100), expected, "{value}");
        }
        assert_eq!(parse_range("bytes=0-", 0), Wanted::Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn etags_match_weakly_and_by_star() {
        let mut headers = HeaderMap::new();
        assert!(!if_none_match(&headers, "\"a\""));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"b\", W/\"a\""),
        );
        assert!(if_none_match(&headers, "\"a\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&headers, "\"a\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"b\""));
        assert!(!if_none_match(&headers, "\"a\""));
    }

    #[test]
    fn conditionals_decide_before_the_range() {
        let etag = "\"abc\"";
        let mut headers = HeaderMap::new();
        assert_eq!(evaluate(&headers, etag, 10), Wanted::Full);
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=2-3"));
        assert_eq!(evaluate(&headers, etag, 10), Wanted::Part(2..4));
        // An If-Range for other content: the whole file.
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"old\""));
        assert_eq!(evaluate(&headers, etag, 10), Wanted::Full);
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"abc\""));
        assert_eq!(evaluate(&headers, etag, 10), Wanted::Part(2..4));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abc\""));
        assert_eq!(evaluate(&headers, etag, 10), Wanted::NotModified);
    }
}
