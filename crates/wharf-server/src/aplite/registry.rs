//! The ids of the protocol: every imported function gets one at start, in
//! [`LIBRARY`] order, and every application registers its result under a new one,
//! counting up from there, as the original does. Ids are JSON integers and never
//! reused. So that a long-lived server does not grow without end, the oldest
//! results beyond [`KEPT`] are forgotten (their ids then answer 404); the
//! imported functions never are.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::library::{AplValue, ApliteFunction, LIBRARY};

/// How many results of applications are remembered.
pub const KEPT: usize = 100_000;

/// What an id stands for.
#[derive(Clone)]
pub enum Entry {
    /// A function applied to the first `args` of its arguments (none for an
    /// imported function). Applied to all, an `IO` function is an action.
    Function {
        /// The function.
        function: &'static ApliteFunction,
        /// The arguments it has.
        args: Vec<AplValue>,
    },
    /// A value.
    Value(AplValue),
}

/// Names and ids.
pub struct Registry {
    names: HashMap<&'static str, u64>,
    entries: Mutex<Entries>,
}

struct Entries {
    by_id: BTreeMap<u64, Entry>,
    next: u64,
}

impl Default for Registry {
    fn default() -> Self {
        let mut by_id = BTreeMap::new();
        let mut names = HashMap::new();
        for (id, function) in (0u64..).zip(LIBRARY) {
            names.insert(function.name, id);
            by_id.insert(
                id,
                Entry::Function {
                    function,
                    args: Vec::new(),
                },
            );
        }
        let next = by_id.len() as u64;
        Self {
            names,
            entries: Mutex::new(Entries { by_id, next }),
        }
    }
}

impl Registry {
    /// The id of an imported function.
    pub fn id_of(&self, name: &str) -> Option<u64> {
        self.names.get(name).copied()
    }

    /// What `id` stands for.
    pub fn get(&self, id: u64) -> Option<Entry> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Registers `entry` under a new id.
    pub fn register(&self, entry: Entry) -> u64 {
        let imported = self.names.len() as u64;
        let mut entries = self.lock();
        let id = entries.next;
        entries.next += 1;
        entries.by_id.insert(id, entry);
        while entries.by_id.len() > KEPT + imported as usize {
            let Some((&oldest, _)) = entries.by_id.range(imported..).next() else {
                break;
            };
            entries.by_id.remove(&oldest);
        }
        id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map half-written (each
        // change is one insert or remove), so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_functions_come_first_and_results_count_up() {
        let registry = Registry::default();
        assert_eq!(registry.id_of("create_deployment"), Some(0));
        assert_eq!(registry.id_of("no_such"), None);
        let first = registry.register(Entry::Value(AplValue::Int(1)));
        let second = registry.register(Entry::Value(AplValue::Str("a".into())));
        assert_eq!(first, LIBRARY.len() as u64);
        assert_eq!(second, first + 1);
        assert!(matches!(
            registry.get(first),
            Some(Entry::Value(AplValue::Int(1)))
        ));
        assert!(registry.get(second + 1).is_none());
    }
}
