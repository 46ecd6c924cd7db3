//! THREAD algorithms (RFC 5256 §3 THREAD): ORDEREDSUBJECT, REFERENCES, and
//! REFS (draft-ietf-morg-inthread, as Dovecot implements it: REFERENCES
//! without step 5's subject merging, threads ordered by their most recent
//! message).
//!
//! Inputs come from stored metadata only ([`ThreadMsg::from_record`]): the
//! stored subject, sent date, Message-ID and references.

use std::collections::HashMap;

use imap_proto::{ThreadAlgorithm, ThreadNode};
use store::MessageRecord;

use super::sort::{base_subject, casemap, own_message_id, sent_date};

/// One searched message as the threading algorithms see it.
#[derive(Debug, Clone)]
pub struct ThreadMsg {
    /// Sequence number (the tie-breaker of RFC 5256 §2.2).
    pub seq: u32,
    /// What the response shows: the sequence number or the UID.
    pub number: u32,
    /// Sent date (RFC 5256 §2.2), Unix seconds.
    pub date: i64,
    /// Case-folded base subject.
    pub subject: String,
    /// Whether the subject marks a reply or forward.
    pub reply: bool,
    /// Normalized Message-ID, if valid.
    pub message_id: Option<String>,
    /// Normalized references (References, else first In-Reply-To).
    pub refs: Vec<String>,
}

impl ThreadMsg {
    pub fn from_record(seq: u32, number: u32, r: &MessageRecord) -> ThreadMsg {
        let (subject, reply) = base_subject(&r.meta.subject);
        ThreadMsg {
            seq,
            number,
            date: sent_date(r),
            subject: casemap(&subject),
            reply,
            message_id: own_message_id(&r.meta.message_id),
            refs: r.meta.thread_refs.split_ascii_whitespace().map(str::to_string).collect(),
        }
    }
}

/// Threads `msgs` (in any order) with `algorithm`.
pub fn thread(algorithm: ThreadAlgorithm, msgs: &[ThreadMsg]) -> Vec<ThreadNode> {
    match algorithm {
        ThreadAlgorithm::OrderedSubject => ordered_subject(msgs),
        ThreadAlgorithm::References => references(msgs, true),
        ThreadAlgorithm::Refs => references(msgs, false),
    }
}

fn leaf(m: &ThreadMsg) -> ThreadNode {
    ThreadNode { id: Some(m.number), children: Vec::new() }
}

/// ORDEREDSUBJECT: sort by base subject then sent date, split into threads
/// of equal base subject, order threads by their first message's sent date.
/// The first message is the root; all others are its children.
fn ordered_subject(msgs: &[ThreadMsg]) -> Vec<ThreadNode> {
    let mut sorted: Vec<&ThreadMsg> = msgs.iter().collect();
    sorted.sort_by(|a, b| a.subject.cmp(&b.subject).then(a.date.cmp(&b.date)).then(a.seq.cmp(&b.seq)));
    let mut threads: Vec<(&ThreadMsg, ThreadNode)> = Vec::new();
    for m in sorted {
        match threads.last_mut() {
            Some((first, node)) if first.subject == m.subject => node.children.push(leaf(m)),
            _ => threads.push((m, leaf(m))),
        }
    }
    threads.sort_by(|(a, _), (b, _)| a.date.cmp(&b.date).then(a.seq.cmp(&b.seq)));
    threads.into_iter().map(|(_, n)| n).collect()
}

/// A container of the REFERENCES algorithm: a message or a dummy.
#[derive(Debug, Default)]
struct Container {
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Tree<'a> {
    msgs: &'a [ThreadMsg],
    c: Vec<Container>,
}

impl Tree<'_> {
    fn new_container(&mut self, msg: Option<usize>) -> usize {
        self.c.push(Container { msg, ..Default::default() });
        self.c.len() - 1
    }

    /// Whether `a` is `b` or a descendant of `b`.
    fn is_within(&self, a: usize, b: usize) -> bool {
        let mut cur = Some(a);
        let mut steps = 0;
        while let Some(x) = cur {
            if x == b {
                return true;
            }
            cur = self.c[x].parent;
            steps += 1;
            if steps > self.c.len() {
                return true; // cannot happen: links never form loops
            }
        }
        false
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.c[child].parent.take() {
            self.c[p].children.retain(|&x| x != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.unlink(child);
        self.c[child].parent = Some(parent);
        self.c[parent].children.push(child);
    }

    fn is_dummy(&self, x: usize) -> bool {
        self.c[x].msg.is_none()
    }

    /// Sent date and sequence number for sorting: a dummy's are its first child's.
    fn key(&self, x: usize) -> (i64, u32) {
        match self.c[x].msg {
            Some(m) => (self.msgs[m].date, self.msgs[m].seq),
            None => self.c[x].children.first().map(|&c| self.key(c)).unwrap_or((i64::MIN, 0)),
        }
    }

    /// The latest sent date anywhere in the thread under `x` (REFS).
    fn latest(&self, x: usize) -> (i64, u32) {
        let own = self.c[x].msg.map(|m| (self.msgs[m].date, self.msgs[m].seq)).unwrap_or((i64::MIN, 0));
        self.c[x].children.iter().map(|&c| self.latest(c)).fold(own, std::cmp::max)
    }

    fn sort_children_by_date(&mut self, x: usize) {
        let mut ch = std::mem::take(&mut self.c[x].children);
        ch.sort_by_key(|&c| self.key(c));
        self.c[x].children = ch;
    }

    /// Step 6: siblings sorted bottom-up (grandchildren before children).
    fn sort_all(&mut self, x: usize) {
        let ch = self.c[x].children.clone();
        for c in ch {
            self.sort_all(c);
        }
        self.sort_children_by_date(x);
    }

    /// Thread subject (step 5.B.i): the message's base subject, or its first
    /// child's for a dummy.
    fn subject(&self, x: usize) -> Option<&str> {
        let m = match self.c[x].msg {
            Some(m) => m,
            None => self.c[x].children.first().and_then(|&c| self.c[c].msg)?,
        };
        Some(self.msgs[m].subject.as_str())
    }

    fn is_reply(&self, x: usize) -> bool {
        self.c[x].msg.is_some_and(|m| self.msgs[m].reply)
    }

    fn node(&self, x: usize) -> ThreadNode {
        ThreadNode {
            id: self.c[x].msg.map(|m| self.msgs[m].number),
            children: self.c[x].children.iter().map(|&c| self.node(c)).collect(),
        }
    }
}

/// REFERENCES (RFC 5256 §3), steps 1–6; `merge_subjects == false` skips
/// step 5 and orders the threads by their latest message (REFS).
fn references(msgs: &[ThreadMsg], merge_subjects: bool) -> Vec<ThreadNode> {
    let mut t = Tree { msgs, c: Vec::new() };
    let root = t.new_container(None);
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<usize> = (0..msgs.len()).collect();
    order.sort_by_key(|&i| msgs[i].seq);

    // (1) link messages by their references.
    for &i in &order {
        let m = &msgs[i];
        let me = match m.message_id.as_deref() {
            Some(id) => match ids.get(id) {
                // A dummy made by an earlier reference becomes this message.
                Some(&c) if t.c[c].msg.is_none() => {
                    t.c[c].msg = Some(i);
                    c
                }
                // A duplicate Message-ID: this message gets a unique one.
                Some(_) => t.new_container(Some(i)),
                None => {
                    let c = t.new_container(Some(i));
                    ids.insert(id, c);
                    c
                }
            },
            None => t.new_container(Some(i)),
        };
        // (A) chain the references, keeping existing parents and avoiding loops.
        let mut prev: Option<usize> = None;
        for r in &m.refs {
            let c = match ids.get(r.as_str()) {
                Some(&c) => c,
                None => {
                    let c = t.new_container(None);
                    ids.insert(r.as_str(), c);
                    c
                }
            };
            if let Some(p) = prev {
                if p != c && t.c[c].parent.is_none() && !t.is_within(p, c) {
                    t.link(p, c);
                }
            }
            prev = Some(c);
        }
        // (B) the last reference is the parent; replace a parent set by (A).
        match prev {
            Some(p) if !t.is_within(p, me) => t.link(p, me),
            Some(_) => {}
            None => t.unlink(me),
        }
    }

    // (2) every container without a parent goes under the root.
    for x in 1..t.c.len() {
        if t.c[x].parent.is_none() {
            t.link(root, x);
        }
    }

    // (3) prune dummies.
    let top = std::mem::take(&mut t.c[root].children);
    let top = prune(&mut t, top, true);
    for &x in &top {
        t.c[x].parent = Some(root);
    }
    t.c[root].children = top;

    // (4) sort the top level by sent date (a dummy by its earliest child).
    let top = t.c[root].children.clone();
    for &x in &top {
        if t.is_dummy(x) {
            t.sort_children_by_date(x);
        }
    }
    t.sort_children_by_date(root);

    // (5) gather threads with the same base subject.
    if merge_subjects {
        merge_by_subject(&mut t, root);
    }

    // (6) sort every set of siblings by sent date, bottom-up.
    t.sort_all(root);
    if !merge_subjects {
        let mut top = std::mem::take(&mut t.c[root].children);
        top.sort_by_key(|&x| t.latest(x));
        t.c[root].children = top;
    }
    t.c[root].children.iter().map(|&x| t.node(x)).collect()
}

/// Step 3 on one set of siblings (children first): a dummy without
/// children goes; a dummy with children is replaced by them, except at the
/// top level where only a single child is promoted.
fn prune(t: &mut Tree<'_>, siblings: Vec<usize>, top: bool) -> Vec<usize> {
    let mut out = Vec::with_capacity(siblings.len());
    for x in siblings {
        let ch = std::mem::take(&mut t.c[x].children);
        let ch = prune(t, ch, false);
        for &c in &ch {
            t.c[c].parent = Some(x);
        }
        t.c[x].children = ch;
        if !t.is_dummy(x) {
            out.push(x);
            continue;
        }
        match t.c[x].children.len() {
            0 => {}
            1 => out.push(t.c[x].children[0]),
            _ if !top => out.extend(t.c[x].children.iter().copied()),
            _ => out.push(x),
        }
    }
    out
}

/// Step 5: the subject table (B) and the merge (C).
fn merge_by_subject(t: &mut Tree<'_>, root: usize) {
    let top = t.c[root].children.clone();
    // (B) one container per thread subject.
    let mut table: HashMap<String, usize> = HashMap::new();
    for &x in &top {
        let Some(subj) = t.subject(x).filter(|s| !s.is_empty()).map(str::to_string) else { continue };
        match table.get(&subj) {
            None => {
                table.insert(subj, x);
            }
            Some(&y) => {
                if !t.is_dummy(y) && (t.is_dummy(x) || (t.is_reply(y) && !t.is_reply(x))) {
                    table.insert(subj, x);
                }
            }
        }
    }
    // (C) merge each thread into the one in the table.
    for &x in &top {
        let Some(subj) = t.subject(x).filter(|s| !s.is_empty()).map(str::to_string) else { continue };
        let Some(&y) = table.get(&subj) else { continue };
        if y == x {
            continue;
        }
        match (t.is_dummy(y), t.is_dummy(x)) {
            (true, true) => {
                let ch = std::mem::take(&mut t.c[x].children);
                for c in ch {
                    t.c[c].parent = None;
                    t.link(y, c);
                }
                t.unlink(x);
            }
            (true, false) => t.link(y, x),
            _ if t.is_reply(x) && !t.is_reply(y) => t.link(y, x),
            _ => {
                // A new dummy takes the table message's place under the root.
                let d = t.new_container(None);
                let pos = t.c[root].children.iter().position(|&c| c == y);
                t.unlink(x);
                t.unlink(y);
                t.c[d].parent = Some(root);
                let len = t.c[root].children.len();
                match pos {
                    Some(p) => t.c[root].children.insert(p.min(len), d),
                    None => t.c[root].children.push(d),
                }
                t.link(d, y);
                t.link(d, x);
                table.insert(subj, d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u32, date: i64, subject: &str, id: &str, refs: &str) -> ThreadMsg {
        let (s, reply) = base_subject(subject);
        ThreadMsg {
            seq,
            number: seq,
            date,
            subject: casemap(&s),
            reply,
            message_id: (!id.is_empty()).then(|| id.to_string()),
            refs: refs.split_whitespace().map(str::to_string).collect(),
        }
    }

    fn show(nodes: &[ThreadNode]) -> String {
        let mut out = Vec::new();
        imap_proto::encoder::encode(&imap_proto::Response::Data(imap_proto::Data::Thread(nodes.to_vec())), &mut out);
        String::from_utf8(out).unwrap().trim_end().trim_start_matches("* THREAD").trim().to_string()
    }

    #[test]
    fn ordered_subject_groups_by_base_subject() {
        let m = vec![
            msg(1, 10, "hello", "", ""),
            msg(2, 5, "other", "", ""),
            msg(3, 30, "Re: hello", "", ""),
            msg(4, 20, "re: HELLO", "", ""),
            msg(5, 1, "Re: other", "", ""),
            msg(6, 40, "solo", "", ""),
        ];
        assert_eq!(show(&thread(ThreadAlgorithm::OrderedSubject, &m)), "(5 2)(1 (4)(3))(6)");
    }

    #[test]
    fn references_links_replies_and_dummies() {
        let m = vec![
            msg(1, 10, "a", "a@x", ""),
            msg(2, 20, "Re: a", "b@x", "a@x"),
            msg(3, 30, "Re: a", "c@x", "a@x b@x"),
            // Two replies to a missing parent: a dummy with two children.
            msg(4, 40, "Re: lost", "d@x", "gone@x"),
            msg(5, 50, "Re: lost", "e@x", "gone@x"),
            // Loop attempt: f references g, g references f.
            msg(6, 60, "f", "f@x", "g@x"),
            msg(7, 70, "g", "g@x", "f@x"),
        ];
        assert_eq!(show(&thread(ThreadAlgorithm::References, &m)), "(1 2 3)((4)(5))(7 6)");
    }
}
