//! Leader election: of several operator processes, only the holder of one Lease
//! runs the controllers.
//!
//! A holder that loses the Lease stops its controllers at once and `run` returns
//! [`Error::LostLease`], so the process exits and its pod restarts as a follower
//! (fail-stop, as kube-controller-manager does): two leaders never reconcile at the
//! same time for longer than the Lease's grace. Readiness does not wait for
//! leadership: a follower is a healthy standby.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;

use crate::error::Error;

/// Which Lease the operators compete for, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    /// The Lease's name, e.g. `wharf-operator`.
    pub lease: String,
    /// The Lease's namespace (the release's).
    pub namespace: String,
    /// This process's name in the Lease, unique among the candidates (the pod name).
    pub identity: String,
    /// How long a Lease holds without renewal: the longest a takeover waits after
    /// the leader dies.
    pub duration: Duration,
}

/// The Lease, as seen by one candidate.
pub struct Candidate {
    leading: watch::Receiver<bool>,
    election: Election,
}

impl Candidate {
    /// Starts competing for the Lease (made when missing) in the background.
    pub async fn start(client: Client, election: Election) -> Result<Self, Error> {
        let seconds = election.duration.as_secs().max(2);
        // Renew a third of the way before expiry, as client-go's defaults do.
        let grace = (seconds / 3).max(1);
        let manager = LeaseManagerBuilder::new(client, election.lease.clone())
            .with_namespace(election.namespace.clone())
            .with_identity(election.identity.clone())
            .with_duration(seconds)
            .with_grace(grace)
            .build()
            .await
            .map_err(|source| election_error(&election, source))?;
        let (leading, _task) = manager.watch().await;
        Ok(Self { leading, election })
    }

    /// Returns once this candidate leads.
    pub async fn leading(&mut self) -> Result<(), Error> {
        self.leading
            .wait_for(|leads| *leads)
            .await
            .map(|_| ())
            .map_err(|_| self.lost())
    }

    /// Returns [`Error::LostLease`] once this candidate no longer leads.
    pub async fn lost_lease(&mut self) -> Error {
        let _ = self.leading.wait_for(|leads| !*leads).await;
        self.lost()
    }

    fn lost(&self) -> Error {
        Error::LostLease {
            lease: format!("{}/{}", self.election.namespace, self.election.lease),
            identity: self.election.identity.clone(),
        }
    }
}

fn election_error(election: &Election, source: LeaseManagerError) -> Error {
    Error::Election {
        lease: format!("{}/{}", election.namespace, election.lease),
        source,
    }
}
