# Developer entry points. `make test` is the whole suite (what CI runs); `make lab` boots the lab.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

test:  ## everything: host packages, unit, lint, sanity, bench, lab, integration, cluster, ha, heartbeat, site, molecule, qemu, nginx, core221, trixie, ee
	scripts/run-tests

unit lint sanity integration cluster ha heartbeat site molecule qemu nginx core221 trixie ee:  ## one stage of the suite (with what it needs first)
	LVS_TEST_BESIDE= scripts/run-tests host-deps venv $(if $(filter integration,$@),lab) $@

venv:  ## the virtual environment with the suite's tools (.venv)
	scripts/venv .venv requirements-dev.txt
	scripts/collections-link
	scripts/docker-collections

# LVS mode of the lab cluster (dr, nat or tun; inventories/lab/group_vars/all.yml), and the lab's other topology
# if any: TOPOLOGY=keepalived_pair, nginx_pair or heartbeat_pair (a switch in inventories/lab-topologies).
MODE ?= dr
TOPOLOGY ?=

lab:  ## build the image if needed, boot the lab, run site.yml against it, show how requests spread
	scripts/host-deps
	$(MAKE) --no-print-directory venv
	tools/lab up
	. scripts/test-env.sh && tools/lab exec -- .venv/bin/ansible-playbook site.yml -e lvs_mode=$(MODE) \
		$(if $(TOPOLOGY),-i inventories/lab -i inventories/lab-topologies/$(TOPOLOGY).yml)
	$(MAKE) --no-print-directory spread

spread:  ## 200 requests from the client guest through each VIP that answers, counted by answering host
	scripts/spread

lab-down:  ## stop the lab's guests and remove its network
	tools/lab down

bench: venv  ## parse/plan benchmark of a 10,000 real-server table
	.venv/bin/python benchmarks/bench_ipvs_plan.py

bench-lab: venv  ## ipvs_rules on a 1,000 x 10 table on a lab director: times, ratios, memory, profile
	tools/lab up dir1
	tools/lab exec -- .venv/bin/python benchmarks/bench_ipvs_rules.py --profile

.PHONY: help test unit lint sanity integration cluster ha heartbeat site molecule qemu nginx venv lab lab-down bench bench-lab spread
