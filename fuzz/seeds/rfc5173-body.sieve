require ["body", "fileinto"];
if body :raw :contains "MAKE MONEY FAST" { discard; }
if body :content "text" :contains ["missile", "coordinates"] { fileinto "secrets"; }
if body :content ["audio/mp3", "image", ""] :contains "" { fileinto "media"; }
if body :text :matches "*hello*" { keep; }
