# The only entry points a newcomer needs: make run, make test.
# Settings for run: PORT, ENCONVERT_WORKERS, ENCONVERT_ALLOWED_NETWORKS,
# ENCONVERT_SMTP_URL, ENCONVERT_TLS_CA_FILE, ENCONVERT_S3_* (see README.md).
BUILD ?= build
# The scripts and test suites take the build from here (make run BUILD=x).
export ENCONVERT_BUILD ?= $(abspath $(BUILD))
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3

.PHONY: all deps build run stop key test unit-test module-test e2e-test compat-test bench clean deb package-test options \
        sanitize fuzz ad-rules

all: build

deps:
	@scripts/deps.sh

# Line tables only (-g1): backtraces and sanitizer reports keep file and
# line; full debug information (-g) made every compile 30 % slower, and CI
# must run make test in under 40 minutes on 2 cores. The Debian packages
# (make deb) keep dpkg-buildflags' -g; CMAKE_BUILD_TYPE=Debug in a build
# directory of your own for a debugger session.
DEV_FLAGS := -O2 -g1 -DNDEBUG

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$(DEV_FLAGS)" \
	    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(DEV_FLAGS)" >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

key: build
	@test -n "$(ACCOUNT)" || { echo "usage: make key ACCOUNT=name" >&2; exit 2; }
	@scripts/stack.sh key "$(ACCOUNT)"

# The unit tests keep both cores busy (ctest -j); the suites that start
# stacks mostly wait on them (renders, leases, restarts), each on its own
# ports, homes and X display, so they run side by side (their lines
# interleave; no pytest cache, which they would all write). Every suite
# runs even if another failed.
test: build
	@u=0; $(MAKE) --no-print-directory unit-test || u=$$?; \
	$(MAKE) --no-print-directory -k -j3 --output-sync=line \
	    module-test e2e-test compat-test || exit $$?; exit $$u

unit-test:
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

module-test:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/module

e2e-test:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

# the vendor's clients' requests replayed against a local stack
compat-test:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/compat

bench: build
	@bench/run.sh
	@bench/notifications/run.sh

# Only the print-fidelity section of make bench (docs/benchmarks.md).
.PHONY: bench-fidelity
bench-fidelity: build
	@bench/run.sh fidelity

# Render throughput and CPU per page over 1..16 pages in flight.
.PHONY: bench-render-sweep
bench-render-sweep: build
	@bench/run.sh render-sweep

# Only the website-capture section of make bench (docs/benchmarks.md).
.PHONY: bench-website
bench-website: build
	@bench/run.sh website

# block_ads's list (worker/src/render_child/ad_rules.json) made again from
# the EasyList of Debian's webext-ublock-origin-firefox (docs/rendering.md).
ad-rules:
	@scripts/ad-rules.sh

# The files generated from schema/options.json (every request field once):
# the module's tables, the worker's limits, docs/api.md's field tables.
options:
	@$(PYTHON) tools/options_schema.py

# Debian packages in build/deb/ (docs/operations.md). Installs only what
# building them needs (scripts/deps.sh --build): it may run on a server.
deb:
	@scripts/deps.sh --build
	@scripts/build-deb.sh

# Builds the packages, installs them next to Debian's nginx, converts a page
# through them and purges them (root; changes the machine): CI runs it.
package-test: deps
	$(PYTHON) -m pytest -q tests/package

# ASan + UBSan build in $(SANITIZE_BUILD): the unit tests and the module tests
# (Debian's nginx with libasan preloaded) must run without a finding
# (docs/fuzzing.md). Not part of make test: it takes long.
SANITIZE_BUILD ?= build-sanitize
SANITIZE_DIR = $(abspath $(SANITIZE_BUILD))
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SANITIZE_SUPP = $(CURDIR)/tests/sanitize
SANITIZE_REPORTS = $(SANITIZE_DIR)/module-reports
sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
	    -DENCONVERT_SANITIZE=ON -DENCONVERT_SANITIZE_FLAGS="$(SANITIZE_FLAGS)" >/dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:suppressions=$(SANITIZE_SUPP)/asan.supp \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(SANITIZE_SUPP)/ubsan.supp \
	LSAN_OPTIONS=suppressions=$(SANITIZE_SUPP)/lsan.supp:print_suppressions=0 \
	    ctest --test-dir $(SANITIZE_BUILD) --output-on-failure -j $(JOBS)
	@rm -rf $(SANITIZE_REPORTS) && mkdir -p $(SANITIZE_REPORTS)
	@# nginx rewrites its environment (process titles), so UBSan in a worker
	@# process loses its options and reports to stderr: the error.log files
	@# under module-tmp. ASan reads its options at start: log_path works.
	@# verify_asan_link_order=0: the few tests that run /usr/sbin/nginx -t
	@# themselves (no preload) load the module with ASan coming late.
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=0:verify_asan_link_order=0:log_path=$(SANITIZE_REPORTS)/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SANITIZE_REPORTS)/ubsan \
	ENCONVERT_BUILD=$(SANITIZE_DIR) ENCONVERT_NGINX=$(SANITIZE_SUPP)/nginx-asan.sh \
	ENCONVERT_MODULE_CC_OPT="$(SANITIZE_FLAGS)" ENCONVERT_MODULE_LD_OPT="$(SANITIZE_FLAGS)" \
	    $(PYTHON) -m pytest -q -p no:cacheprovider --basetemp=$(SANITIZE_DIR)/module-tmp \
	    tests/module; status=$$?; \
	found="$$(ls -A $(SANITIZE_REPORTS); grep -rlE 'runtime error:|Sanitizer' \
	    --include=error.log $(SANITIZE_DIR)/module-tmp)"; \
	if [ -n "$$found" ]; then cat $(SANITIZE_REPORTS)/* 2>/dev/null; \
	    grep -rE -A12 'runtime error:|Sanitizer' --include=error.log $(SANITIZE_DIR)/module-tmp; \
	    echo "sanitize: the ASan module reported the findings above" >&2; exit 1; fi; \
	exit $$status

# libFuzzer targets of tests/fuzz, FUZZ_SECONDS each, built with clang in
# $(FUZZ_BUILD); a crash leaves its input in $(FUZZ_BUILD)/findings/.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DENCONVERT_FUZZ=ON -DENCONVERT_BUILD_TESTS=OFF \
	    -DENCONVERT_BUILD_NGINX_MODULE=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)
