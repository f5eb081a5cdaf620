//! The streams of the result store: an upload fed into a multipart write while it
//! is hashed, reads run ahead of the sender, and local files read in large chunks.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use object_store::{GetResultPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use super::{ByteStream, LOCAL_READ_CHUNK, PARTS_IN_FLIGHT, StoreError, UPLOAD_IDLE_TIMEOUT, hex};

/// Feeds `body` into `writer`, hashing as it goes; the size and hex SHA-256.
pub(super) async fn receive<S, E>(
    writer: &mut WriteMultipart,
    body: S,
    limit: u64,
) -> Result<(u64, String), StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    loop {
        let next = tokio::time::timeout(UPLOAD_IDLE_TIMEOUT, body.next())
            .await
            .map_err(|_| {
                StoreError::Body(format!("no data for {}s", UPLOAD_IDLE_TIMEOUT.as_secs()))
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| StoreError::Body(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(StoreError::TooLarge { limit });
        }
        hasher.update(&chunk);
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.put(chunk);
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Chunks read (and hashed) ahead of the consumer, at most this many.
const READ_AHEAD: usize = 4;

/// Drives `stream` on its own task, [`READ_AHEAD`] chunks ahead of whoever consumes
/// the result, so reading and hashing the next chunks overlaps sending this one
/// (they run on different cores). Memory stays bounded by the channel. Dropping
/// the result stops the reading.
pub(super) fn read_ahead(mut stream: ByteStream) -> ByteStream {
    let (sender, receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            let failed = item.is_err();
            if sender.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed()
}

/// The bytes of a get, in large chunks for local files.
pub(super) fn payload_stream(
    got: object_store::GetResult,
) -> BoxStream<'static, object_store::Result<Bytes>> {
    match got.payload {
        GetResultPayload::File(file, path) => local_chunks(file, path, got.range),
        GetResultPayload::Stream(stream) => stream,
    }
}

/// Reads `range` of a local file in [`LOCAL_READ_CHUNK`] pieces on the blocking pool.
fn local_chunks(
    file: std::fs::File,
    path: std::path::PathBuf,
    range: Range<u64>,
) -> BoxStream<'static, object_store::Result<Bytes>> {
    use std::io::{Read, Seek, SeekFrom};
    let failed = |path: &std::path::Path, e: std::io::Error| object_store::Error::Generic {
        store: "LocalFileSystem",
        source: format!("reading {}: {e}", path.display()).into(),
    };
    futures::stream::try_unfold(
        (file, path, range.start, range.end, false),
        move |(mut file, path, at, end, positioned)| async move {
            if at >= end {
                return Ok(None);
            }
            let read = tokio::task::spawn_blocking(move || {
                if !positioned {
                    file.seek(SeekFrom::Start(at))
                        .map_err(|e| failed(&path, e))?;
                }
                let want = (end - at).min(LOCAL_READ_CHUNK);
                let mut buffer = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
                (&mut file)
                    .take(want)
                    .read_to_end(&mut buffer)
                    .map_err(|e| failed(&path, e))?;
                if buffer.is_empty() {
                    return Err(failed(
                        &path,
                        std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "file shrank while read",
                        ),
                    ));
                }
                Ok((buffer, file, path))
            })
            .await
            .map_err(|e| object_store::Error::JoinError { source: e })??;
            let (buffer, file, path) = read;
            let next = at + buffer.len() as u64;
            Ok(Some((Bytes::from(buffer), (file, path, next, end, true))))
        },
    )
    .boxed()
}
