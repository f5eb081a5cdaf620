//! The App benchmark's report: a table of both sides, the ratios and the goals.

use std::fmt;
use std::time::Duration;

use super::{PhaseTimes, WharfOutcome};

/// Until all Deployments exist, Wharf may take at most this many times the
/// baseline's time.
pub const EXIST_RATIO_GOAL: f64 = 1.2;

/// Until all are ready, Wharf may take at most this many times the baseline's time.
pub const READY_RATIO_GOAL: f64 = 1.5;

/// The most requests to the Kubernetes API one App may cost on its way to Ready.
pub const REQUESTS_GOAL: f64 = 6.0;

/// wharfd's peak resident memory may be at most this many megabytes (10⁶ bytes).
pub const RSS_GOAL_MB: f64 = 150.0;

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Apps (and baseline Deployments) created.
    pub count: usize,
    /// Creates at once, and wharfd's `--concurrency`.
    pub concurrency: u16,
    /// The baseline's times.
    pub baseline: PhaseTimes,
    /// Wharf's times and wharfd's measurements.
    pub wharf: WharfOutcome,
}

fn verdict(met: bool) -> &'static str {
    if met { "PASS" } else { "MISS" }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

impl Report {
    /// wharfd's peak memory in megabytes.
    pub fn peak_rss_mb(&self) -> f64 {
        self.wharf.peak_rss as f64 / 1e6
    }

    fn time_row(
        f: &mut fmt::Formatter<'_>,
        label: &str,
        baseline: Duration,
        wharf: Duration,
        goal: f64,
    ) -> fmt::Result {
        let ratio = wharf.as_secs_f64() / baseline.as_secs_f64().max(1e-3);
        writeln!(
            f,
            "{label:<20} {:>10} {:>10} {:>7} {:>9}  {}",
            seconds(baseline),
            seconds(wharf),
            format!("{ratio:.2}×"),
            format!("≤ {goal}×"),
            verdict(ratio <= goal),
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (base, wharf) = (&self.baseline, &self.wharf.times);
        writeln!(
            f,
            "App creation: {} Apps vs {} Deployments+Services, concurrency {}",
            self.count, self.count, self.concurrency
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>7} {:>9}  result",
            "", "baseline", "wharf", "ratio", "goal"
        )?;
        Self::time_row(
            f,
            "deployments exist",
            base.deployments_exist,
            wharf.deployments_exist,
            EXIST_RATIO_GOAL,
        )?;
        Self::time_row(
            f,
            "all ready",
            base.all_ready,
            wharf.all_ready,
            READY_RATIO_GOAL,
        )?;
        if let Some(r) = &self.wharf.requests {
            writeln!(
                f,
                "{:<20} {:>10} {:>10} {:>7} {:>9}  {}",
                "API requests / App",
                format!("{:.2}", r.baseline),
                format!("{:.2}", r.wharf),
                "",
                format!("≤ {REQUESTS_GOAL}"),
                verdict(r.wharf <= REQUESTS_GOAL),
            )?;
        }
        let mb = self.peak_rss_mb();
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>7} {:>9}  {}",
            "wharfd peak RSS",
            "",
            format!("{mb:.1} MB"),
            "",
            format!("≤ {RSS_GOAL_MB} MB"),
            verdict(mb <= RSS_GOAL_MB),
        )?;
        writeln!(f)?;
        write!(
            f,
            "creates returned: baseline {}, wharf {}",
            seconds(base.created),
            seconds(wharf.created)
        )?;
        if let Some(r) = self.wharf.reconciles {
            write!(
                f,
                "\nwharfd: {} App reconciles ({:.1} per App, {} failed",
                r.total,
                r.total as f64 / self.count.max(1) as f64,
                r.failed
            )?;
            if let Some(mean) = r.mean {
                write!(f, ", {} ms on average", mean.as_millis())?;
            }
            write!(f, ")")?;
        }
        if let Some(r) = &self.wharf.requests {
            write!(
                f,
                "\nrequests per App on the Wharf side (before leaving out the App create and \
                 Kubernetes' own Events, {:.2} per pod as the baseline side saw them):",
                r.kubernetes_events
            )?;
            for (key, per_app) in &r.wharf_by_key {
                write!(f, "\n  {per_app:>6.2}  {key}")?;
            }
        }
        write!(f, "\nwharfd log: {}", self.wharf.log.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::Reconciles;

    fn times(exist: u64, ready: u64) -> PhaseTimes {
        PhaseTimes {
            created: Duration::from_secs(exist),
            deployments_exist: Duration::from_secs(exist),
            all_ready: Duration::from_secs(ready),
        }
    }

    fn report(wharf_ready: u64, rss_mb: u64) -> String {
        Report {
            count: 500,
            concurrency: 16,
            baseline: times(10, 20),
            wharf: WharfOutcome {
                times: times(12, wharf_ready),
                peak_rss: rss_mb * 1_000_000,
                reconciles: Some(Reconciles {
                    total: 1500,
                    failed: 0,
                    mean: Some(Duration::from_millis(120)),
                }),
                log: "/tmp/wharfd.log".into(),
                request_counts: Default::default(),
                requests: None,
            },
        }
        .to_string()
    }

    fn row<'a>(text: &'a str, label: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_default()
    }

    #[test]
    fn within_the_goals_passes() {
        let text = report(30, 60);
        assert!(row(&text, "deployments exist").contains("1.20×"), "{text}");
        assert!(row(&text, "deployments exist").contains("≤ 1.2×"), "{text}");
        assert!(row(&text, "deployments exist").ends_with("PASS"), "{text}");
        assert!(row(&text, "all ready").contains("1.50×"), "{text}");
        assert!(row(&text, "all ready").ends_with("PASS"), "{text}");
        assert!(row(&text, "wharfd peak RSS").contains("60.0 MB"), "{text}");
        assert!(row(&text, "wharfd peak RSS").ends_with("PASS"), "{text}");
        assert!(
            text.contains("1500 App reconciles (3.0 per App, 0 failed, 120 ms on average)"),
            "{text}"
        );
    }

    #[test]
    fn beyond_the_goals_misses() {
        let text = report(31, 151);
        assert!(row(&text, "all ready").ends_with("MISS"), "{text}");
        assert!(row(&text, "wharfd peak RSS").ends_with("MISS"), "{text}");
    }
}
