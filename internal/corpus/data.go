package corpus

// The tables the generator draws from. Domains are under .example,
// .example.org/.example.com or real list hosts (list traffic is recognised
// by its List-Id, so those keep their real shape); IP addresses are from
// the documentation ranges (RFC 5737).

// Person is a sender or recipient.
type Person struct {
	Name string // display name, any script ("" for a bare address)
	Addr string // lower-case address
}

// VIPs are the five senders the reference rule set flags. No other
// generated From header contains one of these addresses (they do appear
// in To, Cc and Reply-To of other mail, and similar addresses appear in
// From, as distractors).
var VIPs = []Person{
	{"Dana Whitfield", "dana.whitfield@corp.example"},
	{"Jürgen Müller", "j.mueller@partner.example"},
	{"田中 明子", "akiko.tanaka@design.example"},
	{"Олег Петров", "oleg.petrov@petrov.example"},
	{"Chris O'Neill", "chris.oneill@bank.example"},
}

// vipLookalikes are From addresses that resemble a VIP's but do not
// contain it: a substring search for the VIP address must not match them.
var vipLookalikes = []Person{
	{"Dana Whitfield (Assistant)", "dana.whitfield.office@corp.example"},
	{"Juergen Mueller", "juergen.mueller@partner.example"},
	{"Akiko Tanaka", "tanaka@design.example"},
	{"Oleg P.", "oleg@petrov.example"},
	{"Chris O'Neill via Calendar", "calendar-notification@bank.example"},
}

// MailingList is a list the corpus receives mail from.
type MailingList struct {
	Key    string // short name, e.g. "golang-nuts"
	ID     string // the List-Id identifier, e.g. "golang-nuts.googlegroups.com"
	Desc   string // List-Id description phrase
	Post   string // posting address
	Style  string // "mailman", "google", "vger", "mlmmj"
	Tag    string // subject tag, e.g. "[Dovecot]" ("" for none)
	Weight int
	// InRules: the reference rule set files this list into Lists/<Key>.
	InRules bool
	// Topics are subject templates (see fill).
	Topics []string
}

// Lists are the mailing lists; the eight with InRules are in the
// reference rule set. No List-Id identifier is a substring of another's.
var Lists = []MailingList{
	{Key: "golang-nuts", ID: "golang-nuts.googlegroups.com", Desc: "", Post: "golang-nuts@googlegroups.com", Style: "google", Weight: 14, InRules: true,
		Topics: []string{"generics and interfaces with %w", "sync.Pool misuse in %w handler", "go vet complains about %w", "proposal: %w for the standard library", "slices.SortFunc vs sort.Slice", "invoice generation library in Go?", "context cancellation in %w", "memory leak with time.Ticker"}},
	{Key: "dovecot", ID: "dovecot.dovecot.org", Desc: "Dovecot Mailing List", Post: "dovecot@dovecot.org", Style: "mailman", Tag: "", Weight: 10, InRules: true,
		Topics: []string{"sieve fileinto with :create not working", "IMAP IDLE notify delay", "quota warning scripts on 2.3.%n", "replication stuck after upgrade", "mail_plugins order for %w", "doveadm force-resync takes hours"}},
	{Key: "lkml", ID: "linux-kernel.vger.kernel.org", Desc: "", Post: "linux-kernel@vger.kernel.org", Style: "vger", Weight: 18, InRules: true,
		Topics: []string{"[PATCH v%n %n/%n] mm: fix %w accounting", "[PATCH] net: %w: drop unused variable", "[GIT PULL] %w fixes for 6.%n-rc%n", "Re: [RFC PATCH] sched: %w latency", "[PATCH 6.%n %n/%n] ext4: avoid %w"}},
	{Key: "debian-devel", ID: "debian-devel.lists.debian.org", Desc: "", Post: "debian-devel@lists.debian.org", Style: "mlmmj", Weight: 8, InRules: true,
		Topics: []string{"Bug#%d: ITP: %w -- %w tool", "usrmerge and %w", "Intent to orphan %w", "Re: tag2upload: %w", "Summary of the %w BoF"}},
	{Key: "rust-users", ID: "rust-users.lists.rust-lang.example", Desc: "Rust users discussion", Post: "rust-users@lists.rust-lang.example", Style: "mailman", Tag: "[rust-users]", Weight: 6, InRules: true,
		Topics: []string{"borrow checker vs %w", "async traits in %w", "crate recommendation for %w", "lifetime elision puzzle", "tokio and %w shutdown"}},
	{Key: "pgsql-general", ID: "pgsql-general.lists.postgresql.org", Desc: "", Post: "pgsql-general@lists.postgresql.org", Style: "mlmmj", Weight: 7, InRules: true,
		Topics: []string{"VACUUM FULL on %w table", "logical replication lag", "index not used for %w query", "pg_upgrade from 1%n to 16", "invoice table design: numeric vs money"}},
	{Key: "python-dev", ID: "python-dev.python.org", Desc: "Python core development", Post: "python-dev@python.org", Style: "mailman", Tag: "[Python-Dev]", Weight: 5, InRules: true,
		Topics: []string{"PEP %d: %w", "free-threading and %w", "Summary of Python tracker issues", "deprecating %w in 3.1%n"}},
	{Key: "openbsd-misc", ID: "misc.openbsd.org", Desc: "", Post: "misc@openbsd.org", Style: "majordomo", Weight: 5, InRules: true,
		Topics: []string{"pf rule for %w", "7.%n upgrade: %w fails", "httpd and %w", "relayd health checks"}},
	// Lists the reference rule set does not know: they stay in INBOX.
	{Key: "freebsd-hackers", ID: "freebsd-hackers.freebsd.org", Desc: "Technical discussions relating to FreeBSD", Post: "freebsd-hackers@freebsd.org", Style: "mailman", Weight: 4,
		Topics: []string{"kqueue and %w", "bhyve %w regression", "invoice for the FreeBSD Foundation donation drive?"}},
	{Key: "mutt-users", ID: "mutt-users.mutt.org", Desc: "Mutt users", Post: "mutt-users@mutt.org", Style: "mailman", Weight: 3,
		Topics: []string{"folder-hook for %w", "sidebar colors", "html mail with %w"}},
}

// Newsletter is a bulk sender.
type Newsletter struct {
	Name     string
	Addr     string
	ListID   string // some ESPs add a List-Id (never one of the rule set's)
	Bulk     string // the Precedence value: "bulk" or "Bulk" ("" for none)
	Subjects []string
}

var newsletters = []Newsletter{
	{"The Morning Brief", "news@brief.example.com", "", "bulk", []string{"Your %day briefing: %w, %w and more", "%n things to know today", "Markets, %w and the weekend"}},
	{"Gadget Weekly", "hello@gadgetweekly.example", "<12345.list-id.gadgetweekly.example>", "bulk", []string{"Gadget Weekly #%d: %w reviewed", "This week: %w vs %w", "Deals: up to %n%% off %w"}},
	{"Stadtwerke Newsletter", "newsletter@stadtwerke.example", "", "Bulk", []string{"Ihr Energiespartipp für %day", "Neuigkeiten aus Ihrer Stadt", "Grüße aus dem Kundenservice"}},
	{"Freelance Digest", "digest@freelance.example.org", "<digest.freelance.example.org>", "bulk", []string{"How to chase an unpaid invoice", "Freelance Digest: %w rates in 2025", "Tax season checklist"}},
	{"Книжный клуб", "club@knigi.example", "", "bulk", []string{"Новинки недели: %w", "Скидки для участников клуба"}},
	{"ショップ通信", "info@shop.example.jp", "", "bulk", []string{"今週のおすすめ商品", "セール開催中 %n%%オフ"}},
	{"Travel Deals", "deals@travel.example.com", "<deals.travel.example.com>", "bulk", []string{"Flights to %city from €%d", "Last-minute: %city weekend", "Your saved search: %city"}},
	{"Open Source Weekly", "osw@news.example.org", "", "", []string{"OSW #%d: %w released", "Interview: maintaining %w"}},
}

// vendor sends transactional mail (receipts, invoices, shipping).
type vendor struct {
	Name, Addr string
	Lang       string // "en", "de", "fr", "ru", "ja"
	Bulk       bool   // adds Precedence: bulk (automated mailers often do)
}

var vendors = []vendor{
	{"Example Hosting Billing", "billing@hosting.example.com", "en", false},
	{"CloudCo", "no-reply@cloudco.example", "en", true},
	{"Stadtwerke Abrechnung", "rechnung@stadtwerke.example", "de", false},
	{"Telecom Facturation", "facturation@telecom.example.fr", "fr", true},
	{"Интернет-провайдер", "billing@provider.example.ru", "ru", false},
	{"株式会社サンプル", "seikyu@sample.example.jp", "ja", false},
	{"Parcel Service", "tracking@parcel.example", "en", true},
	{"Webshop", "orders@webshop.example", "en", true},
}

// invoiceSubjects: every one contains "invoice" (in any case) once
// decoded, in the vendor's language mixed with English as real mailers do.
var invoiceSubjects = map[string][]string{
	"en": {"Your invoice INV-%d is available", "Invoice #%d from %vendor", "INVOICE %d - payment due in %n days", "Reminder: invoice %d is overdue"},
	"de": {"Ihre Rechnung (Invoice) Nr. %d", "Rechnung/Invoice %d für %month", "Neue Rechnung – invoice %d"},
	"fr": {"Votre facture (invoice) n°%d", "Facture/Invoice %d – échéance le %n"},
	"ru": {"Счёт на оплату (invoice) №%d", "Invoice №%d: счёт за услуги"},
	"ja": {"請求書 (Invoice) No.%d のお知らせ", "【%vendor】Invoice 請求書発行のご案内"},
}

// receiptSubjects: transactional mail that is not an invoice (no
// "invoice" anywhere).
var receiptSubjects = map[string][]string{
	"en": {"Your order #%d has shipped", "Receipt for your payment", "Password reset requested", "Your package is out for delivery", "Order confirmation %d"},
	"de": {"Ihre Bestellung %d wurde versandt", "Zahlungsbestätigung", "Ihr Zählerstand wurde übermittelt"},
	"fr": {"Votre commande %d a été expédiée", "Confirmation de paiement"},
	"ru": {"Ваш заказ %d отправлен", "Подтверждение оплаты"},
	"ja": {"ご注文の発送のお知らせ", "お支払い確認"},
}

var personalSubjects = []string{
	"Lunch on %day?", "Re: slides for %day", "photos from the weekend", "Quick question about %w",
	"Meeting notes %month", "Fwd: %w", "Can you review the %w draft?", "Dinner plans", "Happy birthday!",
	"Re: Re: %w", "Treffen am %day", "Urlaubsfotos", "Réunion de %day", "Вопрос по проекту %w",
	"週末の予定について", "Re: the %w contract", "Travel to %city next week",
}

var vipSubjects = []string{
	"Board deck for %day", "Re: budget %month", "Please call me", "Contract signed", "Q%n numbers",
	"Invoice for the consulting work in %month", "Vertrag und Rechnung (invoice) anbei", "Re: %w proposal",
}

var spamSubjects = []string{
	"You have won €%d,000!!!", "Overdue invoice #%d - open the attachment now", "Your account will be suspended",
	"Cheap meds without prescription", "Re: your parcel could not be delivered", "Увеличьте продажи в %n раз",
	"Hot singles in %city", "URGENT business proposal", "Confirm your password within %n hours",
}

var automatedSubjects = []string{
	"Cron <root@db1> /usr/local/bin/backup.sh", "[monitoring] %w is DOWN", "[monitoring] %w is UP",
	"Logwatch for mx1 (Linux)", "*** SECURITY information for web%n ***", "Disk usage on /var at %n%%",
	"[GitLab] Pipeline #%d failed", "Delivery Status Notification (Failure)",
}

var firstNames = []string{
	"Anna", "Ben", "Carla", "David", "Eva", "Felix", "Greta", "Hannes", "Ines", "Jonas", "Katrin", "Lukas",
	"Marie", "Niklas", "Olga", "Paul", "Rosa", "Stefan", "Tanja", "Uwe", "Zoë", "François", "Søren",
	"Łukasz", "Нина", "Иван", "健太", "さくら", "José", "Renée", "Aylin", "Mehmet",
}

var lastNames = []string{
	"Schmidt", "Meyer", "Schulz", "Becker", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann",
	"Martin", "Bernard", "Dubois", "Nowak", "Kowalski", "Иванова", "Смирнов", "鈴木", "佐藤", "García",
	"Fernández", "O'Brien", "Ødegaard", "Yılmaz", "Brown", "Wilson", "Taylor",
}

var personalDomains = []string{
	"mail.example", "posteo.example", "gmx.example", "web.example", "outlook.example", "icloud.example",
	"uni-example.example", "company.example", "yandex.example", "docomo.example.jp",
}

var words = []string{
	"server", "mailbox", "quota", "backup", "pipeline", "kernel", "scheduler", "parser", "cache", "index",
	"replica", "cluster", "budget", "roadmap", "release", "migration", "contract", "workshop", "draft",
	"benchmark", "latency", "throughput", "allocator", "filesystem", "network", "firewall", "certificate",
	"garden", "holiday", "concert", "bicycle", "recipe", "weather", "football", "museum", "library",
}

var cities = []string{"Berlin", "Lisbon", "Kraków", "Osaka", "Montréal", "Reykjavík", "Tallinn", "Porto", "Kyoto", "Zürich"}

var days = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

var months = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

var mailers = []string{
	"Mozilla Thunderbird 128.%n.0", "Apple Mail (2.3%n)", "Microsoft Outlook 16.0", "Roundcube Webmail/1.6.%n",
	"K-9 Mail for Android", "Mutt/2.2.%n (2023-02-09)", "Evolution 3.4%n.1", "",
}

// Lines of body text in several scripts, used to build paragraphs.
var loremLines = []string{
	"The quick brown fox jumps over the lazy dog while the server keeps running.",
	"We moved the backups to the new cluster last week and the restore test went fine.",
	"Please find the numbers in the attached spreadsheet; the totals are on the second sheet.",
	"Der Termin am Donnerstag passt mir gut, lass uns um zehn Uhr im Büro treffen.",
	"Les résultats du trimestre sont meilleurs que prévu, surtout en Europe du Nord.",
	"Спасибо за письмо, я посмотрю документы на выходных и отвечу в понедельник.",
	"来週の会議の資料を共有します。ご確認をお願いします。",
	"If you have any questions, reply to this message and we will get back to you.",
	"El informe final estará listo a finales de mes, con todas las correcciones.",
	"Zażółć gęślą jaźń — a sentence every Polish font test knows.",
}
