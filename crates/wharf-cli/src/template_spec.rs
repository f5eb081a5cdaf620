//! Reading the AppTemplates `wharf templates apply -f PATH` applies: a file (or
//! standard input) or a directory of `.yaml`/`.yml` files, each holding one or
//! more YAML documents.
//!
//! Everything is read and checked before anything is sent, so a mistake in the
//! fifth file leaves the catalogue as it was rather than half-applied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use wharf_model::template::{AppTemplate, MAX_TEMPLATE_NAME};

use crate::error::CliError;
use crate::manifest::{
    check_object, cluster_manifest_body, manifest_name, read_manifest_text, typed,
};

/// The kind these manifests hold.
pub const KIND: &str = "AppTemplate";

/// One AppTemplate ready to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateManifest {
    /// Where it was read: the file, and the document when the file has several.
    pub source: String,
    /// Its `metadata.name`.
    pub name: String,
    /// The body to `PUT`: the document as written, fields the CLI does not know
    /// included, with its `apiVersion` and `kind` and without bookkeeping.
    pub body: Value,
}

/// Every AppTemplate under `path`, checked: a file, `-` for standard input, or a
/// directory whose `.yaml` and `.yml` files (not its subdirectories) are read in
/// name order. A name given twice is refused, since one would silently win.
pub fn read_templates(path: &Path) -> Result<Vec<TemplateManifest>, CliError> {
    let mut templates = Vec::new();
    for file in manifest_files(path)? {
        let source = file.display().to_string();
        templates.extend(parse_templates(&read_manifest_text(&file)?, &source)?);
    }
    if templates.is_empty() {
        return Err(CliError::invalid(format!(
            "{} holds no AppTemplate",
            path.display()
        )));
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for template in &templates {
        if let Some(first) = seen.insert(&template.name, &template.source) {
            return Err(CliError::invalid_field(
                "metadata.name",
                format!(
                    "template {} is in both {first} and {}",
                    template.name, template.source
                ),
            ));
        }
    }
    Ok(templates)
}

/// The files to read: `path` itself, or a directory's YAML files by name.
fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, CliError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| CliError::invalid(format!("reading {}: {e}", path.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| CliError::invalid(format!("reading {}: {e}", path.display())))?;
        let file = entry.path();
        let yaml = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(CliError::invalid(format!(
            "{} holds no .yaml or .yml files",
            path.display()
        )));
    }
    files.sort();
    Ok(files)
}

/// The AppTemplates of one file's `text` (one or more YAML documents; JSON is
/// YAML too), read from `source`. Empty documents (a leading `---`) are skipped.
pub fn parse_templates(text: &str, source: &str) -> Result<Vec<TemplateManifest>, CliError> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(document)
            .map_err(|e| CliError::invalid(format!("{source} is not YAML or JSON: {e}")))?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    let several = documents.len() > 1;
    documents
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            let source = if several {
                format!("{source} (document {})", i + 1)
            } else {
                source.to_owned()
            };
            template_manifest(value, source)
        })
        .collect()
}

/// One document as a template to apply, or why it cannot be one.
fn template_manifest(value: Value, source: String) -> Result<TemplateManifest, CliError> {
    let value = check_object(value, &source, KIND)?;
    // Read as an AppTemplate to refuse what cannot be one, naming the field.
    let template: AppTemplate = typed(value.clone(), &source)?;
    let name = manifest_name(template.metadata.name, &source, KIND)?;
    if !is_label(&name) {
        return Err(CliError::invalid_field(
            "metadata.name",
            format!(
                "{source}: the template name {name:?} is not a DNS-1123 label of at most \
                 {MAX_TEMPLATE_NAME} characters (lower-case letters, digits and '-')"
            ),
        ));
    }
    Ok(TemplateManifest {
        body: cluster_manifest_body(value, KIND),
        source,
        name,
    })
}

/// Whether `name` is a DNS-1123 label a template may have (it is kept in a label
/// of every App made from it), checked here so a bad name in one file does not
/// stop an apply half-way.
fn is_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_TEMPLATE_NAME
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::exit::Exit;

    const NGINX: &str = "apiVersion: wharf.dev/v1alpha1
kind: AppTemplate
metadata:
  name: nginx
  namespace: ignored
  resourceVersion: \"12\"
spec:
  description: Web server
  image: {repository: nginx, tag: '1.27'}
  extraField: kept
status: {}
";

    const TWO: &str = "---
kind: AppTemplate
metadata: {name: redis}
spec:
  image: {repository: redis, tag: '7'}
---
metadata: {name: php}
spec:
  image: {repository: php, tag: 8.3-fpm}
";

    #[test]
    fn a_document_becomes_a_cluster_scoped_body_kept_as_written() {
        let templates = parse_templates(NGINX, "nginx.yaml").unwrap();
        assert_eq!(templates.len(), 1);
        let nginx = &templates[0];
        assert_eq!(
            (nginx.name.as_str(), nginx.source.as_str()),
            ("nginx", "nginx.yaml")
        );
        assert_eq!(
            nginx.body,
            json!({
                "apiVersion": "wharf.dev/v1alpha1",
                "kind": "AppTemplate",
                "metadata": { "name": "nginx" },
                "spec": {
                    "description": "Web server",
                    "image": { "repository": "nginx", "tag": "1.27" },
                    "extraField": "kept"
                }
            })
        );
    }

    #[test]
    fn a_file_may_hold_several_documents() {
        let templates = parse_templates(TWO, "catalogue.yaml").unwrap();
        let names: Vec<_> = templates.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["redis", "php"]);
        assert_eq!(templates[1].source, "catalogue.yaml (document 2)");
        assert_eq!(templates[1].body["kind"], "AppTemplate");
    }

    #[test]
    fn what_is_not_an_app_template_is_refused_naming_the_file() {
        let app = "kind: App\nmetadata: {name: web}\nspec: {image: web}\n";
        let error = parse_templates(app, "web.yaml").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("web.yaml holds an App, not an AppTemplate"),
            "{error}"
        );
        assert_eq!(error.exit(), Exit::Invalid);
        let error = parse_templates("[1, 2]", "list.yaml").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("list.yaml does not hold an AppTemplate"),
            "{error}"
        );
        let error = parse_templates("metadata: {name: x}\nspec: {image: {tag: '1'}}\n", "x.yaml")
            .unwrap_err();
        assert!(error.to_string().contains("x.yaml"), "{error}");
        assert!(error.to_string().contains("repository"), "{error}");
        let error = parse_templates(
            "metadata: {}\nspec: {image: {repository: a, tag: '1'}}\n",
            "anon.yaml",
        )
        .unwrap_err();
        assert!(error.to_string().contains("set metadata.name"), "{error}");
        let error = parse_templates(
            "metadata: {name: Big}\nspec: {image: {repository: a}}\n",
            "big.yaml",
        )
        .unwrap_err();
        assert!(error.to_string().contains("DNS-1123"), "{error}");
        let error = parse_templates("a: [1\n", "broken.yaml").unwrap_err();
        assert!(
            error.to_string().contains("broken.yaml is not YAML"),
            "{error}"
        );
    }

    #[test]
    fn a_directory_is_read_whole_in_name_order_before_anything_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.yml"), TWO).unwrap();
        std::fs::write(dir.path().join("a.yaml"), NGINX).unwrap();
        std::fs::write(dir.path().join("README.md"), "not a manifest").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub").join("c.yaml"), "kind: App\n").unwrap();
        let templates = read_templates(dir.path()).unwrap();
        let names: Vec<_> = templates.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["nginx", "redis", "php"]);

        // One bad file refuses the whole directory, naming the file.
        std::fs::write(
            dir.path().join("c.yaml"),
            "kind: RuntimeVersion\nmetadata: {name: v}\n",
        )
        .unwrap();
        let error = read_templates(dir.path()).unwrap_err();
        assert!(
            error.to_string().contains("c.yaml holds a RuntimeVersion"),
            "{error}"
        );
        std::fs::remove_file(dir.path().join("c.yaml")).unwrap();

        // The same name twice would let one silently win.
        std::fs::write(dir.path().join("d.yaml"), NGINX).unwrap();
        let error = read_templates(dir.path()).unwrap_err();
        assert!(
            error.to_string().contains("template nginx is in both"),
            "{error}"
        );

        let empty = tempfile::tempdir().unwrap();
        let error = read_templates(empty.path()).unwrap_err();
        assert!(
            error.to_string().contains("no .yaml or .yml files"),
            "{error}"
        );
        let error = read_templates(&dir.path().join("missing.yaml")).unwrap_err();
        assert!(error.to_string().contains("missing.yaml"), "{error}");
    }

    #[test]
    fn template_names_are_dns_labels() {
        assert!(is_label("php-fpm") && is_label("a") && is_label(&"a".repeat(63)));
        for bad in ["", "-a", "a-", "A", "a.b", &"a".repeat(64)] {
            assert!(!is_label(bad), "{bad:?}");
        }
    }
}
