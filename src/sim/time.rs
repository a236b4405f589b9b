//! Simulated time.
//!
//! The clock is a plain `u64` of milliseconds since the start of the run, advanced
//! only by the scheduler. For envelopes and exports it is shown as an RFC 3339
//! timestamp counted from a fixed epoch, so the same run always prints the same times.
//! The conversion is the days-from-civil arithmetic of the proleptic Gregorian
//! calendar, written out here because it is a few lines and keeps a date library out
//! of the browser bundle; a test checks it against `jiff`.

/// Simulated milliseconds since the run started.
pub type Millis = u64;

/// The wall-clock instant that simulated time 0 is shown as: 2026-01-01T00:00:00Z,
/// in seconds since the Unix epoch.
pub const EPOCH_UNIX_S: u64 = 1_767_225_600;

/// Formats simulated time as RFC 3339 in UTC with millisecond precision,
/// e.g. `2026-01-01T00:00:01.250Z`.
pub fn rfc3339(time_ms: Millis) -> String {
    let total_s = EPOCH_UNIX_S + time_ms / 1000;
    let ms = time_ms % 1000;
    let days = total_s / 86_400;
    let secs_of_day = total_s % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        secs_of_day / 3600,
        (secs_of_day / 60) % 60,
        secs_of_day % 60
    )
}

/// Year, month and day of the date `days` after 1970-01-01 (days are never negative
/// here, since simulated time starts in 2026).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year, then
    // count 400-year eras of 146 097 days.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(rfc3339(0), "2026-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_250), "2026-01-01T00:00:01.250Z");
        assert_eq!(rfc3339(86_400_000 * 59), "2026-03-01T00:00:00.000Z");
        // 2028 is a leap year: day 365 + 31 + 28 of 2027-2028 lands on Feb 29th.
        let to_2028_02_29 = (365 + 365 + 31 + 28) * 86_400_000;
        assert_eq!(rfc3339(to_2028_02_29), "2028-02-29T00:00:00.000Z");
    }
}
