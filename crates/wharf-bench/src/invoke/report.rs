//! The invoke benchmark's report: latency percentiles and throughput of both
//! sides, with the ratio Wharf / direct.

use std::fmt;
use std::time::Duration;

use super::{InvokeArgs, NODES};
use crate::api::{ms, percentile};
use crate::runtimes::report::{ratio, row};

/// One side's figures.
#[derive(Debug, Clone)]
pub struct Side {
    /// The sequential requests' round trips, shortest first.
    pub latencies: Vec<Duration>,
    /// How long the concurrent requests took together.
    pub throughput_took: Duration,
    /// Requests that failed or came back wrong, of all sent.
    pub errors: usize,
    /// Why the first of them failed.
    pub first_failure: Option<String>,
}

impl Side {
    /// The round trip below which `p` percent of the sequential requests came
    /// back.
    pub fn latency(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    /// Concurrent requests answered per second.
    pub fn per_second(&self, requests: usize) -> f64 {
        let seconds = self.throughput_took.as_secs_f64();
        if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Both sides of one run.
#[derive(Debug, Clone)]
pub struct InvokeReport {
    /// How it was measured.
    pub args: InvokeArgs,
    /// Through Wharf's invoke endpoint.
    pub wharf: Side,
    /// Over NATS directly.
    pub direct: Side,
}

impl fmt::Display for InvokeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.args;
        let (wharf, direct) = (&self.wharf, &self.direct);
        writeln!(
            f,
            "Invoke: a three-node workflow ({}), through Wharf and over NATS directly",
            NODES.join(" → ")
        )?;
        writeln!(
            f,
            "  latency: {} sequential requests after {} warm-up; throughput: {} requests from {} callers",
            a.requests, a.warmup, a.throughput_requests, a.concurrency
        )?;
        writeln!(f, "  ratio: Wharf / direct")?;
        writeln!(f)?;
        row(f, "", "Wharf", "direct", "ratio")?;
        for (label, p) in [("round trip p50", 50.0), ("round trip p99", 99.0)] {
            let (w, d) = (wharf.latency(p), direct.latency(p));
            row(
                f,
                label,
                &ms(w),
                &ms(d),
                &ratio(w.as_secs_f64(), d.as_secs_f64()),
            )?;
        }
        let (w, d) = (
            wharf.per_second(a.throughput_requests),
            direct.per_second(a.throughput_requests),
        );
        row(
            f,
            "throughput",
            &format!("{w:.0} req/s"),
            &format!("{d:.0} req/s"),
            &ratio(w, d),
        )?;
        row(
            f,
            "failed requests",
            &wharf.errors.to_string(),
            &direct.errors.to_string(),
            "",
        )?;
        for (name, side) in [("Wharf", wharf), ("direct", direct)] {
            if let Some(failure) = &side.first_failure {
                writeln!(f, "  first failure ({name}): {failure}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(latencies_ms: &[u64], took_ms: u64) -> Side {
        Side {
            latencies: latencies_ms
                .iter()
                .map(|&m| Duration::from_millis(m))
                .collect(),
            throughput_took: Duration::from_millis(took_ms),
            errors: 0,
            first_failure: None,
        }
    }

    fn line<'a>(text: &'a str, label: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in\n{text}"))
    }

    #[test]
    fn both_sides_with_their_ratios() {
        let report = InvokeReport {
            args: InvokeArgs {
                requests: 100,
                warmup: 10,
                throughput_requests: 1000,
                concurrency: 16,
            },
            // p50 is the 50th of 100, p99 the 99th.
            wharf: side(&(1..=100).map(|i| i * 2).collect::<Vec<_>>(), 2000),
            direct: side(&(1..=100).collect::<Vec<_>>(), 500),
        };
        let text = report.to_string();
        let p50 = line(&text, "round trip p50");
        assert!(
            p50.contains("100.00 ms") && p50.contains("50.00 ms"),
            "{p50}"
        );
        assert!(p50.ends_with("2.00×"), "{p50}");
        let p99 = line(&text, "round trip p99");
        assert!(
            p99.contains("198.00 ms") && p99.contains("99.00 ms"),
            "{p99}"
        );
        let throughput = line(&text, "throughput");
        assert!(
            throughput.contains("500 req/s") && throughput.contains("2000 req/s"),
            "{throughput}"
        );
        assert!(throughput.ends_with("0.25×"), "{throughput}");
        assert!(!text.contains("first failure"), "{text}");
    }

    #[test]
    fn the_first_failure_is_quoted() {
        let mut wharf = side(&[1], 1);
        wharf.errors = 3;
        wharf.first_failure = Some("HTTP 504".into());
        let report = InvokeReport {
            args: InvokeArgs {
                requests: 1,
                warmup: 0,
                throughput_requests: 1,
                concurrency: 1,
            },
            wharf,
            direct: side(&[1], 1),
        };
        let text = report.to_string();
        assert!(line(&text, "failed requests").contains('3'), "{text}");
        assert!(text.contains("first failure (Wharf): HTTP 504"), "{text}");
    }
}
