# mailwarden — the two commands a newcomer needs:
#   make demo   builds and runs `mailwarden demo` (embedded IMAP server + example rules)
#   make test   installs the test dependencies (Dovecot, Pigeonhole) when missing, then vet + race tests
GO ?= go

.PHONY: all build demo test test-deps vet bench fuzz fuzz-short faults-long soak backup-proof cluster-proof clean

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
	FUZZTIME=2s GO=$(GO) bash .ci/fuzz-short.sh

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

# Every target for FUZZTIME (default 10s here; `make test` runs them for 2s
# each, so every parser is fuzzed on every CI run).
fuzz-short:
	FUZZTIME=$(or $(filter-out 20s,$(FUZZTIME)),10s) GO=$(GO) bash .ci/fuzz-short.sh

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

# Issue 15's backup proof at full size: 2,000 messages backed up, added to,
# killed mid-run and rerun, expired with backup_first, restored and compared
# one by one; logs the export and restore rates (make test runs it with 300).
backup-proof:
	MAILWARDEN_BACKUP_PROOF_N=2000 $(GO) test -run '^TestBackupProof$$' -v -timeout 10m ./cmd/mailwarden

# Issue 14's cluster proof at full length (internal/clusterproof): three
# etcd members, three replicas, 30 accounts on a private Dovecot, three
# rounds of SIGKILL, SIGSTOP past a 10s lease, an etcd member killed and
# quorum lost and regained, while mail keeps arriving; then every message
# counted by Message-ID. A few minutes. `make test` runs one round with a
# 4s lease.
cluster-proof: test-deps
	MAILWARDEN_CLUSTER_PROOF=full $(GO) test -run '^TestClusterProof$$' -v -count=1 -timeout 30m ./internal/clusterproof

clean:
	rm -rf bin

# Benchmarks of issue 8 (see internal/bulkbench and internal/watchbench):
# a private Dovecot on 127.0.0.1, minutes each, never part of `make test`.
#   make bench-apply                  10k-message corpus, 5 rounds: floor, apply, imapfilter (if installed)
#   make bench-watchers WATCHERS=1000 RSS per idle watcher and time to all-idle
#   make bench-deps                   installs imapfilter (Debian package) for bench-apply
.PHONY: bench-apply bench-watchers bench-deps
BENCH_N ?= 10000
BENCH_ROUNDS ?= 5
BENCH_FLAGS ?=
WATCHERS ?= 100

bench-apply:
	$(GO) run ./internal/bulkbench/cmd/mwbench apply -n $(BENCH_N) -rounds $(BENCH_ROUNDS) $(BENCH_FLAGS)

bench-watchers:
	$(GO) run ./internal/bulkbench/cmd/mwbench watchers -watchers $(WATCHERS) $(BENCH_FLAGS)

bench-deps: test-deps
	@if command -v imapfilter >/dev/null 2>&1; then echo "bench-deps: imapfilter present: $$(imapfilter -V 2>&1 | head -1)"; else \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends imapfilter; fi
