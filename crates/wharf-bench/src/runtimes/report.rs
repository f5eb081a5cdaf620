//! The Runtime benchmark's report: medians of both sides with their ratio, and
//! wharfd's memory before and after.

use std::fmt;
use std::time::Duration;

use super::{creation, memory};
use crate::user_requests::Tally;

/// Part one's figures.
#[derive(Debug, Clone)]
pub struct CreationReport {
    /// The Runtime's engines and members, e.g. `mongodb 3, nats 3, …`.
    pub engines: String,
    /// Its children in words.
    pub children: String,
    /// The runs.
    pub outcome: creation::Outcome,
}

/// Part two's figures.
#[derive(Debug, Clone)]
pub struct MemoryReport {
    /// Each Runtime's engines and members.
    pub engines: String,
    /// Each Runtime's children in words.
    pub children: String,
    /// Creates at once.
    pub concurrency: u16,
    /// The measurement.
    pub outcome: memory::Outcome,
}

/// The median of `values` (the mean of the middle two for an even count); 0 for
/// none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `wharf / baseline` as `1.23×`, or `–` without a baseline.
pub fn ratio(wharf: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        format!("{:.2}×", wharf / baseline)
    } else {
        "–".into()
    }
}

/// A table row: a label, both sides' figures and their ratio.
pub fn row(f: &mut fmt::Formatter<'_>, label: &str, a: &str, b: &str, ratio: &str) -> fmt::Result {
    writeln!(f, "{label:<26} {a:>13} {b:>13} {ratio:>8}")
}

/// The requests of all `runs` together.
fn summed<'a>(runs: impl Iterator<Item = &'a creation::Run>) -> Tally {
    let mut total = Tally::default();
    for run in runs {
        total.add(&run.requests);
    }
    total
}

impl fmt::Display for CreationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (base, wharf) = (&self.outcome.baseline, &self.outcome.wharf);
        let runs = base.len().min(wharf.len());
        let times =
            |runs: &[creation::Run]| -> Vec<f64> { runs.iter().map(|r| millis(r.exist)).collect() };
        let requests = |runs: &[creation::Run]| -> Vec<f64> {
            runs.iter().map(|r| r.requests.total()).collect()
        };
        let base_ms = median(times(base));
        let wharf_ms = median(times(wharf));
        let base_requests = median(requests(base));
        let wharf_requests = median(requests(wharf));

        writeln!(
            f,
            "One Runtime with five engines ({}): {runs} runs per side, medians",
            self.engines
        )?;
        writeln!(f, "children: {}", self.children)?;
        writeln!(f)?;
        row(f, "", "baseline", "wharf", "ratio")?;
        row(
            f,
            "children exist",
            &format!("{base_ms:.0} ms"),
            &format!("{wharf_ms:.0} ms"),
            &ratio(wharf_ms, base_ms),
        )?;
        row(
            f,
            "API requests / Runtime",
            &format!("{base_requests:.1}"),
            &format!("{wharf_requests:.1}"),
            &ratio(wharf_requests, base_requests),
        )?;
        writeln!(f)?;
        let reported: Vec<f64> = wharf
            .iter()
            .filter_map(|r| r.reported.map(millis))
            .collect();
        if !reported.is_empty() {
            writeln!(
                f,
                "the Runtime's status written after {:.0} ms (median)",
                median(reported)
            )?;
        }
        let reconciles: Vec<f64> = wharf
            .iter()
            .filter_map(|r| r.reconciles.map(|n| n as f64))
            .collect();
        if !reconciles.is_empty() {
            writeln!(
                f,
                "wharfd reconciled the Runtime {:.0} times in its window (median)",
                median(reconciles)
            )?;
        }
        let spread = |ms: Vec<f64>| {
            let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
            let max = ms.iter().copied().fold(0.0, f64::max);
            format!("{min:.0}–{max:.0} ms")
        };
        writeln!(
            f,
            "children exist, fastest–slowest run: baseline {}, wharf {}",
            spread(times(base)),
            spread(times(wharf))
        )?;
        writeln!(
            f,
            "requests per Runtime by resource, mean of the runs (each side's own account; \
             watches and lists included):"
        )?;
        let (base_all, wharf_all) = (summed(base.iter()), summed(wharf.iter()));
        let mut keys: Vec<&String> = base_all.0.keys().chain(wharf_all.0.keys()).collect();
        keys.sort();
        keys.dedup();
        let mean = |tally: &Tally, key: &str| {
            tally.0.get(key).copied().unwrap_or(0.0) / runs.max(1) as f64
        };
        for key in keys {
            row(
                f,
                &format!("  {key}"),
                &format!("{:.1}", mean(&base_all, key)),
                &format!("{:.1}", mean(&wharf_all, key)),
                "",
            )?;
        }
        write!(f, "wharfd log: {}", self.outcome.log.display())
    }
}

impl fmt::Display for MemoryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = &self.outcome;
        let n = outcome.runtimes;
        let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
        let (idle, loaded) = (outcome.idle, outcome.loaded);
        writeln!(
            f,
            "wharfd memory with {n} Runtimes, each {} ({}), created {} at a time",
            self.engines, self.children, self.concurrency
        )?;
        writeln!(f)?;
        row(f, "", "0 Runtimes", &format!("{n} Runtimes"), "ratio")?;
        row(
            f,
            "resident (VmRSS)",
            &mb(idle.rss),
            &mb(loaded.rss),
            &ratio(loaded.rss as f64, idle.rss as f64),
        )?;
        row(
            f,
            "peak (VmHWM)",
            &mb(idle.peak),
            &mb(loaded.peak),
            &ratio(loaded.peak as f64, idle.peak as f64),
        )?;
        let per_runtime = (loaded.rss as f64 - idle.rss as f64) / n.max(1) as f64;
        row(
            f,
            "per Runtime (VmRSS)",
            "",
            &format!("{:.1} kB", per_runtime / 1e3),
            "",
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "every child existed after {:.1} s, every Runtime had a status after {:.1} s",
            outcome.exist.as_secs_f64(),
            outcome.reported.as_secs_f64()
        )?;
        writeln!(
            f,
            "(the members' pods stay Pending: the cluster has no volumes for their claims)"
        )?;
        write!(f, "wharfd log: {}", outcome.log.display())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::wharfd::Memory;

    #[test]
    fn the_median_is_the_middle_value() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![1.0, 100.0, 2.0]), 2.0);
    }

    fn tally(entries: &[(&str, f64)]) -> Tally {
        Tally(
            entries
                .iter()
                .map(|(key, n)| ((*key).to_owned(), *n))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn run(ms: u64, requests: Tally) -> creation::Run {
        creation::Run {
            exist: Duration::from_millis(ms),
            reported: Some(Duration::from_millis(ms + 10)),
            requests,
            reconciles: Some(4),
        }
    }

    fn line<'a>(text: &'a str, label: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_default()
    }

    #[test]
    fn creation_shows_medians_ratios_and_requests_by_resource() {
        let base = tally(&[("apps/statefulsets", 5.0)]);
        let wharf = tally(&[
            ("apps/statefulsets", 6.0),
            ("core/events", 1.0),
            ("wharf.dev/runtimes", 3.0),
        ]);
        let report = CreationReport {
            engines: "nats 3".into(),
            children: "1 StatefulSet".into(),
            outcome: creation::Outcome {
                baseline: vec![
                    run(100, base.clone()),
                    run(300, base.clone()),
                    run(200, base),
                ],
                wharf: vec![
                    run(250, wharf.clone()),
                    run(5000, wharf.clone()),
                    run(500, wharf),
                ],
                log: "/tmp/wharfd.log".into(),
            },
        }
        .to_string();
        let exist = line(&report, "children exist ");
        assert!(exist.contains("200 ms"), "{report}");
        assert!(exist.contains("500 ms"), "{report}");
        assert!(exist.ends_with("2.50×"), "{report}");
        let requests = line(&report, "API requests / Runtime");
        assert!(requests.contains(" 5.0 "), "{report}");
        assert!(requests.contains(" 10.0 "), "{report}");
        assert!(requests.ends_with("2.00×"), "{report}");
        assert!(report.contains("status written after 510 ms"), "{report}");
        assert!(report.contains("the Runtime 4 times"), "{report}");
        assert!(
            report.contains("baseline 100–300 ms, wharf 250–5000 ms"),
            "{report}"
        );
        let statefulsets = line(&report, "  apps/statefulsets");
        assert!(statefulsets.contains(" 5.0 "), "{report}");
        assert!(statefulsets.trim_end().ends_with(" 6.0"), "{report}");
        assert!(line(&report, "  core/events").contains(" 0.0 "), "{report}");
    }

    #[test]
    fn memory_shows_both_sizes_and_the_growth_per_runtime() {
        let report = MemoryReport {
            engines: "nats 1".into(),
            children: "1 StatefulSet".into(),
            concurrency: 16,
            outcome: memory::Outcome {
                runtimes: 1000,
                idle: Memory {
                    rss: 20_000_000,
                    peak: 25_000_000,
                },
                loaded: Memory {
                    rss: 80_000_000,
                    peak: 100_000_000,
                },
                exist: Duration::from_secs(30),
                reported: Duration::from_secs(31),
                log: "/tmp/wharfd.log".into(),
            },
        }
        .to_string();
        let rss = line(&report, "resident (VmRSS)");
        assert!(rss.contains("20.0 MB"), "{report}");
        assert!(rss.contains("80.0 MB"), "{report}");
        assert!(rss.ends_with("4.00×"), "{report}");
        assert!(line(&report, "peak (VmHWM)").ends_with("4.00×"), "{report}");
        assert!(line(&report, "per Runtime").contains("60.0 kB"), "{report}");
    }
}
