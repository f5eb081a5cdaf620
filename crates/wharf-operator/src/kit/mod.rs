//! The controller kit: the one skeleton every Wharf controller runs on.
//!
//! A kind writes only its own build step (resource → children, pure, in
//! `wharf-model`) and its reconcile (read caches, apply children, compute a status).
//! Everything around it lives here, once:
//!
//! - [`run`]: running a controller for a kind — unreadable objects become an
//!   `InvalidObject` Event and wait for a change instead of crash-looping; every
//!   reconcile is timed; one error policy retries with exponential backoff.
//! - [`Children`]: server-side apply of children under one field manager (a child
//!   not there yet is created, which the API server does faster), one rule
//!   for what is the user's problem and what is transient ([`classify`]), skipping
//!   an apply whose cached copy already holds what would be sent, removing a child
//!   no longer wanted (found by one cache lookup, only when this owner controls
//!   it), and deleting what may already be gone.
//! - [`report`]: one status write, generic over the kind and sent only when the
//!   status changed, with an Event when the phase changes; a change of counts alone
//!   may wait a few seconds for the next change that matters.
//!
//! What a new kind writes, besides its pure build function in `wharf-model`:
//!
//! ```text
//! kit::reported!(Widget, status: WidgetStatus, phase: WidgetPhase, warning: WidgetPhase::Failed,
//!     written: |w: &Widget| w.status.clone(), summary: |s: &WidgetStatus| kit::ready_message(&s.conditions));
//!
//! async fn reconcile(widget: Arc<Widget>, ctx: Arc<Context>) -> Result<Action, Error> {
//!     let children = Children::of(&ctx.client, widget.as_ref());
//!     let status = match build(&widget) {
//!         Err(error) => failed(Problem::new("InvalidSpec", error.to_string())),
//!         Ok(built) => match children.apply(&built.stateful_set, None).await {
//!             Ok(set) => from_stateful_set(&set),
//!             Err(ApplyError::Refused(problem)) => failed(problem),
//!             Err(ApplyError::Failed(error)) => return Err(error),
//!         },
//!     };
//!     kit::report(&ctx, widget.as_ref(), &status).await?;
//!     Ok(Action::requeue(RESYNC))
//! }
//!
//! // and to start it:
//! kit::run(kit::controller(api, watcher::Config::default(), &ctx), ctx, reconcile, shutdown).await;
//! ```

mod apply;
mod classify;
mod finalized;
mod ownership;
mod run;
mod scope;
mod status;
mod unchanged;

pub use apply::{ApplyError, Child, Children, delete_if_exists};
pub use classify::{Problem, Transience, classify};
pub use finalized::finalized;
pub use run::{KindContext, WithStores, controller, run};
pub use scope::{Scope, api_for};
pub(crate) use status::reported;
pub use status::{
    COUNTS_SETTLE, Phase, Reported, StatusMemory, StatusWrite, ready_message, report, write_status,
};
pub use unchanged::{APPLIED_ANNOTATION, holds};
