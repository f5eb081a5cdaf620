//! The result store: where the files a Task's collector uploads are kept, on the
//! local filesystem (the default) or in any S3-compatible service.
//!
//! Every file is streamed in and out, never held in memory whole. An upload is
//! hashed as it passes and committed only when its SHA-256 equals the one the
//! collector declared, so a stored file is always the file that was sent. Keys:
//!
//! ```text
//! tasks/{namespace}/{task}/{uid}/files/{name}    the bytes
//! tasks/{namespace}/{task}/{uid}/digests/{name}  {"size":…,"sha256":…}, after the bytes are verified
//! tasks/{namespace}/{task}/{uid}/manifest.json   what the collector reported, checked against the digests
//! ```
//!
//! The Task's uid keeps a new Task of the same name from seeing an old one's files.

mod archive;
mod config;
mod quantity;
mod streams;
mod sweep;
mod verify;

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde::{Deserialize, Serialize};
use wharf_model::task::{ResultFile, ResultManifest, ResultNameError, validate_result_name};

pub use config::{S3Config, StoreConfig};
pub use quantity::{QuantityError, parse_bytes};
use streams::{payload_stream, read_ahead, receive};
pub use sweep::sweep_forever;

/// Size of the parts an upload is written in. S3 wants at least 5 MiB per part
/// (but the last), and a part is the most an upload holds in memory at once.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts written at once per upload: with the part being filled, at most three
/// parts (15 MiB) per upload are in memory.
const PARTS_IN_FLIGHT: usize = 2;
/// An upload whose body sends nothing for this long is abandoned, so a stalled
/// collector does not hold a half-written file for ever.
const UPLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Chunk size of reads from the local filesystem (object_store's own is 8 KiB,
/// which costs a thread hop per 8 KiB).
const LOCAL_READ_CHUNK: u64 = 1024 * 1024;

/// What can go wrong in the result store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file name is not a plain relative path.
    #[error("invalid result name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it is refused.
        #[source]
        reason: ResultNameError,
    },
    /// The declared digest is not 64 lower-case hex digits.
    #[error("{0:?} is not a SHA-256 digest: expected 64 lower-case hex digits")]
    InvalidDigest(String),
    /// The upload is larger than the Task allows.
    #[error("the file is larger than the Task's limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The bytes received do not hash to the declared digest; nothing was stored.
    #[error("the file's SHA-256 is {actual} but {declared} was declared; nothing was stored")]
    DigestMismatch {
        /// What the client declared.
        declared: String,
        /// What the received bytes hash to.
        actual: String,
    },
    /// The client's body failed or stalled before its end.
    #[error("the upload was interrupted: {0}")]
    Body(String),
    /// A manifest entry does not match what was stored.
    #[error("manifest entry {name:?} {problem}")]
    ManifestMismatch {
        /// The entry's name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file is not in the store.
    #[error("result file {0:?} is not stored")]
    NotFound(String),
    /// The stored bytes are not the ones recorded (replaced or damaged since).
    #[error("stored result file {name:?} {problem}")]
    Changed {
        /// The file's name.
        name: String,
        /// How it differs.
        problem: String,
    },
    /// A stored record is not valid JSON of the expected shape.
    #[error("stored record {key} is unreadable")]
    Record {
        /// The record's key.
        key: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The store's configuration is unusable.
    #[error("invalid result store configuration: {0}")]
    Config(String),
    /// The underlying object store failed.
    #[error("the result store failed")]
    Store(#[from] object_store::Error),
}

/// The Task a set of results belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey {
    /// The Task's namespace.
    pub namespace: String,
    /// The Task's name.
    pub name: String,
    /// The Task's uid: results of a deleted Task never show under a new one.
    pub uid: String,
}

impl TaskKey {
    /// The key of Task `name` in `namespace` with `uid`.
    pub fn new(namespace: &str, name: &str, uid: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            uid: uid.to_owned(),
        }
    }

    fn prefix(&self) -> Path {
        Path::from_iter(["tasks", &self.namespace, &self.name, &self.uid])
    }

    fn file(&self, name: &str) -> Path {
        self.under("files", name)
    }

    fn digest(&self, name: &str) -> Path {
        self.under("digests", name)
    }

    fn manifest(&self) -> Path {
        self.prefix().join("manifest.json")
    }

    /// Each segment of the (validated) name becomes one path part, percent-encoded
    /// by object_store where a store would misread it.
    fn under(&self, folder: &str, name: &str) -> Path {
        let mut path = self.prefix().join(folder);
        for segment in name.split('/') {
            path = path.join(segment);
        }
        path
    }
}

/// The size and SHA-256 of a verified upload, stored beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, 64 lower-case hex digits.
    pub sha256: String,
}

/// A stream of a stored file's bytes.
pub type ByteStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// Where Task result files are kept. Cheap to clone.
#[derive(Clone)]
pub struct ResultStore {
    store: Arc<dyn ObjectStore>,
    /// The same store when it is a local directory, for tidying its folders.
    local: Option<(Arc<LocalFileSystem>, std::path::PathBuf)>,
    description: Arc<str>,
}

impl std::fmt::Debug for ResultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl std::fmt::Display for ResultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

/// Whether `digest` is 64 lower-case hex digits.
pub fn is_sha256_hex(digest: &str) -> bool {
    digest.len() == 64
        && digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn checked_name(name: &str) -> Result<(), StoreError> {
    validate_result_name(name).map_err(|reason| StoreError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

impl ResultStore {
    /// A store as configured.
    pub fn new(config: &StoreConfig) -> Result<Self, StoreError> {
        match config {
            StoreConfig::Local { dir } => Self::local(dir),
            StoreConfig::S3(s3) => Self::s3(s3),
        }
    }

    /// A store in directory `dir` of the local filesystem, created if missing.
    pub fn local(dir: &std::path::Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Config(format!(
                "cannot create results directory {}: {e}",
                dir.display()
            ))
        })?;
        // Empty folders go with the last file in them, so a swept Task leaves none.
        let root = std::fs::canonicalize(dir).map_err(|e| {
            StoreError::Config(format!(
                "cannot use results directory {}: {e}",
                dir.display()
            ))
        })?;
        let store = Arc::new(LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true));
        Ok(Self {
            store: store.clone(),
            local: Some((store, root)),
            description: format!("local directory {}", dir.display()).into(),
        })
    }

    /// A store in an S3-compatible bucket.
    pub fn s3(config: &S3Config) -> Result<Self, StoreError> {
        let store = config.build()?;
        Ok(Self {
            store: Arc::new(store),
            local: None,
            description: format!("bucket {} at {}", config.bucket, config.endpoint).into(),
        })
    }

    /// Streams `body` into result file `name` of `task`. Refuses more than `limit`
    /// bytes, and commits the file only when its SHA-256 equals `declared`;
    /// otherwise nothing is stored (a file already stored under the name stays).
    pub async fn put_file<S, E>(
        &self,
        task: &TaskKey,
        name: &str,
        declared: &str,
        limit: u64,
        body: S,
    ) -> Result<ResultFile, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        checked_name(name)?;
        if !is_sha256_hex(declared) {
            return Err(StoreError::InvalidDigest(declared.to_owned()));
        }
        let upload = self.store.put_multipart(&task.file(name)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match receive(&mut writer, body, limit).await {
            Ok((size, actual)) if actual == declared => {
                // A reader must never pair the new bytes with an old record, so the
                // old record goes before the new bytes land.
                self.store
                    .delete(&task.digest(name))
                    .await
                    .or_else(ignore_not_found)?;
                writer.finish().await?;
                let digest = FileDigest {
                    size,
                    sha256: actual,
                };
                let record = serde_json::to_vec(&digest).map_err(|source| StoreError::Record {
                    key: task.digest(name).to_string(),
                    source,
                })?;
                self.store
                    .put(&task.digest(name), PutPayload::from(record))
                    .await?;
                Ok(ResultFile {
                    name: name.to_owned(),
                    size: digest.size,
                    sha256: digest.sha256,
                })
            }
            Ok((_, actual)) => {
                writer.abort().await?;
                self.remove_empty_folders(&task.file(name)).await;
                Err(StoreError::DigestMismatch {
                    declared: declared.to_owned(),
                    actual,
                })
            }
            Err(error) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "aborting a refused upload failed");
                }
                self.remove_empty_folders(&task.file(name)).await;
                Err(error)
            }
        }
    }

    /// The digest record of file `name`, if it was uploaded and verified.
    pub async fn digest(
        &self,
        task: &TaskKey,
        name: &str,
    ) -> Result<Option<FileDigest>, StoreError> {
        checked_name(name)?;
        self.read_json(&task.digest(name)).await
    }

    /// Checks every file of `manifest` against its digest record (names valid and
    /// unique, size and SHA-256 equal) and stores the manifest, with its files
    /// ordered by name. Returns what was stored.
    pub async fn put_manifest(
        &self,
        task: &TaskKey,
        manifest: &ResultManifest,
    ) -> Result<ResultManifest, StoreError> {
        let mut manifest = manifest.clone();
        manifest.files.sort_by(|a, b| a.name.cmp(&b.name));
        manifest.refused.sort_by(|a, b| a.name.cmp(&b.name));
        let mismatch = |name: &str, problem: String| StoreError::ManifestMismatch {
            name: name.to_owned(),
            problem,
        };
        for pair in manifest.files.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(mismatch(&pair[0].name, "is listed twice".into()));
            }
        }
        // Owned futures: borrowed ones would not be `Send` for every lifetime,
        // which a handler's future must be.
        let checks = manifest.files.clone().into_iter().map(|file| {
            let store = self.clone();
            let task = task.clone();
            async move { store.check_entry(&task, &file).await }
        });
        // A few records at a time: a manifest can list thousands of files.
        futures::stream::iter(checks)
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
        let body = serde_json::to_vec(&manifest).map_err(|source| StoreError::Record {
            key: task.manifest().to_string(),
            source,
        })?;
        self.store
            .put(&task.manifest(), PutPayload::from(body))
            .await?;
        Ok(manifest)
    }

    /// Checks one manifest entry against its digest record.
    async fn check_entry(&self, task: &TaskKey, file: &ResultFile) -> Result<(), StoreError> {
        let mismatch = |problem: String| StoreError::ManifestMismatch {
            name: file.name.clone(),
            problem,
        };
        checked_name(&file.name)?;
        let stored = self
            .digest(task, &file.name)
            .await?
            .ok_or_else(|| mismatch("was not uploaded (or its upload was refused)".into()))?;
        if stored.size != file.size {
            return Err(mismatch(format!(
                "says {} bytes but {} were stored",
                file.size, stored.size
            )));
        }
        if stored.sha256 != file.sha256 {
            return Err(mismatch(format!(
                "says SHA-256 {} but the stored file has {}",
                file.sha256, stored.sha256
            )));
        }
        Ok(())
    }

    /// The stored manifest, if one was accepted.
    pub async fn manifest(&self, task: &TaskKey) -> Result<Option<ResultManifest>, StoreError> {
        self.read_json(&task.manifest()).await
    }

    /// Streams result file `file` (all of it, or the bytes in `range`), which must
    /// be stored exactly as recorded: a different size fails at once, and a full
    /// read whose bytes do not hash to `file.sha256` fails before its last chunk.
    pub async fn open(
        &self,
        task: &TaskKey,
        file: &ResultFile,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, StoreError> {
        checked_name(&file.name)?;
        // A zero-length range is an error to every store, and has nothing to read.
        if range.as_ref().is_some_and(Range::is_empty) {
            return Ok(futures::stream::empty().boxed());
        }
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(&task.file(&file.name), options).await {
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound(file.name.clone()));
            }
            other => other?,
        };
        if got.meta.size != file.size {
            return Err(StoreError::Changed {
                name: file.name.clone(),
                problem: format!(
                    "holds {} bytes, not the {} recorded",
                    got.meta.size, file.size
                ),
            });
        }
        let bytes = payload_stream(got).map_err(StoreError::from);
        if range.is_some() {
            return Ok(read_ahead(bytes.boxed()));
        }
        Ok(read_ahead(verify::verified(bytes, file.clone()).boxed()))
    }

    /// A gzip-compressed tar archive of `files`, streamed as it is made. Each entry
    /// is named by the result name and verified like a full [`ResultStore::open`];
    /// a file that fails ends the stream with an error, never a wrong archive.
    pub fn tar_gz(
        &self,
        task: &TaskKey,
        files: Vec<ResultFile>,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        archive::tar_gz(self.clone(), task.clone(), files)
    }

    /// Deletes every stored object of `task`; returns how many there were.
    pub async fn delete_task(&self, task: &TaskKey) -> Result<usize, StoreError> {
        self.delete_prefix(&task.prefix()).await
    }

    /// Every Task that has objects in the store.
    pub async fn stored_tasks(&self) -> Result<Vec<TaskKey>, StoreError> {
        // Objects, not folders: a local folder can outlive its files.
        let mut tasks = std::collections::BTreeSet::new();
        let mut objects = self.store.list(Some(&Path::from("tasks")));
        while let Some(meta) = objects.try_next().await? {
            let parts: Vec<_> = meta.location.parts().collect();
            if let [_, namespace, name, uid, _, ..] = parts.as_slice() {
                tasks.insert(TaskKey::new(
                    namespace.as_ref(),
                    name.as_ref(),
                    uid.as_ref(),
                ));
            }
        }
        Ok(tasks.into_iter().collect())
    }

    /// Removes the local folders an aborted upload of `file` made and left empty.
    async fn remove_empty_folders(&self, file: &Path) {
        let Some((local, root)) = &self.local else {
            return;
        };
        let Ok(path) = local.path_to_filesystem(file) else {
            return;
        };
        let root = root.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let mut folder = path.parent();
            while let Some(dir) = folder.filter(|d| d.starts_with(&root) && *d != root) {
                // Fails, and so stops, at the first folder that still holds something.
                if std::fs::remove_dir(dir).is_err() {
                    break;
                }
                folder = dir.parent();
            }
        })
        .await;
    }

    async fn delete_prefix(&self, prefix: &Path) -> Result<usize, StoreError> {
        let locations = self
            .store
            .list(Some(prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        let deleted = self
            .store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(deleted.len())
    }

    async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &Path,
    ) -> Result<Option<T>, StoreError> {
        let bytes = match self.store.get(key).await {
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            other => other?.bytes().await?,
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Record {
                key: key.to_string(),
                source,
            })
    }
}

fn ignore_not_found(error: object_store::Error) -> Result<(), object_store::Error> {
    match error {
        object_store::Error::NotFound { .. } => Ok(()),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests;
