//! What people see of shared volumes: the table of `wharf volumes list`, `get` and
//! `create`. A pure function of the API's answers, so it is tested without a server.

use wharf_model::volume::VolumeInfo;

use crate::output::Table;

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

/// NAME, SIZE, ACCESS, PHASE, MOUNTED BY: one row per volume, the Apps that mount
/// it joined with commas.
pub fn volumes_table(volumes: &[VolumeInfo]) -> Table {
    let mut table = Table::new(&["NAME", "SIZE", "ACCESS", "PHASE", "MOUNTED BY"]);
    let or_none = |text: &str| {
        if text.is_empty() {
            NONE.to_owned()
        } else {
            text.to_owned()
        }
    };
    for volume in volumes {
        table.row(vec![
            volume.name.clone(),
            or_none(&volume.size),
            or_none(&volume.access_mode),
            or_none(volume.phase.as_deref().unwrap_or_default()),
            or_none(&volume.mounted_by.join(",")),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_table_shows_who_mounts_each_volume() {
        let volumes: Vec<VolumeInfo> = serde_json::from_value(json!([
            { "name": "site", "size": "1Gi", "accessMode": "ReadWriteMany", "phase": "Bound",
              "storageClass": "fast", "mountedBy": ["nginx", "php"] },
            { "name": "logs", "size": "10Gi", "accessMode": "ReadWriteOnce", "mountedBy": [] }
        ]))
        .unwrap();
        assert_eq!(
            volumes_table(&volumes).render(),
            "NAME   SIZE   ACCESS          PHASE   MOUNTED BY\n\
             site   1Gi    ReadWriteMany   Bound   nginx,php\n\
             logs   10Gi   ReadWriteOnce   -       -\n"
        );
    }
}
