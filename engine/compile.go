package engine

import (
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/ruleset"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

// CompileOptions tune rule compilation. Nil means defaults.
type CompileOptions struct {
	// Now is the clock expr rules see (`age`); nil means time.Now.
	Now func() time.Time
	// Sieve configures Sieve scripts (limits, include directories, the
	// duplicate store); nil means the sieve package's defaults.
	Sieve *sieve.Options
}

// CompileRulesets compiles every rule set of cfg and returns all problems
// of all of them, each located in the config file or the Sieve script.
func CompileRulesets(cfg *config.Config, opts *CompileOptions) (map[string]*ruleset.Set, []error) {
	if opts == nil {
		opts = &CompileOptions{}
	}
	defs := make([]ruleset.Def, 0, len(cfg.Rulesets))
	for _, rs := range cfg.Rulesets {
		def := ruleset.Def{Name: rs.Name, Pos: exprrule.Pos(rs.Pos)}
		for _, st := range rs.Steps {
			if st.IsSieve() {
				def.Steps = append(def.Steps, ruleset.Step{Sieve: st.Sieve, Pos: exprrule.Pos(st.SievePos)})
				continue
			}
			spec := &exprrule.Spec{
				Name: st.Name, When: st.When, Stop: st.Stop,
				Pos: exprrule.Pos(st.Pos), WhenPos: exprrule.Pos(st.WhenPos),
				WhenInline: st.WhenInline, WhenCols: st.WhenCols,
			}
			for _, a := range st.Actions {
				spec.Actions = append(spec.Actions, exprrule.Action{Kind: a.Kind, Arg: a.Arg, Pos: exprrule.Pos(a.Pos)})
			}
			def.Steps = append(def.Steps, ruleset.Step{Expr: spec})
		}
		defs = append(defs, def)
	}
	// Sieve asks the server about mailboxes through the batch's connection
	// (mailboxes.go), unless the caller answers itself.
	so := sieve.Options{}
	if opts.Sieve != nil {
		so = *opts.Sieve
	}
	if so.MailboxExists == nil {
		so.MailboxExists = sieveMailboxExists
	}
	if so.SpecialUseExists == nil {
		so.SpecialUseExists = sieveSpecialUseExists
	}
	return ruleset.CompileAll(defs, &ruleset.Options{
		Expr:       exprrule.Options{MaxNodes: uint(cfg.Limits.ExprMaxNodes), Now: opts.Now},
		Sieve:      &so,
		BaseDir:    cfg.Dir,
		MaxActions: cfg.Limits.ActionsPerMessage,
	})
}
