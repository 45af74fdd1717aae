# Body parts in KOI8-R, Shift_JIS, Windows-1251 (quoted-printable HTML)
# and GB2312 are converted to UTF-8 before matching, by body, mime and
# extracttext alike.
require ["fileinto", "body", "variables", "mime", "foreverypart", "extracttext"];
if body :text :contains "Привет" { fileinto "koi8-r"; }
if body :text :contains "請求書" { fileinto "shift_jis"; }
if body :text :contains "Здравствуйте" { fileinto "windows-1251"; }
if body :text :contains "测试邮件" { fileinto "gb2312"; }
if body :content "text/plain" :contains "Счёт прилагается" { fileinto "content-koi8-r"; }
if body :raw :contains "Привет" { fileinto "raw-is-not-converted"; }
foreverypart {
  if header :mime :param "charset" :is "Content-Type" "koi8-r" {
    extracttext :first 13 "t";
    fileinto "first-${t}";
  }
  if header :mime :subtype :is "Content-Type" "html" {
    extracttext "h";
    if string :contains "${h}" "заказ отправлен" { fileinto "html-text"; }
  }
}
