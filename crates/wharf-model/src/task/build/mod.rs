//! Pure builders: a Task to the objects it owns.
