if address "from" ["winner@lottery.example", "dev@kernel.example"] { discard; }
