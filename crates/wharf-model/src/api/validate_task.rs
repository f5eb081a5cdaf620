//! Checks of a Task's spec with field paths, so the API answers a bad submission
//! with exactly what to fix before the Kubernetes API sees it. The CRD schema
//! enforces the same rules for `kubectl` users; what Apps and Tasks share (image,
//! environment, resources) is checked by the same code as for Apps.

use std::collections::BTreeSet;

use super::validate::{
    FieldError, check_env, check_image, check_resources, is_dns_label, is_env_name, is_quantity,
};
use crate::duration::parse_duration;
use crate::task::{MAX_TASK_NAME, TaskSpec};

/// Most entries of `command` or `args`.
const MAX_WORDS: usize = 128;
/// Most `envFrom` sources.
const MAX_ENV_FROM: usize = 32;
/// Most mounted files.
const MAX_FILES: usize = 64;
/// Largest mounted file.
const MAX_FILE_CONTENT: usize = 256 * 1024;

/// A DNS subdomain (RFC 1123) of at most 253 characters: the names of ConfigMaps
/// and Secrets.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|label| is_dns_label(label, 63, false))
}

/// Checks a Task's name: a DNS-1123 label of at most [`MAX_TASK_NAME`] characters.
pub fn validate_task_name(name: &str) -> Option<FieldError> {
    (!is_dns_label(name, MAX_TASK_NAME, false)).then(|| {
        FieldError::new(
            "metadata.name",
            format!("'{name}' is not a valid Task name: use at most {MAX_TASK_NAME} lower-case letters, digits and '-', starting and ending with a letter or digit"),
        )
    })
}

/// Checks a path in the container: absolute, not a folder, no `.` or `..` segments.
fn check_path(field: String, path: &str, errors: &mut Vec<FieldError>) {
    let segments_ok = path
        .split('/')
        .skip(1)
        .all(|s| !s.is_empty() && s != "." && s != "..");
    if !path.starts_with('/')
        || path.len() < 2
        || path.len() > 1024
        || path.contains('\0')
        || !segments_ok
    {
        errors.push(FieldError::new(
            field,
            format!("'{path}' is not an absolute path such as /data/out without '.', '..' or a trailing '/'"),
        ));
    }
}

/// Checks a duration such as `30m`; `positive` refuses zero.
fn check_duration(field: &str, text: &str, positive: bool, errors: &mut Vec<FieldError>) {
    match parse_duration(text) {
        Err(error) => errors.push(FieldError::new(field, error.to_string())),
        Ok(duration) if positive && duration.is_zero() => {
            errors.push(FieldError::new(field, "must be longer than 0s"));
        }
        Ok(_) if text.len() > 32 => {
            errors.push(FieldError::new(field, "must be at most 32 characters"));
        }
        Ok(_) => {}
    }
}

/// Every problem of a Task's name and spec, in field order (empty when valid).
pub fn validate_task(name: &str, spec: &TaskSpec) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = validate_task_name(name).into_iter().collect();
    check_image(&spec.image, &mut errors);
    for (field, words) in [("spec.command", &spec.command), ("spec.args", &spec.args)] {
        check_count(field, (words.len(), MAX_WORDS), "entries", "", &mut errors);
    }
    check_env(&spec.env, &mut errors);
    check_env_from(spec, &mut errors);
    check_files(spec, &mut errors);
    check_resources(spec.resources.as_ref(), &mut errors);
    if let Some(timeout) = &spec.timeout {
        check_duration("spec.timeout", timeout, true, &mut errors);
    }
    if !(0..=100).contains(&spec.retries) {
        errors.push(FieldError::new(
            "spec.retries",
            format!("{} is out of range: use 0 to 100", spec.retries),
        ));
    }
    if let Some(results) = &spec.results {
        if let Some(path) = &results.path {
            check_path("spec.results.path".into(), path, &mut errors);
        }
        if let Some(size) = &results.max_size
            && (!is_quantity(size) || size.len() > 32)
        {
            errors.push(FieldError::new(
                "spec.results.maxSize",
                format!("'{size}' is not a size such as 512Mi or 10Gi"),
            ));
        }
    }
    check_callback(spec, &mut errors);
    if let Some(ttl) = &spec.ttl_after_finished {
        check_duration("spec.ttlAfterFinished", ttl, false, &mut errors);
    }
    if let Some(queue) = &spec.queue
        && !is_dns_subdomain(queue)
    {
        errors.push(FieldError::new(
            "spec.queue",
            format!("'{queue}' is not a queue name: lower-case letters, digits, '-' and '.'"),
        ));
    }
    errors
}

/// Refuses a list of more than `max` `items`; `note` ends the message.
fn check_count(
    field: &str,
    (len, max): (usize, usize),
    items: &str,
    note: &str,
    errors: &mut Vec<FieldError>,
) {
    if len > max {
        errors.push(FieldError::new(
            field,
            format!("{len} {items} is too many: at most {max}{note}"),
        ));
    }
}

fn check_env_from(spec: &TaskSpec, errors: &mut Vec<FieldError>) {
    let count = (spec.env_from.len(), MAX_ENV_FROM);
    let note = ", dotenv files included";
    check_count("spec.envFrom", count, "sources", note, errors);
    for (i, source) in spec.env_from.iter().enumerate() {
        match (&source.config_map, &source.secret) {
            (Some(name), None) | (None, Some(name)) => {
                if !is_dns_subdomain(name) {
                    let kind = if source.secret.is_some() {
                        "secret"
                    } else {
                        "configMap"
                    };
                    errors.push(FieldError::new(
                        format!("spec.envFrom[{i}].{kind}"),
                        format!("'{name}' is not a valid {kind} name"),
                    ));
                }
            }
            _ => errors.push(FieldError::new(
                format!("spec.envFrom[{i}]"),
                "set exactly one of configMap and secret",
            )),
        }
        if let Some(prefix) = source.prefix.as_deref().filter(|p| !p.is_empty())
            && (prefix.len() > 64 || !is_env_name(prefix))
        {
            errors.push(FieldError::new(
                format!("spec.envFrom[{i}].prefix"),
                format!("'{prefix}' is not a variable name prefix of at most 64 characters"),
            ));
        }
    }
}

fn check_files(spec: &TaskSpec, errors: &mut Vec<FieldError>) {
    check_count(
        "spec.files",
        (spec.files.len(), MAX_FILES),
        "files",
        "",
        errors,
    );
    let mut paths = BTreeSet::new();
    for (i, file) in spec.files.iter().enumerate() {
        check_path(format!("spec.files[{i}].path"), &file.path, errors);
        if !paths.insert(file.path.as_str()) {
            errors.push(FieldError::new(
                format!("spec.files[{i}].path"),
                format!("{} is mounted twice", file.path),
            ));
        }
        if file.content.len() > MAX_FILE_CONTENT {
            errors.push(FieldError::new(
                format!("spec.files[{i}].content"),
                "a file holds at most 256 KiB",
            ));
        }
    }
}

fn check_callback(spec: &TaskSpec, errors: &mut Vec<FieldError>) {
    let Some(callback) = &spec.callback else {
        return;
    };
    let url = &callback.url;
    let scheme_ok = ["http://", "https://"].iter().any(|scheme| {
        url.strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty())
    });
    if !scheme_ok || url.len() > 2048 || url.chars().any(char::is_whitespace) {
        errors.push(FieldError::new(
            "spec.callback.url",
            format!("'{url}' is not an http:// or https:// URL of at most 2048 characters"),
        ));
    }
    if let Some(secret) = &callback.secret_ref {
        if !is_dns_subdomain(&secret.name) {
            errors.push(FieldError::new(
                "spec.callback.secretRef.name",
                format!("'{}' is not a Secret name", secret.name),
            ));
        }
        if let Some(key) = &secret.key
            && (key.is_empty()
                || key.len() > 253
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            errors.push(FieldError::new(
                "spec.callback.secretRef.key",
                format!("'{key}' is not a Secret key: letters, digits, '-', '_' and '.'"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> TaskSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn a_good_task_has_no_errors() {
        let good = spec(
            "{image: 'python:3.13', command: [python3], args: ['-c', 'print(1)'],
              env: [{name: MODE, value: fast}], envFrom: [{configMap: settings}, {secret: creds, prefix: DB_}],
              files: [{path: /etc/app/conf.ini, content: 'a=1'}], resources: {limits: {nvidia.com/gpu: '1'}},
              timeout: 30m, retries: 3, results: {path: /out, maxSize: 2Gi},
              callback: {url: 'https://hooks.example.com/done', secretRef: {name: hook, key: hmac}},
              ttlAfterFinished: 7d, queue: gpu-queue}",
        );
        assert_eq!(validate_task("nightly-2", &good), []);
        assert_eq!(validate_task("7up", &spec("{image: x}")), []);
    }

    #[test]
    fn each_problem_names_its_field() {
        let bad = spec(
            "{image: 'bad image', env: [{name: '1A', value: x}], envFrom: [{}, {configMap: Bad_Name}],
              files: [{path: relative, content: x}, {path: /a/../b, content: x}],
              resources: {requests: {cpu: lots}}, timeout: 0s, retries: 101,
              results: {path: /out/, maxSize: huge}, callback: {url: 'ftp://x', secretRef: {name: s, key: 'a b'}},
              ttlAfterFinished: soon, queue: Q}",
        );
        let fields: Vec<_> = validate_task("Nightly", &bad)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "metadata.name",
                "spec.image",
                "spec.env[0].name",
                "spec.envFrom[0]",
                "spec.envFrom[1].configMap",
                "spec.files[0].path",
                "spec.files[1].path",
                "spec.resources.requests.cpu",
                "spec.timeout",
                "spec.retries",
                "spec.results.path",
                "spec.results.maxSize",
                "spec.callback.url",
                "spec.callback.secretRef.key",
                "spec.ttlAfterFinished",
                "spec.queue",
            ]
        );
    }

    #[test]
    fn names_lists_and_paths_have_limits() {
        assert!(validate_task_name(&"a".repeat(MAX_TASK_NAME)).is_none());
        assert!(validate_task_name(&"a".repeat(MAX_TASK_NAME + 1)).is_some());
        assert!(validate_task_name("-a").is_some());
        let many = TaskSpec {
            image: "x".into(),
            args: vec!["a".into(); MAX_WORDS + 1],
            ..TaskSpec::default()
        };
        assert_eq!(validate_task("t", &many)[0].field, "spec.args");
        let twice = spec("{image: x, files: [{path: /a, content: x}, {path: /a, content: y}]}");
        assert_eq!(validate_task("t", &twice)[0].field, "spec.files[1].path");
    }
}
