//! The names result files may have: relative paths that stay inside the results
//! folder, the same rule for the collector that uploads and the server that stores.

/// Longest result file name, in bytes.
pub const MAX_RESULT_NAME: usize = 1024;

/// Why a result file name is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResultNameError {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// The name is longer than [`MAX_RESULT_NAME`].
    #[error("the name is longer than {MAX_RESULT_NAME} bytes")]
    TooLong,
    /// The name starts with `/`.
    #[error("the name is absolute; result names are relative to the results folder")]
    Absolute,
    /// A segment is `..`, `.` or empty, so the name could leave the folder or is
    /// ambiguous.
    #[error("the name has a '{0}' segment; result names must stay inside the results folder")]
    BadSegment(String),
    /// The name has a backslash, NUL or another control character.
    #[error("the name contains a control character or backslash")]
    BadCharacter,
}

/// Checks that `name` is a plain relative path such as `out/report.csv`: segments
/// separated by single `/`, none of them `.` or `..`, no control characters or
/// backslashes, at most [`MAX_RESULT_NAME`] bytes.
pub fn validate_result_name(name: &str) -> Result<(), ResultNameError> {
    if name.is_empty() {
        return Err(ResultNameError::Empty);
    }
    if name.len() > MAX_RESULT_NAME {
        return Err(ResultNameError::TooLong);
    }
    if name.starts_with('/') {
        return Err(ResultNameError::Absolute);
    }
    if name.chars().any(|c| c.is_control() || c == '\\') {
        return Err(ResultNameError::BadCharacter);
    }
    for segment in name.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(ResultNameError::BadSegment(segment.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_names_are_accepted() {
        for name in [
            "a",
            "report.csv",
            "out/2024/run.bag",
            "..hidden",
            "a..b",
            "ünï cødé",
        ] {
            assert_eq!(validate_result_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        let cases = [
            ("", ResultNameError::Empty),
            ("/etc/passwd", ResultNameError::Absolute),
            ("../x", ResultNameError::BadSegment("..".into())),
            ("a/../../x", ResultNameError::BadSegment("..".into())),
            ("a/./b", ResultNameError::BadSegment(".".into())),
            ("a//b", ResultNameError::BadSegment(String::new())),
            ("a/", ResultNameError::BadSegment(String::new())),
            ("..\\x", ResultNameError::BadCharacter),
            ("a\0b", ResultNameError::BadCharacter),
            ("a\nb", ResultNameError::BadCharacter),
        ];
        for (name, error) in cases {
            assert_eq!(validate_result_name(name), Err(error), "{name:?}");
        }
        assert_eq!(
            validate_result_name(&"a".repeat(MAX_RESULT_NAME + 1)),
            Err(ResultNameError::TooLong)
        );
    }
}
