//! A `.tar.gz` of a Task's result files, made while it is sent: each file is read
//! from the store, written as a tar entry and compressed on the way out, so the
//! archive is never held in memory or on disk.

use std::io;

use async_compression::tokio::write::GzipEncoder;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;
use tokio_tar::{Builder, EntryType, Header};
use tokio_util::io::{ReaderStream, StreamReader};
use wharf_model::task::ResultFile;

use super::{ResultStore, TaskKey};

/// Bytes buffered between the archive writer and the response.
const PIPE: usize = 256 * 1024;

/// The archive of `files`, as a stream that ends with an error if any file cannot
/// be read exactly as recorded (so a client never takes a cut archive for whole).
pub fn tar_gz(
    store: ResultStore,
    task: TaskKey,
    files: Vec<ResultFile>,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let (writer, reader) = tokio::io::duplex(PIPE);
    let written = tokio::spawn(async move {
        let result = write_archive(&store, &task, files, writer).await;
        if let Err(error) = &result {
            // A client that went away is not worth a warning.
            if error.kind() != io::ErrorKind::BrokenPipe {
                tracing::warn!(%error, namespace = %task.namespace, task = %task.name, "writing a results archive failed");
            }
        }
        result
    });
    // The reader ends when the writer is dropped, whether it finished or failed; the
    // writer's outcome decides whether the stream ends cleanly.
    let outcome = futures::stream::once(async move {
        match written.await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(Err(error)),
            Err(join) => Some(Err(io::Error::other(join))),
        }
    })
    .filter_map(std::future::ready);
    ReaderStream::with_capacity(reader, PIPE).chain(outcome)
}

async fn write_archive(
    store: &ResultStore,
    task: &TaskKey,
    files: Vec<ResultFile>,
    writer: tokio::io::DuplexStream,
) -> io::Result<()> {
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Not terminated on drop: a failed archive must not end like a whole one.
    let mut builder = Builder::new_non_terminated(GzipEncoder::new(writer));
    for file in files {
        let content = store
            .open(task, &file, None)
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other);
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(file.size);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        // Names longer than 100 bytes get a GNU long-name entry before the header.
        builder
            .append_data(&mut header, &file.name, StreamReader::new(content))
            .await?;
    }
    let mut gzip = builder.into_inner().await?;
    gzip.shutdown().await
}
