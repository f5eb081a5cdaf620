//! What people see of the image catalogue: the list of AppTemplates, and the lines
//! `wharf templates apply` and `wharf apps upgrade` print. Pure functions of the
//! API's answers, so each is tested without a server.

use wharf_model::app::{App, AppPort, PortProtocol};
use wharf_model::template::AppTemplate;

use crate::output::Table;

/// What a cell shows when there is nothing to show.
const NONE: &str = "-";

/// Longest description a row shows, in characters; `get -o yaml` has it whole.
const DESCRIPTION_WIDTH: usize = 60;

fn name(template: &AppTemplate) -> String {
    template.metadata.name.clone().unwrap_or_default()
}

/// The ports as `--port` takes them: `http:8080,dns:53/udp`.
fn ports_cell(ports: &[AppPort]) -> String {
    if ports.is_empty() {
        return NONE.to_owned();
    }
    ports
        .iter()
        .map(|port| {
            let protocol = match port.protocol {
                PortProtocol::Tcp => "",
                PortProtocol::Udp => "/udp",
                PortProtocol::Sctp => "/sctp",
            };
            format!("{}:{}{protocol}", port.name, port.port)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The description's first line, cut to [`DESCRIPTION_WIDTH`] characters so one
/// long entry does not push every row off the screen.
fn description_cell(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default().trim();
    if line.is_empty() {
        return NONE.to_owned();
    }
    if line.chars().count() <= DESCRIPTION_WIDTH {
        return line.to_owned();
    }
    let cut: String = line.chars().take(DESCRIPTION_WIDTH - 1).collect();
    format!("{}…", cut.trim_end())
}

/// NAME, IMAGE, PORTS, DESCRIPTION: one row per AppTemplate, the image as the
/// reference a container runs.
pub fn templates_table(templates: &[AppTemplate]) -> Table {
    let mut table = Table::new(&["NAME", "IMAGE", "PORTS", "DESCRIPTION"]);
    for template in templates {
        table.row(vec![
            name(template),
            template.spec.image.reference(),
            ports_cell(&template.spec.ports),
            description_cell(&template.spec.description),
        ]);
    }
    table
}

/// The line `wharf templates apply` prints for each template it applied, with
/// the generation Apps deployed from it now record.
pub fn applied_line(template: &AppTemplate) -> String {
    match template.metadata.generation {
        Some(generation) => format!(
            "template {} applied (generation {generation})\n",
            name(template)
        ),
        None => format!("template {} applied\n", name(template)),
    }
}

/// The line `wharf apps upgrade` prints: the template and generation the App is
/// made from now.
pub fn upgraded_line(app: &App) -> String {
    let app_name = app.metadata.name.clone().unwrap_or_default();
    match &app.spec.template {
        Some(made_from) => format!(
            "upgraded {app_name} to template {} generation {}\n",
            made_from.name, made_from.generation
        ),
        None => format!("upgraded {app_name}\n"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template(value: serde_json::Value) -> AppTemplate {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_table_shows_the_image_reference_ports_and_a_short_description() {
        let nginx = template(json!({
            "metadata": { "name": "nginx", "generation": 2 },
            "spec": {
                "description": "Web server\nwith a second line",
                "image": { "registry": "registry.example.com:5000", "repository": "library/nginx", "tag": "1.27" },
                "ports": [{ "name": "http", "port": 80 }, { "name": "dns", "port": 53, "protocol": "UDP" }]
            }
        }));
        let long = template(json!({
            "metadata": { "name": "long" },
            "spec": { "description": "x".repeat(100), "image": { "repository": "busybox", "tag": "1" } }
        }));
        let bare = template(json!({
            "metadata": { "name": "bare" },
            "spec": { "image": { "repository": "busybox", "tag": "1" } }
        }));
        let text = templates_table(&[nginx, long, bare]).render();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME "), "{text}");
        let row: Vec<&str> = lines[1].split("   ").map(str::trim).collect();
        assert_eq!(
            row,
            [
                "nginx",
                "registry.example.com:5000/library/nginx:1.27",
                "http:80,dns:53/udp",
                "Web server"
            ],
            "{text}"
        );
        assert!(
            lines[2].ends_with(&format!("{}…", "x".repeat(59))),
            "{text}"
        );
        let bare: Vec<&str> = lines[3].split_whitespace().collect();
        assert_eq!(bare, ["bare", "busybox:1", "-", "-"], "{text}");
    }

    #[test]
    fn apply_and_upgrade_say_which_generation() {
        let applied = template(json!({
            "metadata": { "name": "nginx", "generation": 3 },
            "spec": { "image": { "repository": "nginx", "tag": "1" } }
        }));
        assert_eq!(
            applied_line(&applied),
            "template nginx applied (generation 3)\n"
        );
        let app: App = serde_json::from_value(json!({
            "metadata": { "name": "web" },
            "spec": { "image": "nginx:1", "template": { "name": "nginx", "generation": 3 } }
        }))
        .unwrap();
        assert_eq!(
            upgraded_line(&app),
            "upgraded web to template nginx generation 3\n"
        );
    }
}
