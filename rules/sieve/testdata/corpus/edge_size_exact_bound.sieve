if size :over 200 { keep; }
if size :under 200 { discard; }
