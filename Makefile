# Developer entry points. `make test` is the whole suite (what CI runs); `make lab` boots the lab.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

test:  ## everything: host packages, unit, lint, sanity, bench, lab, integration, cluster, ha, heartbeat, molecule, qemu, nginx
	scripts/run-tests

unit lint sanity integration cluster ha heartbeat molecule qemu nginx:  ## one stage of the suite (with what it needs first)
	LVS_TEST_BESIDE= scripts/run-tests host-deps venv $(if $(filter integration,$@),lab) $@

venv:  ## the virtual environment with the suite's tools (.venv)
	scripts/venv .venv requirements-dev.txt
	scripts/collections-link
	scripts/docker-collections

# LVS mode of the lab cluster (dr, nat or tun) and its HTTP VIP (inventories/lab/group_vars/all.yml).
MODE ?= dr
VIP_dr = 192.0.2.50
VIP_tun = 192.0.2.60
VIP_nat = 203.0.113.50

lab:  ## build the image if needed, boot the lab, run site.yml against it, show how requests spread
	scripts/host-deps
	$(MAKE) --no-print-directory venv
	tools/lab up
	tools/lab inventory
	. scripts/test-env.sh && tools/lab exec -- .venv/bin/ansible-playbook site.yml -e lvs_mode=$(MODE)
	$(MAKE) --no-print-directory spread

spread:  ## 200 requests from the client guest through the VIP, counted by answering real server
	tools/lab ssh client 'for i in $$(seq 200); do curl -s --max-time 2 http://$(VIP_$(MODE))/; done | sort | uniq -c'
	tools/lab ssh dir1 ipvsadm -Ln --stats -t $(VIP_$(MODE)):80

lab-down:  ## stop the lab's guests and remove its network
	tools/lab down

bench: venv  ## parse/plan benchmark of a 10,000 real-server table
	.venv/bin/python benchmarks/bench_ipvs_plan.py

.PHONY: help test unit lint sanity integration cluster ha heartbeat molecule qemu nginx venv lab lab-down bench spread
