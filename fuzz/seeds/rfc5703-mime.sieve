require ["mime", "foreverypart", "fileinto", "extracttext", "variables"];
foreverypart :name "outer" {
  if header :mime :param "filename" :matches "Content-Disposition" ["*.com", "*.exe", "*.vbs", "*.scr", "*.pif", "*.hta", "*.bat", "*.zip"] {
    fileinto "INBOX.Suspicious"; break;
  }
  foreverypart {
    if header :mime :contenttype "content-type" "text/plain" { extracttext :first 100 :lower "t"; break :name "outer"; }
  }
  if address :mime :is :all "from" "a@example.com" { keep; }
  if exists :mime :anychild "content-id" { discard; }
}
if header :mime :anychild :type "Content-Type" "message" { fileinto "forwarded"; }
if header :mime :subtype "Content-Type" ["zip", "html"] { stop; }
