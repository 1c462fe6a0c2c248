# Two commands for a fresh Debian machine with the .NET SDK: `make demo` and `make test`.
# Each installs what is missing (scripts/prerequisites.sh), builds, and runs.

SHELL := /bin/bash
CONFIGURATION ?= Release
RID ?= linux-x64

.PHONY: all prerequisites bench-prerequisites build plugins publish test test-unit demo bench bench-quick format format-check clean

all: build plugins publish

prerequisites:
	@bash scripts/prerequisites.sh

build:
	dotnet build Gateway.sln -c $(CONFIGURATION) --nologo -v quiet

plugins: prerequisites
	$(MAKE) -C plugins

# The AOT binary with its native libraries beside it (README, 'Command line').
publish:
	@bash scripts/publish.sh $(RID)

test: prerequisites plugins publish
	@bash scripts/test.sh

# The fast loop: the parser, proxy and configuration suites only. No package install, no plugin build, no AOT
# publish, no servers; a Debug build of what those projects need.
UNIT_TESTS := tests/Gateway.Http.Tests tests/Gateway.Proxy.Tests tests/Gateway.Tests
test-unit:
	@set -e; for p in $(UNIT_TESTS); do dotnet build $$p -c Debug --nologo -v quiet -warnaserror; done
	@set -e; for p in $(UNIT_TESTS); do dotnet test --project $$p -c Debug --no-build --no-progress; done

demo: prerequisites plugins publish
	@bash scripts/demo.sh

bench: bench-prerequisites plugins publish
	@bash perf/run.sh full

bench-quick: bench-prerequisites plugins publish
	@bash perf/run.sh quick

bench-prerequisites:
	@bash scripts/prerequisites.sh bench

# Rewrites whitespace to what .editorconfig says; format-check is the same check scripts/test.sh (and so CI) runs.
format:
	dotnet format whitespace Gateway.sln
	dotnet format whitespace perf --folder

format-check:
	@bash scripts/format-check.sh

clean:
	rm -rf artifacts
	$(MAKE) -C plugins clean
