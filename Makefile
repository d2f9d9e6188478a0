# Developer entry points. `make test` is the whole suite (what CI runs); `make lab` boots the lab.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

test:  ## everything: host packages, unit, lint, sanity, lab, integration, molecule, bench figures
	scripts/run-tests

unit lint sanity integration molecule:  ## one stage of the suite
	scripts/run-tests host-deps venv $(if $(filter integration molecule,$@),lab) $@

lab:  ## build the image if needed, boot the lab, run site.yml against it, show how requests spread
	scripts/host-deps
	scripts/venv .venv requirements-dev.txt
	scripts/collections-link
	tools/lab up
	tools/lab inventory
	tools/lab exec -- .venv/bin/ansible-playbook site.yml
	$(MAKE) --no-print-directory spread

spread:  ## 200 requests from the client guest through the VIP, counted by answering real server
	tools/lab ssh client 'for i in $$(seq 200); do curl -s --max-time 2 http://192.0.2.50/; done | sort | uniq -c'
	tools/lab ssh dir1 ipvsadm -Ln --stats

lab-down:  ## stop the lab's guests and remove its network
	tools/lab down

bench:  ## parse/plan benchmark of a 10,000 real-server table
	scripts/venv .venv requirements-dev.txt
	scripts/collections-link
	.venv/bin/python benchmarks/bench_ipvs_plan.py

.PHONY: help test unit lint sanity integration molecule lab lab-down bench spread
