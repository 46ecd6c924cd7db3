//! IMAP URLs (RFC 5092) as CATENATE uses them (RFC 4469 §3): references to a
//! message or a part of one in the user's own mailboxes.
//!
//! Accepted forms (keys case-insensitive):
//! - `/Drafts;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2/;PARTIAL=0.1024`
//!   (relative to `imap://user@server/`);
//! - `;UID=20/;SECTION=HEADER` or `/;UID=20` (relative to the selected mailbox);
//! - `imap://user@host/INBOX/;UID=20` when `user` is the logged-in user.
//!
//! `;URLAUTH=` and `;EXPIRE=` (URLAUTH, RFC 4467) are not supported, nor are
//! URLs of other users or servers: those are not parsed (the caller answers
//! `NO [BADURL …]`).

use imap_proto::Section;

/// A parsed message or message-part URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    /// The mailbox (UTF-8, percent-decoded); `None`: the selected mailbox.
    pub mailbox: Option<String>,
    pub uid_validity: Option<u32>,
    pub uid: u32,
    /// `None`: the whole message.
    pub section: Option<Section>,
    /// RFC 5092 `partial-range = number ["." nz-number]`: offset and length.
    pub partial: Option<(u32, Option<u32>)>,
}

/// Longest URL accepted (RFC 5092 sets none; IMAP command lines are limited anyway).
pub const MAX_URL_LEN: usize = 8192;

/// Parses `url` for the account `user`; `None` if it is not a message URL
/// of this user that postfach can resolve.
pub fn parse(url: &str, user: &str) -> Option<ImapUrl> {
    if url.len() > MAX_URL_LEN {
        return None;
    }
    let path = match url.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("imap://") => {
            let rest = &url[7..];
            let slash = rest.find('/')?;
            let (userinfo, _host) = rest[..slash].rsplit_once('@')?;
            // `iuserinfo = enc-user [iauth] / [enc-user] iauth`; only the user matters.
            let enc_user = userinfo.split(';').next()?;
            if !percent_decode(enc_user)?.eq_ignore_ascii_case(user) {
                return None;
            }
            &rest[slash..]
        }
        // Relative references start with "/" (absolute path) or ";" (the selected mailbox).
        _ if url.starts_with('/') || url.starts_with(';') => url,
        _ => return None,
    };
    let path = path.strip_prefix('/').unwrap_or(path);
    let (mailbox, params) = match path.find(';') {
        Some(i) => (&path[..i], &path[i..]),
        None => return None,
    };
    let mailbox = mailbox.strip_suffix('/').unwrap_or(mailbox);
    let mailbox = if mailbox.is_empty() { None } else { Some(percent_decode(mailbox)?) };
    let mut out = ImapUrl { mailbox, uid_validity: None, uid: 0, section: None, partial: None };
    // Each parameter: `;KEY=value`, followed by "/" before the next one.
    let mut last = 0; // order: UIDVALIDITY (1) < UID (2) < SECTION (3) < PARTIAL (4)
    for param in params.split(';').skip(1) {
        let param = param.strip_suffix('/').unwrap_or(param);
        let (key, value) = param.split_once('=')?;
        let rank = match key.to_ascii_uppercase().as_str() {
            "UIDVALIDITY" => {
                out.uid_validity = Some(nz_number(value)?);
                1
            }
            "UID" => {
                out.uid = nz_number(value)?;
                2
            }
            "SECTION" => {
                let text = percent_decode(value)?;
                out.section = Some(imap_proto::parser::parse_section(text.as_bytes()).ok()?);
                3
            }
            "PARTIAL" => {
                let (offset, len) = match value.split_once('.') {
                    Some((o, l)) => (number(o)?, Some(nz_number(l)?)),
                    None => (number(value)?, None),
                };
                out.partial = Some((offset, len));
                4
            }
            _ => return None,
        };
        if rank <= last {
            return None;
        }
        last = rank;
    }
    (out.uid != 0).then_some(out)
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn nz_number(s: &str) -> Option<u32> {
    number(s).filter(|&n| n != 0)
}

/// `%XX` escapes to bytes, which must then be UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::SectionText;

    fn p(url: &str) -> Option<ImapUrl> {
        parse(url, "alice")
    }

    #[test]
    fn rfc4469_examples() {
        let u = p("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER").unwrap();
        assert_eq!(u.mailbox.as_deref(), Some("Drafts"));
        assert_eq!((u.uid_validity, u.uid), (Some(385759045), 20));
        assert_eq!(u.section, Some(Section { part: vec![], text: Some(SectionText::Header) }));
        let u = p("/Drafts;UIDVALIDITY=385759045/;UID=20/;Section=2.MIME").unwrap();
        assert_eq!(u.section, Some(Section { part: vec![2], text: Some(SectionText::Mime) }));
        let u = p("/INBOX;UIDVALIDITY=785799047/;UID=113330/;section=1.5.9").unwrap();
        assert_eq!(u.section.unwrap().part, vec![1, 5, 9]);
        // RFC 8508 §4.2: no UIDVALIDITY.
        let u = p("/Drafts/;UID=3002").unwrap();
        assert_eq!((u.mailbox.as_deref(), u.uid_validity, u.uid, u.section), (Some("Drafts"), None, 3002, None));
    }

    #[test]
    fn relative_absolute_and_encoded() {
        assert_eq!(p(";UID=7").unwrap().mailbox, None);
        assert_eq!(p("/;UID=7/;SECTION=TEXT").unwrap().mailbox, None);
        let u =
            p("/Archive%2F2024/Caf%C3%A9;UIDVALIDITY=1/;UID=2/;SECTION=HEADER.FIELDS%20(FROM)/;PARTIAL=10.20").unwrap();
        assert_eq!(u.mailbox.as_deref(), Some("Archive/2024/Café"));
        assert_eq!(u.partial, Some((10, Some(20))));
        assert!(matches!(u.section.unwrap().text, Some(SectionText::HeaderFields { .. })));
        assert_eq!(p("/INBOX/;UID=1/;PARTIAL=5").unwrap().partial, Some((5, None)));
        assert_eq!(p("imap://alice@mail.example.org/INBOX/;UID=1").unwrap().mailbox.as_deref(), Some("INBOX"));
        assert_eq!(p("IMAP://Alice;AUTH=*@h:143/INBOX/;UID=1").unwrap().uid, 1);
    }

    #[test]
    fn refused() {
        for bad in [
            "imap://bob@host/INBOX/;UID=1",
            "imap://host/INBOX/;UID=1",
            "/INBOX",
            "/INBOX/;UIDVALIDITY=1",
            "/INBOX/;UID=0",
            "/INBOX/;UID=x",
            "/INBOX/;UID=1/;SECTION=1.FOO",
            "/INBOX/;UID=1/;SECTION=1]",
            "/INBOX/;UID=1/;URLAUTH=anonymous",
            "/INBOX/;SECTION=1/;UID=1",
            "/INBOX/;UID=1/;UID=2",
            "/INBOX/;UID=1/;PARTIAL=1.0",
            "/IN%ZZBOX/;UID=1",
            "/%FF/;UID=1",
            "http://alice@x/INBOX/;UID=1",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        assert_eq!(p(&format!("/{}/;UID=1", "a".repeat(MAX_URL_LEN))), None);
    }
}
