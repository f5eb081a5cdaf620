//! Preview apps: an App with `expiresAfter` is deleted that long after creation.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use wharf_model::app::App;
use wharf_model::duration::{InvalidDuration, parse_duration};

/// When the App expires, if it has `expiresAfter`.
pub fn expires_at(app: &App) -> Result<Option<Timestamp>, InvalidDuration> {
    let Some(text) = &app.spec.expires_after else {
        return Ok(None);
    };
    let after = parse_duration(text)?;
    let created = app
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0)
        .unwrap_or_else(Timestamp::now);
    let after = SignedDuration::try_from(after).map_err(|_| InvalidDuration(text.clone()))?;
    created
        .checked_add(after)
        .map(Some)
        .map_err(|_| InvalidDuration(text.clone()))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    #[test]
    fn expiry_is_creation_plus_the_duration() {
        let mut app = App::new("preview", Default::default());
        app.metadata.creation_timestamp = Some(Time(Timestamp::from_second(1_000).unwrap()));
        assert_eq!(expires_at(&app), Ok(None));
        app.spec.expires_after = Some("1h30m".into());
        assert_eq!(
            expires_at(&app),
            Ok(Some(Timestamp::from_second(1_000 + 5_400).unwrap()))
        );
    }
}
