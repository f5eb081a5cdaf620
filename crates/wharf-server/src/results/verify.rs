//! A download that proves itself: the bytes are hashed as they pass and the last
//! chunk is held back until the whole file hashed to what was recorded, so a file
//! damaged or replaced in the store fails the transfer instead of arriving wrong.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use wharf_model::task::ResultFile;

use super::{StoreError, hex};

struct State<S> {
    inner: S,
    hasher: Sha256,
    held: Option<Bytes>,
    seen: u64,
    file: ResultFile,
    done: bool,
}

/// `inner`, ending with an error unless it is exactly `file.size` bytes hashing to
/// `file.sha256`.
pub fn verified<S>(
    inner: S,
    file: ResultFile,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send
where
    S: Stream<Item = Result<Bytes, StoreError>> + Send + Unpin,
{
    let state = State {
        inner,
        hasher: Sha256::new(),
        held: None,
        seen: 0,
        file,
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        loop {
            match state.inner.next().await {
                Some(Ok(chunk)) => {
                    state.hasher.update(&chunk);
                    state.seen += chunk.len() as u64;
                    if chunk.is_empty() {
                        continue;
                    }
                    if let Some(previous) = state.held.replace(chunk) {
                        return Some((Ok(previous), state));
                    }
                }
                Some(Err(error)) => {
                    state.done = true;
                    return Some((Err(error), state));
                }
                None => {
                    state.done = true;
                    let actual = hex(&std::mem::take(&mut state.hasher).finalize());
                    if state.seen != state.file.size || actual != state.file.sha256 {
                        let problem = format!(
                            "read back as {} bytes with SHA-256 {actual}, not the {} bytes with {} recorded",
                            state.seen, state.file.size, state.file.sha256
                        );
                        tracing::error!(name = %state.file.name, %problem, "a stored result file does not match its record");
                        return Some((
                            Err(StoreError::Changed {
                                name: state.file.name.clone(),
                                problem,
                            }),
                            state,
                        ));
                    }
                    return state.held.take().map(|last| (Ok(last), state));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    fn file(content: &[u8]) -> ResultFile {
        ResultFile {
            name: "f".into(),
            size: content.len() as u64,
            sha256: hex(&Sha256::digest(content)),
        }
    }

    fn chunks(
        parts: &[&'static [u8]],
    ) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + Unpin {
        futures::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn passes_matching_bytes_through() {
        let out: Vec<Bytes> = verified(chunks(&[b"ab", b"", b"cd"]), file(b"abcd"))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(out.concat(), b"abcd");
        let empty: Vec<Bytes> = verified(chunks(&[]), file(b""))
            .try_collect()
            .await
            .unwrap();
        assert!(empty.is_empty());
    }

    #[tokio::test]
    async fn withholds_the_last_chunk_of_wrong_bytes() {
        let mut stream = Box::pin(verified(chunks(&[b"ab", b"cX"]), file(b"abcd")));
        assert_eq!(
            stream.next().await.unwrap().unwrap(),
            Bytes::from_static(b"ab")
        );
        assert!(matches!(
            stream.next().await,
            Some(Err(StoreError::Changed { .. }))
        ));
        assert!(stream.next().await.is_none());
    }
}
