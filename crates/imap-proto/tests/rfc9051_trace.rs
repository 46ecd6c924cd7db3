//! The sample connection of RFC 9051 §8: every client line parses to the
//! expected command, and every server response (except the `OLDNAME` LIST
//! item, which postfach never sends) encodes to the transcript's bytes.

use imap_proto::encoder::encode;
use imap_proto::parser::{parse_command, parse_sasl_response, ParseLimits};
use imap_proto::*;

fn parse(line: &str) -> Command {
    parse_command(vec![Fragment::Line(line.as_bytes().to_vec())], &ParseLimits::default())
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn wire(r: Response) -> String {
    let mut out = Vec::new();
    encode(&r, &mut out);
    String::from_utf8(out).unwrap()
}

fn tagged(tag: &str, code: Option<Code>, text: &str) -> Response {
    Response::Status { tag: Tag::new(tag), kind: StatusKind::Ok, code, text: text.into() }
}

#[test]
fn rfc9051_section_8_trace() {
    let caps: Vec<String> =
        ["STARTTLS", "AUTH=SCRAM-SHA-256", "LOGINDISABLED", "IMAP4rev2"].iter().map(|s| s.to_string()).collect();
    assert_eq!(
        wire(Response::Status {
            tag: None,
            kind: StatusKind::Ok,
            code: Some(Code::Capability(caps)),
            text: "IMAP4rev2 Service Ready".into()
        }),
        "* OK [CAPABILITY STARTTLS AUTH=SCRAM-SHA-256 LOGINDISABLED IMAP4rev2] IMAP4rev2 Service Ready\r\n"
    );

    let c = parse("a000 starttls");
    assert_eq!((c.tag.as_str(), c.body), ("a000", CommandBody::StartTls));
    assert_eq!(wire(tagged("a000", None, "Proceed with TLS negotiation")), "a000 OK Proceed with TLS negotiation\r\n");

    let c = parse("A001 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=");
    match c.body {
        CommandBody::Authenticate { mechanism, initial_response } => {
            assert_eq!(mechanism, "SCRAM-SHA-256");
            assert_eq!(initial_response.unwrap().expose(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        }
        o => panic!("{o:?}"),
    }
    let challenge = "cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=";
    assert_eq!(wire(Response::Continue { text: challenge.into() }), format!("+ {challenge}\r\n"));
    let resp = parse_sasl_response(
        b"Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==",
    )
    .unwrap()
    .unwrap();
    assert!(resp.starts_with(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxF"));
    assert_eq!(parse_sasl_response(b"").unwrap(), Some(vec![]));
    assert_eq!(
        wire(tagged("A001", None, "SCRAM-SHA-256 authentication successful")),
        "A001 OK SCRAM-SHA-256 authentication successful\r\n"
    );

    let c = parse("babc ENABLE IMAP4rev2");
    assert_eq!(c.body, CommandBody::Enable { capabilities: vec!["IMAP4REV2".into()] });
    assert_eq!(wire(Response::Data(Data::Enabled(vec!["IMAP4rev2".into()]))), "* ENABLED IMAP4rev2\r\n");

    let c = parse("a002 select inbox");
    assert_eq!(
        c.body,
        CommandBody::Select { mailbox: MailboxName("inbox".into()), read_only: false, params: SelectParams::default() }
    );
    assert_eq!(wire(Response::Data(Data::Exists(18))), "* 18 EXISTS\r\n");
    assert_eq!(
        wire(Response::Data(Data::Flags(vec![Flag::Answered, Flag::Flagged, Flag::Deleted, Flag::Seen, Flag::Draft]))),
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    );
    assert_eq!(
        wire(Response::Status {
            tag: None,
            kind: StatusKind::Ok,
            code: Some(Code::UidValidity(3857529045)),
            text: "UIDs valid".into()
        }),
        "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
    );
    assert_eq!(
        wire(tagged("a002", Some(Code::ReadWrite), "SELECT completed")),
        "a002 OK [READ-WRITE] SELECT completed\r\n"
    );

    let c = parse("a003 fetch 12 full");
    match c.body {
        CommandBody::Fetch { uid: false, set, items, changed_since: None } => {
            assert!(set.contains(12, 18) && !set.contains(11, 18));
            assert_eq!(
                items,
                vec![
                    FetchAttr::Flags,
                    FetchAttr::InternalDate,
                    FetchAttr::Rfc822Size,
                    FetchAttr::Envelope,
                    FetchAttr::Body
                ]
            );
        }
        o => panic!("{o:?}"),
    }
    let envelope = "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev2 WG mtg summary and minutes\" \
        ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
        ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) \
        ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\") (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
        \"<B27397-0100000@cac.washington.ed>\")";
    let body = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)";
    let date =
        DateTime { date: Date { year: 1996, month: 7, day: 17 }, hour: 2, minute: 44, second: 25, zone_minutes: -420 };
    assert_eq!(
        wire(Response::Data(Data::Fetch {
            seq: 12,
            items: vec![
                FetchValue::Flags(vec![Flag::Seen]),
                FetchValue::InternalDate(date),
                FetchValue::Rfc822Size(4286),
                FetchValue::Envelope(envelope.as_bytes().to_vec()),
                FetchValue::Body(body.as_bytes().to_vec()),
            ]
        })),
        format!(
            "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 \
             ENVELOPE {envelope} BODY {body})\r\n"
        )
    );

    let c = parse("a004 fetch 12 body[header]");
    let section = Section { part: vec![], text: Some(SectionText::Header) };
    match c.body {
        CommandBody::Fetch { items, .. } => {
            assert_eq!(items, vec![FetchAttr::BodySection { peek: false, section: section.clone(), partial: None }])
        }
        o => panic!("{o:?}"),
    }
    let header = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
        From: Terry Gray <gray@cac.washington.edu>\r\n\
        Subject: IMAP4rev2 WG mtg summary and minutes\r\n\
        To: imap@cac.washington.edu\r\n\
        cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
        Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n";
    assert_eq!(header.len(), 342);
    assert_eq!(
        wire(Response::Data(Data::Fetch {
            seq: 12,
            items: vec![FetchValue::BodySection { section, origin: None, data: Some(header.as_bytes().to_vec()) }]
        })),
        format!("* 12 FETCH (BODY[HEADER] {{342}}\r\n{header})\r\n")
    );

    let c = parse("a005 store 12 +flags \\deleted");
    assert_eq!(
        c.body,
        CommandBody::Store {
            uid: false,
            set: SequenceSet::Ranges(vec![(SeqNum::Value(12), SeqNum::Value(12))]),
            action: StoreAction { mode: StoreMode::Add, silent: false, flags: vec![Flag::Deleted] },
            unchanged_since: None
        }
    );
    assert_eq!(
        wire(Response::Data(Data::Fetch { seq: 12, items: vec![FetchValue::Flags(vec![Flag::Seen, Flag::Deleted])] })),
        "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"
    );

    assert_eq!(parse("a006 logout").body, CommandBody::Logout);
    assert_eq!(
        wire(Response::Status {
            tag: None,
            kind: StatusKind::Bye,
            code: None,
            text: "IMAP4rev2 server terminating connection".into()
        }),
        "* BYE IMAP4rev2 server terminating connection\r\n"
    );
    assert_eq!(wire(tagged("a006", None, "LOGOUT completed")), "a006 OK LOGOUT completed\r\n");
}
