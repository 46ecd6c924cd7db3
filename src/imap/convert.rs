//! Conversions between wire values (`imap_proto`) and stored values (`store`).

use imap_proto::{Date, DateTime, Flag};
use store::Flags;

/// Stored flags → the wire's flag list (system flags first).
pub fn flags_to_wire(f: &Flags) -> Vec<Flag> {
    let mut out = Vec::with_capacity(5 + f.keywords.len());
    for (bit, flag) in [
        (Flags::SEEN, Flag::Seen),
        (Flags::ANSWERED, Flag::Answered),
        (Flags::FLAGGED, Flag::Flagged),
        (Flags::DELETED, Flag::Deleted),
        (Flags::DRAFT, Flag::Draft),
    ] {
        if f.has(bit) {
            out.push(flag);
        }
    }
    out.extend(f.keywords.iter().map(|k| Flag::Keyword(k.clone())));
    out
}

/// Wire flags → stored flags. `\Recent` is not a client-settable flag and is
/// ignored (RFC 9051 §2.3.2); unknown `\Extension` flags are kept as keywords
/// only if they are valid atoms, which the parser guarantees.
pub fn flags_from_wire(flags: &[Flag]) -> Flags {
    let mut out = Flags::default();
    for f in flags {
        match f {
            Flag::Seen => out.system |= Flags::SEEN,
            Flag::Answered => out.system |= Flags::ANSWERED,
            Flag::Flagged => out.system |= Flags::FLAGGED,
            Flag::Deleted => out.system |= Flags::DELETED,
            Flag::Draft => out.system |= Flags::DRAFT,
            Flag::Recent | Flag::Extension(_) => {}
            Flag::Keyword(k) => out.keywords.push(k.clone()),
        }
    }
    out.normalize();
    out
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An APPEND date-time → (Unix seconds, zone minutes).
pub fn datetime_to_unix(dt: &DateTime) -> (i64, i16) {
    let days = days_from_civil(i64::from(dt.date.year), u32::from(dt.date.month), u32::from(dt.date.day));
    let local = days * 86400 + i64::from(dt.hour) * 3600 + i64::from(dt.minute) * 60 + i64::from(dt.second);
    (local - i64::from(dt.zone_minutes) * 60, dt.zone_minutes)
}

/// (Unix seconds, zone minutes) → INTERNALDATE.
pub fn unix_to_datetime(secs: i64, zone_minutes: i16) -> DateTime {
    let local = secs + i64::from(zone_minutes) * 60;
    let days = local.div_euclid(86400);
    let rem = local.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    DateTime {
        date: Date { year: y.clamp(0, 9999) as u16, month: m as u8, day: d as u8 },
        hour: (rem / 3600) as u8,
        minute: ((rem % 3600) / 60) as u8,
        second: (rem % 60) as u8,
        zone_minutes,
    }
}

/// The local date part of an instant in a zone (SEARCH BEFORE/ON/SINCE
/// compare dates "disregarding time and timezone", RFC 9051 §6.4.4).
pub fn unix_to_date(secs: i64, zone_minutes: i16) -> Date {
    unix_to_datetime(secs, zone_minutes).date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for &(y, m, d) in &[(1970, 1, 1), (2000, 2, 29), (2024, 12, 31), (1999, 3, 1)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
        let dt = unix_to_datetime(1_700_000_000, 60);
        assert_eq!(datetime_to_unix(&dt), (1_700_000_000, 60));
        assert_eq!(dt.date, Date { year: 2023, month: 11, day: 14 });
        assert_eq!((dt.hour, dt.minute), (23, 13));
    }

    #[test]
    fn flags_convert() {
        let f =
            flags_from_wire(&[Flag::Seen, Flag::Keyword("$Junk".into()), Flag::Recent, Flag::Keyword("$junk".into())]);
        assert_eq!(f.system, Flags::SEEN);
        assert_eq!(f.keywords, vec!["$Junk".to_string()]);
        assert_eq!(flags_to_wire(&f), vec![Flag::Seen, Flag::Keyword("$Junk".into())]);
    }
}
