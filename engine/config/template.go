package config

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"
)

// MaxTemplateUsers caps the users one account template expands into.
const MaxTemplateUsers = 100000

// UserPlaceholder is replaced by each user's name in a template's name,
// username and authorize_as.
const UserPlaceholder = "{user}"

// template is an accounts[] item with `template:`: one entry, many
// accounts (admin mode). Its users come from exactly one of users (a
// list), users_file (one per line) or users_command (one per line of its
// output, e.g. `doveadm user '*'`), read at every load, so a reload
// (SIGHUP) picks up users added since. Every other key is an ordinary
// account key that each user's account inherits; {user} in name (default
// "{user}"), username and authorize_as becomes the user's name.
type template struct {
	name    string
	listed  bool // users: was written
	users   []string
	file    string
	command string
	pos     map[string]Pos
}

// expand turns the template a/t into one account per user, appended to
// c.Accounts; problems are reported at the template's keys.
func (d *decoder) expand(c *Config, a Account, t *template) {
	path := a.path
	at := func(key string) Pos {
		if p, ok := t.pos[key]; ok {
			return p
		}
		if p, ok := a.pos[key]; ok {
			return p
		}
		return a.Pos
	}
	fail := func(key, hint, format string, args ...any) {
		d.errs = append(d.errs, &Error{Pos: at(key), Path: join(path, key), Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	if strings.TrimSpace(t.name) == "" {
		fail("template", "name the template; schedules can name it in accounts: to mean all its users", "missing")
		return
	}
	if _, dup := c.templates[t.name]; dup {
		fail("template", "", "duplicate template name %q", t.name)
		return
	}
	// Registered even when it fails below, so that schedules naming it
	// do not report it again as an unknown account.
	var names []string
	defer func() {
		if c.templates == nil {
			c.templates = map[string][]string{}
		}
		c.templates[t.name] = names
	}()
	var sources []string
	for _, k := range []string{"users", "users_file", "users_command"} {
		if _, ok := t.pos[k]; ok {
			sources = append(sources, k)
		}
	}
	sort.Slice(sources, func(i, j int) bool { // in the order written
		pi, pj := t.pos[sources[i]], t.pos[sources[j]]
		return pi.Line < pj.Line || pi.Line == pj.Line && pi.Col < pj.Col
	})
	switch len(sources) {
	case 0:
		fail("template", "set users: [a, b], users_file: FILE or users_command: COMMAND (e.g. doveadm user '*')", "no users")
		return
	case 1:
	default:
		fail(sources[1], "keep one", "more than one source of users (%s)", strings.Join(sources, ", "))
		return
	}
	if _, ok := a.pos["name"]; !ok {
		a.Name = UserPlaceholder
	}
	if !strings.Contains(a.Username, UserPlaceholder) && !strings.Contains(a.AuthorizeAs, UserPlaceholder) && a.Username != "" {
		fail("username", `e.g. authorize_as: "{user}" with an admin's username, or a Dovecot master user: username: "{user}*admin"`,
			"every account of the template would log in as %q: put {user} in username or authorize_as", a.Username)
		return
	}
	if !strings.Contains(a.Name, UserPlaceholder) {
		fail("name", `e.g. name: "{user}" (the default) or name: "staff-{user}"`, "every account of the template would be called %q: put {user} in it", a.Name)
		return
	}

	var (
		users  []string
		key    = sources[0]
		origin string
	)
	switch key {
	case "users":
		users, origin = t.users, "users"
	case "users_file":
		file := c.abs(t.file)
		b, err := os.ReadFile(file)
		if err != nil {
			fail(key, "one user name per line", "%v", unwrapPathError(err))
			return
		}
		users, origin = lines(string(b)), file
	case "users_command":
		out, err := runSecretCommand(context.Background(), t.command)
		if err != nil {
			fail(key, "it must print one user name per line and exit 0", "%v", err)
			return
		}
		users, origin = lines(out), "the command's output"
	}
	if len(users) > MaxTemplateUsers {
		fail(key, "", "%d users, more than %d", len(users), MaxTemplateUsers)
		return
	}
	seen := map[string]bool{}
	for i, u := range users {
		if u == "" || strings.IndexFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			fail(key, "one user name per line, without spaces", "user %d of %s: %q is not a user name", i+1, origin, u)
			continue
		}
		if seen[u] {
			fail(key, "", "user %q is listed twice in %s", u, origin)
			continue
		}
		seen[u] = true
		b := a // a copy; slices and the oauth2 section are copied below
		b.Template, b.User = t.name, u
		b.Name = strings.ReplaceAll(a.Name, UserPlaceholder, u)
		b.Username = strings.ReplaceAll(a.Username, UserPlaceholder, u)
		b.AuthorizeAs = strings.ReplaceAll(a.AuthorizeAs, UserPlaceholder, u)
		b.Watch = append([]Watch(nil), a.Watch...)
		if a.OAuth2 != nil {
			o := *a.OAuth2
			b.OAuth2 = &o
		}
		c.Accounts = append(c.Accounts, b)
		names = append(names, b.Name)
	}
	if len(users) == 0 {
		fail(key, "a template without users watches nothing; remove it, or check the source", "no users in %s", origin)
	}
}

// lines splits a users file or command output: one name per line, blank
// lines and lines starting with # skipped, surrounding white space
// removed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}
