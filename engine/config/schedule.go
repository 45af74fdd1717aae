package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// Job kinds (schedules[].job).
const (
	JobArchive = "archive" // move old mail into dated folders
	JobExpire  = "expire"  // remove old mail for good (UID EXPUNGE)
	JobQuota   = "quota"   // remove the oldest mail while over quota
	JobSweep   = "sweep"   // run a ruleset over a whole mailbox
	JobBackup  = "backup"  // export new mail to a local Maildir tree
)

// Age bases (schedules[].by).
const (
	ByInternal = "internal" // IMAP INTERNALDATE (default; SEARCH BEFORE)
	ByDate     = "date"     // the Date: header (SEARCH SENTBEFORE)
)

// DefaultMaxMessages caps the messages one scheduled run acts on.
const DefaultMaxMessages = 10000

// AllAccounts is the `accounts:` value that selects every account.
const AllAccounts = "all"

// AllMailboxes is the `mailboxes:` value that selects every mailbox.
const AllMailboxes = "all"

var (
	jobKinds = []string{JobArchive, JobExpire, JobQuota, JobSweep, JobBackup}
	byValues = []string{ByInternal, ByDate}

	// scheduleKeys are the keys of a schedule; commonKeys apply to every
	// job, jobKeys to one kind each.
	scheduleKeys = []string{"name", "cron", "accounts", "job", "mailbox", "older_than", "by", "to",
		"skip_flagged", "skip_unread", "when", "max_messages", "high", "low", "prune", "warn_only", "ruleset",
		"mailboxes", "dir", "backup_first"}
	commonKeys = []string{"name", "cron", "accounts", "job", "max_messages"}
	jobKeys    = map[string][]string{
		JobArchive: {"mailbox", "older_than", "by", "to", "skip_flagged", "skip_unread", "when"},
		JobExpire:  {"mailbox", "older_than", "by", "skip_flagged", "skip_unread", "when", "backup_first"},
		JobQuota:   {"high", "low", "prune", "warn_only", "backup_first"},
		JobSweep:   {"mailbox", "ruleset"},
		JobBackup:  {"mailboxes", "when", "dir"},
	}

	cronHint = `five fields (minute hour day-of-month month day-of-week) such as "0 3 * * *", ` +
		`or @hourly, @daily, @weekly, @monthly, @every 30m; prefix CRON_TZ=Europe/Berlin for a time zone`
	reTemplate    = regexp.MustCompile(`\{[^{}]*\}`)
	mailboxesHint = `names, special-use attributes or patterns, e.g. mailboxes: [INBOX, "\\Sent", "Archive/*"], or mailboxes: all`
)

// Schedule is one scheduled job (`schedules:`). Which fields matter depends
// on Job; a key that does not apply to the job is an error at load.
type Schedule struct {
	Name string
	// Cron is the schedule in robfig/cron/v3 standard syntax: five fields,
	// a descriptor (@daily, @every 1h30m), optionally prefixed with
	// CRON_TZ=Zone. It is checked at load with the scheduler's parser.
	Cron string
	// Accounts names the accounts the job runs on, in config order;
	// `accounts: all` sets AllAccounts (and Accounts to every account's
	// name after Validate).
	Accounts    []string
	AllAccounts bool
	Job         string // archive | expire | quota | sweep | backup

	// archive, expire, sweep.
	Mailbox string // a name or a special-use attribute (`\Trash`)
	// archive, expire: messages older than this (by internal date, or by
	// the Date: header with By "date") are selected on the server.
	OlderThan time.Duration
	By        string // internal (default) | date
	// archive: destination template; {year} and {month} come from the
	// same date OlderThan uses.
	To          string
	SkipFlagged bool // default true
	SkipUnread  bool // default false
	// When is an optional expr filter (the same language as rules); the
	// positions locate compile errors like a rule's `when`.
	When       string
	WhenPos    Pos
	WhenInline bool
	WhenCols   []int

	// MaxMessages caps the messages one run acts on (moves, removes, or
	// changes); default DefaultMaxMessages.
	MaxMessages int

	// quota: act when usage ≥ High percent of the limit, free until usage
	// ≤ Low percent, removing the oldest messages of each Prune entry in
	// order. WarnOnly logs instead.
	High, Low float64
	Prune     []Prune
	WarnOnly  bool

	// sweep: the ruleset to run over Mailbox.
	Ruleset string

	// backup: the mailboxes to export (names, special-use attributes,
	// LIST patterns with * and %); `mailboxes: all` sets AllMailboxes
	// instead. Dir is the destination directory, absolute after Validate.
	Mailboxes    []string
	AllMailboxes bool
	Dir          string

	// expire, quota: the backup schedule every removed message must be
	// in first.
	BackupFirst string

	Pos Pos // the schedule's list item
	pos map[string]Pos
}

// Prune is one mailbox the quota job may remove mail from, oldest first.
type Prune struct {
	Mailbox   string        // a name or a special-use attribute
	OlderThan time.Duration // 0: any age
	Pos       Pos
	pos       map[string]Pos
}

// KeyPos returns the position of key in the schedule as written, or the
// schedule's own position when the key is absent.
func (s *Schedule) KeyPos(key string) Pos {
	if p, ok := s.pos[key]; ok {
		return p
	}
	return s.Pos
}

// Schedule returns the schedule called name, or nil.
func (c *Config) Schedule(name string) *Schedule {
	for i := range c.Schedules {
		if c.Schedules[i].Name == name {
			return &c.Schedules[i]
		}
	}
	return nil
}

// ParseCron parses spec as the scheduler does (robfig/cron/v3's standard
// parser: five fields, descriptors, CRON_TZ= prefix).
func ParseCron(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil { // the parser panics on some inputs
			sched, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return cron.ParseStandard(spec)
}

func (d *decoder) schedules(k, v *yaml.Node, c *Config) {
	d.list(k, v, "schedules", func(i int, item *yaml.Node) {
		c.Schedules = append(c.Schedules, d.schedule(item, fmt.Sprintf("schedules[%d]", i)))
	})
}

func (d *decoder) schedule(n *yaml.Node, path string) Schedule {
	s := Schedule{Pos: d.pos(n)}
	s.pos = d.mapping(n, path, scheduleKeys, func(key string, k, v *yaml.Node) {
		p := path + "." + key
		switch key {
		case "name":
			s.Name = d.str(k, v, p)
		case "cron":
			s.Cron = d.str(k, v, p)
		case "accounts":
			switch {
			case v.Kind == yaml.ScalarNode && v.Value == AllAccounts:
				s.AllAccounts = true
			case v.Kind == yaml.SequenceNode:
				d.list(k, v, p, func(j int, item *yaml.Node) {
					s.Accounts = append(s.Accounts, d.str(item, item, fmt.Sprintf("%s[%d]", p, j)))
				})
			default:
				d.errorf(k, p, "e.g. accounts: [personal, work], or accounts: all", "want a list of account names or all, got %s", kindName(v))
			}
		case "job":
			s.Job = d.str(k, v, p)
		case "mailbox":
			s.Mailbox = d.str(k, v, p)
		case "older_than":
			s.OlderThan = d.duration(k, v, p)
		case "by":
			s.By = d.str(k, v, p)
		case "to":
			s.To = d.str(k, v, p)
		case "skip_flagged":
			s.SkipFlagged = d.boolean(k, v, p)
		case "skip_unread":
			s.SkipUnread = d.boolean(k, v, p)
		case "when":
			s.When = d.str(k, v, p)
			s.WhenPos, s.WhenInline, s.WhenCols = d.exprPos(v)
		case "max_messages":
			s.MaxMessages = d.integer(k, v, p)
		case "high":
			s.High = d.percent(k, v, p)
		case "low":
			s.Low = d.percent(k, v, p)
		case "warn_only":
			s.WarnOnly = d.boolean(k, v, p)
		case "ruleset":
			s.Ruleset = d.str(k, v, p)
		case "mailboxes":
			switch {
			case v.Kind == yaml.ScalarNode && v.Value == AllMailboxes:
				s.AllMailboxes = true
			case v.Kind == yaml.SequenceNode:
				s.Mailboxes = []string{}
				d.list(k, v, p, func(j int, item *yaml.Node) {
					s.Mailboxes = append(s.Mailboxes, d.str(item, item, fmt.Sprintf("%s[%d]", p, j)))
				})
			default:
				d.errorf(k, p, mailboxesHint, "want a list of mailboxes or all, got %s", kindName(v))
			}
		case "dir":
			s.Dir = d.str(k, v, p)
		case "backup_first":
			s.BackupFirst = d.str(k, v, p)
		case "prune":
			d.list(k, v, p, func(j int, item *yaml.Node) {
				pr := Prune{Pos: d.pos(item)}
				pp := fmt.Sprintf("%s[%d]", p, j)
				pr.pos = d.mapping(item, pp, []string{"mailbox", "older_than"}, func(key string, k, v *yaml.Node) {
					switch key {
					case "mailbox":
						pr.Mailbox = d.str(k, v, pp+"."+key)
					case "older_than":
						pr.OlderThan = d.duration(k, v, pp+"."+key)
					}
				})
				s.Prune = append(s.Prune, pr)
			})
		}
	})
	return s
}

// percent decodes "90%", 90 or 90.5 as a percentage.
func (d *decoder) percent(k, v *yaml.Node, path string) float64 {
	const hint = "e.g. 90%"
	if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v.Value), "%")), 64)
		if err == nil {
			return f
		}
	}
	d.errorf(k, path, hint, "want a percentage, got %s", kindName(v))
	return 0
}

// schedules checks the `schedules:` section and fills in its defaults.
func (v *validator) schedules() {
	c := v.c
	accountNames := make([]string, 0, len(c.Accounts))
	for _, a := range c.Accounts {
		accountNames = append(accountNames, a.Name)
	}
	names := map[string]int{}
	for i := range c.Schedules {
		s := &c.Schedules[i]
		path := fmt.Sprintf("schedules[%d]", i)
		switch {
		case strings.TrimSpace(s.Name) == "":
			v.addAt(s.Pos, path+".name", "every schedule needs a name, used in logs and by `mailwarden jobs run NAME`", "missing")
		case names[s.Name] > 0:
			v.add(s.pos, path, "name", "", "duplicate schedule name %q (also schedules[%d])", s.Name, names[s.Name]-1)
		default:
			names[s.Name] = i + 1
		}

		if s.Cron == "" {
			v.addAt(s.Pos, path+".cron", cronHint, "missing")
		} else if _, err := ParseCron(s.Cron); err != nil {
			v.add(s.pos, path, "cron", cronHint, "invalid schedule %q: %v", s.Cron, err)
		}

		if _, ok := s.pos["accounts"]; !ok {
			v.addAt(s.Pos, path+".accounts", "name the accounts, e.g. accounts: [personal], or accounts: all", "missing")
		} else if s.AllAccounts {
			s.Accounts = accountNames
		} else {
			var expanded []string
			template := false
			for _, a := range s.Accounts {
				if names, ok := c.TemplateAccounts(a); ok && c.Account(a) == nil {
					template = true
					expanded = append(expanded, names...) // a template means all its users
				} else {
					expanded = append(expanded, a)
				}
			}
			s.Accounts = expanded
			for j, a := range s.Accounts {
				if c.Account(a) == nil {
					hint := "defined accounts: " + strings.Join(accountNames, ", ")
					if m := didYouMean(a, accountNames); m != "" {
						hint = "did you mean " + m + "?"
					}
					v.add(s.pos, path, "accounts", hint, "accounts[%d]: unknown account %q", j, a)
				}
			}
			if len(s.Accounts) == 0 && !template { // a template without users is reported with it
				v.add(s.pos, path, "accounts", "name the accounts, or write accounts: all", "no accounts")
			}
		}

		if s.MaxMessages == 0 && s.pos["max_messages"] == (Pos{}) {
			s.MaxMessages = DefaultMaxMessages
		}
		if s.MaxMessages < 1 {
			v.add(s.pos, path, "max_messages", "the cap on messages one run acts on; default 10000", "must be at least 1, got %d", s.MaxMessages)
		}

		keys, ok := jobKeys[s.Job]
		if !ok {
			if s.Job == "" {
				v.addAt(s.Pos, path+".job", oneOf(jobKinds), "missing")
			} else {
				v.enum(s.pos, path, "job", s.Job, jobKinds)
			}
			continue
		}
		for _, k := range scheduleKeys {
			if _, written := s.pos[k]; written && !contains(commonKeys, k) && !contains(keys, k) {
				v.add(s.pos, path, k, article(s.Job)+" job takes "+strings.Join(keys, ", "), "not used by %s job", article(s.Job))
			}
		}
		v.scheduleJob(s, path)
	}
}

// article returns "a quota" or "an expire" for the kind of job.
func article(job string) string {
	if strings.ContainsRune("aeiou", rune(job[0])) {
		return "an " + job
	}
	return "a " + job
}

// scheduleJob checks the keys of one kind of job.
func (v *validator) scheduleJob(s *Schedule, path string) {
	need := func(key string, set bool, hint string) {
		if !set {
			v.addAt(s.Pos, path+"."+key, hint, "missing")
		}
	}
	if s.BackupFirst != "" && (s.Job == JobExpire || s.Job == JobQuota) {
		v.backupFirst(s, path)
	}
	switch s.Job {
	case JobArchive, JobExpire:
		need("mailbox", s.Mailbox != "", `a mailbox name or a special-use attribute, e.g. INBOX or "\\Trash"`)
		if _, ok := s.pos["older_than"]; !ok {
			need("older_than", false, "e.g. older_than: 90d (units s m h d w)")
		} else if s.OlderThan <= 0 {
			v.add(s.pos, path, "older_than", "e.g. older_than: 90d", "must be more than 0")
		}
		if s.By == "" {
			s.By = ByInternal
		} else if !contains(byValues, s.By) {
			v.enum(s.pos, path, "by", s.By, byValues)
		}
		if _, ok := s.pos["skip_flagged"]; !ok {
			s.SkipFlagged = true
		}
		if s.Job == JobArchive {
			need("to", s.To != "", `e.g. to: "Archive/{year}" or "Archive/{year}/{month}"`)
			for _, ph := range reTemplate.FindAllString(s.To, -1) {
				if ph != "{year}" && ph != "{month}" {
					v.add(s.pos, path, "to", "the placeholders are {year} and {month}", "unknown placeholder %s", ph)
				}
			}
		}
	case JobQuota:
		_, hasHigh := s.pos["high"]
		_, hasLow := s.pos["low"]
		need("high", hasHigh, "act when usage reaches this share of the quota, e.g. high: 90%")
		need("low", hasLow, "free mail until usage is at most this share, e.g. low: 80%")
		if hasHigh && (s.High <= 0 || s.High > 100) {
			v.add(s.pos, path, "high", "", "must be more than 0%% and at most 100%%, got %g%%", s.High)
		}
		if hasLow && hasHigh && (s.Low <= 0 || s.Low >= s.High) {
			v.add(s.pos, path, "low", "low must be below high, so that a run frees enough to stop the next one", "must be more than 0%% and less than high (%g%%), got %g%%", s.High, s.Low)
		}
		if len(s.Prune) == 0 && !s.WarnOnly {
			v.addAt(s.KeyPos("prune"), path+".prune", `list the mailboxes to remove old mail from, in order, e.g. prune: [{mailbox: "\\Trash"}, {mailbox: "\\Junk"}], or set warn_only: true`, "nothing to prune")
		}
		for j := range s.Prune {
			pr := &s.Prune[j]
			if pr.Mailbox == "" {
				v.addAt(pr.Pos, fmt.Sprintf("%s.prune[%d].mailbox", path, j), `e.g. {mailbox: "\\Trash"}`, "missing")
			}
			if _, ok := pr.pos["older_than"]; ok && pr.OlderThan <= 0 {
				v.add(pr.pos, fmt.Sprintf("%s.prune[%d]", path, j), "older_than", "leave it out to allow any age", "must be more than 0")
			}
		}
	case JobBackup:
		if _, ok := s.pos["mailboxes"]; !ok {
			need("mailboxes", false, mailboxesHint)
		} else if !s.AllMailboxes && s.Mailboxes != nil && len(s.Mailboxes) == 0 {
			v.add(s.pos, path, "mailboxes", mailboxesHint, "no mailboxes")
		}
		for j, m := range s.Mailboxes {
			if strings.TrimSpace(m) == "" {
				v.add(s.pos, path, "mailboxes", mailboxesHint, "mailboxes[%d]: empty name", j)
			}
		}
		need("dir", s.Dir != "", "the local directory the Maildir tree is written to, e.g. dir: /var/backups/mail")
		s.Dir = v.c.abs(s.Dir)
	case JobSweep:
		need("mailbox", s.Mailbox != "", "e.g. mailbox: INBOX")
		if s.Ruleset == "" {
			need("ruleset", false, "name one of the rulesets under rulesets:")
		} else if v.c.Ruleset(s.Ruleset) == nil {
			var rsNames []string
			for _, rs := range v.c.Rulesets {
				rsNames = append(rsNames, rs.Name)
			}
			hint := "define it under rulesets:"
			if len(rsNames) > 0 {
				hint = "defined rulesets: " + strings.Join(rsNames, ", ")
			}
			if m := didYouMean(s.Ruleset, rsNames); m != "" {
				hint = "did you mean " + m + "?"
			}
			v.add(s.pos, path, "ruleset", hint, "unknown ruleset %q", s.Ruleset)
		}
	}
}

// backupFirst checks that a retention job's backup_first names a backup
// schedule that covers every account the job runs on.
func (v *validator) backupFirst(s *Schedule, path string) {
	var backups []string
	for _, o := range v.c.Schedules {
		if o.Job == JobBackup && o.Name != "" {
			backups = append(backups, o.Name)
		}
	}
	b := v.c.Schedule(s.BackupFirst)
	switch {
	case b == nil:
		hint := "define a schedule with job: backup"
		if len(backups) > 0 {
			hint = "backups: " + strings.Join(backups, ", ")
		}
		if m := didYouMean(s.BackupFirst, backups); m != "" {
			hint = "did you mean " + m + "?"
		}
		v.add(s.pos, path, "backup_first", hint, "unknown backup %q", s.BackupFirst)
	case b.Job != JobBackup:
		what := "has no job"
		if b.Job != "" {
			what = "is " + article(b.Job) + " job"
		}
		v.add(s.pos, path, "backup_first", "name a schedule with job: backup", "schedule %q %s, not a backup", b.Name, what)
	case !b.AllAccounts:
		for _, a := range s.Accounts {
			if !contains(b.Accounts, a) {
				v.add(s.pos, path, "backup_first", "add it to that backup's accounts, or give it accounts: all",
					"backup %q does not cover account %q", b.Name, a)
			}
		}
	}
}
