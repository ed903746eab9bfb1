# The only entry points a newcomer needs: make run, make test.
# Settings for run: PORT, ENCONVERT_WORKERS, ENCONVERT_ALLOWED_NETWORKS,
# ENCONVERT_SMTP_URL, ENCONVERT_TLS_CA_FILE, ENCONVERT_S3_* (see README.md).
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3

.PHONY: all deps build run stop key test unit-test module-test e2e-test bench clean deb package-test

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/stack.sh start

stop:
	@scripts/stack.sh stop

key: build
	@test -n "$(ACCOUNT)" || { echo "usage: make key ACCOUNT=name" >&2; exit 2; }
	@scripts/stack.sh key "$(ACCOUNT)"

test: build
	$(MAKE) --no-print-directory -k unit-test module-test e2e-test

unit-test:
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

module-test:
	$(PYTHON) -m pytest -q tests/module

e2e-test:
	$(PYTHON) -m pytest -q tests/e2e

bench: build
	@bench/run.sh
	@bench/notifications/run.sh

# Debian packages in build/deb/ (docs/operations.md).
deb: deps
	@scripts/build-deb.sh

# Builds the packages, installs them next to Debian's nginx, converts a page
# through them and purges them (root; changes the machine): CI runs it.
package-test: deps
	$(PYTHON) -m pytest -q tests/package

clean:
	rm -rf $(BUILD)
