//! Downloading a Task's result files: each streamed into a temporary file next to
//! its destination while its SHA-256 is computed, and renamed into place only when
//! size and digest match what the server listed. Names that would leave the target
//! folder are refused, whatever the server says.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use reqwest::{Method, Response};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use wharf_model::api::TaskResultEntry;
use wharf_model::task::validate_result_name;
use wharf_model::wire::paths::{self, TaskResource};

use crate::client::Client;
use crate::error::CliError;

/// Where the result `name` goes below `dir`: its segments as sub-folders. Names
/// that are absolute, have `.` or `..` segments or control characters are refused.
pub fn target_path(dir: &Path, name: &str) -> Result<PathBuf, CliError> {
    validate_result_name(name).map_err(|e| CliError::Download {
        path: dir.to_path_buf(),
        message: format!("refusing result file {name:?}: {e}"),
    })?;
    Ok(name
        .split('/')
        .fold(dir.to_path_buf(), |path, segment| path.join(segment)))
}

/// Lower-case hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_error(path: &Path, action: &str, error: &std::io::Error) -> CliError {
    CliError::Download {
        path: path.to_path_buf(),
        message: format!("{action}: {error}"),
    }
}

/// Creates the folder `path` will be written to, and checks that it is really below
/// `dir`, so a symbolic link inside `dir` cannot send a file elsewhere.
fn prepare_folder(dir: &Path, path: &Path) -> Result<PathBuf, CliError> {
    let parent = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| io_error(parent, "creating the folder", &e))?;
    let root = dir
        .canonicalize()
        .map_err(|e| io_error(dir, "resolving the folder", &e))?;
    let real = parent
        .canonicalize()
        .map_err(|e| io_error(parent, "resolving the folder", &e))?;
    if !real.starts_with(&root) {
        return Err(CliError::Download {
            path: path.to_path_buf(),
            message: format!("{} leads outside {}", parent.display(), dir.display()),
        });
    }
    Ok(real)
}

/// Streams `response` into a temporary file in `folder` and renames it to `path`
/// when `check` accepts the size and SHA-256 of what arrived; otherwise the partial
/// file is deleted and `check`'s complaint is the error.
async fn write_checked(
    server: &str,
    response: Response,
    folder: &Path,
    path: &Path,
    check: impl FnOnce(u64, &str) -> Result<(), String>,
) -> Result<u64, CliError> {
    let temp = tempfile::Builder::new()
        .prefix(".wharf-download-")
        .suffix(".part")
        .tempfile_in(folder)
        .map_err(|e| io_error(path, "creating a temporary file", &e))?;
    let std_file = temp
        .as_file()
        .try_clone()
        .map_err(|e| io_error(path, "opening the temporary file", &e))?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|source| CliError::Http {
            server: server.to_owned(),
            source,
        })?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error(path, "writing", &e))?;
    }
    file.flush()
        .await
        .map_err(|e| io_error(path, "writing", &e))?;
    file.sync_all()
        .await
        .map_err(|e| io_error(path, "writing", &e))?;
    drop(file);
    if let Err(message) = check(size, &hex(&hasher.finalize())) {
        // Dropping `temp` deletes the partial file.
        return Err(CliError::Download {
            path: path.to_path_buf(),
            message,
        });
    }
    temp.persist(path)
        .map_err(|e| io_error(path, "moving the file into place", &e.error))?;
    Ok(size)
}

/// Downloads one result file of Task `task` into `dir`, checked against `entry`.
/// Returns where it was written.
pub async fn download_result(
    client: &Client,
    namespace: &str,
    task: &str,
    entry: &TaskResultEntry,
    dir: &Path,
) -> Result<PathBuf, CliError> {
    let path = target_path(dir, &entry.name)?;
    let folder = prepare_folder(dir, &path)?;
    let url = client.url(&paths::task_result(namespace, task, &entry.name));
    let response = client.send(Method::GET, url, None, None, true).await?;
    write_checked(client.server(), response, &folder, &path, |size, sha256| {
        if size != entry.size {
            Err(format!(
                "received {size} bytes but the server listed {}; the partial file was deleted",
                entry.size
            ))
        } else if !sha256.eq_ignore_ascii_case(&entry.sha256) {
            Err(format!(
                "the SHA-256 of the received bytes is {sha256}, not {} as listed; the file was deleted",
                entry.sha256
            ))
        } else {
            Ok(())
        }
    })
    .await?;
    Ok(path)
}

/// Downloads every result file of Task `task` as one `.tar.gz` to `file`.
/// Returns its size.
pub async fn download_archive(
    client: &Client,
    namespace: &str,
    task: &str,
    file: &Path,
) -> Result<u64, CliError> {
    let folder = match file.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_path_buf(),
        None => PathBuf::from("."),
    };
    let url = client.url(&paths::task_resource(
        namespace,
        task,
        TaskResource::ResultsArchive,
    ));
    let response = client.send(Method::GET, url, None, None, true).await?;
    write_checked(client.server(), response, &folder, file, |_, _| Ok(())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_paths_below_the_folder() {
        let dir = Path::new("/tmp/out");
        assert_eq!(
            target_path(dir, "report.csv").unwrap(),
            Path::new("/tmp/out/report.csv")
        );
        assert_eq!(
            target_path(dir, "a/b/c.bin").unwrap(),
            Path::new("/tmp/out/a/b/c.bin")
        );
        assert_eq!(
            target_path(dir, "..hidden").unwrap(),
            Path::new("/tmp/out/..hidden")
        );
    }

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        let dir = Path::new("/tmp/out");
        for name in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\\..\\b",
            "a\nb",
        ] {
            let error = target_path(dir, name).unwrap_err();
            assert!(
                matches!(error, CliError::Download { .. }),
                "{name:?}: {error:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_folder_is_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
        let path = target_path(dir.path(), "escape/x.txt").unwrap();
        let error = prepare_folder(dir.path(), &path).unwrap_err();
        assert!(error.to_string().contains("leads outside"), "{error}");
        let inside = target_path(dir.path(), "sub/x.txt").unwrap();
        let folder = prepare_folder(dir.path(), &inside).unwrap();
        assert!(folder.ends_with("sub") && folder.is_dir());
    }

    fn response(body: &'static str) -> Response {
        Response::from(http::Response::new(body))
    }

    #[tokio::test]
    async fn a_file_is_moved_into_place_only_when_it_checks_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let want = hex(&Sha256::digest(b"hello"));
        let size = write_checked("s", response("hello"), dir.path(), &path, |size, sha| {
            assert_eq!((size, sha), (5, want.as_str()));
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(size, 5);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello");

        let bad = dir.path().join("bad.txt");
        let error = write_checked("s", response("tampered"), dir.path(), &bad, |_, _| {
            Err("digest mismatch".to_owned())
        })
        .await
        .unwrap_err();
        assert!(error.to_string().contains("digest mismatch"), "{error}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["out.txt"], "no partial file is left");
    }

    #[test]
    fn digests_are_lower_case_hex() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
