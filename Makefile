# Two commands for a mail admin: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

VENV        := $(CURDIR)/.venv
COLLECTIONS := $(CURDIR)/.cache/collections
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0

VERSION     := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL     := build/mailfleet-postfix_mysql-$(VERSION).tar.gz
VENVS       := $(CURDIR)/.cache/venvs
# The Python of .venv and of the tools' venvs (Debian 12's).
export TOOLS_PYTHON := 3.11

# Every molecule scenario below molecule/, alphabetical.
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

# The other supported ansible-core releases (.venv has the oldest, requirements/test.txt),
# with the Python their venvs use. `make test` runs their unit tests, and ansible-test
# sanity on the newest; `make test-all` runs sanity on each.
CORE_RELEASES       := 2.20 2.21
CORE_PYTHON         := 3.12
CORE_SANITY         ?= $(lastword $(CORE_RELEASES))

# `make test`: every step in turn, numbered, with the time so far; the first failure stops it.
# Two lanes share the two cores until the tests that measure time (outages, load, recovery)
# run alone at the end (tools/run-test-steps.sh): BESIDE_SCENARIOS one after another in the
# second lane, beside the static steps and the other scenarios, which time nothing. The
# first lane ends earlier, so it also creates and converges the TIMED_SCENARIOS and runs
# their tests that time nothing; only their tests marked `timed` wait for the second lane.
TIMED_SCENARIOS  := fleet
BESIDE_SCENARIOS := adopt default
TIMED       := $(filter $(TIMED_SCENARIOS),$(SCENARIOS))
TEST_STEPS  := tarball lint docs-lint importer sanity unit $(addprefix versions-,$(CORE_RELEASES)) test-ee \
	$(addprefix molecule-,$(filter-out $(BESIDE_SCENARIOS) $(TIMED_SCENARIOS),$(SCENARIOS))) \
	$(addprefix molecule-untimed-,$(TIMED)) $(addprefix molecule-timed-,$(TIMED))
TEST_BESIDE := $(addprefix molecule-,$(filter $(BESIDE_SCENARIOS),$(SCENARIOS)))

.PHONY: setup collection lint docs-lint docs tarball importer sanity unit versions molecule test test-all \
	test-ee demo demo-clean bench bench-fleet bench-recovery bench-connections bench-audit help

help:
	@echo "make demo        set up the host and run playbooks/site.yml against a local Debian 12 container"
	@echo "make test        set up the host and run every check ($(TEST_STEPS), and beside them $(TEST_BESIDE))"
	@echo "make test-all    make test with sanity on every supported ansible-core"
	@echo "make demo-clean  remove the demo container"
	@echo "make setup       only install what the tests and the demo need (idempotent)"
	@echo "make docs        the docsite (build/docs/build/html/index.html)"
	@echo "Single steps of make test, the benchmarks and the rest: CONTRIBUTING.md."

setup:
	tools/setup-host.sh
	$(MAKE) --no-print-directory collection

# The collection as Ansible finds it: ansible_collections/mailfleet/postfix_mysql, with
# community.mysql from .venv beside it, so that the venvs of other ansible-core releases
# import the same release of it.
collection:
	mkdir -p $(COLLECTIONS)/ansible_collections/mailfleet $(COLLECTIONS)/ansible_collections/community
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/mailfleet/postfix_mysql
	ln -sfn "$$($(VENV)/bin/python -c 'import ansible_collections.community.mysql as m; print(m.__path__[0])')" \
	  $(COLLECTIONS)/ansible_collections/community/mysql

lint: export ANSIBLE_VAULT_PASSWORD_FILE := $(CURDIR)/demo/vault-password.txt
lint:
	@echo "==> yamllint"
	yamllint --strict .
	@echo "==> ansible-lint (production profile)"
	ansible-lint --offline --strict
	@echo "==> shellcheck"
	shellcheck tools/*.sh execution-environment/base/apt-dnf
	@echo "==> antsibull-changelog lint"
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

# The documentation as antsibull-docs reads it: markup, references, role argument specs.
docs-lint:
	tools/make-venv.sh $(VENVS)/docs $(TOOLS_PYTHON) requirements/docs.txt
	@echo "==> antsibull-docs lint-collection-docs --plugin-docs"
	PATH=$(VENVS)/docs/bin:$$PATH antsibull-docs lint-collection-docs --plugin-docs .

docs:
	tools/make-venv.sh $(VENVS)/docs $(TOOLS_PYTHON) requirements/docs.txt
	PATH=$(VENVS)/docs/bin:$$PATH tools/build-docs.sh

# The tarball a user installs, built from a used work tree's files, holds only what a user
# needs. Built again only when a file of the repository changed: the steps after it
# (importer, test-ee) take this one.
$(TARBALL): $(wildcard $(shell git ls-files --cached --others --exclude-standard 2>/dev/null))
	@echo "==> ansible-galaxy collection build, and what the tarball holds"
	python tools/check-tarball.py build

tarball: $(TARBALL)

# galaxy-importer on that tarball, as on a Galaxy or Automation Hub upload.
importer: $(TARBALL)
	tools/make-venv.sh $(VENVS)/importer $(TOOLS_PYTHON) requirements/importer.txt
	@echo "==> galaxy-importer $(TARBALL)"
	PATH=$(VENVS)/importer/bin:$$PATH python tools/check-import.py $(TARBALL)

sanity:
	@echo "==> ansible-test sanity"
	tools/run-sanity.sh

unit:
	@echo "==> pytest unit tests"
	PYTHONPATH=$(COLLECTIONS) python -m pytest -p no:cacheprovider --import-mode=importlib tests/unit

# Unit tests on another ansible-core release, and sanity on it when it is one of CORE_SANITY.
versions-%:
	tools/make-venv.sh $(VENVS)/core-$* $(CORE_PYTHON) requirements/ansible-core-$*.txt
	@echo "==> pytest unit tests, ansible-core $*"
	PYTHONPATH=$(COLLECTIONS) $(VENVS)/core-$*/bin/python -m pytest -q -p no:cacheprovider --import-mode=importlib tests/unit
	case " $(CORE_SANITY) " in
	  *" $* "*)
	    echo "==> ansible-test sanity, ansible-core $*"
	    SANITY_VENV=$(VENVS)/core-$* SANITY_PYTHON=$(CORE_PYTHON) SANITY_TARGET_PYTHONS=3.13 tools/run-sanity.sh ;;
	esac

versions: $(addprefix versions-,$(CORE_RELEASES))

molecule-%:
	@echo "==> molecule test -s $*"
	molecule test -s $*

# `molecule test` in two parts, as its test_sequence runs them: up to converge and the tests
# not marked `timed`, then the timed tests and destroy. The containers go when either part fails.
molecule-untimed-%:
	@echo "==> molecule syntax, create, converge, and verify the tests that time nothing -s $*"
	molecule destroy -s $*
	molecule syntax -s $*
	status=0
	molecule converge -s $* && PYTEST_ADDOPTS='-m "not timed"' molecule verify -s $* || status=$$?
	if [ "$$status" -ne 0 ]; then molecule destroy -s $*; fi
	exit $$status

molecule-timed-%:
	@echo "==> molecule verify the timed tests, and destroy -s $*"
	status=0
	PYTEST_ADDOPTS='-m timed' molecule verify -s $* || status=$$?
	molecule destroy -s $*
	exit $$status

molecule: $(addprefix molecule-,$(SCENARIOS))

# A failure in another step leaves the timed scenarios converged but not yet done: they are
# destroyed before make test ends.
test: setup
	tools/run-test-steps.sh "$(TEST_STEPS)" "$(TEST_BESIDE)" "" \
	  $(firstword $(addprefix molecule-timed-,$(TIMED)) end) \
	  $(CURDIR)/.cache/test-logs || {
	  status=$$?
	  for scenario in $(TIMED); do molecule destroy -s "$$scenario" >/dev/null 2>&1 || true; done
	  exit $$status
	}

# The longer matrix: make test with sanity on every supported ansible-core.
test-all:
	$(MAKE) --no-print-directory test CORE_SANITY="$(CORE_RELEASES)"

# The collection installed from its tarball in an execution environment built with
# ansible-builder, running site.yml with ansible-navigator against a mail host over SSH.
test-ee: setup $(TARBALL)
	tools/ee-test.sh $(TARBALL)

demo: setup
	tools/demo.sh

demo-clean:
	tools/demo.sh clean

bench: setup
	bench/postmap_bench.sh

bench-fleet: setup
	$(VENV)/bin/python -m pip install --quiet -r requirements/bench.txt
	$(VENV)/bin/python bench/fleet_bench.py

bench-recovery: setup
	$(VENV)/bin/python bench/recovery_bench.py

bench-connections: setup
	$(VENV)/bin/python bench/connections_bench.py

bench-audit: setup
	$(VENV)/bin/python bench/audit_bench.py
