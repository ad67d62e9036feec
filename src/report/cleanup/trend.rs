//! Flag debt over time, from git history: live flags at the end of each week, flags
//! created and retired (archived, or deleted) in it, and how long flags lived.

use chrono::{Datelike, Days, NaiveDate};
use schemars::JsonSchema;
use serde::Serialize;

use crate::history::History;
use crate::repo::ARCHIVE_DIR;

/// How many weeks the trend shows, ending with the week of today: half a year.
pub const TREND_WEEKS: usize = 26;

/// Flag debt over the weeks git history covers, at most [`TREND_WEEKS`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Trend {
    /// Oldest first; the last is the week of today, counted up to today.
    pub weeks: Vec<Week>,
    /// Flags created within these weeks.
    pub created: usize,
    /// Flags archived (or deleted) within these weeks.
    pub archived: usize,
    /// The median of the days from creation to archiving, over the flags archived within
    /// these weeks; `null` when none was.
    pub median_days_to_archive: Option<f64>,
}

impl Trend {
    /// How live flags changed from the first week to now, in words.
    pub fn change_words(&self) -> String {
        let live = |week: Option<&Week>| week.map_or(0, |w| w.live as i64);
        match live(self.weeks.last()) - live(self.weeks.first()) {
            0 => "unchanged".to_string(),
            c if c < 0 => format!("{c}: flag debt is shrinking"),
            c => format!("+{c}: flag debt is growing"),
        }
    }

    /// The median lifetime of the flags archived, in words.
    pub fn median_words(&self) -> String {
        self.median_days_to_archive
            .map_or("no flag was archived".to_string(), |d| {
                format!("median {d} days from creation to archive")
            })
    }
}

/// One week, Monday to Sunday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Week {
    /// Its Monday.
    pub start: NaiveDate,
    /// Live flags at its end (at today, for the week of today).
    pub live: usize,
    pub created: usize,
    pub archived: usize,
}

/// Where a flag's file is after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    Archived,
    Gone,
}

/// The trend of the weeks up to `today`, from the first week with a commit.
pub fn trend(history: &History, today: NaiveDate) -> Trend {
    let this_week = today - Days::new(today.weekday().num_days_from_monday().into());
    let first_commit = history.commits.iter().filter_map(|c| c.date()).min();
    let mut weeks: Vec<Week> = (0..TREND_WEEKS)
        .rev()
        .map(|back| this_week - Days::new(7 * back as u64))
        .filter(|start| first_commit.is_none_or(|first| *start + Days::new(6) >= first))
        .map(|start| Week {
            start,
            live: 0,
            created: 0,
            archived: 0,
        })
        .collect();
    let (Some(from), Some(last)) = (weeks.first().map(|w| w.start), weeks.last()) else {
        return Trend {
            weeks,
            created: 0,
            archived: 0,
            median_days_to_archive: None,
        };
    };
    let last = last.start;
    let week_of = |date: NaiveDate| -> Option<usize> {
        (date >= from && date <= today).then(|| ((date - from).num_days() / 7) as usize)
    };
    let archive = format!("{ARCHIVE_DIR}/");
    let mut lifetimes: Vec<i64> = Vec::new();
    let mut events: Vec<(NaiveDate, Place)> = Vec::new();
    for changes in history.flags.values() {
        events.clear();
        events.extend(changes.iter().filter_map(|change| {
            let date = history.commits[change.commit].date()?;
            let place = match &change.new_path {
                None => Place::Gone,
                Some(path) if path.starts_with(&archive) => Place::Archived,
                Some(_) => Place::Active,
            };
            Some((date, place))
        }));
        let mut previous: Option<Place> = None;
        let mut born: Option<NaiveDate> = None;
        for &(date, place) in &events {
            let was_active = previous == Some(Place::Active);
            if place == Place::Active && matches!(previous, None | Some(Place::Gone)) {
                born = Some(date);
                if let Some(week) = week_of(date) {
                    weeks[week].created += 1;
                }
            }
            if was_active
                && place != Place::Active
                && let Some(week) = week_of(date)
            {
                weeks[week].archived += 1;
                if let Some(born) = born {
                    lifetimes.push((date - born).num_days().max(0));
                }
            }
            previous = Some(place);
        }
        for week in weeks.iter_mut() {
            let end = if week.start == last {
                today
            } else {
                week.start + Days::new(6)
            };
            let place = events
                .iter()
                .rev()
                .find(|(date, _)| *date <= end)
                .map(|(_, place)| *place);
            if place == Some(Place::Active) {
                week.live += 1;
            }
        }
    }
    lifetimes.sort_unstable();
    let median_days_to_archive = match lifetimes.len() {
        0 => None,
        n if n % 2 == 1 => Some(lifetimes[n / 2] as f64),
        n => Some((lifetimes[n / 2 - 1] + lifetimes[n / 2]) as f64 / 2.0),
    };
    Trend {
        created: weeks.iter().map(|w| w.created).sum(),
        archived: weeks.iter().map(|w| w.archived).sum(),
        weeks,
        median_days_to_archive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Change, ChangeKind, CommitInfo};

    /// A history of `(key, date, new path)` changes, one commit each.
    fn history(changes: &[(&str, &str, Option<&str>)]) -> History {
        let mut history = History::default();
        for (index, (key, date, path)) in changes.iter().enumerate() {
            let time = chrono::DateTime::parse_from_rfc3339(&format!("{date}T12:00:00+00:00"))
                .expect("a date");
            history.commits.push(CommitInfo {
                id: format!("{index:040x}"),
                time: Some(time),
                committed: None,
                author: "T".into(),
                summary: "s".into(),
            });
            let kind = if path.is_none() {
                ChangeKind::Deleted
            } else {
                ChangeKind::Modified
            };
            history
                .flags
                .entry(key.to_string())
                .or_default()
                .push(Change {
                    commit: index,
                    kind,
                    old_path: None,
                    new_path: path.map(str::to_string),
                    old_blob: None,
                    new_blob: None,
                });
        }
        history
    }

    #[test]
    fn weeks_count_live_created_and_archived_flags() {
        // 2026-11-25 is a Wednesday: its week starts on Monday 2026-11-23.
        let history = history(&[
            ("a", "2026-11-02", Some("s/a.toml")),
            ("b", "2026-11-03", Some("s/b.toml")),
            ("c", "2026-11-10", Some("s/c.toml")),
            ("a", "2026-11-12", Some("_archive/s/a.toml")),
            ("b", "2026-11-24", None),
            // Added straight into the archive: never live, never created.
            ("d", "2026-11-24", Some("_archive/s/d.toml")),
        ]);
        let trend = trend(&history, "2026-11-25".parse().unwrap());
        let rows: Vec<(String, usize, usize, usize)> = trend
            .weeks
            .iter()
            .map(|w| (w.start.to_string(), w.live, w.created, w.archived))
            .collect();
        assert_eq!(
            rows,
            [
                ("2026-11-02".to_string(), 2, 2, 0),
                ("2026-11-09".to_string(), 2, 1, 1),
                ("2026-11-16".to_string(), 2, 0, 0),
                ("2026-11-23".to_string(), 1, 0, 1),
            ]
        );
        assert_eq!((trend.created, trend.archived), (3, 2));
        // a lived 10 days, b 21: the median of two is their mean.
        assert_eq!(trend.median_days_to_archive, Some(15.5));
    }

    #[test]
    fn at_most_half_a_year_is_shown() {
        let history = history(&[("a", "2025-01-01", Some("s/a.toml"))]);
        let trend = trend(&history, "2026-11-25".parse().unwrap());
        assert_eq!(trend.weeks.len(), TREND_WEEKS);
        assert!(trend.weeks.iter().all(|w| w.live == 1));
        assert_eq!((trend.created, trend.archived), (0, 0));
        assert_eq!(trend.median_days_to_archive, None);
    }
}
