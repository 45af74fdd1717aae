if header :is "x-latin" "“quoted”" { discard; }
