require ["date", "relational", "fileinto", "index", "variables", "vacation"];
if allof(header :is "from" "boss@example.com", date :value "ge" :originalzone "date" "hour" "09", date :value "lt" :originalzone "date" "hour" "17") { fileinto "urgent"; }
if anyof(date :is "received" "weekday" "0", date :is "received" "weekday" "6") { fileinto "weekend"; }
if currentdate :matches "date" "*" { set "date" "${1}"; }
if currentdate :zone "+0100" :matches "iso8601" "*" { set "datetime" "${0}"; }
if date :index 1 :last :zone "-0500" :value "gt" "received" "iso8601" "2007-02-26T09:00:00-05:00" { redirect "aftercutoff@example.org"; }
if allof(currentdate :value "ge" "date" "2007-06-30", currentdate :value "le" "date" "2007-07-07") { vacation :days 7 "I'm away during the first week in July."; }
