//! An error with every cause below it, as one line of text for a log.

use std::error::Error;

/// The error and every cause below it, joined with `: `, for one log line.
pub fn error_chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1
                .as_deref()
                .map(|cause| cause as &(dyn Error + 'static))
        }
    }

    #[test]
    fn every_cause_follows_its_error() {
        let error = Layer(
            "storing failed",
            Some(Box::new(Layer(
                "request failed",
                Some(Box::new(Layer("connection refused", None))),
            ))),
        );
        assert_eq!(
            error_chain(&error),
            "storing failed: request failed: connection refused"
        );
        assert_eq!(error_chain(&Layer("alone", None)), "alone");
    }
}
