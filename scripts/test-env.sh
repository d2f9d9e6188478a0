# shellcheck shell=bash
# Sourced by scripts/run-tests and the Makefile: how the test suite runs Ansible against lab guests.
# Mitogen's strategy keeps one Python interpreter per guest for a whole playbook instead of
# starting one per task, which is most of a task's cost on a User-Mode Linux guest (measured:
# site.yml on five guests 203 s -> 101 s, a no-op re-run 122 s -> 33 s; docs/testing.md).
# The collection never needs it: LVS_TEST_STRATEGY=linear runs the suite with Ansible's own strategy.
root=${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [ "${LVS_TEST_STRATEGY:-mitogen_linear}" != linear ] && [ -x "$root/.venv/bin/python" ]; then
    strategies=$("$root/.venv/bin/python" -c \
        'import os, ansible_mitogen; print(os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy"))' \
        2>/dev/null) || strategies=""
    if [ -n "$strategies" ]; then
        export ANSIBLE_STRATEGY_PLUGINS=$strategies
        export ANSIBLE_STRATEGY=${LVS_TEST_STRATEGY:-mitogen_linear}
    fi
fi
