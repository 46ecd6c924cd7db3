//! RFC 5267 §4 contexts (CONTEXT=SEARCH, CONTEXT=SORT): SEARCH/SORT RETURN
//! (UPDATE …) and the unsolicited `ESEARCH … ADDTO / REMOVEFROM` that follow
//! changes by this session, by other sessions and by LMTP delivery;
//! CANCELUPDATE, NOUPDATE, the end of contexts with the selected mailbox,
//! updates during IDLE, and a seeded random run in which the client's
//! reconstructed results always equal a fresh SEARCH/SORT.

mod common;

use std::time::Duration;

use common::{append, message, Raw};

#[track_caller]
fn assert_ok(lines: &[String], tag: &str) {
    assert!(lines.last().unwrap().starts_with(&format!("{tag} OK")), "{lines:?}");
}

/// The lines that are ESEARCH updates for `tag`.
fn updates<'a>(lines: &'a [String], tag: &str) -> Vec<&'a str> {
    let head = format!("* ESEARCH (TAG \"{tag}\")");
    lines
        .iter()
        .filter(|l| l.starts_with(&head) && (l.contains(" ADDTO ") || l.contains(" REMOVEFROM ")))
        .map(|l| l.as_str())
        .collect()
}

fn index_of(lines: &[String], prefix: &str) -> usize {
    lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in {lines:?}"))
}

/// Lines that arrive without a command: the first within a few seconds
/// (machines under load), the rest until `wait` passes in silence.
async fn unsolicited(raw: &mut Raw, wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    let mut gap = Duration::from_secs(5).max(wait);
    while let Some(l) = raw.maybe_line(gap).await {
        out.push(l);
        gap = wait;
    }
    out
}

/// Lines already on their way (no waiting for more).
async fn unsolicited_now(raw: &mut Raw) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(l) = raw.maybe_line(Duration::from_millis(100)).await {
        out.push(l);
    }
    out
}

/// Expands a sequence set (`3,1:2`) in its written order.
fn expand(set: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in set.split(',') {
        let mut ends = part.split(':').map(|n| n.parse::<u32>().unwrap());
        let a = ends.next().unwrap();
        let b = ends.next().unwrap_or(a);
        if a <= b {
            out.extend(a..=b);
        } else {
            out.extend((b..=a).rev());
        }
    }
    out
}

/// A client's copy of one context's result, kept with ADDTO/REMOVEFROM
/// (RFC 5267 §4.3.3–4.3.4) and, for sequence numbers, EXPUNGE.
#[derive(Debug, Default)]
struct Model {
    tag: String,
    /// UIDs, or sequence numbers (which EXPUNGE shifts).
    uid: bool,
    items: Vec<u32>,
}

impl Model {
    fn new(tag: &str, uid: bool, items: Vec<u32>) -> Model {
        Model { tag: tag.into(), uid, items }
    }

    /// Applies every response line in order.
    fn apply(&mut self, lines: &[String]) {
        let head = format!("* ESEARCH (TAG \"{}\")", self.tag);
        for l in lines {
            if let Some(n) = l.strip_prefix("* ").and_then(|r| r.strip_suffix(" EXPUNGE")).filter(|_| !self.uid) {
                let n: u32 = n.parse().unwrap();
                assert!(!self.items.contains(&n), "EXPUNGE {n} before REMOVEFROM in {}: {lines:?}", self.tag);
                for i in &mut self.items {
                    if *i > n {
                        *i -= 1;
                    }
                }
                continue;
            }
            let Some(rest) = l.strip_prefix(&head) else { continue };
            let mut toks = rest.split_whitespace().peekable();
            while let Some(t) = toks.next() {
                let add = match t {
                    "ADDTO" => true,
                    "REMOVEFROM" => false,
                    _ => continue,
                };
                loop {
                    let pos: usize = toks.next().unwrap().trim_start_matches('(').parse().unwrap();
                    let set = toks.next().unwrap();
                    let last = set.ends_with(')');
                    let nums = expand(set.trim_end_matches(')'));
                    if add {
                        if pos == 0 {
                            self.items.extend(nums);
                            self.items.sort_unstable();
                        } else {
                            for (k, n) in nums.into_iter().enumerate() {
                                self.items.insert(pos - 1 + k, n);
                            }
                        }
                    } else if pos == 0 {
                        self.items.retain(|i| !nums.contains(i));
                    } else {
                        let run: Vec<u32> = self.items.drain(pos - 1..pos - 1 + nums.len()).collect();
                        assert_eq!(run, nums, "REMOVEFROM at {pos} in {l}");
                    }
                    if last {
                        break;
                    }
                }
            }
        }
    }
}

/// The numbers of a `* SEARCH`, `* SORT` or `ESEARCH … ALL` answer, in order.
fn numbers(lines: &[String]) -> Vec<u32> {
    for l in lines {
        if let Some(r) = l.strip_prefix("* SEARCH").or_else(|| l.strip_prefix("* SORT")) {
            return r.split_whitespace().map(|n| n.parse().unwrap()).collect();
        }
        if l.starts_with("* ESEARCH") {
            return l.split(" ALL ").nth(1).map(|s| expand(s.split(' ').next().unwrap())).unwrap_or_default();
        }
    }
    panic!("no result in {lines:?}")
}

async fn select(raw: &mut Raw, mailbox: &str) {
    assert_ok(&raw.cmd(&format!("SELECT {mailbox}")).await, "T");
}

#[tokio::test]
async fn rfc5267_examples_adapted() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let caps = a.cmd("CAPABILITY").await;
    for cap in ["CONTEXT=SEARCH", "CONTEXT=SORT", "ESORT", "ESEARCH", "SORT"] {
        assert!(caps[0].split(' ').any(|c| c == cap), "{cap} missing: {caps:?}");
    }
    for i in 1..=4 {
        append(&mut a, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    select(&mut a, "INBOX").await;
    assert_ok(&a.cmd("STORE 1 +FLAGS.SILENT (\\Deleted $Junk)").await, "T");

    // §4.2: CONTEXT is a hint; the count is answered.
    let r = a.tagged("A01", "SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk").await;
    assert_eq!(r, ["* ESEARCH (TAG \"A01\") COUNT 3", "A01 OK SEARCH completed"]);

    // §4.3: UPDATE with COUNT; the count only now, then changes.
    let r = a.tagged("B01", "UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk").await;
    assert_eq!(r, ["* ESEARCH (TAG \"B01\") UID COUNT 1", "B01 OK SEARCH completed, will notify"]);
    // The tag of a live update context cannot be reused with UPDATE.
    let r = a.tagged("B01", "SORT RETURN (UPDATE) (DATE) UTF-8 FLAGGED").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("B01 BAD Tag reuse"), "{r:?}");

    // §4.3.3: flags change so that messages 2 and 3 (UIDs 2 and 3) match.
    let r = a.cmd("STORE 2:3 +FLAGS (\\Deleted $Junk)").await;
    assert_ok(&r, "T");
    assert_eq!(updates(&r, "B01"), ["* ESEARCH (TAG \"B01\") UID ADDTO (0 2:3)"]);
    assert!(index_of(&r, "* 3 FETCH") < index_of(&r, "* ESEARCH"), "ADDTO after the causal FETCH: {r:?}");

    // §4.3.4: another session expunges message 2; REMOVEFROM arrives with no
    // command in progress, the EXPUNGE only with the next command.
    let mut b = Raw::login(server.addr).await;
    select(&mut b, "INBOX").await;
    assert_ok(&b.cmd("UID EXPUNGE 2").await, "T");
    let pushed = unsolicited(&mut a, Duration::from_millis(500)).await;
    assert_eq!(pushed, ["* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 2)"]);
    let r = a.tagged("B03", "NOOP").await;
    assert_eq!(r, ["* 2 EXPUNGE", "B03 OK NOOP completed"]);

    // §4.3.5
    let r = a.tagged("B04", "CANCELUPDATE \"B01\"").await;
    assert_eq!(r, ["B04 OK No further updates"]);
    let r = a.cmd("STORE 1:* -FLAGS (\\Deleted)").await;
    assert!(updates(&r, "B01").is_empty(), "{r:?}");
    // Once cancelled the tag may name a new context.
    let r = a.tagged("B01", "UID SEARCH RETURN (UPDATE) DELETED").await;
    assert_eq!(r, ["* ESEARCH (TAG \"B01\") UID", "B01 OK SEARCH completed, will notify"]);

    // §4.4 with UPDATE: PARTIAL answers the window, updates cover every match.
    let r = a.tagged("P1", "UID SEARCH RETURN (UPDATE PARTIAL 1:1) UNDELETED").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"P1\") UID PARTIAL (1:1 1)");
    let r = a.cmd("UID STORE 4 +FLAGS (\\Deleted)").await;
    assert_eq!(updates(&r, "P1"), ["* ESEARCH (TAG \"P1\") UID REMOVEFROM (0 4)"]);
    assert_eq!(updates(&r, "B01"), ["* ESEARCH (TAG \"B01\") UID ADDTO (0 4)"]);
}

#[tokio::test]
async fn addto_on_append_by_another_session_and_on_lmtp_delivery() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    append(&mut a, "INBOX", &message("first", "x")).await;
    select(&mut a, "INBOX").await;
    // UPDATE alone returns no result data (§4.3: no interaction with the others).
    let r = a.tagged("U", "UID SEARCH RETURN (UPDATE) ALL").await;
    assert_eq!(r, ["* ESEARCH (TAG \"U\") UID", "U OK SEARCH completed, will notify"]);
    let r = a.tagged("V", "UID SORT RETURN (UPDATE) (SIZE) UTF-8 ALL").await;
    assert_eq!(r, ["* ESEARCH (TAG \"V\") UID", "V OK SORT completed, will notify"]);
    assert_ok(&a.tagged("W", "CANCELUPDATE \"U\" \"V\"").await, "W");
    let r = a.tagged("U", "UID SEARCH RETURN (UPDATE ALL) SUBJECT hello").await;
    assert_eq!(r, ["* ESEARCH (TAG \"U\") UID", "U OK SEARCH completed, will notify"]);
    // A sequence-number context over every message.
    let r = a.tagged("S", "SEARCH RETURN (UPDATE COUNT) ALL").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"S\") COUNT 1");

    let mut b = Raw::login(server.addr).await;
    let uid = append(&mut b, "INBOX", &message("hello there", "x")).await;
    let pushed = unsolicited(&mut a, Duration::from_millis(500)).await;
    assert_eq!(
        pushed,
        [
            "* 2 EXISTS",
            "* 2 RECENT",
            &format!("* ESEARCH (TAG \"U\") UID ADDTO (0 {uid})"),
            "* ESEARCH (TAG \"S\") ADDTO (0 2)"
        ]
    );
    // Not matching: EXISTS, and only the ALL context grows.
    append(&mut b, "INBOX", &message("other", "x")).await;
    let pushed = unsolicited(&mut a, Duration::from_millis(500)).await;
    assert_eq!(pushed, ["* 3 EXISTS", "* 3 RECENT", "* ESEARCH (TAG \"S\") ADDTO (0 3)"]);

    // LMTP delivery reaches the context as well.
    let mut lmtp = common::Lmtp::hello(server.lmtp_addr).await;
    let r = lmtp.deliver("bob@example.org", &["alice@example.org"], &message("hello from lmtp", "x")).await;
    assert!(r[0].starts_with("250 "), "{r:?}");
    let r = a.cmd("NOOP").await;
    assert_eq!(
        &r[..4],
        [
            "* 4 EXISTS",
            "* 4 RECENT",
            &format!("* ESEARCH (TAG \"U\") UID ADDTO (0 {})", uid + 2),
            "* ESEARCH (TAG \"S\") ADDTO (0 4)"
        ]
    );
}

#[tokio::test]
async fn removefrom_precedes_expunge_which_waits_for_a_command() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    for i in 1..=3 {
        append(&mut a, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    select(&mut a, "INBOX").await;
    assert_eq!(a.tagged("S", "SEARCH RETURN (UPDATE ALL) ALL").await[0], "* ESEARCH (TAG \"S\") ALL 1:3");
    let mut b = Raw::login(server.addr).await;
    select(&mut b, "INBOX").await;
    assert_ok(&b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)").await, "T");
    assert_ok(&b.cmd("EXPUNGE").await, "T");
    // The deletion flag and then the expunge: REMOVEFROM with message
    // number 2, still valid because no EXPUNGE was sent (Appendix A.3).
    let mut pushed = Vec::new();
    while updates(&pushed, "S").is_empty() {
        pushed.push(a.line().await);
    }
    pushed.extend(unsolicited_now(&mut a).await);
    assert_eq!(updates(&pushed, "S"), ["* ESEARCH (TAG \"S\") REMOVEFROM (0 2)"], "{pushed:?}");
    assert!(!pushed.iter().any(|l| l.ends_with("EXPUNGE")), "{pushed:?}");
    // FETCH may not carry the EXPUNGE either (RFC 9051 §7.5.1).
    let r = a.cmd("FETCH 1:* UID").await;
    assert!(!r.iter().any(|l| l.ends_with("EXPUNGE")), "{r:?}");
    let r = a.cmd("NOOP").await;
    assert_eq!(r[0], "* 2 EXPUNGE");
    // The same during a FETCH: REMOVEFROM at once, EXPUNGE later.
    assert_ok(&b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await, "T");
    assert_ok(&b.cmd("EXPUNGE").await, "T");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // (the push may come before the command or with it)
    let r = a.cmd("FETCH 1 UID").await;
    let mut all = r.clone();
    all.extend(unsolicited_now(&mut a).await);
    assert!(all.iter().any(|l| l == "* ESEARCH (TAG \"S\") REMOVEFROM (0 1)"), "{all:?}");
    assert!(!all.iter().any(|l| l.ends_with("EXPUNGE")), "{all:?}");
    let r = a.cmd("NOOP").await;
    assert_eq!(r[0], "* 1 EXPUNGE");
    // Own EXPUNGE: REMOVEFROM before each EXPUNGE.
    assert_ok(&a.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await, "T");
    let r = a.cmd("EXPUNGE").await;
    assert_eq!(r[..2], ["* ESEARCH (TAG \"S\") REMOVEFROM (0 1)", "* 1 EXPUNGE"]);
}

#[tokio::test]
async fn flag_changes_move_messages_in_and_out_of_unseen() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    for i in 1..=3 {
        append(&mut a, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    select(&mut a, "INBOX").await;
    assert_eq!(a.tagged("N", "UID SEARCH RETURN (UPDATE ALL) UNSEEN").await[0], "* ESEARCH (TAG \"N\") UID ALL 1:3");
    // Own STORE: FETCH, then REMOVEFROM, before the tagged OK.
    let r = a.cmd("STORE 2 +FLAGS (\\Seen)").await;
    assert_eq!(
        r,
        ["* 2 FETCH (FLAGS (\\Seen \\Recent))", "* ESEARCH (TAG \"N\") UID REMOVEFROM (0 2)", "T OK STORE completed"]
    );
    // A flag that does not change the match: nothing.
    let r = a.cmd("STORE 1 +FLAGS (\\Flagged)").await;
    assert!(updates(&r, "N").is_empty(), "{r:?}");
    // Another session: \Seen on 1 and 3, then off 2.
    let mut b = Raw::login(server.addr).await;
    select(&mut b, "INBOX").await;
    assert_ok(&b.cmd("STORE 1,3 +FLAGS.SILENT (\\Seen)").await, "T");
    let pushed = unsolicited(&mut a, Duration::from_millis(500)).await;
    assert_eq!(updates(&pushed, "N"), ["* ESEARCH (TAG \"N\") UID REMOVEFROM (0 1,3)"], "{pushed:?}");
    assert_ok(&b.cmd("STORE 2 -FLAGS.SILENT (\\Seen)").await, "T");
    let pushed = unsolicited(&mut a, Duration::from_millis(500)).await;
    assert_eq!(pushed, ["* 2 FETCH (UID 2 FLAGS (\\Recent))", "* ESEARCH (TAG \"N\") UID ADDTO (0 2)"]);
    // MUST (§4.1, §4.3): no updates for a search that did not ask for them.
    let r = a.tagged("Q", "UID SEARCH RETURN (ALL) UNSEEN").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"Q\") UID ALL 2");
    assert_ok(&b.cmd("STORE 2 +FLAGS.SILENT (\\Seen)").await, "T");
    let r = a.cmd("NOOP").await;
    assert!(updates(&r, "Q").is_empty(), "{r:?}");
    assert_eq!(updates(&r, "N"), ["* ESEARCH (TAG \"N\") UID REMOVEFROM (0 2)"]);
}

/// Subject keys for the SORT test: appended in this order (UIDs 1..).
const SUBJECTS: &[&str] = &["d", "b", "f", "a", "c", "e"];

#[tokio::test]
async fn sort_context_positions_match_a_fresh_sort() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    for s in &SUBJECTS[..3] {
        append(&mut a, "INBOX", &message(s, "x")).await;
    }
    select(&mut a, "INBOX").await;
    // UIDs 1 d, 2 b, 3 f → by subject: b d f = 2 1 3.
    let r = a.tagged("O", "UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 UNDELETED").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"O\") UID ALL 2,1,3");
    let mut model = Model::new("O", true, numbers(&r));
    // A sequence-number SORT context too, in reverse.
    let r = a.tagged("R", "SORT RETURN (UPDATE ALL) (REVERSE SUBJECT) UTF-8 UNDELETED").await;
    let mut reverse = Model::new("R", false, numbers(&r));
    assert_eq!(reverse.items, [3, 1, 2]);

    let mut b = Raw::login(server.addr).await;
    select(&mut b, "INBOX").await;
    let check = |model: &Model, fresh: Vec<u32>| assert_eq!(model.items, fresh, "context {}", model.tag);
    let steps: Vec<String> = vec![
        "append a".into(), // UID 4 → position 1
        "append c".into(), // UID 5 → between b and d
        "STORE 2 +FLAGS (\\Deleted)".into(),
        "append e".into(),
        "STORE 2 -FLAGS (\\Deleted)".into(),
        "STORE 1,3 +FLAGS (\\Deleted)".into(),
        "EXPUNGE".into(),
        "STORE 1:* -FLAGS (\\Deleted)".into(),
    ];
    let mut appended = 3;
    for step in steps {
        if let Some(s) = step.strip_prefix("append ") {
            append(&mut b, "INBOX", &message(s, "x")).await;
            appended += 1;
        } else {
            assert_ok(&b.cmd(&step).await, "T");
        }
        let r = a.cmd("NOOP").await;
        if step == "append a" {
            assert_eq!(updates(&r, "O"), ["* ESEARCH (TAG \"O\") UID ADDTO (1 4)"]);
        }
        if step == "append c" {
            assert_eq!(updates(&r, "O"), ["* ESEARCH (TAG \"O\") UID ADDTO (3 5)"]);
        }
        model.apply(&r);
        reverse.apply(&r);
        check(&model, numbers(&a.cmd("UID SORT (SUBJECT) UTF-8 UNDELETED").await));
        check(&reverse, numbers(&a.cmd("SORT (REVERSE SUBJECT) UTF-8 UNDELETED").await));
    }
    assert_eq!(appended, SUBJECTS.len());
}

#[tokio::test]
async fn noupdate_over_the_limit_and_cancelupdate() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    append(&mut a, "INBOX", &message("m", "x")).await;
    select(&mut a, "INBOX").await;
    for i in 1..=5 {
        let tag = format!("C{i}");
        let r = a.tagged(&tag, "SEARCH RETURN (UPDATE COUNT) ALL").await;
        assert_eq!(
            r,
            [format!("* ESEARCH (TAG \"{tag}\") COUNT 1"), format!("{tag} OK SEARCH completed, will notify")]
        );
    }
    // §4.3.1: the sixth is refused with NOUPDATE; the other options are honoured.
    let r = a.tagged("B02", "UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"B02\") UID COUNT 1");
    assert!(r[1].starts_with("* NO [NOUPDATE \"B02\"] Too many contexts"), "{r:?}");
    assert_eq!(r[2], "B02 OK SORT completed, will not notify");
    // Cancelling two (one unknown tag is fine) makes room again.
    let r = a.tagged("X", "CANCELUPDATE \"C1\" \"C2\" \"nope\"").await;
    assert_eq!(r, ["X OK No further updates (no update context for nope)"]);
    let r = a.tagged("B02", "UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL").await;
    assert_eq!(r.last().unwrap(), "B02 OK SORT completed, will notify");
    let mut b = Raw::login(server.addr).await;
    append(&mut b, "INBOX", &message("n", "x")).await;
    let r = a.cmd("NOOP").await;
    let tags: Vec<&str> = r.iter().filter_map(|l| l.split('"').nth(1)).collect();
    assert_eq!(tags, ["C3", "C4", "C5", "B02"], "{r:?}");
    // CANCELUPDATE needs a selected mailbox and at least one tag.
    assert!(a.cmd("CANCELUPDATE").await[0].starts_with("T BAD"));
    assert!(a.cmd("CANCELUPDATE C3").await[0].starts_with("T BAD"));
    assert_ok(&a.cmd("UNSELECT").await, "T");
    assert!(a.cmd("CANCELUPDATE \"C3\"").await[0].starts_with("T BAD"));
}

#[tokio::test]
async fn no_updates_after_unselect_close_or_select() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    append(&mut a, "INBOX", &message("m", "x")).await;
    assert_ok(&a.cmd("CREATE Other").await, "T");
    let mut b = Raw::login(server.addr).await;
    for leave in ["UNSELECT", "CLOSE", "SELECT Other", "EXAMINE INBOX"] {
        select(&mut a, "INBOX").await;
        assert_ok(&a.tagged("K", "UID SEARCH RETURN (UPDATE) ALL").await, "K");
        assert_ok(&a.cmd(leave).await, "T");
        if leave == "EXAMINE INBOX" {
            // The same mailbox selected again: the old context is gone too.
            append(&mut b, "INBOX", &message("n", "x")).await;
            let r = a.cmd("NOOP").await;
            assert!(updates(&r, "K").is_empty(), "{r:?}");
            continue;
        }
        append(&mut b, "INBOX", &message("n", "x")).await;
        select(&mut a, "INBOX").await;
        let r = a.cmd("NOOP").await;
        assert!(updates(&r, "K").is_empty(), "after {leave}: {r:?}");
        // The tag is free again.
        assert_ok(&a.tagged("K", "UID SEARCH RETURN (UPDATE) ALL").await, "K");
        assert_ok(&a.tagged("K2", "CANCELUPDATE \"K\"").await, "K2");
    }
}

#[tokio::test]
async fn updates_during_idle() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    append(&mut a, "INBOX", &message("m1", "x")).await;
    select(&mut a, "INBOX").await;
    assert_ok(&a.tagged("F", "UID SEARCH RETURN (UPDATE) FLAGGED").await, "F");
    a.send(b"I IDLE\r\n").await;
    assert!(a.line().await.starts_with("+ "));
    let mut b = Raw::login(server.addr).await;
    // An IMAP4rev2 writer never takes \Recent, so `a` gets every new message
    // as recent, whoever syncs first (RFC 3501 §2.3.2).
    b.cmd("ENABLE IMAP4rev2").await;
    select(&mut b, "INBOX").await;
    assert_ok(&b.cmd("STORE 1 +FLAGS.SILENT (\\Flagged)").await, "T");
    assert_eq!(a.line().await, "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))");
    assert_eq!(a.line().await, "* ESEARCH (TAG \"F\") UID ADDTO (0 1)");
    let uid = append(&mut b, "INBOX", &message("m2", "x")).await;
    assert_eq!(a.line().await, "* 2 EXISTS");
    assert_eq!(a.line().await, "* 2 RECENT");
    assert_ok(&b.cmd(&format!("UID STORE {uid} +FLAGS.SILENT (\\Flagged)")).await, "T");
    assert_eq!(a.line().await, format!("* 2 FETCH (UID {uid} FLAGS (\\Flagged \\Recent))"));
    assert_eq!(a.line().await, format!("* ESEARCH (TAG \"F\") UID ADDTO (0 {uid})"));
    assert_ok(&b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await, "T");
    assert_ok(&b.cmd("EXPUNGE").await, "T");
    // During IDLE the EXPUNGE may go out too, after the REMOVEFROM.
    let mut lines = Vec::new();
    while lines.len() < 3 {
        lines.push(a.line().await);
    }
    assert_eq!(
        lines,
        [
            "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Deleted \\Recent))",
            "* ESEARCH (TAG \"F\") UID REMOVEFROM (0 1)",
            "* 1 EXPUNGE"
        ]
    );
    a.send(b"DONE\r\n").await;
    assert_eq!(a.until_tagged("I").await, ["I OK IDLE terminated"]);
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Seeded and bounded: 200 random operations by this session and another
/// one (appends of several sizes and subjects, flag changes, expunges);
/// after each, the results rebuilt from ADDTO/REMOVEFROM (and EXPUNGE for
/// sequence numbers) equal a fresh SEARCH/SORT.
#[tokio::test]
async fn random_operations_keep_contexts_equal_to_fresh_results() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    for i in 0..4 {
        append(&mut a, "INBOX", &message(&format!("s{i}"), &"y".repeat(i * 10))).await;
    }
    select(&mut a, "INBOX").await;
    select(&mut b, "INBOX").await;
    // (tag, context command, fresh command)
    let programs = [
        ("U1", "UID SEARCH RETURN (UPDATE ALL) UNSEEN", "UID SEARCH UNSEEN"),
        (
            "U2",
            "UID SORT RETURN (UPDATE ALL) (REVERSE SIZE SUBJECT) UTF-8 OR FLAGGED UNSEEN",
            "UID SORT (REVERSE SIZE SUBJECT) UTF-8 OR FLAGGED UNSEEN",
        ),
        ("U3", "SEARCH RETURN (UPDATE ALL) FLAGGED NOT SEEN", "SEARCH FLAGGED NOT SEEN"),
        (
            "U4",
            "SORT RETURN (UPDATE ALL) (SUBJECT ARRIVAL) UTF-8 OR DELETED SUBJECT s1",
            "SORT (SUBJECT ARRIVAL) UTF-8 OR DELETED SUBJECT s1",
        ),
        ("U5", "UID SEARCH RETURN (UPDATE ALL) UID 3:*", "UID SEARCH UID 3:*"),
    ];
    let mut models = Vec::new();
    for (tag, cmd, _) in programs {
        let r = a.tagged(tag, cmd).await;
        assert_eq!(r.last().unwrap().split(' ').nth(1), Some("OK"), "{r:?}");
        models.push(Model::new(tag, cmd.starts_with("UID "), numbers(&r)));
    }
    let flags = ["\\Seen", "\\Flagged", "\\Deleted", "\\Seen \\Flagged"];
    // (ADDTO, REMOVEFROM) lines per context, to show the run exercised both.
    let mut told = vec![(0, 0); programs.len()];
    let mut rng = Rng(0x5eed_c0de);
    for op in 0..200 {
        let by_a = rng.below(3) == 0;
        let actor = if by_a { &mut a } else { &mut b };
        let r = match rng.below(10) {
            0..=2 => {
                let subject = format!("s{}", rng.below(5));
                let msg = message(&subject, &"z".repeat(rng.below(60) as usize));
                actor.send(format!("T APPEND INBOX {{{}+}}\r\n", msg.len()).as_bytes()).await;
                actor.send(&msg).await;
                actor.send(b"\r\n").await;
                actor.until_tagged("T").await
            }
            3..=7 => {
                let sign = if rng.below(2) == 0 { '+' } else { '-' };
                let f = flags[rng.below(flags.len() as u64) as usize];
                let lo = rng.below(12) + 1;
                actor.cmd(&format!("UID STORE {lo}:{} {sign}FLAGS ({f})", lo + rng.below(3))).await
            }
            8 => actor.cmd("EXPUNGE").await,
            _ => actor.cmd(&format!("UID EXPUNGE {}", rng.below(30) + 1)).await,
        };
        assert!(r.last().unwrap().starts_with("T OK"), "op {op}: {r:?}");
        let what = format!("by {}: {r:?}", if by_a { "a" } else { "b" });
        // What `a` was told: by its own operation, and by NOOP.
        let mut seen = if by_a { r } else { Vec::new() };
        seen.extend(a.cmd("NOOP").await);
        for (m, t) in models.iter_mut().zip(&mut told) {
            m.apply(&seen);
            t.0 += updates(&seen, &m.tag).iter().filter(|l| l.contains(" ADDTO ")).count();
            t.1 += updates(&seen, &m.tag).iter().filter(|l| l.contains(" REMOVEFROM ")).count();
        }
        for ((tag, _, fresh), m) in programs.iter().zip(&models) {
            let now = numbers(&a.cmd(fresh).await);
            assert_eq!(m.items, now, "op {op} ({what}): context {tag} differs from `{fresh}`; a saw {seen:?}");
        }
    }
    for ((tag, ..), (add, remove)) in programs.iter().zip(told) {
        assert!(add >= 3 && remove >= 3, "{tag}: only {add} ADDTO and {remove} REMOVEFROM");
    }
}

/// §4.3 (errata to RFC 3501): sequence numbers in the program mean the
/// messages they named when the command was received; when numbers shift,
/// no notification follows.
#[tokio::test]
async fn sequence_numbers_in_the_program_are_fixed_when_received() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    for i in 1..=3 {
        append(&mut a, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    select(&mut a, "INBOX").await;
    assert_eq!(
        a.tagged("P", "UID SEARCH RETURN (UPDATE ALL) 2:* UNSEEN").await[0],
        "* ESEARCH (TAG \"P\") UID ALL 2:3"
    );
    let mut b = Raw::login(server.addr).await;
    select(&mut b, "INBOX").await;
    assert_ok(&b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await, "T");
    assert_ok(&b.cmd("EXPUNGE").await, "T");
    let uid = append(&mut b, "INBOX", &message("m4", "x")).await;
    // UID 1 left and UID 4 came; neither was among the messages 2:* of then.
    let r = a.cmd("NOOP").await;
    assert!(updates(&r, "P").is_empty(), "{r:?}");
    // The messages it did name still change it.
    assert_ok(&b.cmd("UID STORE 3 +FLAGS.SILENT (\\Seen)").await, "T");
    let r = a.cmd("NOOP").await;
    assert_eq!(updates(&r, "P"), ["* ESEARCH (TAG \"P\") UID REMOVEFROM (0 3)"]);
    assert!(uid > 3);
}
