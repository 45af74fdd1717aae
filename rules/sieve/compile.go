package sieve

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// command is a compiled command.
type command interface {
	exec(r *run) error
}

// test is a compiled test.
type test interface {
	eval(r *run) (bool, error)
}

// cmdCompiler and testCompiler turn a validated node into its runtime form.
// They report errors through c and may return nil after an error.
type cmdCompiler func(c *compiler, n *node) command
type testCompiler func(c *compiler, n *node) test

type cmdDef struct {
	ext     string // extension that must be required ("" = core)
	compile cmdCompiler
}

type testDef struct {
	ext     string
	compile testCompiler
}

// The registries are filled by the ext_*.go files' init functions.
var (
	commands   = map[string]cmdDef{}
	tests      = map[string]testDef{}
	extensions = map[string]bool{} // every extension `require` accepts
	// unsupported maps extensions and commands that exist in Sieve but
	// cannot work on already-delivered mail to the hint we give.
	unsupported = map[string]string{}
)

func registerCommand(name, ext string, f cmdCompiler) { commands[name] = cmdDef{ext, f} }
func registerTest(name, ext string, f testCompiler)   { tests[name] = testDef{ext, f} }
func registerExtension(names ...string) {
	for _, n := range names {
		extensions[n] = true
	}
}

// Extensions returns the sorted list of extensions `require` accepts (for
// documentation and `mailwarden check`).
func Extensions() []string {
	out := make([]string, 0, len(extensions))
	for e := range extensions {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// compiler validates a parsed script and builds the runtime form.
type compiler struct {
	file      string
	errs      *ErrorList
	exts      map[string]bool
	opts      *Options
	lim       limits
	script    *Script
	loops     []string // names of enclosing foreverypart loops ("" when unnamed)
	inc       *includeState
	sawCmd    bool // a non-require command was seen
	globals   map[string]bool
	pendingIf *ifCmd // the if command elsif/else attach to
	once      map[string]*onceError
	depth     int // nesting of the block being compiled (1: top level)
}

// onceError is an error reported once per script, with the lines of the
// later occurrences.
type onceError struct {
	err   *Error
	lines []int
}

func (c *compiler) errorf(p position, hint, format string, args ...any) {
	*c.errs = append(*c.errs, &Error{File: c.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// errorOnce reports the error called key once per script, at its first
// occurrence; later ones add their line to it ("; also at lines 7, 12"),
// so a script that uses an unknown command twenty times gets one error.
func (c *compiler) errorOnce(key string, p position, hint, format string, args ...any) {
	if o := c.once[key]; o != nil {
		last := o.err.Line
		if len(o.lines) > 0 {
			last = o.lines[len(o.lines)-1]
		}
		if p.Line != last {
			o.lines = append(o.lines, p.Line)
		}
		return
	}
	c.errorf(p, hint, format, args...)
	if c.once == nil {
		c.once = map[string]*onceError{}
	}
	c.once[key] = &onceError{err: (*c.errs)[len(*c.errs)-1]}
}

// finishOnce writes the later occurrences into the once-reported errors.
func (c *compiler) finishOnce() {
	for _, o := range c.once {
		if len(o.lines) == 0 {
			continue
		}
		ls := make([]string, len(o.lines))
		for i, l := range o.lines {
			ls[i] = strconv.Itoa(l)
		}
		o.err.Msg += fmt.Sprintf("; also at line%s %s", plural(len(ls)), strings.Join(ls, ", "))
	}
}

func (c *compiler) has(ext string) bool { return c.exts[ext] }

// Compile compiles a Sieve script. name is used in error messages and
// traces ("filters.sieve:12"). The error, when not nil, is an ErrorList
// holding every error found.
func Compile(name string, src []byte, opts *Options) (*Script, error) {
	return compileScript(name, src, opts, newIncludeState())
}

// CompileFile reads and compiles the script at path; the script's name is
// path as given. Unless opts sets IncludePersonal, include :personal
// reads the script's own directory (see WithScriptDir).
func CompileFile(path string, opts *Options) (*Script, error) {
	src, err := readScript(path, opts.limits().maxScriptSize)
	if err != nil {
		return nil, ErrorList{{File: path, Msg: err.Error()}}
	}
	return Compile(path, src, opts.WithScriptDir(filepath.Dir(path)))
}

func readScript(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > int64(max) {
		return nil, fmt.Errorf("script is %d bytes, more than the limit of %d", st.Size(), max)
	}
	b := make([]byte, st.Size())
	n, err := f.Read(b)
	if err != nil && n != len(b) {
		return nil, err
	}
	return b[:n], nil
}

func compileScript(name string, src []byte, opts *Options, inc *includeState) (*Script, error) {
	lim := opts.limits()
	var errs ErrorList
	if len(src) > lim.maxScriptSize {
		errs = append(errs, &Error{File: name, Line: 1, Col: 1, Msg: fmt.Sprintf("script is %d bytes, more than the limit of %d", len(src), lim.maxScriptSize), Hint: "split it into scripts that include each other (RFC 6609)"})
		return nil, errs
	}
	nodes := parse(name, string(src), lim.maxNesting, &errs)
	s := &Script{name: name, opts: opts, lim: lim, exts: map[string]bool{}}
	c := &compiler{file: name, errs: &errs, exts: s.exts, opts: opts, lim: lim, script: s, inc: inc}
	s.cmds = c.block(nodes)
	c.finishOnce()
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			if errs[i].Line != errs[j].Line {
				return errs[i].Line < errs[j].Line
			}
			return errs[i].Col < errs[j].Col
		})
		return nil, errs
	}
	s.usesFlags = s.exts["imap4flags"]
	return s, nil
}

func (c *compiler) block(nodes []*node) []command {
	c.depth++
	defer func() { c.depth-- }()
	out := make([]command, 0, len(nodes))
	var prev *node
	for _, n := range nodes {
		cmd := c.command(n, prev)
		if cmd != nil {
			out = append(out, cmd)
		}
		prev = n
	}
	return out
}

// command validates one command node.
func (c *compiler) command(n *node, prev *node) command {
	// RFC 5228 §3.2: require must come before any other command.
	if n.name == "require" {
		c.require(n)
		return nil
	}
	if n.name != "elsif" && n.name != "else" {
		c.sawCmd = true
	}
	if dc := c.dialectCommand(n.name); dc != nil {
		c.pendingIf = nil
		if d := c.compileDialect(n, &dc.Signature, true, c.depth > 1); d != nil {
			d.cmd = dc
			return d
		}
		return nil
	}
	if hint, ok := unsupported[n.name]; ok {
		c.errorOnce("command "+n.name, n.pos, hint, "%s is not supported", n.raw)
		return nil
	}
	def, ok := commands[n.name]
	if !ok {
		if _, isTest := tests[n.name]; isTest {
			c.errorf(n.pos, "tests go inside if/elsif, e.g. if "+n.name+" … { … }", "%q is a test, not a command", n.raw)
			return nil
		}
		c.errorOnce("command "+n.name, n.pos, c.unknownHint(n.name, commandNames()), "unknown command %q", n.raw)
		return nil
	}
	if def.ext != "" && !c.has(def.ext) {
		c.errorOnce("command "+n.name, n.pos, fmt.Sprintf("add `require %q;` at the top of the script", def.ext), "%s requires `require %q;`", n.name, def.ext)
		return nil
	}
	if n.name == "elsif" || n.name == "else" {
		if prev == nil || (prev.name != "if" && prev.name != "elsif") {
			c.errorf(n.pos, "elsif and else must follow an if or elsif block", "%s without a preceding if", n.name)
			return nil
		}
	} else if n.name != "if" {
		c.pendingIf = nil
	}
	return def.compile(c, n)
}

// unknownHint is the hint for an unknown command or test: the
// extension it comes from when mailwarden knows one, else a likely typo.
func (c *compiler) unknownHint(name string, candidates []string) string {
	if ext := unavailableFor(name); ext != "" {
		return fmt.Sprintf("%s belongs to the %q extension, which mailwarden does not implement", name, ext)
	}
	return c.didYouMean(name, candidates)
}

func (c *compiler) didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

func commandNames() []string {
	out := make([]string, 0, len(commands)+len(unsupported))
	for k := range commands {
		out = append(out, k)
	}
	for k := range unsupported {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func testNames() []string {
	out := make([]string, 0, len(tests))
	for k := range tests {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// require (RFC 5228 §3.2): unknown extensions are a compile error.
func (c *compiler) require(n *node) {
	if c.sawCmd {
		c.errorf(n.pos, "move every require to the top of the script", "require must come before other commands")
	}
	if len(n.args) != 1 || n.args[0].kind == aTag || n.args[0].kind == aNumber || len(n.tests) > 0 || n.hasBlock {
		c.errorf(n.pos, `e.g. require ["fileinto", "imap4flags"];`, "require takes one string list")
		return
	}
	a := &n.args[0]
	for i, e := range a.strs {
		// Extension names are case-sensitive (RFC 5228 §6) but Pigeonhole
		// and others accept them as written; we match exactly.
		if extensions[e] {
			c.exts[e] = true
			if e == "spamtestplus" {
				c.exts["spamtest"] = true
			}
			continue
		}
		if _, ok := unavailable[e]; ok {
			// Known, not implemented: fine until the script uses it.
			continue
		}
		if c.opts != nil && c.opts.Dialect != nil && e == c.opts.Dialect.Extension {
			c.exts[e] = true
			continue
		}
		c.errorf(a.spos[i], c.didYouMean(e, Extensions()), "unknown extension %q", e)
	}
}

// ---- argument validation ----

// vKind is the kind of value a tag takes.
type vKind uint8

const (
	vNone vKind = iota
	vNumber
	vString
	vStringList
)

type tagSpec struct {
	name  string
	val   vKind
	group string // tags of one group exclude each other
	ext   string // extension that must be required
}

// parsedArgs is a node's arguments sorted into tags and positionals.
type parsedArgs struct {
	tags map[string]*arg // tag → its value (or the tag itself when vNone)
	pos  []*arg
	grp  map[string]string // group → tag chosen
}

func (p *parsedArgs) has(tag string) bool { _, ok := p.tags[tag]; return ok }

func (p *parsedArgs) str(tag string) (string, *arg) {
	a := p.tags[tag]
	if a == nil || len(a.strs) == 0 {
		return "", a
	}
	return a.strs[0], a
}

var (
	comparatorTags = []tagSpec{{name: "comparator", val: vString, group: "comparator"}}
	matchTypeTags  = []tagSpec{
		{name: "is", group: "match"}, {name: "contains", group: "match"}, {name: "matches", group: "match"},
		{name: "regex", group: "match", ext: "regex"},
		{name: "value", val: vString, group: "match", ext: "relational"},
		{name: "count", val: vString, group: "match", ext: "relational"},
	}
	addressPartTags = []tagSpec{
		{name: "all", group: "addresspart"}, {name: "localpart", group: "addresspart"}, {name: "domain", group: "addresspart"},
		{name: "user", group: "addresspart", ext: "subaddress"}, {name: "detail", group: "addresspart", ext: "subaddress"},
	}
	indexTags = []tagSpec{{name: "index", val: vNumber, ext: "index"}, {name: "last", ext: "index"}}
	mimeTags  = []tagSpec{
		{name: "mime", ext: "mime"}, {name: "anychild", ext: "mime"},
		{name: "type", group: "mimeopt", ext: "mime"}, {name: "subtype", group: "mimeopt", ext: "mime"},
		{name: "contenttype", group: "mimeopt", ext: "mime"}, {name: "param", val: vStringList, group: "mimeopt", ext: "mime"},
	}
)

func join(specs ...[]tagSpec) []tagSpec { return slices.Concat(specs...) }

// args sorts n's arguments by the tag specs and checks the positional
// arguments against want. It reports every problem and returns ok=false
// when there was one.
func (c *compiler) args(n *node, specs []tagSpec, want []vKind) (*parsedArgs, bool) {
	p := &parsedArgs{tags: map[string]*arg{}, grp: map[string]string{}}
	ok := true
	i := 0
	for ; i < len(n.args); i++ {
		a := &n.args[i]
		if a.kind != aTag {
			break
		}
		var spec *tagSpec
		for j := range specs {
			if specs[j].name == a.tag {
				spec = &specs[j]
				break
			}
		}
		if spec == nil {
			names := make([]string, len(specs))
			for j, s := range specs {
				names[j] = s.name
			}
			hint := ""
			if s := suggest(a.tag, names); s != "" {
				hint = fmt.Sprintf("did you mean \":%s\"?", s)
			} else if len(names) > 0 {
				hint = n.name + " accepts :" + strings.Join(names, ", :")
			} else {
				hint = n.name + " takes no tagged arguments"
			}
			if ext := tagExtension(a.tag); ext != "" && !c.has(ext) {
				hint = fmt.Sprintf("%s requires `require %q;`", a.raw, ext)
			}
			c.errorf(a.pos, hint, "unknown tagged argument %s for %s", a.raw, n.raw)
			ok = false
			continue
		}
		if spec.ext != "" && !c.has(spec.ext) {
			c.errorf(a.pos, fmt.Sprintf("add `require %q;` at the top of the script", spec.ext), "%s requires `require %q;`", a.raw, spec.ext)
			ok = false
		}
		if _, dup := p.tags[spec.name]; dup {
			c.errorf(a.pos, "", "%s given more than once", a.raw)
			ok = false
		}
		if spec.group != "" {
			if other, dup := p.grp[spec.group]; dup && other != spec.name {
				c.errorf(a.pos, fmt.Sprintf(":%s and :%s exclude each other", other, spec.name), "conflicting %s tags for %s", spec.group, n.raw)
				ok = false
			}
			p.grp[spec.group] = spec.name
		}
		if spec.val == vNone {
			p.tags[spec.name] = a
			continue
		}
		if i+1 >= len(n.args) || !kindFits(n.args[i+1].kind, spec.val) {
			found := "nothing"
			if i+1 < len(n.args) {
				found = n.args[i+1].describe()
			}
			c.errorf(a.pos, "", "%s needs a %s argument, found %s", a.raw, vKindName(spec.val), found)
			ok = false
			continue
		}
		i++
		p.tags[spec.name] = &n.args[i]
	}
	for ; i < len(n.args); i++ {
		a := &n.args[i]
		if a.kind == aTag {
			c.errorf(a.pos, "tagged arguments come before the positional ones", "unexpected %s after positional arguments of %s", a.raw, n.raw)
			ok = false
			continue
		}
		p.pos = append(p.pos, a)
	}
	if len(p.pos) != len(want) {
		pos := n.pos
		if len(p.pos) > len(want) {
			pos = p.pos[len(want)].pos
		}
		c.errorf(pos, usage(n.name), "%s takes %d positional argument%s, found %d", n.raw, len(want), plural(len(want)), len(p.pos))
		return p, false
	}
	for j, a := range p.pos {
		if !kindFits(a.kind, want[j]) {
			c.errorf(a.pos, usage(n.name), "argument %d of %s must be a %s, found %s", j+1, n.raw, vKindName(want[j]), a.describe())
			ok = false
		}
	}
	return p, ok
}

// positionalCount counts n's positional arguments, skipping the values
// of tags that take one (for commands with an optional first positional).
func positionalCount(n *node, specs []tagSpec) int {
	count := 0
	for i := 0; i < len(n.args); i++ {
		a := &n.args[i]
		if a.kind != aTag {
			count++
			continue
		}
		for _, s := range specs {
			if s.name == a.tag && s.val != vNone {
				i++
				break
			}
		}
	}
	return count
}

// noTests and noBlock check that a node has no tests / block.
func (c *compiler) noTests(n *node) bool {
	if len(n.tests) > 0 {
		t := n.tests[0]
		if t.pos.Line > n.pos.Line && !n.testList {
			// Most likely a missing ";" at the end of the line.
			c.errorf(t.pos, "end the command with \";\"", "expected \";\" after %q, found identifier %q", n.raw, t.raw)
			return false
		}
		c.errorf(t.pos, usage(n.name), "%s takes no test", n.raw)
		return false
	}
	return true
}

func (c *compiler) noBlock(n *node) bool {
	if n.hasBlock {
		c.errorf(n.pos, "end the command with \";\"", "%s takes no block", n.raw)
		return false
	}
	return true
}

// simple checks that a command node has neither tests nor a block.
func (c *compiler) simple(n *node) bool {
	a := c.noTests(n)
	return c.noBlock(n) && a
}

func kindFits(k argKind, v vKind) bool {
	switch v {
	case vNumber:
		return k == aNumber
	case vString:
		return k == aString
	case vStringList:
		return k == aString || k == aStringList
	}
	return false
}

func vKindName(v vKind) string {
	switch v {
	case vNumber:
		return "number"
	case vString:
		return "string"
	case vStringList:
		return "string list"
	}
	return "nothing"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// tagExtension names the extension that defines tag, for hints.
func tagExtension(tag string) string {
	switch tag {
	case "regex", "quoteregex":
		return "regex"
	case "value", "count":
		return "relational"
	case "copy":
		return "copy"
	case "flags":
		return "imap4flags"
	case "create":
		return "mailbox"
	case "user", "detail":
		return "subaddress"
	case "index", "last":
		return "index"
	case "mime", "anychild", "type", "subtype", "contenttype", "param":
		return "mime"
	case "specialuse":
		return "special-use"
	case "raw", "content", "text":
		return "body"
	case "zone", "originalzone":
		return "date"
	case "percent":
		return "spamtestplus"
	case "lower", "upper", "lowerfirst", "upperfirst", "quotewildcard", "length":
		return "variables"
	}
	return ""
}

// usage is the hint shown for argument errors.
func usage(name string) string {
	if u, ok := usages[name]; ok {
		return "usage: " + u
	}
	return ""
}

var usages = map[string]string{
	"if":                "if <test> { … }",
	"elsif":             "elsif <test> { … }",
	"else":              "else { … }",
	"stop":              "stop;",
	"keep":              "keep [:flags <list>];",
	"discard":           "discard;",
	"fileinto":          "fileinto [:copy] [:flags <list>] [:create] [:specialuse <flag>] <mailbox>;",
	"address":           "address [:all|:localpart|:domain] [:comparator <c>] [:is|:contains|:matches] <header-list> <key-list>",
	"header":            "header [:comparator <c>] [:is|:contains|:matches] <header-list> <key-list>",
	"exists":            "exists <header-list>",
	"size":              "size :over|:under <number>",
	"allof":             "allof (<test>, <test>, …)",
	"anyof":             "anyof (<test>, <test>, …)",
	"not":               "not <test>",
	"true":              "true",
	"false":             "false",
	"setflag":           "setflag [<variable>] <flag-list>;",
	"addflag":           "addflag [<variable>] <flag-list>;",
	"removeflag":        "removeflag [<variable>] <flag-list>;",
	"hasflag":           "hasflag [<variable-list>] <flag-list>",
	"set":               "set [modifiers] <name> <value>;",
	"string":            "string [:comparator <c>] [match-type] <source-list> <key-list>",
	"body":              "body [:raw|:content <types>|:text] [match-type] <key-list>",
	"date":              "date [:zone <z>|:originalzone] [match-type] <header> <date-part> <key-list>",
	"currentdate":       "currentdate [:zone <z>] [match-type] <date-part> <key-list>",
	"mailboxexists":     "mailboxexists <mailbox-list>",
	"include":           "include [:personal|:global] [:once] [:optional] <name>;",
	"return":            "return;",
	"global":            "global <variable-list>;",
	"environment":       "environment [match-type] <name> <key-list>",
	"foreverypart":      "foreverypart [:name <name>] { … }",
	"break":             "break [:name <name>];",
	"extracttext":       "extracttext [modifiers] [:first <n>] <variable>;",
	"duplicate":         "duplicate [:handle <h>] [:header <name>|:uniqueid <id>] [:seconds <n>] [:last]",
	"spamtest":          "spamtest [:percent] [match-type] <value>",
	"virustest":         "virustest [match-type] <value>",
	"specialuse_exists": "specialuse_exists [<mailbox>] <special-use-flags>",
}

// ---- tests ----

// test compiles a test node.
func (c *compiler) test(n *node) test {
	if dt := c.dialectTest(n.name); dt != nil {
		if d := c.compileDialect(n, &dt.Signature, false, false); d != nil {
			d.test = dt
			return d
		}
		return nil
	}
	if hint, ok := unsupported[n.name]; ok {
		c.errorOnce("test "+n.name, n.pos, hint, "%s is not supported", n.raw)
		return nil
	}
	def, ok := tests[n.name]
	if !ok {
		if _, isCmd := commands[n.name]; isCmd {
			c.errorf(n.pos, "", "%q is a command, not a test", n.raw)
			return nil
		}
		c.errorOnce("test "+n.name, n.pos, c.unknownHint(n.name, testNames()), "unknown test %q", n.raw)
		return nil
	}
	if def.ext != "" && !c.has(def.ext) {
		c.errorOnce("test "+n.name, n.pos, fmt.Sprintf("add `require %q;` at the top of the script", def.ext), "%s requires `require %q;`", n.name, def.ext)
		return nil
	}
	if n.hasBlock {
		c.errorf(n.pos, "", "test %s cannot have a block", n.raw)
	}
	return def.compile(c, n)
}

// leafTest checks a test takes no nested tests.
func (c *compiler) leafTest(n *node) bool {
	if len(n.tests) > 0 || n.testList {
		c.errorf(n.pos, usage(n.name), "%s takes no nested test", n.raw)
		return false
	}
	return true
}
