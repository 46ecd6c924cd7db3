//! body (RFC 5173), mime / foreverypart / extracttext (RFC 5703): MIME part
//! selection, part header access and text extraction.

use super::{Flow, Frame, Host, Run};
use crate::ast::{BodyTransform, Command, MimeOption, MimeOpts, Str};
use crate::error::RuntimeError;
use crate::message::MimePart;

fn descendants(parts: &[MimePart], idx: usize, out: &mut Vec<usize>) {
    if let Some(p) = parts.get(idx) {
        for &c in &p.children {
            if c > idx && !out.contains(&c) {
                out.push(c);
                descendants(parts, c, out);
            }
        }
    }
}

/// Parameters of a structured header value like Content-Disposition.
fn header_params(raw: &str) -> Vec<(String, String)> {
    raw.split(';')
        .skip(1)
        .filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            Some((n.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

impl<H: Host> Run<'_, H> {
    /// The parts a `:mime` header test looks at.
    fn mime_scope(&self, mime: &MimeOpts) -> Vec<usize> {
        let cur = self.part.unwrap_or(0);
        let mut v = vec![cur];
        if mime.anychild {
            descendants(&self.msg.parts, cur, &mut v);
        }
        v
    }

    /// Values of the header fields `names` for header/address/exists, with the
    /// :mime options applied.
    pub(crate) fn header_fields(&self, names: &[String], mime: &MimeOpts) -> Vec<Vec<String>> {
        // one Vec per header name, values in order
        let mut out = Vec::new();
        for n in names {
            let mut vals = Vec::new();
            if !mime.mime {
                for h in &self.headers {
                    if h.name.eq_ignore_ascii_case(n) {
                        vals.push(h.decoded());
                    }
                }
                out.push(vals);
                continue;
            }
            for pi in self.mime_scope(mime) {
                let Some(part) = self.msg.parts.get(pi) else { continue };
                let headers = if pi == 0 { &self.headers } else { &part.headers };
                for h in headers.iter().filter(|h| h.name.eq_ignore_ascii_case(n)) {
                    let is_ct = n.eq_ignore_ascii_case("content-type");
                    match &mime.option {
                        None => vals.push(h.decoded()),
                        Some(MimeOption::Type) if is_ct => vals.push(part.ctype.clone()),
                        Some(MimeOption::Subtype) if is_ct => vals.push(part.csubtype.clone()),
                        Some(MimeOption::ContentType) if is_ct => {
                            vals.push(format!("{}/{}", part.ctype, part.csubtype))
                        }
                        Some(MimeOption::Param(names)) => {
                            let params = if is_ct { part.params.clone() } else { header_params(&h.raw) };
                            for pn in names {
                                let pn = pn.as_const().unwrap_or_default().to_ascii_lowercase();
                                for (k, v) in &params {
                                    if *k == pn {
                                        vals.push(v.clone());
                                    }
                                }
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            out.push(vals);
        }
        out
    }

    /// Values for the body test.
    pub(crate) fn body_values(&self, frame: &Frame, tr: &BodyTransform) -> Vec<String> {
        match tr {
            BodyTransform::Raw => vec![String::from_utf8_lossy(self.msg.raw_body()).into_owned()],
            BodyTransform::Text => {
                self.msg.parts.iter().filter(|p| !p.is_multipart).filter_map(|p| p.plain_text()).collect()
            }
            BodyTransform::Content(types) => {
                let types: Vec<String> = types.iter().map(|t| self.expand(frame, t).to_ascii_lowercase()).collect();
                self.msg
                    .parts
                    .iter()
                    .filter(|p| !p.is_multipart && p.ctype != "message")
                    .filter(|p| {
                        types.iter().any(|t| {
                            t.is_empty()
                                || match t.split_once('/') {
                                    Some((a, b)) => a == p.ctype && b == p.csubtype,
                                    None => *t == p.ctype,
                                }
                        })
                    })
                    .map(|p| match &p.text {
                        Some(t) => t.clone(),
                        None => String::from_utf8_lossy(&p.content).into_owned(),
                    })
                    .collect()
            }
        }
    }

    pub(crate) fn foreverypart(
        &mut self,
        frame: &mut Frame,
        name: Option<&str>,
        body: &[Command],
    ) -> Result<Flow, RuntimeError> {
        let saved = self.part;
        let ctx = saved.unwrap_or(0);
        let mut list = Vec::new();
        descendants(&self.msg.parts, ctx, &mut list);
        if list.is_empty() && saved.is_none() {
            list.push(0);
        }
        let mut result = Flow::Next;
        for pi in list {
            self.step(crate::error::Pos::default())?;
            self.part = Some(pi);
            match self.block(frame, body)? {
                Flow::Next => {}
                Flow::Break(None) => break,
                Flow::Break(Some(n)) if Some(n.as_str()) == name => break,
                other => {
                    result = other;
                    break;
                }
            }
        }
        self.part = saved;
        Ok(result)
    }

    pub(crate) fn extract_text(&self, first: Option<u64>) -> String {
        let Some(p) = self.part.and_then(|i| self.msg.parts.get(i)) else {
            return String::new();
        };
        let t = p.plain_text().unwrap_or_default();
        match first {
            Some(n) => t.chars().take(usize::try_from(n).unwrap_or(usize::MAX)).collect(),
            None => t,
        }
    }

    #[allow(dead_code)]
    pub(crate) fn expand_all(&self, frame: &Frame, v: &[Str]) -> Vec<String> {
        v.iter().map(|s| self.expand(frame, s)).collect()
    }
}
