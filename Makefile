# mailwarden — the two commands a newcomer needs:
#   make demo   builds and runs `mailwarden demo` (embedded IMAP server + example rules)
#   make test   installs the test dependencies (Dovecot, Pigeonhole) when missing, then vet + race tests
GO ?= go

.PHONY: all build demo test test-deps vet bench fuzz fuzz-short faults-long soak clean

all: build

build:
	$(GO) build -o bin/mailwarden ./cmd/mailwarden

demo:
	$(GO) run ./cmd/mailwarden demo

test-deps:
	bash .ci/install-test-deps.sh

vet:
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -race -timeout 15m ./...

# Benchmarks: rule evaluation, Sieve, batched apply (see README "Performance").
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A short run of every fuzz target (go test -fuzz runs one target at a time).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The same for CI: every target for 10 s (13 targets: about 3 minutes).
fuzz-short: FUZZTIME = 10s
fuzz-short: fuzz

# Measurements that take minutes (internal/faultproxy, internal/hostile):
# how long a stalled or vanished server goes unnoticed, and peak RSS for
# the 2,000-message hostile corpus and its 50 MiB attachment.
faults-long:
	MAILWARDEN_FAULT_LONG=1 $(GO) test -run 'Long' -v -timeout 30m ./internal/faultproxy
	MAILWARDEN_HOSTILE_FULL=1 $(GO) test -run TestFullHostileCorpus -v -timeout 60m ./internal/hostile

# The full fault soak (internal/soak/README.md): the daemon, apply and the
# jobs against a private Dovecot behind fault-injecting proxies, with at
# least 1,000 messages while watching, 1,000 faults and 100 SIGKILLs, then
# a count of every message by Message-ID. 20-30 minutes. `make test` runs
# the short version. SOAK_ARGS passes flags: SOAK_ARGS='-soak.seed 42'.
SOAK_ARGS ?=
soak: test-deps
	$(GO) test -run 'TestSoakFull$$' -v -timeout 90m ./internal/soak -soak.full $(SOAK_ARGS)

clean:
	rm -rf bin
