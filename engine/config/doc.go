// Package config is mailwarden's configuration file: the types, a strict
// loader that keeps the position of every value, and semantic validation.
//
// The model:
//
//   - [Load] reads one YAML file and returns a [Config] or an [ErrorList]
//     holding every problem at once, each printed as
//     "file:line:col: key.path: message (hint: …)". Unknown keys are
//     errors (with a "did you mean" hint when a known key is close),
//     duplicate keys are errors, and values have the documented types.
//   - [Config.Validate] fills in defaults, resolves relative paths against
//     the config file's directory, and checks what the YAML shape cannot:
//     unique names, existing rulesets, TLS settings, exactly one credential
//     source, password file permissions. Load calls it.
//   - Rules are not compiled here (this package imports only the YAML
//     decoder). A ruleset's [Step] carries every field of an expr rule
//     (exprrule.Spec) or a Sieve path (ruleset.Step), with the positions of
//     the rule, its `when` value and each action, so the rule compiler
//     reports errors where the user wrote them. The engine converts Steps
//     field by field.
//   - Secrets are never read at load: [Account.Secret] resolves the password
//     (or OAuth2 token) when a connection needs it, and no error message
//     contains one. A built-in OAuth2 provider ([OAuth2.Builtin]) keeps its
//     tokens in state_dir; this package only checks its settings.
//   - An account template (`template:` with users, users_file or
//     users_command) is expanded at load into ordinary accounts, one per
//     user ([Account.Template], [Account.User]); the users command runs at
//     every load, so a reload picks up new users. Errors point at the
//     template and are reported once, not once per user.
//   - [Config.Budgets] gives each server (host:port) with max_connections
//     its budget: the smallest any of its accounts sets.
//
// Durations are Go durations ("90s", "1h30m") plus the units d (24h) and
// w (7d): "90d", "2w", "1d12h".
//
// New top-level sections are added as a field on Config, a case in
// decodeTop and a decode method of their own, as `schedules:` is
// (schedule.go): the scheduled jobs, whose cron expressions are checked at
// load with the scheduler's own parser (robfig/cron/v3), so `mailwarden
// check` reports a bad one where it is written.
//
// The decoder is go.yaml.in/yaml/v3, the YAML organisation's maintained
// continuation of gopkg.in/yaml.v3: its yaml.Node keeps the line and
// column of every key and value, which is what located errors need, and it
// is the decoder most Go projects already know. The strict checks (unknown
// and duplicate keys, types) are done here on the node tree, so every
// problem is reported, not just the first.
package config
