# Two commands for a fresh Debian machine with the .NET SDK: `make demo` and `make test`.
# Each installs what is missing (scripts/prerequisites.sh), builds, and runs.

SHELL := /bin/bash
CONFIGURATION ?= Release
RID ?= linux-x64

.PHONY: all prerequisites build plugins publish test test-unit test-smoke demo bench bench-quick format clean

all: build plugins publish

prerequisites:
	@bash scripts/prerequisites.sh

build:
	dotnet build Gateway.sln -c $(CONFIGURATION) --nologo -v quiet

plugins: prerequisites
	$(MAKE) -C plugins

# The AOT binary with its native libraries beside it (DESIGN §3).
publish:
	@bash scripts/publish.sh $(RID)

test: prerequisites plugins publish
	@bash scripts/test.sh

demo: prerequisites plugins publish
	@bash scripts/demo.sh

bench: prerequisites plugins publish
	@bash perf/run.sh full

bench-quick: prerequisites plugins publish
	@bash perf/run.sh quick

format:
	dotnet format Gateway.sln --verify-no-changes

clean:
	rm -rf artifacts
	$(MAKE) -C plugins clean
