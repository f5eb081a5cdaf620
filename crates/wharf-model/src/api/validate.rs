//! Checks of an App's spec with field paths, so the API answers a bad request with
//! exactly what to fix before the Kubernetes API sees it. The CRD schema enforces the
//! same rules for `kubectl` users.

use std::collections::BTreeSet;

use crate::app::{AppSpec, MAX_APP_NAME};
use crate::duration::parse_duration;
use crate::workload::{EnvVar, ResourcesSpec};

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The path of the field, e.g. `spec.ports[1].port`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error of `field`.
    pub(super) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub(super) fn is_dns_label(s: &str, max: usize, letter_first: bool) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && s.len() <= max
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && (if letter_first {
            bytes[0].is_ascii_lowercase()
        } else {
            bytes[0] != b'-'
        })
        && bytes[bytes.len() - 1] != b'-'
}

pub(super) fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'))
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && s.len() <= 253
}

fn is_host(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    s.len() <= 253 && s.split('.').all(|label| is_dns_label(label, 63, false))
}

/// Whether `s` is a Kubernetes quantity such as `250m`, `1.5`, `512Mi` or `1e3`.
///
/// The grammar of `resource.Quantity`, as the API server's `isQuantity` checks it.
/// Not `kube_quantity`'s parser: it accepts a suffix without a number (`Mi`),
/// which the API server refuses.
pub fn is_quantity(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits_end);
    let number_ok = !number.is_empty() && number != "." && number.matches('.').count() <= 1;
    let suffix_ok = matches!(
        suffix,
        "" | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
            | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|exp| exp.strip_prefix(['+', '-']).unwrap_or(exp))
        .is_some_and(|exp| !exp.is_empty() && exp.chars().all(|c| c.is_ascii_digit()));
    number_ok && suffix_ok
}

fn is_image(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:@+-".contains(c))
}

/// Checks an App's name.
pub fn validate_app_name(name: &str) -> Option<FieldError> {
    (!is_dns_label(name, MAX_APP_NAME, true)).then(|| {
        FieldError::new(
            "metadata.name",
            format!("'{name}' is not a valid App name: use at most {MAX_APP_NAME} lower-case letters, digits and '-', starting with a letter"),
        )
    })
}

/// Every problem of an App's name and spec, in field order (empty when valid).
pub fn validate_app(name: &str, spec: &AppSpec) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = validate_app_name(name).into_iter().collect();
    check_image(&spec.image, &mut errors);
    if let Some(replicas) = spec.replicas
        && !(0..=1000).contains(&replicas)
    {
        errors.push(FieldError::new(
            "spec.replicas",
            format!("{replicas} is out of range: use 0 to 1000"),
        ));
    }
    if spec.replicas.is_some() && spec.autoscale.is_some() {
        errors.push(FieldError::new(
            "spec.autoscale",
            "set either replicas or autoscale, not both",
        ));
    }
    if let Some(a) = &spec.autoscale
        && (a.min < 1 || a.min > a.max || a.max > 1000 || !(1..=100).contains(&a.cpu_percent))
    {
        errors.push(FieldError::new(
            "spec.autoscale",
            "need 1 <= min <= max <= 1000 and cpuPercent from 1 to 100",
        ));
    }
    let (mut names, mut numbers) = (BTreeSet::new(), BTreeSet::new());
    for (i, port) in spec.ports.iter().enumerate() {
        if !(1..=65535).contains(&port.port) {
            errors.push(FieldError::new(
                format!("spec.ports[{i}].port"),
                format!("{} is not a port: use 1 to 65535", port.port),
            ));
        } else if !numbers.insert(port.port) {
            errors.push(FieldError::new(
                format!("spec.ports[{i}].port"),
                format!("port {} is listed twice", port.port),
            ));
        }
        if !is_dns_label(&port.name, 15, true) {
            errors.push(FieldError::new(format!("spec.ports[{i}].name"), format!("'{}' is not a port name: at most 15 lower-case letters, digits and '-', starting with a letter", port.name)));
        } else if !names.insert(port.name.as_str()) {
            errors.push(FieldError::new(
                format!("spec.ports[{i}].name"),
                format!("port name {} is used twice", port.name),
            ));
        }
    }
    for (i, host) in spec.hosts.iter().enumerate() {
        if !is_host(host) {
            errors.push(FieldError::new(
                format!("spec.hosts[{i}]"),
                format!("'{host}' is not a DNS name such as shop.example.com"),
            ));
        }
    }
    if !spec.hosts.is_empty() && spec.ports.is_empty() {
        errors.push(FieldError::new(
            "spec.ports",
            "hosts need at least one port to route to",
        ));
    }
    check_env(&spec.env, &mut errors);
    check_resources(spec.resources.as_ref(), &mut errors);
    for (i, volume) in spec.volumes.iter().enumerate() {
        if !is_dns_label(&volume.name, 63, false) {
            errors.push(FieldError::new(
                format!("spec.volumes[{i}].name"),
                format!("'{}' is not a volume name", volume.name),
            ));
        }
        if !is_quantity(&volume.size) {
            errors.push(FieldError::new(
                format!("spec.volumes[{i}].size"),
                format!("'{}' is not a size such as 1Gi", volume.size),
            ));
        }
        if !volume.mount_path.starts_with('/') {
            errors.push(FieldError::new(
                format!("spec.volumes[{i}].mountPath"),
                "must be an absolute path",
            ));
        }
    }
    for (i, mount) in spec.mounts.iter().enumerate() {
        if !is_dns_label(&mount.volume, 63, false) {
            errors.push(FieldError::new(
                format!("spec.mounts[{i}].volume"),
                format!("'{}' is not a volume name", mount.volume),
            ));
        }
        if !mount.mount_path.starts_with('/') {
            errors.push(FieldError::new(
                format!("spec.mounts[{i}].mountPath"),
                "must be an absolute path",
            ));
        }
    }
    if let Some(text) = &spec.expires_after
        && let Err(error) = parse_duration(text)
    {
        errors.push(FieldError::new("spec.expiresAfter", error.to_string()));
    }
    errors
}

/// Checks a workload's container image reference.
pub(super) fn check_image(image: &str, errors: &mut Vec<FieldError>) {
    if !is_image(image) {
        errors.push(FieldError::new("spec.image", format!("'{image}' is not an image reference such as nginx:1.27 or registry.example.com/team/app@sha256:…")));
    }
}

/// Checks a workload's environment variables: valid, unique names, and exactly one
/// source each. Shared by Apps and Tasks, which declare them alike.
pub(super) fn check_env(env: &[EnvVar], errors: &mut Vec<FieldError>) {
    let mut env_names = BTreeSet::new();
    for (i, var) in env.iter().enumerate() {
        if !is_env_name(&var.name) {
            errors.push(FieldError::new(
                format!("spec.env[{i}].name"),
                format!("'{}' is not an environment variable name", var.name),
            ));
        } else if !env_names.insert(var.name.as_str()) {
            errors.push(FieldError::new(
                format!("spec.env[{i}].name"),
                format!("{} is set twice", var.name),
            ));
        }
        let sources = [
            var.value.is_some(),
            var.secret.is_some(),
            var.secret_ref.is_some(),
            var.config_map_ref.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() != 1 {
            errors.push(FieldError::new(
                format!("spec.env[{i}]"),
                "set exactly one of value, secret, secretRef and configMapRef",
            ));
        }
    }
}

/// Checks that every request and limit is a quantity.
pub(super) fn check_resources(resources: Option<&ResourcesSpec>, errors: &mut Vec<FieldError>) {
    if let Some(resources) = resources {
        for (section, map) in [
            ("requests", &resources.requests),
            ("limits", &resources.limits),
        ] {
            for (key, value) in map {
                if !is_quantity(value) {
                    errors.push(FieldError::new(
                        format!("spec.resources.{section}.{key}"),
                        format!("'{value}' is not a quantity such as 250m, 2 or 512Mi"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> AppSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn a_good_app_has_no_errors() {
        assert!(validate_app("shop", &spec("{image: 'nginx:1.27', ports: [{name: http, port: 80}], hosts: [shop.example.com], resources: {limits: {memory: 512Mi, cpu: 500m}}}")).is_empty());
    }

    #[test]
    fn each_problem_names_its_field() {
        let errors = validate_app(
            "Shop",
            &spec(
                "{image: 'bad image', replicas: -1, ports: [{name: http, port: 80}, {name: web, port: 80}, {name: x, port: 70000}], env: [{name: '1A', value: x}, {name: B}], resources: {limits: {memory: lots}}, expiresAfter: soon}",
            ),
        );
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "metadata.name",
                "spec.image",
                "spec.replicas",
                "spec.ports[1].port",
                "spec.ports[2].port",
                "spec.env[0].name",
                "spec.env[1]",
                "spec.resources.limits.memory",
                "spec.expiresAfter"
            ]
        );
    }

    #[test]
    fn quantities() {
        for good in ["1", "250m", "1.5", "512Mi", "1e3", "2Gi", ".5"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "lots", "1.2.3", "5 Gi", "Mi", "1e", "1Gb"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
