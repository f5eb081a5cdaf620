//! Changing an object by reading it, editing it and replacing it, guarded by the
//! resourceVersion read: when someone else changed the object in between, the
//! replace fails with 409 and the edit is made again on what is there now. For
//! edits that depend on the object's content (adding to a list), where a merge
//! patch would overwrite the other change.

use kube::api::PostParams;
use wharf_model::wire::ErrorCode;

use super::path::ObjectPath;
use crate::error::ApiError;
use crate::kinds::Kind;

/// How often an edit is tried before the caller is told to try again later.
const ATTEMPTS: usize = 5;

impl<K: Kind> ObjectPath<K> {
    /// Reads the object fresh, lets `edit` change it and replaces it, starting
    /// again on a conflict; an error from `edit` ends it with nothing written.
    /// `during` names the work for the 409 `busy` when every attempt met a
    /// conflict, e.g. "while the variables were being set".
    pub async fn update(
        &self,
        during: &str,
        mut edit: impl FnMut(&mut K) -> Result<(), ApiError>,
    ) -> Result<K, ApiError> {
        let api = self.api();
        for _ in 0..ATTEMPTS {
            let mut object = self.read().await?;
            edit(&mut object)?;
            match api
                .replace(&self.name, &PostParams::default(), &object)
                .await
            {
                Ok(replaced) => return Ok(replaced),
                Err(kube::Error::Api(status)) if status.code == 409 => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ApiError::conflict(
            ErrorCode::Busy,
            format!("the {} kept changing {during}; try again", K::kind(&())),
        ))
    }
}
