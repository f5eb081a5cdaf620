//! The store on a temporary directory: what goes in comes out, and what is refused
//! leaves nothing behind.

use std::io::Read;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::ObjectStore;
use rand::RngCore;
use sha2::{Digest, Sha256};
use wharf_model::task::{RefusedResult, ResultFile, ResultManifest};

use super::*;

fn random(len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    rand::rng().fill_bytes(&mut data);
    data
}

fn sha(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// `data` as a body of uneven chunks, as a network delivers it.
fn body(data: &[u8]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(70_001)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(chunks)
}

/// A store in a temporary directory, deleted when the directory handle is dropped.
fn local_store() -> (tempfile::TempDir, ResultStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ResultStore::local(dir.path()).unwrap();
    (dir, store)
}

/// `file`'s record with a digest of other bytes than those stored.
fn misrecorded(file: ResultFile) -> ResultFile {
    ResultFile {
        sha256: sha(b"not the stored bytes"),
        ..file
    }
}

fn task() -> TaskKey {
    TaskKey::new("team-a", "train", "0b7e-uid")
}

async fn objects(store: &ResultStore) -> Vec<String> {
    let mut keys: Vec<String> = store
        .store
        .list(None)
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

async fn read(store: &ResultStore, file: &ResultFile, range: Option<Range<u64>>) -> Vec<u8> {
    let chunks: Vec<Bytes> = store
        .open(&task(), file, range)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    chunks.concat()
}

async fn upload(store: &ResultStore, name: &str, data: &[u8]) -> ResultFile {
    store
        .put_file(&task(), name, &sha(data), u64::MAX, body(data))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_file_round_trips_with_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = ResultStore::local(&dir.path().join("results")).unwrap();
    // More than two parts, so the multipart path is exercised.
    let data = random(12 * 1024 * 1024 + 3);
    let stored = upload(&store, "out/model.bin", &data).await;
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(stored.sha256, sha(&data));
    assert_eq!(read(&store, &stored, None).await, data);
    assert_eq!(
        store.digest(&task(), "out/model.bin").await.unwrap(),
        Some(FileDigest {
            size: stored.size,
            sha256: stored.sha256.clone()
        })
    );
    assert_eq!(
        objects(&store).await,
        [
            "tasks/team-a/train/0b7e-uid/digests/out/model.bin",
            "tasks/team-a/train/0b7e-uid/files/out/model.bin"
        ]
    );

    let empty = upload(&store, "empty", b"").await;
    assert_eq!(empty.size, 0);
    assert!(read(&store, &empty, None).await.is_empty());
}

#[tokio::test]
async fn a_wrong_digest_stores_nothing() {
    let (dir, store) = local_store();
    let data = random(6 * 1024 * 1024);
    let wrong = sha(b"something else");
    let refused = store
        .put_file(&task(), "a.bin", &wrong, u64::MAX, body(&data))
        .await
        .unwrap_err();
    match refused {
        StoreError::DigestMismatch { declared, actual } => {
            assert_eq!(declared, wrong);
            assert_eq!(actual, sha(&data));
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    assert!(objects(&store).await.is_empty());
    assert!(store.stored_tasks().await.unwrap().is_empty());
    // Nor is a staged part, or a folder made for it, left in the directory.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let bad = store
        .put_file(&task(), "a.bin", "ABC", u64::MAX, body(&data))
        .await
        .unwrap_err();
    assert!(matches!(bad, StoreError::InvalidDigest(_)), "{bad}");
}

#[tokio::test]
async fn more_than_the_limit_is_refused() {
    let (dir, store) = local_store();
    let data = random(1000);
    let refused = store
        .put_file(&task(), "big", &sha(&data), 999, body(&data))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::TooLarge { limit: 999 }),
        "{refused}"
    );
    assert!(objects(&store).await.is_empty());
    let left: Vec<_> = walkdir(dir.path());
    assert!(left.is_empty(), "{left:?}");
    // Exactly the limit is fine.
    store
        .put_file(&task(), "big", &sha(&data), 1000, body(&data))
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_names_are_refused() {
    let (_dir, store) = local_store();
    for name in ["../x", "/abs", "a//b", "a/./b", ""] {
        let refused = store
            .put_file(&task(), name, &sha(b"x"), 10, body(b"x"))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::InvalidName { .. }),
            "{name}: {refused}"
        );
    }
    assert!(objects(&store).await.is_empty());
}

#[tokio::test]
async fn a_failing_body_stores_nothing() {
    let (_dir, store) = local_store();
    let broken = futures::stream::iter([
        Ok(Bytes::from_static(b"abc")),
        Err(std::io::Error::other("connection reset")),
    ]);
    let refused = store
        .put_file(&task(), "f", &sha(b"abc"), 10, broken)
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Body(_)), "{refused}");
    assert!(objects(&store).await.is_empty());
}

#[tokio::test]
async fn ranges_read_exactly_their_bytes() {
    let (_dir, store) = local_store();
    let data = random(1_000_000);
    let file = upload(&store, "r.bin", &data).await;
    for range in [
        0..1,
        0..1_000_000,
        10..20,
        999_999..1_000_000,
        262_000..800_000,
        5..5,
    ] {
        let start = usize::try_from(range.start).unwrap();
        let end = usize::try_from(range.end).unwrap();
        assert_eq!(
            read(&store, &file, Some(range.clone())).await,
            &data[start..end],
            "{range:?}"
        );
    }
}

#[tokio::test]
async fn a_file_that_differs_from_its_record_fails_to_read() {
    let (_dir, store) = local_store();
    let file = upload(&store, "f", b"hello").await;
    let wrong_sha = misrecorded(file.clone());
    let read: Result<Vec<Bytes>, _> = store
        .open(&task(), &wrong_sha, None)
        .await
        .unwrap()
        .try_collect()
        .await;
    assert!(matches!(read, Err(StoreError::Changed { .. })));
    let wrong_size = ResultFile { size: 4, ..file };
    assert!(matches!(
        store.open(&task(), &wrong_size, None).await,
        Err(StoreError::Changed { .. })
    ));
    let missing = ResultFile {
        name: "nope".into(),
        size: 0,
        sha256: sha(b""),
    };
    assert!(matches!(
        store.open(&task(), &missing, None).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn the_manifest_must_match_the_stored_files() {
    let (_dir, store) = local_store();
    let b = upload(&store, "b.txt", b"bee").await;
    let a = upload(&store, "dir/a.txt", b"ay").await;
    let refused = vec![RefusedResult {
        name: "link".into(),
        reason: "symlink".into(),
    }];
    let manifest = ResultManifest {
        files: vec![b.clone(), a.clone()],
        refused: refused.clone(),
    };
    let stored = store.put_manifest(&task(), &manifest).await.unwrap();
    assert_eq!(stored.files, [b.clone(), a.clone()]);
    assert_eq!(store.manifest(&task()).await.unwrap(), Some(stored));

    let cases = [
        (
            vec![ResultFile {
                size: 4,
                ..b.clone()
            }],
            "b.txt",
            "says 4 bytes but 3 were stored",
        ),
        (
            vec![ResultFile {
                sha256: sha(b"x"),
                ..b.clone()
            }],
            "b.txt",
            "says SHA-256",
        ),
        (
            vec![ResultFile {
                name: "c.txt".into(),
                ..b.clone()
            }],
            "c.txt",
            "was not uploaded",
        ),
        (vec![b.clone(), b.clone()], "b.txt", "listed twice"),
    ];
    for (files, name, problem) in cases {
        let wrong = ResultManifest {
            files,
            refused: vec![],
        };
        match store.put_manifest(&task(), &wrong).await.unwrap_err() {
            StoreError::ManifestMismatch {
                name: n,
                problem: p,
            } => {
                assert_eq!(n, name);
                assert!(p.contains(problem), "{p}");
            }
            other => panic!("expected a manifest mismatch, got {other}"),
        }
    }
    let invalid = ResultManifest {
        files: vec![ResultFile {
            name: "../b.txt".into(),
            ..b
        }],
        refused: vec![],
    };
    assert!(matches!(
        store.put_manifest(&task(), &invalid).await,
        Err(StoreError::InvalidName { .. })
    ));
}

#[tokio::test]
async fn a_tar_gz_holds_every_file_byte_for_byte() {
    let (_dir, store) = local_store();
    let long_name = format!("{}/{}.dat", "deep".repeat(30), "x".repeat(90));
    let contents = [
        ("a.txt".to_owned(), b"alpha".to_vec()),
        ("bin/blob".to_owned(), random(3 * 1024 * 1024 + 17)),
        ("empty".to_owned(), Vec::new()),
        (long_name.clone(), random(513)),
    ];
    let mut files = Vec::new();
    for (name, data) in &contents {
        files.push(upload(&store, name, data).await);
    }
    let chunks: Vec<Bytes> = store.tar_gz(&task(), files).try_collect().await.unwrap();
    let gz = chunks.concat();

    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_slice()));
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        seen.push((name, data));
    }
    assert_eq!(seen.len(), contents.len());
    for ((name, data), (want_name, want)) in seen.iter().zip(&contents) {
        assert_eq!(name, want_name);
        assert!(data == want, "{name} differs");
    }
}

#[tokio::test]
async fn an_archive_with_a_broken_file_ends_in_an_error() {
    let (_dir, store) = local_store();
    let good = upload(&store, "good", b"fine").await;
    let bad = misrecorded(upload(&store, "bad", b"bytes").await);
    let result: Result<Vec<Bytes>, _> = store.tar_gz(&task(), vec![good, bad]).try_collect().await;
    assert!(result.is_err());
}

#[tokio::test]
async fn tasks_are_listed_and_deleted_whole() {
    let (dir, store) = local_store();
    upload(&store, "x/y", b"1").await;
    let other = TaskKey::new("team-b", "etl", "uid-2");
    store
        .put_file(&other, "z", &sha(b"2"), 10, body(b"2"))
        .await
        .unwrap();
    let mut tasks = store.stored_tasks().await.unwrap();
    tasks.sort();
    assert_eq!(tasks, [task(), other.clone()]);
    assert_eq!(store.delete_task(&task()).await.unwrap(), 2);
    assert_eq!(store.stored_tasks().await.unwrap(), [other]);
    // Empty folders go too.
    assert!(!dir.path().join("tasks/team-a").exists());
}

#[tokio::test]
async fn a_new_upload_replaces_the_old_file_and_record() {
    let (_dir, store) = local_store();
    upload(&store, "f", b"first").await;
    let second = upload(&store, "f", b"second!").await;
    assert_eq!(read(&store, &second, None).await, b"second!");
    assert_eq!(store.digest(&task(), "f").await.unwrap().unwrap().size, 7);
}

fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walkdir(&path));
        }
        found.push(path);
    }
    found
}
