//! Finding the files to upload: a walk of the results folder that never follows a
//! symlink and refuses anything that is not a plain file inside the folder.
//!
//! The collector runs in its own container, so a symlink the Task writes would
//! point into the collector's filesystem (its token, its binary), not the Task's.
//! That is why every symlink is refused, even one whose target looks harmless.

use std::fs::{self, File, FileType};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use wharf_model::task::{RefusedResult, validate_result_name};

/// The reasons given for refused files. They end up in the Task's status, so they
/// are stable, short and meant for people.
pub mod reason {
    /// A symlink, whatever it points to (a file, a folder, something outside).
    pub const SYMLINK: &str = "symlink";
    /// A block or character device.
    pub const DEVICE: &str = "device file";
    /// A named pipe.
    pub const FIFO: &str = "FIFO";
    /// A Unix socket.
    pub const SOCKET: &str = "socket";
    /// Anything else that is neither a regular file nor a folder.
    pub const NOT_REGULAR: &str = "not a regular file";
    /// Its real path leaves the results folder.
    pub const OUTSIDE: &str = "outside the results folder";
    /// The name is not valid UTF-8, so it cannot be a result name.
    pub const NOT_UTF8: &str = "the name is not UTF-8";
    /// What was opened is not what the walk found: it was replaced in between.
    pub const REPLACED: &str = "replaced while being collected";
}

/// What a walk of the results folder found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The regular files to upload, ordered by name.
    pub files: Vec<FoundFile>,
    /// Everything found that will not be uploaded, ordered by name.
    pub refused: Vec<RefusedResult>,
}

/// A regular file found inside the results folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundFile {
    /// The result name: the path relative to the folder with `/` separators.
    pub name: String,
    /// Where the file is on disk, below the folder's canonical path.
    pub path: PathBuf,
    /// Its size when the walk saw it; the upload sends what is read, which is the
    /// same unless the file is still being written.
    pub size: u64,
    // Which file the walk saw, so that opening it later can prove it is the same.
    dev: u64,
    ino: u64,
}

/// Why the results folder could not be walked at all. Problems below it refuse
/// single entries instead.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The results folder does not exist or cannot be read.
    #[error("cannot read the results folder {}", path.display())]
    Folder {
        /// The folder as configured.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: io::Error,
    },
    /// The results folder is not a folder.
    #[error("the results folder {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
}

/// Why a found file could not be opened for upload.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file is no longer what the walk found; it is refused with this reason.
    #[error("{0}")]
    Refused(&'static str),
    /// The file could not be opened or read.
    #[error("cannot read the file")]
    Io(#[source] io::Error),
}

impl FoundFile {
    /// Opens the file for reading and checks that it is the file the walk found
    /// (same device and inode, still a regular file), so a file swapped for a
    /// symlink or a FIFO after the walk is refused rather than followed.
    pub fn open(&self) -> Result<File, OpenError> {
        // O_NOFOLLOW: a symlink put in the file's place fails with ELOOP instead of
        // being followed. O_NONBLOCK: a FIFO put in its place does not block the
        // open waiting for a writer; regular files ignore the flag.
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)
            .map_err(|error| match error.raw_os_error() {
                Some(libc::ELOOP) => OpenError::Refused(reason::SYMLINK),
                _ => OpenError::Io(error),
            })?;
        let meta = file.metadata().map_err(OpenError::Io)?;
        if !meta.is_file() || meta.dev() != self.dev || meta.ino() != self.ino {
            return Err(OpenError::Refused(reason::REPLACED));
        }
        Ok(file)
    }
}

/// Walks `dir` without following symlinks and sorts what it finds into files to
/// upload and entries refused with a reason.
///
/// Only the folder itself is resolved (it is the configured mount point, not data
/// the Task wrote). Below it, folders are entered, regular files are kept, and
/// symlinks, devices, FIFOs, sockets, names that are not valid result names and
/// anything whose real path leaves the folder are refused. A folder that is refused
/// or cannot be read is reported once, not entered.
pub fn scan(dir: &Path) -> Result<Scan, ScanError> {
    let folder_error = |source| ScanError::Folder {
        path: dir.to_owned(),
        source,
    };
    let root = fs::canonicalize(dir).map_err(folder_error)?;
    if !fs::metadata(&root).map_err(folder_error)?.is_dir() {
        return Err(ScanError::NotADirectory(dir.to_owned()));
    }

    let mut scan = Scan::default();
    // An explicit stack instead of recursion: the depth is the Task's to choose.
    let mut pending = vec![(root.clone(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(source) if prefix.is_empty() => return Err(folder_error(source)),
            Err(error) => {
                scan.refuse(prefix, format!("cannot read the folder: {error}"));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let name = if prefix.is_empty() { "." } else { &prefix };
                    scan.refuse(name.to_owned(), format!("cannot read the folder: {error}"));
                    break;
                }
            };
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(segment) = file_name.to_str() else {
                scan.refuse(
                    join(&prefix, &file_name.to_string_lossy()),
                    reason::NOT_UTF8,
                );
                continue;
            };
            let name = join(&prefix, segment);
            // symlink_metadata describes the entry itself, never what it points to.
            let meta = match fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(error) => {
                    scan.refuse(name, format!("cannot read: {error}"));
                    continue;
                }
            };
            let file_type = meta.file_type();
            if let Some(reason) = refusal_for(file_type) {
                scan.refuse(name, reason);
                continue;
            }
            if let Err(error) = validate_result_name(&name) {
                scan.refuse(name, error.to_string());
                continue;
            }
            // Defence in depth: no symlink is followed, but a folder on the way
            // could have been replaced by one since it was listed.
            match fs::canonicalize(&path) {
                Ok(real) if real.starts_with(&root) => {}
                Ok(_) => {
                    scan.refuse(name, reason::OUTSIDE);
                    continue;
                }
                Err(error) => {
                    scan.refuse(name, format!("cannot read: {error}"));
                    continue;
                }
            }
            if file_type.is_dir() {
                pending.push((path, name));
            } else {
                scan.files.push(FoundFile {
                    name,
                    path,
                    size: meta.len(),
                    dev: meta.dev(),
                    ino: meta.ino(),
                });
            }
        }
    }
    scan.files.sort_by(|a, b| a.name.cmp(&b.name));
    scan.refused.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(scan)
}

impl Scan {
    fn refuse(&mut self, name: String, reason: impl Into<String>) {
        self.refused.push(RefusedResult {
            name,
            reason: reason.into(),
        });
    }
}

/// Why an entry of this type is refused; `None` for regular files and folders.
fn refusal_for(file_type: FileType) -> Option<&'static str> {
    if file_type.is_symlink() {
        Some(reason::SYMLINK)
    } else if file_type.is_file() || file_type.is_dir() {
        None
    } else if file_type.is_block_device() || file_type.is_char_device() {
        Some(reason::DEVICE)
    } else if file_type.is_fifo() {
        Some(reason::FIFO)
    } else if file_type.is_socket() {
        Some(reason::SOCKET)
    } else {
        Some(reason::NOT_REGULAR)
    }
}

fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() {
        segment.to_owned()
    } else {
        format!("{prefix}/{segment}")
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;
    use std::process::Command;

    use super::*;

    fn write(root: &Path, name: &str, content: &str) {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, content).unwrap();
    }

    /// A temporary directory holding `files`, as (name, content).
    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            write(dir.path(), name, content);
        }
        dir
    }

    fn names(scan: &Scan) -> Vec<&str> {
        scan.files.iter().map(|f| f.name.as_str()).collect()
    }

    fn refused(scan: &Scan) -> Vec<(&str, &str)> {
        scan.refused
            .iter()
            .map(|r| (r.name.as_str(), r.reason.as_str()))
            .collect()
    }

    /// Fails the test unless opening `found` is refused for `reason`.
    fn assert_open_refused(found: &FoundFile, reason: &str) {
        match found.open() {
            Err(OpenError::Refused(refused)) => assert_eq!(refused, reason),
            other => panic!(
                "opening {} should be refused ({reason}): {other:?}",
                found.name
            ),
        }
    }

    fn mkfifo(path: &Path) {
        let status = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success(), "mkfifo failed");
    }

    #[test]
    fn nested_files_are_found_ordered_by_name() {
        let dir = dir_with(&[
            ("b.txt", "bb"),
            ("a/z.csv", "z"),
            ("a/deep/er/x.bin", "xxxx"),
            ("ü nï.txt", "u"),
        ]);
        fs::create_dir(dir.path().join("empty")).unwrap();

        let scan = scan(dir.path()).unwrap();
        assert_eq!(
            names(&scan),
            ["a/deep/er/x.bin", "a/z.csv", "b.txt", "ü nï.txt"]
        );
        assert_eq!(scan.files[0].size, 4);
        let root = fs::canonicalize(dir.path()).unwrap();
        assert_eq!(scan.files[0].path, root.join("a/deep/er/x.bin"));
        assert!(scan.refused.is_empty());
    }

    #[test]
    fn an_empty_folder_has_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(scan(dir.path()).unwrap(), Scan::default());
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = scan(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(error, ScanError::Folder { .. }), "{error:?}");
        write(dir.path(), "file", "x");
        let error = scan(&dir.path().join("file")).unwrap_err();
        assert!(matches!(error, ScanError::NotADirectory(_)), "{error:?}");
    }

    #[test]
    fn symlinks_are_refused_wherever_they_point() {
        let dir = dir_with(&[("real.txt", "r"), ("sub/inner.txt", "i")]);
        symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
        symlink(dir.path().join("real.txt"), dir.path().join("inside.txt")).unwrap();
        symlink("real.txt", dir.path().join("relative.txt")).unwrap();
        symlink(dir.path().join("sub"), dir.path().join("linked-dir")).unwrap();
        symlink("/etc", dir.path().join("etc")).unwrap();
        symlink("/nowhere", dir.path().join("sub/dangling")).unwrap();

        let scan = scan(dir.path()).unwrap();
        assert_eq!(names(&scan), ["real.txt", "sub/inner.txt"]);
        assert_eq!(
            refused(&scan),
            [
                ("etc", "symlink"),
                ("inside.txt", "symlink"),
                ("linked-dir", "symlink"),
                ("passwd", "symlink"),
                ("relative.txt", "symlink"),
                ("sub/dangling", "symlink"),
            ]
        );
    }

    #[test]
    fn fifos_and_sockets_are_refused() {
        let dir = dir_with(&[("ok.txt", "ok")]);
        mkfifo(&dir.path().join("pipe"));
        let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();

        let scan = scan(dir.path()).unwrap();
        assert_eq!(names(&scan), ["ok.txt"]);
        assert_eq!(refused(&scan), [("pipe", "FIFO"), ("sock", "socket")]);
    }

    #[test]
    fn devices_are_refused() {
        assert_eq!(
            refusal_for(fs::symlink_metadata("/dev/null").unwrap().file_type()),
            Some(reason::DEVICE)
        );
    }

    #[test]
    fn names_that_are_not_result_names_are_refused() {
        let dir = dir_with(&[
            ("ok.txt", "ok"),
            ("back\\slash.txt", "b"),
            ("line\nbreak", "n"),
            ("bad\\dir/inside.txt", "i"),
        ]);

        let scan = scan(dir.path()).unwrap();
        assert_eq!(names(&scan), ["ok.txt"]);
        let reasons = refused(&scan);
        let expected = "the name contains a control character or backslash";
        assert_eq!(
            reasons,
            [
                ("back\\slash.txt", expected),
                ("bad\\dir", expected),
                ("line\nbreak", expected),
            ]
        );
    }

    #[test]
    fn a_file_replaced_by_a_symlink_after_the_walk_is_refused() {
        let dir = dir_with(&[("out.txt", "mine")]);
        let scan = scan(dir.path()).unwrap();
        let found = &scan.files[0];
        assert!(found.open().is_ok());

        fs::remove_file(&found.path).unwrap();
        symlink("/etc/passwd", &found.path).unwrap();
        assert_open_refused(found, reason::SYMLINK);
    }

    #[test]
    fn a_file_replaced_by_another_after_the_walk_is_refused() {
        let dir = dir_with(&[("out.txt", "mine"), ("z-other.txt", "other")]);
        let scan = scan(dir.path()).unwrap();
        let found = &scan.files[0];
        assert_eq!(found.name, "out.txt");

        fs::rename(dir.path().join("z-other.txt"), &found.path).unwrap();
        assert_open_refused(found, reason::REPLACED);
    }

    #[test]
    fn a_file_replaced_by_a_fifo_after_the_walk_is_refused_without_blocking() {
        let dir = dir_with(&[("out.txt", "mine")]);
        let scan = scan(dir.path()).unwrap();
        let found = &scan.files[0];

        fs::remove_file(&found.path).unwrap();
        mkfifo(&found.path);
        assert_open_refused(found, reason::REPLACED);
    }
}
