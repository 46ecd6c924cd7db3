//! The IMAP `envelope` (RFC 9051 §7.5.2, grammar in §9), built from the raw
//! header: strings are the raw (unfolded, undecoded) header text, addresses
//! come from an RFC 5322 address-list parser that keeps encoded words as sent.

use imap_proto::encoder::nstring;

use super::{decode_text, raw_value, split_headers};

/// One `address` of the envelope, or a group marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Addr {
    pub name: Option<Vec<u8>>,
    pub adl: Option<Vec<u8>>,
    /// Mailbox; for a group start the group name, for a group end `None`.
    pub mailbox: Option<Vec<u8>>,
    /// `None` marks group syntax.
    pub host: Option<Vec<u8>>,
}

/// Encodes the envelope of a header block.
pub(crate) fn encode(header: &[u8]) -> Vec<u8> {
    let fields = split_headers(header);
    let first = |name: &str| fields.iter().find(|f| f.name.eq_ignore_ascii_case(name.as_bytes())).map(|f| f.value);
    let text = |name: &str| first(name).map(raw_value).filter(|v| !v.is_empty());
    let addrs = |name: &str| first(name).map(parse_addresses).unwrap_or_default();

    let from = addrs("from");
    let mut sender = addrs("sender");
    if sender.is_empty() {
        sender = from.clone();
    }
    let mut reply_to = addrs("reply-to");
    if reply_to.is_empty() {
        reply_to = from.clone();
    }

    let mut out = Vec::with_capacity(256);
    out.push(b'(');
    nstring(text("date").as_deref(), &mut out);
    out.push(b' ');
    nstring(text("subject").as_deref(), &mut out);
    for list in [&from, &sender, &reply_to, &addrs("to"), &addrs("cc"), &addrs("bcc")] {
        out.push(b' ');
        write_list(list, &mut out);
    }
    out.push(b' ');
    nstring(text("in-reply-to").as_deref(), &mut out);
    out.push(b' ');
    nstring(text("message-id").as_deref(), &mut out);
    out.push(b')');
    out
}

fn write_list(list: &[Addr], out: &mut Vec<u8>) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        nstring(a.name.as_deref(), out);
        out.push(b' ');
        nstring(a.adl.as_deref(), out);
        out.push(b' ');
        nstring(a.mailbox.as_deref(), out);
        out.push(b' ');
        nstring(a.host.as_deref(), out);
        out.push(b')');
    }
    out.push(b')');
}

/// Decoded display form of an address header for sorting and searching:
/// `Name <local@domain>, other@domain`.
pub(crate) fn display_addresses(value: &[u8]) -> String {
    let mut parts = Vec::new();
    for a in parse_addresses(value) {
        let (Some(mailbox), Some(host)) = (&a.mailbox, &a.host) else {
            // A group's start (`addr-host` NIL, RFC 9051 §7.5.2): its display
            // name is part of the field's text, so SEARCH TO finds it.
            if let (Some(group), None) = (&a.mailbox, &a.host) {
                parts.push(format!("{}:", decode_text(group)));
            }
            continue;
        };
        let addr = format!("{}@{}", String::from_utf8_lossy(mailbox), String::from_utf8_lossy(host));
        match &a.name {
            Some(n) => parts.push(format!("{} <{addr}>", decode_text(n))),
            None => parts.push(addr),
        }
    }
    parts.join(", ")
}

/// RFC 5256 §3 FROM/TO/CC sort value: the `addr-mailbox` of the first
/// address of the envelope list (a group's first entry is its name).
pub(crate) fn first_mailbox(list: &[Addr]) -> String {
    list.first().and_then(|a| a.mailbox.as_deref()).map(|m| String::from_utf8_lossy(m).into_owned()).unwrap_or_default()
}

/// RFC 5957 §3 DISPLAY sort value of the first address: the decoded
/// `addr-name` when not empty, else `addr-mailbox@addr-host`, else
/// `addr-mailbox`, else empty.
pub(crate) fn first_display(list: &[Addr]) -> String {
    let Some(a) = list.first() else {
        return String::new();
    };
    if let Some(name) = a.name.as_deref().map(decode_text).filter(|n| !n.is_empty()) {
        return name;
    }
    match (&a.mailbox, &a.host) {
        (Some(m), Some(h)) => format!("{}@{}", String::from_utf8_lossy(m), String::from_utf8_lossy(h)),
        (Some(m), None) => String::from_utf8_lossy(m).into_owned(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------
// RFC 5322 §3.4 address-list, with the obsolete forms (§4.4)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Atom or domain literal (raw bytes).
    Atom(Vec<u8>),
    /// Quoted string, content unescaped.
    Quoted(Vec<u8>),
    /// Comment, content without the parentheses.
    Comment(Vec<u8>),
    Special(u8),
}

/// A token and whether whitespace (or a comment) preceded it.
type Spaced = (Tok, bool);

fn tokenize(v: &[u8]) -> Vec<Spaced> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut space = false;
    while i < v.len() {
        let c = v[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                space = true;
                i += 1;
            }
            b'(' => {
                let mut depth = 0usize;
                let mut content = Vec::new();
                while i < v.len() {
                    let c = v[i];
                    i += 1;
                    match c {
                        b'\\' if i < v.len() => {
                            content.push(v[i]);
                            i += 1;
                        }
                        b'(' => {
                            if depth > 0 {
                                content.push(c);
                            }
                            depth += 1;
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            content.push(c);
                        }
                        b'\r' | b'\n' => {}
                        _ => content.push(c),
                    }
                }
                out.push((Tok::Comment(content), space));
                space = true;
            }
            b'"' => {
                i += 1;
                let mut content = Vec::new();
                while i < v.len() {
                    let c = v[i];
                    i += 1;
                    match c {
                        b'\\' if i < v.len() => {
                            content.push(v[i]);
                            i += 1;
                        }
                        b'"' => break,
                        b'\r' | b'\n' => {}
                        _ => content.push(c),
                    }
                }
                out.push((Tok::Quoted(content), space));
                space = false;
            }
            b'[' => {
                let start = i;
                while i < v.len() && v[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(v.len());
                out.push((
                    Tok::Atom(v[start..i].iter().copied().filter(|&c| c != b'\r' && c != b'\n').collect()),
                    space,
                ));
                space = false;
            }
            b'<' | b'>' | b'@' | b',' | b';' | b':' | b'.' => {
                out.push((Tok::Special(c), space));
                space = false;
                i += 1;
            }
            _ => {
                // Always consumes at least one byte (a stray `)` is an atom).
                let start = i;
                i += 1;
                while i < v.len() && !b" \t\r\n()\"[<>@,;:.".contains(&v[i]) {
                    i += 1;
                }
                out.push((Tok::Atom(v[start..i].to_vec()), space));
                space = false;
            }
        }
    }
    out
}

/// A phrase (display name) rebuilt from its tokens: one space where the
/// source had whitespace, quoted strings unquoted, comments dropped.
fn phrase(toks: &[Spaced]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut pending_space = false;
    for (t, sp) in toks {
        let bytes: &[u8] = match t {
            Tok::Atom(a) => a,
            Tok::Quoted(q) => q,
            Tok::Special(c) => std::slice::from_ref(c),
            Tok::Comment(_) => {
                pending_space = true;
                continue;
            }
        };
        if !out.is_empty() && (*sp || pending_space) {
            out.push(b' ');
        }
        pending_space = false;
        out.extend_from_slice(bytes);
    }
    (!out.is_empty()).then_some(out)
}

/// Concatenation without spaces (local parts, domains, routes).
fn join(toks: &[Spaced]) -> Vec<u8> {
    let mut out = Vec::new();
    for (t, _) in toks {
        match t {
            Tok::Atom(a) | Tok::Quoted(a) => out.extend_from_slice(a),
            Tok::Special(c) => out.push(*c),
            Tok::Comment(_) => {}
        }
    }
    out
}

fn is(t: &Spaced, c: u8) -> bool {
    t.0 == Tok::Special(c)
}

/// Parses an address-list header value into envelope addresses, including
/// group start/end markers.
pub(crate) fn parse_addresses(value: &[u8]) -> Vec<Addr> {
    let toks = tokenize(value);
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_group = false;
    while i < toks.len() {
        if is(&toks[i], b',') {
            i += 1;
            continue;
        }
        if is(&toks[i], b';') {
            if in_group {
                out.push(Addr { name: None, adl: None, mailbox: None, host: None });
                in_group = false;
            }
            i += 1;
            continue;
        }
        // A group starts with `phrase ":"`.
        if !in_group {
            let j = toks[i..]
                .iter()
                .position(|t| matches!(t.0, Tok::Special(b':' | b'<' | b',' | b';' | b'@')))
                .map(|p| i + p);
            if let Some(j) = j.filter(|&j| is(&toks[j], b':')) {
                let name = phrase(&toks[i..j]).unwrap_or_default();
                out.push(Addr { name: None, adl: None, mailbox: Some(name), host: None });
                in_group = true;
                i = j + 1;
                continue;
            }
        }
        // One mailbox: up to the next top-level `,` or `;`.
        let mut j = i;
        let mut in_angle = false;
        while j < toks.len() {
            match toks[j].0 {
                Tok::Special(b'<') => in_angle = true,
                Tok::Special(b'>') => in_angle = false,
                Tok::Special(b',' | b';') if !in_angle => break,
                _ => {}
            }
            j += 1;
        }
        if let Some(a) = mailbox(&toks[i..j]) {
            out.push(a);
        }
        i = j;
    }
    if in_group {
        out.push(Addr { name: None, adl: None, mailbox: None, host: None });
    }
    out
}

fn mailbox(toks: &[Spaced]) -> Option<Addr> {
    if toks.iter().all(|t| matches!(t.0, Tok::Comment(_))) {
        return None;
    }
    let (name, spec, adl) = if let Some(lt) = toks.iter().position(|t| is(t, b'<')) {
        let name = phrase(&toks[..lt]);
        let end = toks[lt..].iter().position(|t| is(t, b'>')).map_or(toks.len(), |p| lt + p);
        let mut inner = &toks[lt + 1..end];
        let mut adl = None;
        if inner.first().is_some_and(|t| is(t, b'@')) {
            if let Some(colon) = inner.iter().position(|t| is(t, b':')) {
                adl = Some(join(&inner[..colon])).filter(|a| !a.is_empty());
                inner = &inner[colon + 1..];
            }
        }
        (name, inner, adl)
    } else {
        // addr-spec, perhaps with a trailing comment naming the person.
        let name = toks.iter().rev().find_map(|t| match &t.0 {
            Tok::Comment(c) if !c.iter().all(u8::is_ascii_whitespace) => Some(c.clone()),
            _ => None,
        });
        (name, toks, None)
    };
    let (local, domain) = match spec.iter().rposition(|t| is(t, b'@')) {
        Some(at) => (join(&spec[..at]), join(&spec[at + 1..])),
        None => (join(spec), Vec::new()),
    };
    if local.is_empty() && domain.is_empty() && name.is_none() {
        return None;
    }
    Some(Addr {
        name,
        adl,
        mailbox: Some(if local.is_empty() { b"MISSING_MAILBOX".to_vec() } else { local }),
        host: Some(if domain.is_empty() { b"MISSING_DOMAIN".to_vec() } else { domain }),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn env(raw: &[u8]) -> String {
        let meta = super::super::compute_meta(raw);
        String::from_utf8(meta.envelope).unwrap()
    }

    #[test]
    fn simple_text_plain() {
        assert_eq!(
            env(SIMPLE),
            concat!(
                r#"("Mon, 7 Feb 1994 21:52:25 -0800" "afternoon meeting" "#,
                r#"(("Fred Foobar" NIL "foobar" "Blurdybloop.COM")) "#,
                r#"(("Fred Foobar" NIL "foobar" "Blurdybloop.COM")) "#,
                r#"(("Fred Foobar" NIL "foobar" "Blurdybloop.COM")) "#,
                r#"((NIL NIL "mooch" "owatagu.siam.edu")) NIL NIL NIL "#,
                r#""<B27397-0100000@Blurdybloop.COM>")"#
            )
        );
    }

    #[test]
    fn groups_and_encoded_words_stay_raw() {
        assert_eq!(
            env(GROUPS),
            concat!(
                r#"("Tue, 1 Jul 2003 10:52:37 +0200" "=?ISO-8859-1?Q?Caf=E9?= news" "#,
                r#"(("=?utf-8?q?J=C3=B6rg_M=C3=BCller?=" NIL "joerg" "example.de")) "#,
                r#"((NIL NIL "owner" "list.example.org")) "#,
                r#"(("Fred \"the\" Foo" NIL "fred" "x.org")("Two Words" NIL "two" "y.org")) "#,
                r#"((NIL NIL "friends" NIL)(NIL NIL "a" "b.c")("Dee" NIL "d" "e.f")(NIL NIL NIL NIL)"#,
                r#"(NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) "#,
                r#"((NIL NIL "cc" "example.com")) "#,
                r#"(("Comment Name" NIL "bcc" "example.com")) "#,
                r#""<parent@x>" "<id@x>")"#
            )
        );
    }

    #[test]
    fn multipart_messages() {
        assert_eq!(
            env(ALTERNATIVE),
            r#"(NIL "alt" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL)"#
        );
        assert_eq!(
            env(MIXED),
            r#"(NIL "mixed" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL)"#
        );
        assert_eq!(
            env(NESTED),
            r#"(NIL "hi there" (("A" NIL "a" "b.c")) (("A" NIL "a" "b.c")) (("A" NIL "a" "b.c")) NIL NIL NIL NIL NIL)"#
        );
    }

    #[test]
    fn rfc5322_appendix_a_comments() {
        // RFC 5322 §A.5: comments and folding white space everywhere.
        let a = parse_addresses(b" Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>");
        assert_eq!(
            a,
            vec![Addr {
                name: Some(b"Pete".to_vec()),
                adl: None,
                mailbox: Some(b"pete".to_vec()),
                host: Some(b"silly.test".to_vec())
            }]
        );
        // RFC 5322 §A.1.3: group with a display name containing a dot (obs-phrase).
        let a = parse_addresses(
            b"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, Mary Smith <mary@x.test>",
        );
        let names: Vec<_> = a.iter().map(|x| (x.name.clone(), x.mailbox.clone(), x.host.is_some())).collect();
        assert_eq!(names.len(), 6);
        assert_eq!(names[0], (None, Some(b"A Group".to_vec()), false));
        assert_eq!(names[1].0.as_deref(), Some(&b"Ed Jones"[..]));
        assert_eq!(names[4], (None, None, false));
        assert_eq!(names[5].0.as_deref(), Some(&b"Mary Smith"[..]));
        let a = parse_addresses(b"Joe Q. Public <john.q.public@example.com>");
        assert_eq!(a[0].name.as_deref(), Some(&b"Joe Q. Public"[..]));
        assert_eq!(a[0].mailbox.as_deref(), Some(&b"john.q.public"[..]));
        assert!(parse_addresses(b"<>").is_empty());
        assert!(parse_addresses(b"   ").is_empty());
    }

    #[test]
    fn missing_headers_are_nil() {
        assert_eq!(env(b"X: y\r\n\r\nbody"), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
        assert_eq!(env(b""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }

    #[test]
    fn route_and_missing_domain() {
        let a = parse_addresses(b"Old <@relay1,@relay2:user@host>, bare");
        assert_eq!(a[0].adl.as_deref(), Some(&b"@relay1,@relay2"[..]));
        assert_eq!(a[0].mailbox.as_deref(), Some(&b"user"[..]));
        assert_eq!(a[1].mailbox.as_deref(), Some(&b"bare"[..]));
        assert_eq!(a[1].host.as_deref(), Some(&b"MISSING_DOMAIN"[..]));
    }

    #[test]
    fn non_ascii_header_is_literal() {
        let e = env("Subject: Grüße\r\n\r\nx".as_bytes());
        assert!(e.starts_with("(NIL {7}\r\nGrüße NIL"), "{e}");
    }

    #[test]
    fn display_form_is_decoded() {
        assert_eq!(display_addresses(b" =?utf-8?q?J=C3=B6rg?= <j@x.de>, plain@y.org"), "Jörg <j@x.de>, plain@y.org");
    }

    #[test]
    fn display_form_keeps_group_names() {
        // imaptest's search-addresses: SEARCH TO groupname finds the message.
        assert_eq!(
            display_addresses(b"groupname: a@x.org, b@y.org;, groupname2: c@z.org;"),
            "groupname:, a@x.org, b@y.org, groupname2:, c@z.org"
        );
    }
}
