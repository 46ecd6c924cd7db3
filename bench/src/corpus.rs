//! Deterministic message corpus: realistic sizes (1 KB–200 KB, skewed small),
//! text/plain, multipart/alternative and multipart/mixed with base64
//! attachments, RFC 2047 encoded non-ASCII headers, threads via References.
//!
//! Two marker words make searches comparable across servers: the body word
//! [`SEARCH_WORD`] is in about 2 % of messages, and [`RARE_SENDER`] sends
//! about 1 % of them.

use anyhow::Result;
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

pub const SEARCH_WORD: &str = "zeppelin";
pub const RARE_SENDER: &str = "quarantotto";

const FIRST: &[&str] = &[
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hannes",
    "Ida",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Simon",
    "Tina",
    "Uwe",
    "Vera",
    "Walter",
    "Yusuf",
    "Zoe",
    "Priya",
    "Mateo",
    "Sofía",
    "Jürgen",
    "Zoë",
    "Łukasz",
    "Søren",
    "Ångström",
    "Chloé",
    "Renée",
    "Björn",
    "Dvořák",
    "Miyu",
    "Ji-woo",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Smith",
    "Johnson",
    "García",
    "Martínez",
    "Nowak",
    "Kowalski",
    "Dubois",
    "Lefèvre",
    "Rossi",
    "Bianchi",
    "Tanaka",
    "Sato",
    "Kim",
    "Nguyen",
    "O'Brien",
    "Andersen",
    "Østergaard",
    "Straße",
    "Gómez",
    "Šimek",
];
const DOMAINS: &[&str] = &["example.org", "example.com", "example.net", "mail.example", "uni.example", "firma.example"];
const SUBJ_A: &[&str] = &[
    "Meeting",
    "Invoice",
    "Report",
    "Update",
    "Question",
    "Reminder",
    "Draft",
    "Proposal",
    "Schedule",
    "Budget",
    "Release",
    "Review",
    "Holiday",
    "Contract",
    "Newsletter",
    "Ticket",
    "Order",
    "Agenda",
    "Feedback",
    "Minutes",
];
const SUBJ_B: &[&str] = &[
    "for Monday",
    "Q3 numbers",
    "next steps",
    "about the server move",
    "from the board",
    "— please read",
    "für nächste Woche",
    "Übersicht",
    "à valider",
    "von gestern",
    "v2",
    "final",
    "(urgent)",
    "日程の確認",
    "и бюджет",
    "for the team",
    "and travel plans",
    "#4711",
    "with attachments",
    "ümlaut test",
];
const WORDS: &[&str] = &[
    "the",
    "and",
    "of",
    "to",
    "in",
    "we",
    "that",
    "is",
    "for",
    "it",
    "with",
    "as",
    "on",
    "be",
    "at",
    "this",
    "have",
    "from",
    "or",
    "by",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "can",
    "there",
    "use",
    "an",
    "each",
    "which",
    "do",
    "how",
    "if",
    "will",
    "up",
    "about",
    "out",
    "many",
    "then",
    "them",
    "so",
    "some",
    "would",
    "make",
    "like",
    "into",
    "time",
    "has",
    "look",
    "more",
    "write",
    "see",
    "number",
    "way",
    "could",
    "people",
    "than",
    "first",
    "water",
    "been",
    "call",
    "who",
    "now",
    "find",
    "long",
    "down",
    "day",
    "did",
    "get",
    "come",
    "made",
    "may",
    "part",
    "server",
    "mailbox",
    "project",
    "meeting",
    "invoice",
    "deadline",
    "customer",
    "release",
    "budget",
    "schedule",
    "report",
    "draft",
    "review",
    "quarterly",
    "numbers",
    "team",
    "office",
    "travel",
    "contract",
    "please",
    "thanks",
    "regards",
    "attached",
    "question",
    "answer",
    "tomorrow",
    "yesterday",
    "Woche",
    "Grüße",
    "Straße",
    "naïve",
    "café",
    "déjà",
    "über",
    "résumé",
    "größer",
    "Ärger",
    "façade",
];
const ATTACH: &[(&str, &str)] = &[
    ("application/pdf", "report.pdf"),
    ("image/jpeg", "photo.jpg"),
    ("image/png", "diagram.png"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "numbers.xlsx"),
    ("application/zip", "archive.zip"),
    ("text/calendar", "invite.ics"),
    ("application/pdf", "Rechnung_März.pdf"),
];

struct Person {
    name: String,
    addr: String,
}

fn person(rng: &mut ChaCha8Rng, rare: bool) -> Person {
    if rare {
        return Person { name: "Quintus Quarantotto".into(), addr: format!("{RARE_SENDER}@example.org") };
    }
    let f = FIRST[rng.gen_range(0..FIRST.len())];
    let l = LAST[rng.gen_range(0..LAST.len())];
    let d = DOMAINS[rng.gen_range(0..DOMAINS.len())];
    let local: String = format!("{}.{}", f, l)
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { 'x' })
        .collect();
    Person { name: format!("{f} {l}"), addr: format!("{local}@{d}") }
}

/// RFC 2047 encoding for a header word if it has non-ASCII (B or Q at random).
fn enc_word(rng: &mut ChaCha8Rng, s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    if rng.gen_bool(0.5) {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
    } else {
        let mut o = String::from("=?UTF-8?Q?");
        for b in s.bytes() {
            match b {
                b' ' => o.push('_'),
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' => o.push(b as char),
                _ => o.push_str(&format!("={b:02X}")),
            }
        }
        o.push_str("?=");
        o
    }
}

fn mailbox_hdr(rng: &mut ChaCha8Rng, p: &Person) -> String {
    if p.name.is_ascii() {
        format!("\"{}\" <{}>", p.name, p.addr)
    } else {
        format!("{} <{}>", enc_word(rng, &p.name), p.addr)
    }
}

fn paragraph(rng: &mut ChaCha8Rng, marker: bool) -> String {
    let n = rng.gen_range(20..90);
    let mut words: Vec<&str> = (0..n).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
    if marker {
        let at = rng.gen_range(0..words.len());
        words[at] = SEARCH_WORD;
    }
    let mut out = String::new();
    let mut col = 0;
    for (i, w) in words.iter().enumerate() {
        if col + w.len() > 72 {
            out.push_str("\r\n");
            col = 0;
        } else if i > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(w);
        col += w.chars().count();
    }
    out.push_str(".\r\n");
    out
}

/// Quoted-printable for the text parts (soft line breaks at 76).
fn qp(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 11 / 10);
    for line in s.split("\r\n") {
        let mut col = 0;
        for b in line.bytes() {
            let piece = match b {
                b'=' => "=3D".to_string(),
                33..=126 | b' ' => (b as char).to_string(),
                _ => format!("={b:02X}"),
            };
            if col + piece.len() > 75 {
                out.push_str("=\r\n");
                col = 0;
            }
            col += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out
}

fn b64_lines(data: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(s.len() + s.len() / 38);
    for chunk in s.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push_str("\r\n");
    }
    out
}

/// Target total size, skewed small: most messages are a few KB.
fn target_size(rng: &mut ChaCha8Rng) -> usize {
    let r: f64 = rng.gen();
    let s = if r < 0.55 {
        rng.gen_range(1_000..5_000)
    } else if r < 0.85 {
        rng.gen_range(5_000..30_000)
    } else if r < 0.97 {
        rng.gen_range(30_000..120_000)
    } else {
        rng.gen_range(120_000..200_000)
    };
    s.clamp(1_024, 200_000)
}

struct ThreadInfo {
    subject: String,
    refs: Vec<String>,
}

/// Generates `count` messages; message `i` depends only on the seed and on
/// the messages before it.
pub fn generate(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut threads: Vec<ThreadInfo> = Vec::new();
    let mut out = Vec::with_capacity(count);
    let base: i64 = 1_700_000_000; // 2023-11-14
    for i in 0..count {
        let target = target_size(&mut rng);
        let rare = rng.gen_bool(0.01);
        let marker = rng.gen_bool(0.02);
        let from = person(&mut rng, rare);
        let to = person(&mut rng, false);
        let msgid = format!("<{seed:x}.{i}@bench.example>");
        // threads: 35 % of messages reply to an earlier thread
        let (subject, irt, refs) = if !threads.is_empty() && rng.gen_bool(0.35) {
            let t = rng.gen_range(0..threads.len());
            let th = &mut threads[t];
            let irt = th.refs.last().cloned();
            let refs = th.refs.clone();
            th.refs.push(msgid.clone());
            if th.refs.len() > 12 {
                th.refs.remove(1);
            }
            (format!("Re: {}", th.subject), irt, refs)
        } else {
            let s = format!("{} {}", SUBJ_A[rng.gen_range(0..SUBJ_A.len())], SUBJ_B[rng.gen_range(0..SUBJ_B.len())]);
            threads.push(ThreadInfo { subject: s.clone(), refs: vec![msgid.clone()] });
            (s, None, Vec::new())
        };
        let date = base + (i as i64) * 613 + rng.gen_range(0..600);
        let mut h = String::new();
        h.push_str(&format!("Return-Path: <{}>\r\n", from.addr));
        h.push_str(&format!(
            "Received: from mx.example.org (mx.example.org [192.0.2.{}])\r\n\tby bench.example with ESMTPS id {:x}\r\n\tfor <{}>; {}\r\n",
            rng.gen_range(1..255),
            rng.gen::<u64>(),
            to.addr,
            rfc2822(date)
        ));
        h.push_str(&format!("Date: {}\r\n", rfc2822(date)));
        h.push_str(&format!("From: {}\r\n", mailbox_hdr(&mut rng, &from)));
        h.push_str(&format!("To: {}\r\n", mailbox_hdr(&mut rng, &to)));
        if rng.gen_bool(0.3) {
            let n = rng.gen_range(1..4);
            let cc: Vec<String> = (0..n)
                .map(|_| {
                    let p = person(&mut rng, false);
                    mailbox_hdr(&mut rng, &p)
                })
                .collect();
            h.push_str(&format!("Cc: {}\r\n", cc.join(",\r\n ")));
        }
        let subj_enc: Vec<String> = subject.split(' ').map(|w| enc_word(&mut rng, w)).collect();
        h.push_str(&format!("Subject: {}\r\n", join_encoded(&subj_enc)));
        h.push_str(&format!("Message-ID: {msgid}\r\n"));
        if let Some(irt) = irt {
            h.push_str(&format!("In-Reply-To: {irt}\r\n"));
            h.push_str(&format!("References: {}\r\n", refs.join("\r\n ")));
        }
        h.push_str("MIME-Version: 1.0\r\n");

        let kind: f64 = rng.gen();
        let text_budget = |t: usize| t.saturating_sub(h.len() + 300).max(200);
        let msg = if target <= 6_000 && kind < 0.7 || target < 2_000 {
            // single text/plain
            let body = text_of(&mut rng, text_budget(target), marker);
            format!(
                "{h}Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}",
                qp(&body)
            )
        } else if target <= 30_000 {
            // multipart/alternative text + html
            let body = text_of(&mut rng, text_budget(target) / 2, marker);
            let b = format!("=_alt_{:x}", rng.gen::<u64>());
            format!(
                "{h}Content-Type: multipart/alternative; boundary=\"{b}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--{b}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--{b}\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--{b}--\r\n",
                qp(&body),
                qp(&html_of(&body))
            )
        } else {
            // multipart/mixed: alternative + one or two base64 attachments
            let body = text_of(&mut rng, 1_500, marker);
            let outer = format!("=_mix_{:x}", rng.gen::<u64>());
            let alt = format!("=_alt_{:x}", rng.gen::<u64>());
            let mut m = format!(
                "{h}Content-Type: multipart/mixed; boundary=\"{outer}\"\r\n\r\n--{outer}\r\nContent-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n--{alt}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--{alt}\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--{alt}--\r\n",
                qp(&body),
                qp(&html_of(&body))
            );
            let n_att = if rng.gen_bool(0.3) { 2 } else { 1 };
            let remaining = target.saturating_sub(m.len() + 200 * n_att);
            for _ in 0..n_att {
                let (ct, name) = ATTACH[rng.gen_range(0..ATTACH.len())];
                let raw_len = remaining / n_att * 3 / 4;
                let data: Vec<u8> = (0..raw_len).map(|_| rng.gen()).collect();
                let fname =
                    if name.is_ascii() { format!("\"{name}\"") } else { format!("\"{}\"", enc_word(&mut rng, name)) };
                m.push_str(&format!(
                    "\r\n--{outer}\r\nContent-Type: {ct}; name={fname}\r\nContent-Disposition: attachment; filename={fname}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
                    b64_lines(&data)
                ));
            }
            m.push_str(&format!("\r\n--{outer}--\r\n"));
            m
        };
        out.push(msg.into_bytes());
    }
    out
}

/// Adjacent encoded-words are separated by folding whitespace (which decoders drop).
fn join_encoded(words: &[String]) -> String {
    words.join(" ")
}

fn text_of(rng: &mut ChaCha8Rng, budget: usize, marker: bool) -> String {
    let mut s = String::from("Hello,\r\n\r\n");
    let mut marked = !marker;
    while s.len() < budget {
        let m = !marked && rng.gen_bool(0.5);
        if m {
            marked = true;
        }
        s.push_str(&paragraph(rng, m));
        s.push_str("\r\n");
    }
    if !marked {
        s.push_str(&paragraph(rng, true));
    }
    s.push_str("Best regards\r\n");
    s
}

fn html_of(text: &str) -> String {
    let mut h = String::from("<html><head><meta charset=\"utf-8\"></head><body>\r\n");
    for p in text.split("\r\n\r\n") {
        h.push_str("<p>");
        h.push_str(&p.replace('&', "&amp;").replace('<', "&lt;"));
        h.push_str("</p>\r\n");
    }
    h.push_str("</body></html>\r\n");
    h
}

fn rfc2822(t: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

pub fn write_dir(dir: &Path, count: usize, seed: u64) -> Result<usize> {
    std::fs::create_dir_all(dir)?;
    let msgs = generate(count, seed);
    let mut total = 0;
    for (i, m) in msgs.iter().enumerate() {
        std::fs::write(dir.join(format!("{:06}.eml", i + 1)), m)?;
        total += m.len();
    }
    Ok(total)
}

/// Loads `*.eml` from a directory in name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    let v: Vec<Vec<u8>> = names.iter().map(std::fs::read).collect::<std::io::Result<_>>()?;
    if v.is_empty() {
        anyhow::bail!("no *.eml in {}", dir.display());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_sized_and_parseable() {
        let a = generate(120, 7);
        let b = generate(120, 7);
        assert_eq!(a, b, "same seed, same corpus");
        assert_ne!(a, generate(120, 8), "different seed, different corpus");
        let mut multipart = 0;
        let mut encoded = 0;
        let mut threaded = 0;
        for m in &a {
            assert!(m.len() >= 1_000 && m.len() <= 210_000, "size {}", m.len());
            let text = std::str::from_utf8(m).unwrap();
            assert!(text.is_ascii(), "7-bit on the wire");
            assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
            let p = mail_parser::MessageParser::default().parse(m.as_slice()).expect("parses");
            let subj = p.subject().expect("subject");
            assert!(!subj.contains("=?"), "decoded: {subj}");
            assert!(p.from().is_some() && p.message_id().is_some());
            if p.parts.len() > 1 {
                multipart += 1;
            }
            if text.contains("=?UTF-8?") {
                encoded += 1;
            }
            if text.contains("\r\nReferences: ") {
                threaded += 1;
            }
        }
        assert!(multipart > 10 && encoded > 10 && threaded > 10, "{multipart} {encoded} {threaded}");
    }

    #[test]
    fn dates_are_rfc2822() {
        assert_eq!(rfc2822(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 +0000");
    }
}
