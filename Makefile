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

# Every molecule scenario below molecule/, alphabetical.
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

.PHONY: setup collection lint sanity unit molecule test demo demo-clean bench bench-fleet bench-recovery bench-connections bench-audit help

help:
	@echo "make demo        set up the host and run playbooks/site.yml against a local Debian 12 container"
	@echo "make test        set up the host and run every check (lint, sanity, unit, molecule)"
	@echo "make demo-clean  remove the demo container"
	@echo "make setup       only install what the bench needs (idempotent)"

setup:
	tools/setup-host.sh
	$(MAKE) --no-print-directory collection

# The collection as Ansible finds it: ansible_collections/mailfleet/postfix_mysql.
collection:
	mkdir -p $(COLLECTIONS)/ansible_collections/mailfleet
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/mailfleet/postfix_mysql

lint: export ANSIBLE_VAULT_PASSWORD_FILE := $(CURDIR)/demo/vault-password.txt
lint:
	@echo "==> yamllint"
	yamllint --strict .
	@echo "==> ansible-lint (production profile)"
	ansible-lint --offline --strict

sanity:
	@echo "==> ansible-test sanity"
	tools/run-sanity.sh

unit:
	@echo "==> pytest unit tests"
	PYTHONPATH=$(COLLECTIONS) python -m pytest -p no:cacheprovider --import-mode=importlib tests/unit

molecule:
	@for scenario in $(SCENARIOS); do
	  echo "==> molecule test -s $$scenario"
	  molecule test -s $$scenario
	done

test: setup
	$(MAKE) --no-print-directory lint sanity unit molecule

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
