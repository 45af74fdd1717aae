if header :mime "content-type" "text" { keep; }
