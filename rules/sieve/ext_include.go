package sieve

import (
	"fmt"
	"path/filepath"
	"strings"
)

// include (RFC 6609): include, return and global. Included scripts are
// compiled with the including script (a missing script is a compile error
// unless :optional); :personal names resolve in Options.IncludePersonal
// (the config's sieve.personal_dir; by default the directory of the
// script compiled from a file), :global names in Options.IncludeGlobal
// (sieve.global_dir). Each script has its own variables except those
// declared global (§3.4, §3.5); `stop` in an included script ends
// everything, `return` ends the included script.

func init() {
	registerExtension("include")
	registerCommand("include", "include", compileInclude)
	registerCommand("return", "include", func(c *compiler, n *node) command {
		if _, ok := c.args(n, nil, nil); !ok || !c.simple(n) {
			return nil
		}
		return &returnCmd{line: n.pos.Line}
	})
	registerCommand("global", "include", compileGlobal)
}

// includeState is shared by a script and everything it includes while
// they compile: the stack detects recursion, the cache compiles each file
// once.
type includeState struct {
	stack []string
	cache map[string]*Script
}

func newIncludeState() *includeState { return &includeState{cache: map[string]*Script{}} }

type includeCmd struct {
	line     int
	path     string
	once     bool
	optional bool
	script   *Script // nil when :optional and missing
}

type returnCmd struct{ line int }

func (c *returnCmd) exec(r *run) error { r.line = c.line; return errReturn }

func compileInclude(c *compiler, n *node) command {
	p, ok := c.args(n, []tagSpec{
		{name: "personal", group: "location"}, {name: "global", group: "location"},
		{name: "once"}, {name: "optional"},
	}, []vKind{vString})
	if !ok || !c.simple(n) {
		return nil
	}
	name := p.pos[0].strs[0]
	pos := p.pos[0].pos
	if strings.Contains(name, "${") && c.has("variables") {
		c.errorf(pos, "RFC 6609 §3.2: the script name is a constant", "include takes a constant script name")
		return nil
	}
	// RFC 6609 §3.2: script names are simple names, no paths.
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		c.errorf(pos, "name a script in the include directory, without a path", "invalid script name %q", name)
		return nil
	}
	dir, where := "", "personal"
	if c.opts != nil {
		dir = c.opts.IncludePersonal
	}
	if p.has("global") {
		where = "global"
		dir = ""
		if c.opts != nil {
			dir = c.opts.IncludeGlobal
		}
	}
	optional := p.has("optional")
	if dir == "" {
		if optional {
			// RFC 6609 §3.2: an optional script that cannot be found
			// is skipped; without a directory there is nothing to find.
			return &includeCmd{line: n.pos.Line, once: p.has("once"), optional: true}
		}
		c.errorf(pos, fmt.Sprintf("set sieve.%s_dir in the config (mailwarden test: --sieve-%s-dir), or add :optional", where, where),
			"include :%s has no directory to read %q from", where, name)
		return nil
	}
	file := name
	if filepath.Ext(file) == "" {
		file += ".sieve"
	}
	path := filepath.Join(dir, file)
	cmd := &includeCmd{line: n.pos.Line, path: path, once: p.has("once"), optional: optional}
	inc := c.inc
	for _, s := range inc.stack {
		if s == path {
			if cmd.once {
				// RFC 6609 §3.2: a recursive include :once is no
				// error; the script counts as included already.
				return &includeCmd{line: n.pos.Line, path: path, once: true}
			}
			c.errorf(pos, "a script must not include itself, directly or through others (RFC 6609 §3.2); include :once would skip it", "recursive include of %q", name)
			return nil
		}
	}
	if len(inc.stack)/2 >= c.lim.maxInclude {
		c.errorf(pos, "flatten the chain of includes", "includes nested deeper than %d", c.lim.maxInclude)
		return nil
	}
	if s, ok := inc.cache[path]; ok {
		cmd.script = s
		c.script.needsBody = c.script.needsBody || (s != nil && s.needsBody)
		c.script.asksBoxes = c.script.asksBoxes || (s != nil && s.asksBoxes)
		if s != nil {
			c.script.targets = append(c.script.targets, s.targets...)
			c.script.skips = append(c.script.skips, s.skips...)
		}
		return cmd
	}
	src, err := readScript(path, c.lim.maxScriptSize)
	if err != nil {
		if cmd.optional {
			inc.cache[path] = nil
			return cmd
		}
		c.errorf(pos, fmt.Sprintf("add :optional to skip it when it is missing, or set sieve.%s_dir in the config (mailwarden test: --sieve-%s-dir)", where, where), "include %q: %v", name, err)
		return nil
	}
	inc.stack = append(inc.stack, c.file, path)
	s, err := compileScript(path, src, c.opts, inc)
	inc.stack = inc.stack[:len(inc.stack)-2]
	if err != nil {
		if el, ok := err.(ErrorList); ok {
			*c.errs = append(*c.errs, el...)
		} else {
			c.errorf(pos, "", "include %q: %v", name, err)
		}
		return nil
	}
	inc.cache[path] = s
	cmd.script = s
	c.script.needsBody = c.script.needsBody || s.needsBody
	c.script.asksBoxes = c.script.asksBoxes || s.asksBoxes
	c.script.targets = append(c.script.targets, s.targets...)
	c.script.skips = append(c.script.skips, s.skips...)
	return cmd
}

func (c *includeCmd) exec(r *run) error {
	r.line = c.line
	if c.script == nil {
		return nil // :optional and missing
	}
	if r.included == nil {
		r.included = map[string]bool{}
	}
	if c.once && r.included[c.path] {
		return nil
	}
	r.included[c.path] = true
	if r.inclDepth >= r.root.lim.maxInclude {
		return r.errorf("includes nested deeper than %d", r.root.lim.maxInclude)
	}
	// RFC 6609 §3.4: the included script has its own variables.
	savedS, savedVars, savedMatch := r.s, r.vars, r.matchVars
	r.s, r.vars, r.matchVars = c.script, nil, nil
	r.inclDepth++
	err := r.block(c.script.cmds)
	r.inclDepth--
	r.s, r.vars, r.matchVars = savedS, savedVars, savedMatch
	if err == errReturn {
		return nil
	}
	return err
}

// global (RFC 6609 §3.5) declares variables shared between scripts.
func compileGlobal(c *compiler, n *node) command {
	p, ok := c.args(n, nil, []vKind{vStringList})
	if !ok || !c.simple(n) {
		return nil
	}
	if !c.has("variables") {
		c.errorf(n.pos, "add `require \"variables\";`", "global requires `require \"variables\";`")
		return nil
	}
	if c.globals == nil {
		c.globals = map[string]bool{}
	}
	for i, s := range p.pos[0].strs {
		name := strings.ToLower(s)
		if !validIdentifier(name) {
			c.errorf(p.pos[0].spos[i], "", "invalid variable name %q", s)
			continue
		}
		c.globals[name] = true
	}
	return nil
}
