# weir: build, test and maintenance targets. `make test` is what CI runs.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(PATH):/usr/local/go/bin

GO ?= go
# Fuzzing per Fuzz target: short in `make test`, long in `make fuzz`. The
# short run counts executions: a duration can end with a spurious "context
# deadline exceeded" failure in Go 1.26 (go.dev/issue/75804).
TEST_FUZZTIME ?= 10000x
FUZZTIME ?= 60s
# Packages whose golden files `make golden` regenerates from the local tcpdump.
GOLDEN_PKGS ?= ./filter ./pcap
# External programs the tests use as oracles, and the Debian packages that
# provide them (capinfos comes with tshark's wireshark-common).
TOOLS := tcpdump tshark capinfos
TOOL_PACKAGES := tcpdump tshark

.PHONY: bench-compile bench-files bench-sets bench-xdp build test tools lint fuzz fuzz-short bench bench-live demo golden captures clean conformance

build:
	CGO_ENABLED=0 $(GO) build -o bin/weir ./cmd/weir

# demo captures a small known mix of traffic on a throwaway veth pair and
# prints what the filter kept (as root; see scripts/demo.sh).
demo: build
	CGO_ENABLED=0 $(GO) build -o bin/demotraffic ./internal/cmd/demotraffic
	scripts/demo.sh bin/weir bin/demotraffic

test: tools lint
	WEIR_STRICT=1 $(GO) test ./...
	$(MAKE) --no-print-directory fuzz-short

# tools installs the oracles when running as root, or says how to.
tools:
	@missing=""; \
	for t in $(TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "missing:$$missing; install them with:"; \
			echo "  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $(TOOL_PACKAGES)"; \
			exit 1; \
		fi; \
		echo "installing $(TOOL_PACKAGES) (missing:$$missing)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y $(TOOL_PACKAGES) || { apt-get update && apt-get install -y $(TOOL_PACKAGES); }; \
	fi

lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# fuzz_targets prints "package FuzzName" for every Fuzz target in the module.
fuzz_targets = $(GO) test -list '^Fuzz' ./... | \
	awk '/^Fuzz/ { names[++n] = $$1; next } \
	     /^ok/ { for (i = 1; i <= n; i++) print $$2, names[i]; n = 0 }'

# run_fuzz fuzzes every target for the given time, one after the other.
define run_fuzz
	@$(fuzz_targets) > .fuzz-targets; \
	if [ ! -s .fuzz-targets ]; then echo "no Fuzz targets"; fi; \
	while read -r pkg name; do \
		echo "fuzzing $$name in $$pkg for $(1)"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(1) "$$pkg"; \
	done < .fuzz-targets; \
	rm -f .fuzz-targets
endef

fuzz-short:
	$(call run_fuzz,$(TEST_FUZZTIME))

fuzz:
	$(call run_fuzz,$(FUZZTIME))

bench: build
	$(GO) test -bench=. -run='^$$' ./...
	@if [ -f ../shared/corpus/expressions.tsv ]; then $(GO) run ./internal/cmd/optbench -corpus ../shared/corpus/expressions.tsv; \
	else echo "../shared/corpus/expressions.tsv not found: optimizer comparison with libpcap skipped"; fi
	scripts/bench-offline.sh bin/weir
	@$(MAKE) --no-print-directory bench-files bench-live bench-xdp bench-sets

# bench-files times writing files (pcap to pcapng, filtered copies) against
# tcpdump and editcap.
bench-files: build
	scripts/bench-files.sh bin/weir

# bench-compile counts the work of compiling 100 to 10000 "host" terms
# (valgrind; a few minutes).
bench-compile: build
	scripts/compile-scaling.sh bin/weir

# bench-live compares live capture with tcpdump on a veth pair, using the
# shared benchmark scripts when they are beside the repository (as root).
bench-live: build
	@if [ -x ../shared/bench/live.sh ]; then scripts/bench-live.sh bin/weir; \
	else echo "../shared/bench not found: live benchmark skipped"; fi

# bench-xdp compares the capture backends (AF_PACKET with classic and eBPF
# filters, XDP, tcx) with tcpdump on one veth pair, at 1% and 50% matching.
bench-xdp: build
	@if [ -x ../shared/bench/live.sh ]; then scripts/bench-xdp.sh bin/weir; \
	else echo "../shared/bench not found: backend benchmark skipped"; fi

# bench-sets: sets in kernel maps (1k to 1M addresses) against tcpdump's
# "or" chains: start-up, and live capture at XDP.
bench-sets: build
	@if [ -x ../shared/bench/live.sh ]; then scripts/bench-sets.sh bin/weir; \
	else echo "../shared/bench not found: sets benchmark skipped"; fi

golden:
	$(GO) test $(GOLDEN_PKGS) -update

# conformance runs every (capture, expression) pair of the shared corpus that
# tcpdump accepts through the eBPF lowering, verified and run by the kernel
# for each target (as root; a few minutes). CORPUS overrides the folder.
CORPUS ?= ../shared/corpus
conformance: tools
	GO=$(GO) scripts/conformance.sh $(CORPUS)

captures:
	$(GO) run ./internal/cmd/gencaptures -out testdata/captures

clean:
	rm -rf bin out .fuzz-targets
