if header :is "x-spaces" "padded value" { discard; }
