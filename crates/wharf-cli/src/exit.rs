//! The process exit codes, one per kind of failure a script may want to tell apart.

/// How `wharf` ends. The numbers are part of the CLI's interface: scripts rely on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did what was asked.
    Ok,
    /// 1: any failure without a more specific code.
    Failure,
    /// 2: the command line itself is wrong (reported by clap).
    Usage,
    /// 3: the App, Runtime, Space, pod, variable or member does not exist (404).
    NotFound,
    /// 4: not logged in, the token is not accepted (401) or not allowed (403).
    Unauthorized,
    /// 5: the request conflicts with the current state (409), e.g. it would leave a
    /// Space without an owner, or a Space name is not available.
    Conflict,
    /// 6: the wait ran out before the App or Runtime was Ready or the Task finished (202,
    /// `wharf-ready: false`, `wharf-finished: false`).
    WaitRanOut,
    /// 7: the input is invalid (400, 413, 415, 422, or refused before sending).
    Invalid,
    /// 8: the Wharf API could not be reached.
    Unreachable,
    /// 9: the Task waited for ended without succeeding (Failed or Cancelled).
    TaskFailed,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Self::Ok => 0,
            Self::Failure => 1,
            Self::Usage => 2,
            Self::NotFound => 3,
            Self::Unauthorized => 4,
            Self::Conflict => 5,
            Self::WaitRanOut => 6,
            Self::Invalid => 7,
            Self::Unreachable => 8,
            Self::TaskFailed => 9,
        }
    }

    /// The exit for a failed HTTP answer with this status code.
    pub fn for_status(status: u16) -> Self {
        match status {
            404 => Self::NotFound,
            401 | 403 => Self::Unauthorized,
            409 => Self::Conflict,
            400 | 413 | 415 | 422 => Self::Invalid,
            _ => Self::Failure,
        }
    }
}

/// The exit codes as `wharf --help` lists them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other error
  2  usage error (a wrong command line)
  3  not found (404): no such App, Runtime, Space, pod, variable or member
  4  not authenticated or not authorized (401/403), or not logged in
  5  conflict (409) with the current state, or a Space name that is not available
  6  the wait ran out before the App or Runtime was Ready or the Task finished (202)
  7  invalid input (400/413/415/422, or refused before sending)
  8  the Wharf API could not be reached
  9  the Task waited for failed or was cancelled";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_codes() {
        let cases = [
            (404, 3),
            (401, 4),
            (403, 4),
            (409, 5),
            (400, 7),
            (415, 7),
            (422, 7),
            (413, 7),
            (500, 1),
            (502, 1),
            (418, 1),
        ];
        for (status, code) in cases {
            assert_eq!(Exit::for_status(status).code(), code, "HTTP {status}");
        }
    }

    #[test]
    fn the_help_lists_every_code() {
        for exit in [
            Exit::Ok,
            Exit::Failure,
            Exit::Usage,
            Exit::NotFound,
            Exit::Unauthorized,
            Exit::Conflict,
            Exit::WaitRanOut,
            Exit::Invalid,
            Exit::Unreachable,
            Exit::TaskFailed,
        ] {
            assert!(
                EXIT_CODES_HELP.contains(&format!("\n  {}  ", exit.code())),
                "{exit:?} is not documented"
            );
        }
    }
}
