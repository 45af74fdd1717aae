# i;ascii-numeric: an empty value and a non-numeric key are both positive
# infinity, so equal under :value (RFC 4790 §9.1.1); :is still matches an
# empty value only with an empty key, as Pigeonhole's :is checks that first.
require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
set "e" "";
if string :comparator "i;ascii-numeric" :is "${e}" "abc" { fileinto "is"; }
if string :comparator "i;ascii-numeric" :is "${e}" "" { fileinto "is-empty"; }
if string :comparator "i;ascii-numeric" :value "eq" "${e}" "abc" { fileinto "eq"; }
if string :comparator "i;ascii-numeric" :value "lt" "${e}" "abc" { fileinto "lt"; }
if string :comparator "i;ascii-numeric" :value "ge" "${e}" "abc" { fileinto "ge"; }
if string :comparator "i;ascii-numeric" :value "gt" "abc" "${e}" { fileinto "gt"; }
if header :comparator "i;ascii-numeric" :value "eq" "x-empty" "abc" { fileinto "header-eq"; }
if header :comparator "i;ascii-numeric" :value "lt" "x-empty" "abc" { fileinto "header-lt"; }
