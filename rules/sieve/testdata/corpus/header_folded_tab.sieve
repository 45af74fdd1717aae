# A field folded with CRLF TAB (Mailman's List-Id, git-send-email,
# Outlook) reads with a space where the fold was; white space after the
# fold character and tabs inside a line stay.
require ["fileinto", "variables", "encoded-character", "mime", "foreverypart"];
if header :is "subject" "[PATCH v2 1/3] rules: unfold headers the way mail clients do" { fileinto "subject-is"; }
if header :is "list-id" "Mailwarden development <dev.lists.example.org>" { fileinto "list-id-is"; }
if header :matches "list-id" "*<*>" { fileinto "list-${2}"; }
if header :is "thread-topic" "folded by Outlook" { fileinto "thread-topic"; }
if header :is "x-two" "a${hex:20 09}b" { fileinto "x-two-space-tab"; }
if header :is "x-tab-inside" "a${hex:09}b" { fileinto "x-tab-inside"; }
if header :contains "subject" "${hex:09}" { fileinto "tab-left"; }
foreverypart {
  if header :mime :is "Content-Description" "first part" { fileinto "part-description"; }
}
if header :mime :param "boundary" :is "Content-Type" "fold" { fileinto "boundary"; }
