//! The rules Kubernetes gives names, checked on a request's path before anything
//! is asked of Kubernetes: a namespace is a DNS-1123 label, an object's name a
//! DNS-1123 subdomain (what the API server requires of a custom resource's name).
//! A path that breaks them names nothing that can exist, so it is answered at once
//! instead of being sent on to the API server.

/// The longest DNS-1123 label.
const MAX_LABEL: usize = 63;
/// The longest DNS-1123 subdomain.
const MAX_SUBDOMAIN: usize = 253;

/// Why a name is not a Kubernetes name, said so a person can fix it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("it is empty")]
    Empty,
    /// The name is longer than the rule allows.
    #[error("it is longer than {0} characters")]
    TooLong(usize),
    /// The name holds something other than lower-case letters, digits, `-` (and
    /// `.` between labels of a subdomain).
    #[error("it may hold only lower-case letters, digits and '-'{0}")]
    Characters(&'static str),
    /// A label starts or ends with something other than a letter or digit.
    #[error("it (and each part between dots) must start and end with a letter or digit")]
    Ends,
}

/// Checks a DNS-1123 label: at most 63 of `a-z`, `0-9` and `-`, starting and
/// ending with a letter or digit. Namespaces are named so.
pub fn check_label(name: &str) -> Result<(), NameError> {
    if name.len() > MAX_LABEL {
        return Err(NameError::TooLong(MAX_LABEL));
    }
    label(name, "")
}

/// Checks a DNS-1123 subdomain: at most 253 characters, labels joined by `.`.
/// Objects are named so.
pub fn check_subdomain(name: &str) -> Result<(), NameError> {
    if name.len() > MAX_SUBDOMAIN {
        return Err(NameError::TooLong(MAX_SUBDOMAIN));
    }
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    name.split('.').try_for_each(|part| label(part, ", '.'"))
}

fn label(part: &str, also: &'static str) -> Result<(), NameError> {
    let bytes = part.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return Err(if also.is_empty() {
            NameError::Empty
        } else {
            NameError::Ends
        });
    };
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
    {
        return Err(NameError::Characters(also));
    }
    if *first == b'-' || *last == b'-' {
        return Err(NameError::Ends);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_dns_1123() {
        for good in ["a", "web", "team-a", "0", "a1-b2", &"x".repeat(63)] {
            assert_eq!(check_label(good), Ok(()), "{good}");
        }
        let cases = [
            ("", NameError::Empty),
            ("Web", NameError::Characters("")),
            ("a.b", NameError::Characters("")),
            ("..", NameError::Characters("")),
            ("-a", NameError::Ends),
            ("a-", NameError::Ends),
            ("\t\u{2CACD}", NameError::Characters("")),
            ("ü", NameError::Characters("")),
            ("a b", NameError::Characters("")),
            ("a/b", NameError::Characters("")),
        ];
        for (bad, why) in cases {
            assert_eq!(check_label(bad), Err(why), "{bad:?}");
        }
        assert_eq!(check_label(&"x".repeat(64)), Err(NameError::TooLong(63)));
    }

    #[test]
    fn subdomains_are_labels_joined_by_dots() {
        for good in ["web", "web.v2", "a.b-c.d", &"x".repeat(253)] {
            assert_eq!(check_subdomain(good), Ok(()), "{good}");
        }
        assert_eq!(check_subdomain(""), Err(NameError::Empty));
        assert_eq!(check_subdomain("."), Err(NameError::Ends));
        assert_eq!(check_subdomain(".."), Err(NameError::Ends));
        assert_eq!(check_subdomain("a..b"), Err(NameError::Ends));
        assert_eq!(check_subdomain("a.-b"), Err(NameError::Ends));
        assert_eq!(check_subdomain("A.b"), Err(NameError::Characters(", '.'")));
        assert_eq!(check_subdomain("%09"), Err(NameError::Characters(", '.'")));
        assert_eq!(
            check_subdomain(&"x".repeat(254)),
            Err(NameError::TooLong(253))
        );
    }
}
