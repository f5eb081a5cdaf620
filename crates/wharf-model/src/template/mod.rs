//! The image catalogue (seed 004): `AppTemplate`, an image with what it needs to
//! run, and the rules by which Apps are deployed from it and upgraded to a newer
//! generation of it.

mod render;
mod spec;
#[cfg(test)]
mod tests;

pub use crate::app::TemplateRef;
pub use render::{render, update_available, upgrade};
pub use spec::*;

/// The label on an App deployed from a template; its value is the template's name.
pub const TEMPLATE_LABEL: &str = "wharf.dev/template";
