//! Prints Wharf's CRDs as YAML (the same text as `wharfd crd`).
fn main() {
    print!("{}", wharf_model::crds::all_yaml());
}
