//! Property tests of the parsers that read what users type: durations, dotenv
//! files, quantities, result file names and `${VAR}` substitution. Each must
//! never panic on any input, and must accept exactly what its rule says.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use proptest::prelude::*;
use wharf_model::api::{is_quantity, parse_dotenv};
use wharf_model::duration::parse_duration;
use wharf_model::task::validate_result_name;
use wharf_model::workload::substitute::{
    BuiltIns, MAX_DEPTH, Substitutable, SubstitutionError, resolve_all,
};

/// The CRDs' pattern for durations (`timeout`, `ttlAfterFinished`, `expiresAfter`):
/// what the CLI and the API accept must be exactly what the API server accepts.
const CRD_DURATION: &str = "^([0-9]{1,6}(s|m|h|d))+$";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn durations_are_what_the_crd_accepts(
        text in prop_oneof!["[0-9smhdx -]{0,16}", "([0-9]{1,8}[smhd]){1,3}"]
    ) {
        let crd = regex::Regex::new(CRD_DURATION).unwrap();
        prop_assert_eq!(parse_duration(&text).is_ok(), crd.is_match(&text), "{:?}", text);
    }

    #[test]
    fn durations_add_up(parts in proptest::collection::vec((0u64..1_000_000, 0usize..4), 1..6)) {
        let units = [("s", 1u64), ("m", 60), ("h", 3600), ("d", 86400)];
        let text: String = parts.iter().map(|(n, u)| format!("{n}{}", units[*u].0)).collect();
        let seconds: u64 = parts.iter().map(|(n, u)| n * units[*u].1).sum();
        prop_assert_eq!(parse_duration(&text).unwrap().as_secs(), seconds);
    }

    #[test]
    fn no_text_breaks_the_parsers(text in any::<String>()) {
        let _ = parse_duration(&text);
        let _ = parse_dotenv(&text);
        let _ = is_quantity(&text);
        let _ = validate_result_name(&text);
    }

    #[test]
    fn a_dotenv_file_written_with_double_quotes_reads_back(
        vars in proptest::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,12}", "[ -~\n\t\r]{0,40}", 0..12)
    ) {
        let file: String = vars
            .iter()
            .map(|(key, value)| format!("{key}=\"{}\"\n", escape(value)))
            .collect();
        prop_assert_eq!(parse_dotenv(&file).unwrap(), vars);
    }

    #[test]
    fn an_accepted_result_name_stays_in_its_folder(name in "[a-z./\\\\\0 ]{0,24}") {
        if validate_result_name(&name).is_ok() {
            let joined = Path::new("/results").join(&name);
            prop_assert!(joined.starts_with("/results"));
            prop_assert!(joined.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_))), "{:?}", name);
            prop_assert!(!name.contains('\0') && !name.contains('\\'));
        }
    }

    #[test]
    fn quantities_kubernetes_writes_are_accepted(n in 0u32..100_000, suffix in "(|m|k|M|G|Ki|Mi|Gi|Ti)") {
        let quantity = format!("{n}{suffix}");
        prop_assert!(is_quantity(&quantity), "{}", quantity);
    }

    #[test]
    fn substitution_never_panics_and_resolves_known_names(
        vars in proptest::collection::btree_map("[A-C]", "[A-C${}x]{0,12}", 0..4)
    ) {
        // `$${` is a literal `${`, so only texts without `$$` must lose every
        // reference to a known name.
        prop_assume!(vars.values().all(|text| !text.contains("$$")));
        let vars: BTreeMap<String, Substitutable> = vars
            .into_iter()
            .map(|(k, text)| (k, Substitutable { text, secret: false }))
            .collect();
        // A cycle is an error; anything else resolves every variable.
        if let Ok(resolved) = resolve_all(&vars, &BuiltIns::default()) {
            prop_assert_eq!(resolved.len(), vars.len());
            for value in resolved.values() {
                for name in vars.keys() {
                    let reference = format!("${{{name}}}");
                    prop_assert!(!value.value.contains(&reference), "{:?} keeps {}", value.value, reference);
                }
            }
        }
    }
}

/// Escapes a value for a double-quoted dotenv value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

/// 10,000 variables, each referring to the next (issue 15's "10,000 env
/// entries"): refused with an error naming where the chain starts, never a stack
/// overflow; a chain as long as a workload can have resolves.
#[test]
fn a_long_chain_of_references_is_refused_not_a_crash() {
    let chain = |count: usize| -> BTreeMap<String, Substitutable> {
        (0..count)
            .map(|i| {
                let text = if i + 1 < count {
                    format!("${{V{:05}}}", i + 1)
                } else {
                    "end".to_owned()
                };
                (
                    format!("V{i:05}"),
                    Substitutable {
                        text,
                        secret: false,
                    },
                )
            })
            .collect()
    };
    let error = resolve_all(&chain(10_000), &BuiltIns::default()).unwrap_err();
    assert_eq!(error, SubstitutionError::TooDeep("V00000".to_owned()));
    let resolved = resolve_all(&chain(MAX_DEPTH), &BuiltIns::default()).unwrap();
    assert_eq!(resolved["V00000"].value, "end");
}
