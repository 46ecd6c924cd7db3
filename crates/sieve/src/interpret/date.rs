//! Dates for the date and index extensions (RFC 5260): parsing RFC 5322
//! dates, zone conversion and date parts.

/// A point in time with the zone it is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Offset from UTC in minutes (e.g. +60 for +0100).
    pub offset_minutes: i32,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl DateTime {
    /// From seconds since the Unix epoch, expressed at `offset_minutes`.
    pub fn from_unix(secs: i64, offset_minutes: i32) -> DateTime {
        let local = secs + i64::from(offset_minutes) * 60;
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: ((rem % 3600) / 60) as u32,
            second: (rem % 60) as u32,
            offset_minutes,
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    pub fn to_zone(&self, offset_minutes: i32) -> DateTime {
        DateTime::from_unix(self.unix(), offset_minutes)
    }

    fn zone_str(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let o = self.offset_minutes.unsigned_abs();
        format!("{sign}{:02}{:02}", o / 60, o % 60)
    }

    fn weekday(&self) -> u32 {
        (days_from_civil(self.year, self.month, self.day) + 4).rem_euclid(7) as u32
    }

    /// A date part of RFC 5260 §4.2 (`None` for an unknown part).
    pub fn part(&self, part: &str) -> Option<String> {
        let p = part.to_ascii_lowercase();
        Some(match p.as_str() {
            "year" => format!("{:04}", self.year),
            "month" => format!("{:02}", self.month),
            "day" => format!("{:02}", self.day),
            "date" => format!("{:04}-{:02}-{:02}", self.year, self.month, self.day),
            "julian" => (days_from_civil(self.year, self.month, self.day) + 40_587).to_string(),
            "hour" => format!("{:02}", self.hour),
            "minute" => format!("{:02}", self.minute),
            "second" => format!("{:02}", self.second),
            "time" => format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second),
            "iso8601" => {
                let z = self.zone_str();
                format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}:{}",
                    self.year,
                    self.month,
                    self.day,
                    self.hour,
                    self.minute,
                    self.second,
                    &z[..3],
                    &z[3..]
                )
            }
            "std11" => {
                const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
                const MONTHS: [&str; 12] =
                    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
                format!(
                    "{}, {:02} {} {:04} {:02}:{:02}:{:02} {}",
                    DAYS[self.weekday() as usize % 7],
                    self.day,
                    MONTHS[(self.month as usize).saturating_sub(1) % 12],
                    self.year,
                    self.hour,
                    self.minute,
                    self.second,
                    self.zone_str()
                )
            }
            "zone" => self.zone_str(),
            "weekday" => self.weekday().to_string(),
            _ => return None,
        })
    }
}

/// Parses `+hhmm` / `-hhmm` into minutes.
pub fn parse_zone(z: &str) -> Option<i32> {
    let b = z.as_bytes();
    if b.len() != 5 || !(b[0] == b'+' || b[0] == b'-') || !b[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h: i32 = z[1..3].parse().ok()?;
    let m: i32 = z[3..5].parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    let v = h * 60 + m;
    Some(if b[0] == b'-' { -v } else { v })
}

/// Parses an RFC 5322 date-time (with the obsolete zone names).
pub fn parse_rfc5322(s: &str) -> Option<DateTime> {
    let s = match s.find(',') {
        Some(i) => &s[i + 1..],
        None => s,
    };
    // drop comments
    let s: String = {
        let mut out = String::new();
        let mut depth = 0usize;
        for c in s.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                c if depth == 0 => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut it = s.split_whitespace();
    let day: u32 = it.next()?.parse().ok()?;
    let mon = it.next()?.to_ascii_lowercase();
    let month = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        .iter()
        .position(|m| mon.starts_with(m))? as u32
        + 1;
    let ytxt = it.next()?;
    let mut year: i64 = ytxt.parse().ok()?;
    if ytxt.len() <= 2 {
        year += if year < 50 { 2000 } else { 1900 };
    } else if ytxt.len() == 3 {
        year += 1900;
    }
    let time = it.next()?;
    let mut tp = time.split(':');
    let hour: u32 = tp.next()?.parse().ok()?;
    let minute: u32 = tp.next()?.parse().ok()?;
    let second: u32 = match tp.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    let zone = it.next().unwrap_or("-0000");
    let offset = parse_zone(zone).or_else(|| {
        Some(match zone.to_ascii_uppercase().as_str() {
            "UT" | "GMT" | "Z" => 0,
            "EST" => -300,
            "EDT" => -240,
            "CST" => -360,
            "CDT" => -300,
            "MST" => -420,
            "MDT" => -360,
            "PST" => -480,
            "PDT" => -420,
            _ => 0,
        })
    })?;
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(DateTime { year, month, day, hour, minute, second: second.min(59), offset_minutes: offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_parts() {
        let d = parse_rfc5322("Tue, 1 Apr 1997 09:06:31 -0800 (PST)").expect("date");
        assert_eq!(d.part("date").as_deref(), Some("1997-04-01"));
        assert_eq!(d.part("zone").as_deref(), Some("-0800"));
        assert_eq!(d.part("weekday").as_deref(), Some("2"));
        let u = d.to_zone(0);
        assert_eq!(u.part("time").as_deref(), Some("17:06:31"));
        assert_eq!(u.part("iso8601").as_deref(), Some("1997-04-01T17:06:31+00:00"));
        assert_eq!(u.part("std11").as_deref(), Some("Tue, 01 Apr 1997 17:06:31 +0000"));
        // MJD of 1858-11-17 is 0
        let mjd0 = DateTime { year: 1858, month: 11, day: 17, hour: 0, minute: 0, second: 0, offset_minutes: 0 };
        assert_eq!(mjd0.part("julian").as_deref(), Some("0"));
        assert!(parse_rfc5322("garbage").is_none());
        assert_eq!(parse_zone("+0130"), Some(90));
        assert_eq!(parse_zone("0130"), None);
    }

    #[test]
    fn unix_roundtrip() {
        let d = DateTime::from_unix(1_700_000_000, 60);
        assert_eq!(d.unix(), 1_700_000_000);
        assert_eq!(d.part("date").as_deref(), Some("2023-11-14"));
    }
}
