# mailwarden — the two commands a newcomer needs:
#   make demo   builds and runs `mailwarden demo` (embedded IMAP server + example rules)
#   make test   installs the test dependencies (Dovecot, Pigeonhole) when missing, then vet + race tests
GO ?= go

.PHONY: all build demo test test-deps vet bench fuzz clean

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

clean:
	rm -rf bin
