//! Reading what people write about shared volumes on the command line:
//! `--volume NAME:/PATH[:ro]` of `wharf apps deploy` and `--access-mode` of
//! `wharf volumes create`.

use wharf_model::app::{AccessMode, SharedMount};
use wharf_model::volume::access_mode_name;

/// The access modes `--access-mode` takes, as Kubernetes names them.
pub const ACCESS_MODES: [AccessMode; 4] = [
    AccessMode::ReadWriteOnce,
    AccessMode::ReadWriteOncePod,
    AccessMode::ReadOnlyMany,
    AccessMode::ReadWriteMany,
];

/// `--access-mode`: one of [`ACCESS_MODES`] by its Kubernetes name, in any case.
pub fn parse_access_mode(text: &str) -> Result<AccessMode, String> {
    ACCESS_MODES
        .into_iter()
        .find(|mode| access_mode_name(*mode).eq_ignore_ascii_case(text))
        .ok_or_else(|| {
            let names: Vec<&str> = ACCESS_MODES.into_iter().map(access_mode_name).collect();
            format!("'{text}' is not an access mode: use {}", names.join(", "))
        })
}

/// `--volume NAME:/PATH[:ro]`: shared volume NAME mounted at PATH, read-only with
/// `:ro`, e.g. `site:/var/www/html:ro`. The name and the path are checked further
/// by the server's rules (a DNS-1123 label, a unique path).
pub fn parse_mount(text: &str) -> Result<SharedMount, String> {
    let usage = || {
        format!("'{text}' is not NAME:/PATH[:ro]; write e.g. site:/var/www/html or site:/data:ro")
    };
    let (volume, rest) = text.split_once(':').ok_or_else(usage)?;
    if volume.is_empty() || rest.is_empty() {
        return Err(usage());
    }
    let (path, read_only) = match rest.rsplit_once(':') {
        Some((path, "ro")) => (path, true),
        Some((_, option)) => {
            return Err(format!(
                "'{text}' ends with ':{option}'; the only option is ':ro' (read-only)"
            ));
        }
        None => (rest, false),
    };
    if path.contains(':') {
        return Err(format!(
            "'{text}': the mount path '{path}' holds a ':'; write NAME:/PATH or NAME:/PATH:ro"
        ));
    }
    if !path.starts_with('/') {
        return Err(format!(
            "'{text}': the mount path '{path}' must be absolute (start with '/'), e.g. {volume}:/data"
        ));
    }
    Ok(SharedMount {
        volume: volume.to_owned(),
        mount_path: path.to_owned(),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(volume: &str, path: &str, read_only: bool) -> SharedMount {
        SharedMount {
            volume: volume.into(),
            mount_path: path.into(),
            read_only,
        }
    }

    #[test]
    fn volumes_are_name_colon_path_and_maybe_ro() {
        assert_eq!(
            parse_mount("site:/var/www/html").unwrap(),
            mount("site", "/var/www/html", false)
        );
        assert_eq!(
            parse_mount("site:/var/www/html:ro").unwrap(),
            mount("site", "/var/www/html", true)
        );
        assert_eq!(parse_mount("a:/").unwrap(), mount("a", "/", false));
    }

    #[test]
    fn bad_volumes_say_what_to_write() {
        assert_eq!(
            parse_mount("site").unwrap_err(),
            "'site' is not NAME:/PATH[:ro]; write e.g. site:/var/www/html or site:/data:ro"
        );
        for bad in ["site:", ":/data", ":", ""] {
            let error = parse_mount(bad).unwrap_err();
            assert!(error.contains("is not NAME:/PATH[:ro]"), "{bad}: {error}");
        }
        let relative = parse_mount("site:data").unwrap_err();
        assert!(relative.contains("must be absolute"), "{relative}");
        let relative = parse_mount("site:data:ro").unwrap_err();
        assert!(relative.contains("'data'"), "{relative}");
        let option = parse_mount("site:/data:rw").unwrap_err();
        assert!(option.contains("only option is ':ro'"), "{option}");
        let colon = parse_mount("site:/a:b:ro").unwrap_err();
        assert!(colon.contains("holds a ':'"), "{colon}");
    }

    #[test]
    fn access_modes_are_kubernetes_names_in_any_case() {
        for mode in ACCESS_MODES {
            assert_eq!(parse_access_mode(access_mode_name(mode)), Ok(mode));
        }
        assert_eq!(
            parse_access_mode("readwritemany"),
            Ok(AccessMode::ReadWriteMany)
        );
        let error = parse_access_mode("RWX").unwrap_err();
        assert!(error.contains("ReadWriteOncePod"), "{error}");
    }
}
