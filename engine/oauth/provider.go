// Package oauth is mailwarden's built-in OAuth 2.0 client for IMAP
// (golang.org/x/oauth2): provider presets (Google, Microsoft 365, or any
// provider given by its endpoints), the two ways a person signs in once —
// the device-code flow (RFC 8628) and the loopback redirect flow with PKCE
// (RFC 8252 §7.3, RFC 7636) — a token store in state_dir, and a Source
// that hands out access tokens, refreshing them before they expire.
//
// Model and invariants:
//
//   - `mailwarden auth login ACCOUNT` runs a flow and stores the token
//     (access token, refresh token, expiry) as JSON in
//     state_dir/oauth/<account>.json, mode 0600, written atomically
//     (temporary file, fsync, rename): a crash leaves the old token or the
//     new one, never half of one.
//   - The daemon never runs a flow. Source.Token returns the stored access
//     token while it has more than Margin left, else refreshes it with the
//     refresh token (RFC 6749 §6) and stores the result before returning it
//     (a provider that rotates refresh tokens, as Microsoft does, must not
//     lose the new one). Concurrent callers share one refresh.
//   - Source.Refresh refreshes unconditionally: the IMAP layer calls it once
//     when the server rejects a token that looked valid (revoked early,
//     clock skew).
//   - A refresh the provider refuses for good (invalid_grant: revoked or
//     expired refresh token; invalid_client, unauthorized_client), or a
//     missing token file, is ErrLoginRequired, whose message tells the user
//     to run `mailwarden auth login ACCOUNT`. Network failures and 5xx
//     answers are not: they are retried by the caller's backoff.
//   - Tokens never reach a log: errors name the account and the provider's
//     error code, never a token.
package oauth

import (
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

// Flows a provider can sign in with.
const (
	FlowDevice   = "device"   // RFC 8628: a code to enter on another device
	FlowLoopback = "loopback" // RFC 8252 §7.3: a browser redirect to 127.0.0.1
)

// Provider is where and how to get tokens for IMAP.
type Provider struct {
	Name          string
	AuthURL       string // authorization endpoint (loopback flow)
	TokenURL      string // token endpoint
	DeviceAuthURL string // device authorization endpoint (device flow); "" if none
	Scopes        []string
	// Flow is the flow `auth login` uses when the config names none.
	Flow string
	// Mechanism is the SASL mechanism the provider's IMAP server takes:
	// "xoauth2" or "oauthbearer".
	Mechanism string
	// Host is the provider's IMAP server (documentation and hints only).
	Host string
}

// Google is Gmail (and Google Workspace). Google's device flow does not
// allow the https://mail.google.com/ scope, so its flow is the loopback
// redirect; the OAuth client must be of type "Desktop app".
var Google = Provider{
	Name:          "google",
	AuthURL:       "https://accounts.google.com/o/oauth2/auth",
	TokenURL:      "https://oauth2.googleapis.com/token",
	DeviceAuthURL: "https://oauth2.googleapis.com/device/code",
	Scopes:        []string{"https://mail.google.com/"},
	Flow:          FlowLoopback,
	Mechanism:     "xoauth2",
	Host:          "imap.gmail.com",
}

// Microsoft returns Microsoft 365 / Outlook.com for a tenant ("common",
// "organizations", "consumers", or a tenant id or domain; "" is "common").
// The app registration must allow public client flows for the device flow.
func Microsoft(tenant string) Provider {
	if tenant == "" {
		tenant = "common"
	}
	base := "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/"
	return Provider{
		Name:          "microsoft",
		AuthURL:       base + "authorize",
		TokenURL:      base + "token",
		DeviceAuthURL: base + "devicecode",
		// offline_access: without it there is no refresh token.
		Scopes:    []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"},
		Flow:      FlowDevice,
		Mechanism: "xoauth2",
		Host:      "outlook.office365.com",
	}
}

// Settings are an account's oauth2 settings as the config holds them.
type Settings struct {
	Provider      string // google | microsoft | generic
	Tenant        string // microsoft
	ClientID      string
	ClientSecret  string // "" for a public client
	AuthURL       string // overrides (generic: required as needed)
	TokenURL      string
	DeviceAuthURL string
	Scopes        []string
	Flow          string
}

// Resolve returns the provider the settings describe: a preset with the
// settings' endpoints and scopes laid over it, or a generic provider made
// of them alone.
func Resolve(s Settings) (Provider, error) {
	var p Provider
	switch strings.ToLower(s.Provider) {
	case "google":
		p = Google
	case "microsoft":
		p = Microsoft(s.Tenant)
	case "generic", "":
		p = Provider{Name: "generic", Flow: FlowDevice, Mechanism: "xoauth2"}
	default:
		return Provider{}, fmt.Errorf("unknown OAuth2 provider %q (google, microsoft or generic)", s.Provider)
	}
	if s.AuthURL != "" {
		p.AuthURL = s.AuthURL
	}
	if s.TokenURL != "" {
		p.TokenURL = s.TokenURL
	}
	if s.DeviceAuthURL != "" {
		p.DeviceAuthURL = s.DeviceAuthURL
	}
	if len(s.Scopes) > 0 {
		p.Scopes = s.Scopes
	}
	if s.Flow != "" {
		p.Flow = s.Flow
	}
	if p.TokenURL == "" {
		return p, fmt.Errorf("OAuth2 provider %s: no token_url", p.Name)
	}
	return p, nil
}

// config is the x/oauth2 view of a provider and a client.
func (p Provider) config(s Settings, redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL: p.AuthURL, TokenURL: p.TokenURL, DeviceAuthURL: p.DeviceAuthURL,
			// Public clients (no secret) must send client_id in the body;
			// Google and Microsoft take a secret there too.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      p.Scopes,
	}
}
