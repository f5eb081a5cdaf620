//! Wharf's operator: the controllers that reconcile Wharf's custom resources into
//! the Kubernetes objects they own, with status, events and metrics.
