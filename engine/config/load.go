package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps the config file size.
const MaxFileSize = 4 << 20

// Load reads, decodes and validates the config file at path. On any
// problem it returns a nil Config and an ErrorList holding all of them.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{&Error{Pos: Pos{File: path}, Msg: err.Error()}}
	}
	if len(src) > MaxFileSize {
		return nil, ErrorList{&Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("file is %d bytes, more than %d", len(src), MaxFileSize)}}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, ErrorList{&Error{Pos: Pos{File: path}, Msg: err.Error()}}
	}
	c, errs := Parse(path, filepath.Dir(abs), src)
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Parse decodes and validates src as the config file named file (used in
// positions), resolving relative paths against dir. It returns every
// problem found; the Config is usable only when the list is empty.
func Parse(file, dir string, src []byte) (*Config, ErrorList) {
	d := &decoder{file: file, lines: strings.Split(string(src), "\n")}
	c := &Config{File: file, Dir: dir}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return c, ErrorList{syntaxError(file, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return c, ErrorList{&Error{Pos: Pos{File: file}, Msg: "the file is empty", Hint: "see examples/mailwarden.yaml"}}
	}
	d.decodeTop(root.Content[0], c)
	errs := d.errs
	for _, e := range c.Validate() {
		errs = append(errs, e)
	}
	return c, errs
}

var reYAMLLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Pos: Pos{File: file, Line: line}, Msg: "syntax error: " + m[2]}
	}
	return &Error{Pos: Pos{File: file}, Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

type decoder struct {
	file  string
	lines []string
	errs  ErrorList
}

func (d *decoder) pos(n *yaml.Node) Pos { return Pos{File: d.file, Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, path, hint, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// mapping walks the mapping n, reporting non-mappings, unknown and
// duplicate keys; fn is called for each known key with the key and value
// nodes. It returns the positions of the keys seen.
func (d *decoder) mapping(n *yaml.Node, path string, keys []string, fn func(key string, k, v *yaml.Node)) map[string]Pos {
	n = resolve(n)
	seen := map[string]Pos{}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return seen
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "", "want a mapping of %s, got %s", strings.Join(keys, ", "), kindName(n))
		return seen
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		key := k.Value
		kp := join(path, key)
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "", "a key must be a plain word, got %s", kindName(k))
			continue
		}
		if p, dup := seen[key]; dup {
			d.errorf(k, kp, "", "duplicate key (first at line %d)", p.Line)
			continue
		}
		seen[key] = d.pos(k)
		if !contains(keys, key) {
			hint := "known keys are " + strings.Join(keys, ", ")
			if s := didYouMean(key, keys); s != "" {
				hint = "did you mean " + s + "?"
			}
			d.errorf(k, kp, hint, "unknown key")
			continue
		}
		fn(key, k, v)
	}
	return seen
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// str decodes a scalar as a string (numbers and booleans keep their text);
// null is "".
func (d *decoder) str(k, v *yaml.Node, path string) string {
	if v.Kind != yaml.ScalarNode {
		d.errorf(k, path, "", "want a string, got %s", kindName(v))
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

func (d *decoder) boolean(k, v *yaml.Node, path string) bool {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(v.Value))
		if err == nil {
			return b
		}
	}
	d.errorf(k, path, "", "want true or false, got %s", kindName(v))
	return false
}

func (d *decoder) integer(k, v *yaml.Node, path string) int {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		if n, err := strconv.Atoi(strings.ReplaceAll(v.Value, "_", "")); err == nil {
			return n
		}
	}
	d.errorf(k, path, "", "want a whole number, got %s", kindName(v))
	return 0
}

func (d *decoder) duration(k, v *yaml.Node, path string) time.Duration {
	if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		dur, err := ParseDuration(v.Value)
		if err == nil {
			return dur
		}
		d.errorf(k, path, "e.g. 90s, 10m, 1h30m, 7d, 2w", "invalid duration %q: %v", v.Value, err)
		return 0
	}
	d.errorf(k, path, "e.g. 90s, 10m, 1h30m, 7d, 2w", "want a duration, got %s", kindName(v))
	return 0
}

// list calls fn for each item of the sequence v.
func (d *decoder) list(k, v *yaml.Node, path string, fn func(i int, item *yaml.Node)) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(k, path, "", "want a list, got %s", kindName(v))
		return
	}
	for i, item := range v.Content {
		fn(i, resolve(item))
	}
}

var topKeys = []string{"state_dir", "journal_retention", "log", "limits", "http", "sieve", "smtp", "managesieve", "cluster", "accounts", "rulesets", "schedules"}

func (d *decoder) decodeTop(n *yaml.Node, c *Config) {
	c.pos = d.mapping(n, "", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "state_dir":
			c.StateDir = d.str(k, v, key)
		case "journal_retention":
			c.JournalRetention = d.duration(k, v, key)
		case "log":
			c.Log.pos = d.mapping(v, key, []string{"level", "format", "heartbeat"}, func(key string, k, v *yaml.Node) {
				switch key {
				case "level":
					c.Log.Level = d.str(k, v, "log.level")
				case "format":
					c.Log.Format = d.str(k, v, "log.format")
				case "heartbeat":
					c.Log.Heartbeat = d.duration(k, v, "log.heartbeat")
				}
			})
		case "http":
			c.HTTP.pos = d.mapping(v, key, []string{"listen"}, func(key string, k, v *yaml.Node) {
				if key == "listen" {
					c.HTTP.Listen = d.str(k, v, "http.listen")
				}
			})
		case "limits":
			c.Limits.pos = d.mapping(v, key, []string{"expr_max_nodes", "actions_per_message"}, func(key string, k, v *yaml.Node) {
				switch key {
				case "expr_max_nodes":
					c.Limits.ExprMaxNodes = d.integer(k, v, "limits."+key)
				case "actions_per_message":
					c.Limits.ActionsPerMessage = d.integer(k, v, "limits."+key)
				}
			})
		case "sieve":
			c.Sieve.pos = d.mapping(v, key, []string{"personal_dir", "global_dir", "envelope_from_headers", "vacation_max_age"}, func(key string, k, v *yaml.Node) {
				switch key {
				case "personal_dir":
					c.Sieve.PersonalDir = d.str(k, v, "sieve."+key)
				case "global_dir":
					c.Sieve.GlobalDir = d.str(k, v, "sieve."+key)
				case "envelope_from_headers":
					c.Sieve.EnvelopeFromHeaders = d.boolean(k, v, "sieve."+key)
				case "vacation_max_age":
					c.Sieve.VacationMaxAge = d.duration(k, v, "sieve."+key)
				}
			})
		case "smtp":
			d.smtp(k, v, c)
		case "managesieve":
			d.manageSieve(k, v, c)
		case "cluster":
			d.cluster(k, v, c)
		case "accounts":
			d.list(k, v, key, func(i int, item *yaml.Node) {
				path := fmt.Sprintf("accounts[%d]", i)
				a, t := d.account(item, path)
				a.path = path
				if t == nil {
					c.Accounts = append(c.Accounts, a)
					return
				}
				d.expand(c, a, t)
			})
		case "rulesets":
			d.rulesets(v, c)
		case "schedules":
			d.schedules(k, v, c)
		}
	})
}

var accountKeys = []string{"name", "host", "port", "tls", "insecure_plaintext", "tls_ca_file", "tls_server_name",
	"username", "authorize_as", "password_file", "password_env", "password_command", "oauth2", "idle_refresh",
	"max_connections", "watch", "template", "users", "users_file", "users_command"}

var oauth2Keys = []string{"mechanism", "token_command", "token_file", "provider", "tenant", "client_id", "client_secret",
	"client_secret_file", "auth_url", "token_url", "device_auth_url", "scopes", "flow"}

// account decodes one accounts[] item; for a template it also returns the
// template's own keys (expanded by expand).
func (d *decoder) account(n *yaml.Node, path string) (Account, *template) {
	a := Account{Pos: d.pos(n)}
	var t *template
	a.pos = d.mapping(n, path, accountKeys, func(key string, k, v *yaml.Node) {
		p := path + "." + key
		switch key {
		case "name":
			a.Name = d.str(k, v, p)
		case "host":
			a.Host = d.str(k, v, p)
		case "port":
			a.Port = d.integer(k, v, p)
		case "tls":
			a.TLS = d.str(k, v, p)
		case "insecure_plaintext":
			a.InsecurePlaintext = d.boolean(k, v, p)
		case "tls_ca_file":
			a.TLSCAFile = d.str(k, v, p)
		case "tls_server_name":
			a.TLSServerName = d.str(k, v, p)
		case "username":
			a.Username = d.str(k, v, p)
		case "authorize_as":
			a.AuthorizeAs = d.str(k, v, p)
		case "max_connections":
			a.MaxConnections = d.integer(k, v, p)
		case "template", "users", "users_file", "users_command":
			if t == nil {
				t = &template{pos: map[string]Pos{}}
			}
			t.pos[key] = d.pos(k)
			switch key {
			case "template":
				t.name = d.str(k, v, p)
			case "users":
				t.listed = true
				d.list(k, v, p, func(j int, item *yaml.Node) {
					t.users = append(t.users, d.str(item, item, fmt.Sprintf("%s[%d]", p, j)))
				})
			case "users_file":
				t.file = d.str(k, v, p)
			case "users_command":
				t.command = d.str(k, v, p)
			}
		case "password_file":
			a.PasswordFile = d.str(k, v, p)
		case "password_env":
			a.PasswordEnv = d.str(k, v, p)
		case "password_command":
			a.PasswordCommand = d.str(k, v, p)
		case "oauth2":
			o := &OAuth2{}
			o.pos = d.mapping(v, p, oauth2Keys, func(key string, k, v *yaml.Node) {
				kp := p + "." + key
				switch key {
				case "mechanism":
					o.Mechanism = d.str(k, v, kp)
				case "token_command":
					o.TokenCommand = d.str(k, v, kp)
				case "token_file":
					o.TokenFile = d.str(k, v, kp)
				case "provider":
					o.Provider = d.str(k, v, kp)
				case "tenant":
					o.Tenant = d.str(k, v, kp)
				case "client_id":
					o.ClientID = d.str(k, v, kp)
				case "client_secret":
					o.ClientSecret = d.str(k, v, kp)
				case "client_secret_file":
					o.ClientSecretFile = d.str(k, v, kp)
				case "auth_url":
					o.AuthURL = d.str(k, v, kp)
				case "token_url":
					o.TokenURL = d.str(k, v, kp)
				case "device_auth_url":
					o.DeviceAuthURL = d.str(k, v, kp)
				case "flow":
					o.Flow = d.str(k, v, kp)
				case "scopes":
					if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
						o.Scopes = strings.Fields(v.Value)
						return
					}
					d.list(k, v, kp, func(j int, item *yaml.Node) {
						o.Scopes = append(o.Scopes, d.str(item, item, fmt.Sprintf("%s[%d]", kp, j)))
					})
				}
			})
			a.OAuth2 = o
		case "idle_refresh":
			n := len(d.errs)
			a.IdleRefresh = d.duration(k, v, p)
			a.idleRefreshSet = len(d.errs) == n
		case "watch":
			d.list(k, v, p, func(i int, item *yaml.Node) {
				a.Watch = append(a.Watch, d.watch(item, fmt.Sprintf("%s[%d]", p, i)))
			})
		}
	})
	return a, t
}

var watchKeys = []string{"mailbox", "ruleset", "start", "poll_interval"}

func (d *decoder) watch(n *yaml.Node, path string) Watch {
	w := Watch{Pos: d.pos(n)}
	w.pos = d.mapping(n, path, watchKeys, func(key string, k, v *yaml.Node) {
		p := path + "." + key
		switch key {
		case "mailbox":
			w.Mailbox = d.str(k, v, p)
		case "ruleset":
			w.Ruleset = d.str(k, v, p)
		case "start":
			w.Start = d.str(k, v, p)
		case "poll_interval":
			w.PollInterval = d.duration(k, v, p)
		}
	})
	return w
}

func (d *decoder) rulesets(n *yaml.Node, c *Config) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "rulesets", "e.g. rulesets: {inbox: [...]}", "want a mapping of ruleset names to lists of rules, got %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		name := k.Value
		path := "rulesets." + name
		if k.Kind != yaml.ScalarNode || name == "" {
			d.errorf(k, "rulesets", "", "a ruleset name must be a plain word, got %s", kindName(k))
			continue
		}
		if line, dup := seen[name]; dup {
			d.errorf(k, path, "", "duplicate ruleset (first at line %d)", line)
			continue
		}
		seen[name] = k.Line
		rs := Ruleset{Name: name, Pos: d.pos(k)}
		if v.Kind != yaml.SequenceNode {
			d.errorf(k, path, "", "want a list of rules, got %s", kindName(v))
		} else if len(v.Content) == 0 {
			d.errorf(k, path, "add rules, or remove the ruleset", "the ruleset is empty")
		}
		if v.Kind == yaml.SequenceNode {
			for j, item := range v.Content {
				rs.Steps = append(rs.Steps, d.step(resolve(item), fmt.Sprintf("%s[%d]", path, j)))
			}
		}
		c.Rulesets = append(c.Rulesets, rs)
	}
}

var stepKeys = []string{"name", "when", "actions", "stop", "sieve", "managesieve", "unsupported"}

func (d *decoder) step(n *yaml.Node, path string) Step {
	s := Step{Pos: d.pos(n)}
	keys := d.mapping(n, path, stepKeys, func(key string, k, v *yaml.Node) {
		p := path + "." + key
		switch key {
		case "name":
			s.Name = d.str(k, v, p)
		case "when":
			s.When = d.str(k, v, p)
			s.WhenPos, s.WhenInline, s.WhenCols = d.exprPos(v)
		case "stop":
			s.Stop = d.boolean(k, v, p)
		case "unsupported":
			s.Unsupported = d.str(k, v, p)
			s.UnsupportedPos = d.pos(k)
		case "sieve":
			s.Sieve = d.str(k, v, p)
			s.SievePos = d.pos(v)
			if s.Sieve == "" {
				d.errorf(k, p, "give the path of a .sieve file", "missing script path")
			}
		case "managesieve":
			s.ManageSieve = d.str(k, v, p) == StepManageSieveActive
			s.SievePos = d.pos(v)
			if !s.ManageSieve {
				d.errorf(v, p, "`managesieve: active` runs the account's active script, as stored through the ManageSieve server", "want active, got %q", v.Value)
			}
		case "actions":
			d.list(k, v, p, func(i int, item *yaml.Node) {
				if a, ok := d.action(item, fmt.Sprintf("%s[%d]", p, i)); ok {
					s.Actions = append(s.Actions, a)
				}
			})
		}
	})
	_, isSieve := keys["sieve"]
	_, isManaged := keys["managesieve"]
	if isSieve && isManaged {
		d.errs = append(d.errs, &Error{Pos: keys["managesieve"], Path: path + ".managesieve",
			Msg: "a step is a sieve script or the managesieve one, not both", Hint: "put each in a step of its own"})
	}
	if isSieve || isManaged {
		for _, other := range []string{"name", "when", "actions", "stop"} {
			if _, both := keys[other]; both {
				d.errs = append(d.errs, &Error{Pos: keys[other], Path: path + "." + other,
					Msg: "a sieve step takes no " + other, Hint: "put the rule in a step of its own"})
			}
		}
	} else if n.Kind == yaml.MappingNode {
		if p, ok := keys["unsupported"]; ok {
			d.errs = append(d.errs, &Error{Pos: p, Path: path + ".unsupported",
				Msg: "only a sieve step takes unsupported", Hint: "it says what a Sieve script does with commands mailwarden cannot carry out"})
		}
		if _, ok := keys["name"]; !ok {
			d.errorf(n, path+".name", "every rule needs a name, used in logs, the journal and `mailwarden test`", "missing")
		}
		if _, ok := keys["when"]; !ok {
			d.errorf(n, path+".when", `e.g. when: 'subject contains "invoice"', or when: 'true'`, "missing")
		}
		_, hasActions := keys["actions"]
		if !hasActions && !s.Stop {
			d.errorf(n, path+".actions", "add actions, or `stop: true` to end the ruleset for matching messages", "missing")
		}
	}
	return s
}

// exprPos returns the position of the first character of the scalar's
// value, whether the value appears verbatim on that one line, and, for a
// single-line quoted value with escapes, the column of each character.
func (d *decoder) exprPos(v *yaml.Node) (Pos, bool, []int) {
	p := d.pos(v)
	if v.Kind != yaml.ScalarNode {
		return p, false, nil
	}
	quoted := v.Style == yaml.SingleQuotedStyle || v.Style == yaml.DoubleQuotedStyle
	switch {
	case quoted:
		p.Col++
	case v.Style == 0 || v.Style == yaml.FlowStyle:
	default: // literal and folded block scalars start on the next line
		return p, false, nil
	}
	if strings.Contains(v.Value, "\n") || p.Line < 1 || p.Line > len(d.lines) {
		return p, false, nil
	}
	line := []rune(strings.TrimSuffix(d.lines[p.Line-1], "\r"))
	if p.Col-1 > len(line) {
		return p, false, nil
	}
	rest := line[p.Col-1:]
	if strings.HasPrefix(string(rest), v.Value) {
		return p, true, nil
	}
	if !quoted {
		return p, false, nil
	}
	return p, false, quotedCols(rest, p.Col, v.Style == yaml.DoubleQuotedStyle, len([]rune(v.Value)))
}

// quotedCols maps each character of a quoted scalar's value to its column
// in src (the line after the opening quote, starting at column col), or
// returns nil when the value does not end on this line as expected.
func quotedCols(src []rune, col int, double bool, want int) []int {
	cols := make([]int, 0, want)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case double && c == '"', !double && c == '\'' && (i+1 >= len(src) || src[i+1] != '\''):
			if len(cols) != want {
				return nil
			}
			return cols
		case !double && c == '\'':
			cols = append(cols, col+i)
			i++ // '' is one quote
		case double && c == '\\' && i+1 < len(src):
			cols = append(cols, col+i)
			switch src[i+1] {
			case 'x':
				i += 3
			case 'u':
				i += 5
			case 'U':
				i += 9
			default:
				i++
			}
		default:
			cols = append(cols, col+i)
		}
	}
	return nil
}

// action decodes one `{kind: arg}` item.
func (d *decoder) action(n *yaml.Node, path string) (Action, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		d.errorf(n, path, "write each action as {move: Mailbox}, {flag: vip}, …", "want one of %s with its value, got %s",
			strings.Join(ActionKinds, ", "), describeAction(n))
		return Action{}, false
	}
	k, v := resolve(n.Content[0]), resolve(n.Content[1])
	kind := k.Value
	p := path + "." + kind
	if !contains(ActionKinds, kind) {
		hint := oneOf(ActionKinds)
		if s := didYouMean(kind, ActionKinds); s != "" {
			hint = "did you mean " + s + "?"
		}
		d.errorf(k, path, hint, "unknown action %q", kind)
		return Action{}, false
	}
	a := Action{Kind: kind, Pos: d.pos(k)}
	if kind == "delete" {
		if !d.boolean(k, v, p) {
			if v.Tag == "!!bool" {
				d.errorf(k, p, "remove the action", "delete: false does nothing")
			}
			return Action{}, false
		}
		a.Arg = "true"
		return a, true
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
		d.errorf(k, p, "", "want a %s, got %s", map[bool]string{true: "flag", false: "mailbox name"}[kind == "flag" || kind == "unflag"], kindName(v))
		return Action{}, false
	}
	a.Arg = v.Value
	return a, true
}

func describeAction(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		return fmt.Sprintf("a mapping with %d keys", len(n.Content)/2)
	}
	return kindName(n)
}
