//! RFC 5703 (MIME part tests, iteration, extraction), section by section:
//! §3 foreverypart/break, §4 the `:mime` options of header/address/exists,
//! §5–6 replace/enclose (not implemented, so not offered), §7 extracttext.
//!
//! The order in which parts are visited is made visible by appending each
//! part's content type to a variable and filing into a mailbox of that name.

mod common;
use common::*;

/// multipart/mixed
///   1 text/plain
///   2 multipart/alternative
///     3 text/plain (quoted-printable, UTF-8)
///     4 text/html
///   5 application/pdf (attachment "report.pdf")
///   6 message/rfc822
///     7 text/plain (the inner message, From: inner@example.org)
const NESTED: &str = "From: outer@example.com\r\n\
To: me@example.com\r\n\
Subject: parts\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"m\"\r\n\
\r\n\
--m\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
First text part.\r\n\
--m\r\n\
Content-Type: multipart/alternative; boundary=\"a\"\r\n\
\r\n\
--a\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Caf=C3=A9 au lait, s'il vous pla=C3=AEt.\r\n\
--a\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-ID: <html@example.com>\r\n\
\r\n\
<p>Caf&eacute; <b>au lait</b></p>\r\n\
--a--\r\n\
--m\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\n\
Content-Disposition: attachment; filename=\"report.pdf\"; size=5\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0=\r\n\
--m\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: inner@example.org\r\n\
Subject: forwarded\r\n\
Content-Type: text/plain\r\n\
\r\n\
Inner body.\r\n\
--m--\r\n";

const REQ: &str = "require [\"mime\", \"foreverypart\", \"variables\", \"fileinto\", \"extracttext\"];\n";

fn run(body: &str) -> Vec<String> {
    lines(&format!("{REQ}{body}"), NESTED)
}

// ---- §3.1 foreverypart ----

/// "walks though every MIME part of a message, including nested parts,
/// depth first"; a message/rfc822 part's message is nested in it.
#[test]
fn foreverypart_visits_every_part_depth_first() {
    let s = r#"set "seen" "";
foreverypart {
  if header :mime :contenttype :matches "content-type" "*" { set "seen" "${seen}${1},"; }
}
fileinto "${seen}";"#;
    assert_eq!(
        run(s),
        v(&["fileinto \"text/plain,multipart/alternative,text/plain,text/html,application/pdf,message/rfc822,text/plain,\""])
    );
}

/// A message without MIME structure is one part: the loop runs once.
#[test]
fn foreverypart_on_a_single_part_message_runs_once() {
    let s = format!("{REQ}set \"n\" \"\"; foreverypart {{ set \"n\" \"${{n}}x\"; }} fileinto \"${{n}}\";");
    assert_eq!(lines(&s, "Subject: plain\r\n\r\nno mime\r\n"), v(&["fileinto \"x\""]));
}

/// "the nested foreverypart iterates over the MIME parts contained within the
/// MIME part currently being targeted by the nearest enclosing foreverypart"
/// and "If that MIME part is a terminal MIME part … the nested foreverypart
/// loop is simply ignored"; at least one level of nesting MUST work.
#[test]
fn nested_foreverypart_iterates_the_children_of_the_outer_part() {
    let s = r#"set "seen" "";
foreverypart {
  if header :mime :type :matches "content-type" "*" { set "outer" "${1}"; }
  set "seen" "${seen}[${outer}:";
  foreverypart {
    if header :mime :subtype :matches "content-type" "*" { set "seen" "${seen} ${1}"; }
  }
  set "seen" "${seen}]";
}
fileinto "${seen}";"#;
    assert_eq!(
        run(s),
        v(&["fileinto \"[text:][multipart: plain html][text:][text:][application:][message: plain][text:]\""])
    );
}

// ---- §3.2 break ----

/// `break` ends the innermost loop only.
#[test]
fn break_ends_the_innermost_loop() {
    let s = r#"set "seen" "";
foreverypart {
  if header :mime :contenttype :matches "content-type" "*" { set "seen" "${seen}${1},"; }
  foreverypart { set "seen" "${seen}inner,"; break; }
  if header :mime :subtype "content-type" "pdf" { break; }
}
fileinto "${seen}";"#;
    assert_eq!(
        run(s),
        v(&["fileinto \"text/plain,multipart/alternative,inner,text/plain,text/html,application/pdf,\""])
    );
}

/// `break :name` ends the loop of that name, here the outer one, from inside
/// the inner one; commands after the outer loop still run.
#[test]
fn break_with_a_name_ends_the_named_loop() {
    let s = r#"set "seen" "";
foreverypart :name "outer" {
  if header :mime :contenttype :matches "content-type" "*" { set "seen" "${seen}${1},"; }
  foreverypart :name "inner" {
    set "seen" "${seen}inner,";
    break :name "outer";
  }
}
fileinto "${seen}done";"#;
    assert_eq!(run(s), v(&["fileinto \"text/plain,multipart/alternative,inner,done\""]));
    // A name that no enclosing loop has, or a break outside any loop, does not compile.
    let e = compile_err(&format!("{REQ}foreverypart :name \"a\" {{ }} foreverypart {{ break :name \"a\"; }}"));
    assert!(e.contains("no enclosing `foreverypart :name \"a\"`"), "{e}");
    assert!(compile_err(&format!("{REQ}if true {{ break; }}")).contains("outside of `foreverypart`"));
    // foreverypart without `require "foreverypart"` does not compile.
    assert!(compile_err("foreverypart { stop; }").contains("foreverypart"));
}

/// `stop` inside a loop ends the whole script (RFC 5228 §3.3), not just the loop.
#[test]
fn stop_inside_foreverypart_ends_the_script() {
    let s = "foreverypart { if header :mime :subtype \"content-type\" \"html\" { fileinto \"html\"; stop; } } discard;";
    assert_eq!(run(s), v(&["fileinto \"html\""]));
}

// ---- §4 header/address/exists with :mime ----

/// Without `:mime`, header tests see the top-level header even inside a loop;
/// with `:mime`, the current part's header. Outside any loop `:mime` looks at
/// the top-level part.
#[test]
fn mime_selects_the_current_part() {
    let s = r#"set "seen" "";
foreverypart {
  if header :is "subject" "parts" { set "seen" "${seen}T"; }
  if header :mime :is "subject" "forwarded" { set "seen" "${seen}F"; }
}
if header :mime :type "content-type" "multipart" { set "seen" "${seen}M"; }
fileinto "${seen}";"#;
    // 7 parts see the top-level Subject; only the inner message's root has Subject: forwarded.
    assert_eq!(run(s), v(&["fileinto \"TTTTTTTFM\""]));
}

/// :type, :subtype, :contenttype and :param (Content-Type and
/// Content-Disposition parameters).
#[test]
fn mime_options() {
    let s = r#"foreverypart {
  if allof (header :mime :type "content-type" "application",
            header :mime :subtype "content-type" "pdf",
            header :mime :contenttype "content-type" "application/pdf",
            header :mime :param "name" "content-type" "report.pdf",
            header :mime :param ["size", "filename"] :matches "content-disposition" "*.pdf") {
    fileinto "attachment"; break;
  }
}"#;
    assert_eq!(run(s), v(&["fileinto \"attachment\""]));
    // :param of a parameter that is absent matches nothing.
    let s = "foreverypart { if header :mime :param \"charset\" \"content-disposition\" \"*\" { discard; } }";
    assert_eq!(run(s), v(&["keep"]));
    // :type etc. apply to Content-Type only.
    let s = "if header :mime :type \"subject\" \"parts\" { discard; }";
    assert_eq!(run(s), v(&["keep"]));
}

/// :anychild: the current part or any part below it.
#[test]
fn anychild_looks_below_the_current_part() {
    let s = "if header :mime :anychild :subtype \"content-type\" \"pdf\" { fileinto \"pdf\"; }";
    assert_eq!(run(s), v(&["fileinto \"pdf\""]));
    let s = "if exists :mime :anychild \"content-id\" { fileinto \"cid\"; }";
    assert_eq!(run(s), v(&["fileinto \"cid\""]));
    let s = "if exists :mime \"content-id\" { fileinto \"cid\"; }";
    assert_eq!(run(s), v(&["keep"]));
    // Inside the loop: the alternative part (html child) and the html part
    // itself (":anychild" includes the current part).
    let s = r#"set "seen" "";
foreverypart {
  if header :mime :anychild :subtype "content-type" "html" { set "seen" "${seen}y"; } else { set "seen" "${seen}n"; }
}
fileinto "${seen}";"#;
    assert_eq!(run(s), v(&["fileinto \"nynynnn\""]));
    // :anychild needs :mime.
    assert!(compile_err(&format!("{REQ}if exists :anychild \"x\" {{}}")).contains("needs `:mime`"));
}

/// address :mime reads the addresses in a part's header, here the
/// forwarded message's From.
#[test]
fn address_with_mime() {
    let s = "if address :mime :anychild :domain \"from\" \"example.org\" { fileinto \"inner\"; }";
    assert_eq!(run(s), v(&["fileinto \"inner\""]));
    let s = "if address :domain \"from\" \"example.org\" { fileinto \"outer\"; }";
    assert_eq!(run(s), v(&["keep"]));
}

// ---- §5 replace, §6 enclose ----

/// Not implemented, so not offered: `require` fails (RFC 5228 §3.2) and
/// they are absent from the capability list.
#[test]
fn replace_and_enclose_are_not_offered() {
    assert!(!sieve::EXTENSIONS.contains(&"replace"));
    assert!(!sieve::EXTENSIONS.contains(&"enclose"));
    for ext in ["replace", "enclose"] {
        let e = compile_err(&format!("require \"{ext}\";"));
        assert!(e.contains(ext), "{e}");
    }
}

// ---- §7 extracttext ----

/// The decoded text of the current part, `:first N` characters of it,
/// through the variables modifiers; empty for a non-text part.
#[test]
fn extracttext() {
    let s = r#"set "out" "";
foreverypart {
  if header :mime :contenttype "content-type" "text/plain" {
    extracttext :first 4 "t";
    set "out" "${out}<${t}>";
  } elsif header :mime :subtype "content-type" "html" {
    extracttext :upper "h";
    set "out" "${out}<${h}>";
  } elsif header :mime :subtype "content-type" "pdf" {
    extracttext "p";
    set "out" "${out}<${p}>";
  }
}
fileinto "${out}";"#;
    // Transfer encoding and charset are decoded (the é counts as one
    // character); HTML becomes its text (ending in a line break); the PDF
    // gives the empty string.
    assert_eq!(run(s), v(&["fileinto \"<Firs><Café><CAFÉ AU LAIT\\n><><Inne>\""]));
}

#[test]
fn extracttext_rules() {
    // Only inside foreverypart, and only with variables.
    let e = compile_err(&format!("{REQ}extracttext \"x\";"));
    assert!(e.contains("inside `foreverypart`"), "{e}");
    let e = compile_err("require [\"foreverypart\", \"extracttext\"]; foreverypart { extracttext \"x\"; }");
    assert!(e.contains("variables"), "{e}");
    let e = compile_err(&format!("{REQ}foreverypart {{ extracttext :first \"x\" \"y\"; }}"));
    assert!(e.contains("first"), "{e}");
}
