# A match sets up to 32 match variables, ${0} to ${31} (Pigeonhole's
# limit; RFC 5229 §3.2 asks for at least ${9}).
require ["fileinto", "variables"];
set "s" "The quick brown fox jumps over the lazy dog.";
if string :matches "${s}" "T?? ????? ????? ?o? ?u??? o?er ?he ???? ?o?." {
  fileinto "${22}${8}${6}${25}${2}${13}${26}${1}${5}${15}${7}${21}${16}${12}${10}${17}${3}${9}${18}${20}${4}${19}${11}${14}${24}${23}";
}
if header :matches "subject" "* * * * * * * * * * * *" { fileinto "subject-${10}-${11}"; }
