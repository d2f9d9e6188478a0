"""boot_unit's command lines: an argument list written so that systemd reads the same words back."""

from __future__ import annotations

import shlex

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.linux_cluster.lvs.plugins.filter.systemd import systemd_argv


@pytest.mark.parametrize(("words", "line"), [
    (["/usr/sbin/ip", "addr", "replace", "192.0.2.50/32", "dev", "lo"],
     "/usr/sbin/ip addr replace 192.0.2.50/32 dev lo"),
    (["/usr/sbin/iptables", "-m", "comment", "--comment", "linux_cluster.lvs fwmark 10"],
     '/usr/sbin/iptables -m comment --comment "linux_cluster.lvs fwmark 10"'),
    (["/bin/echo", 'say "hi"'], r'/bin/echo "say \"hi\""'),
    (["/bin/echo", "a;b", ";"], '/bin/echo "a;b" ";"'),
    (["/bin/echo", "100%", "$HOME"], "/bin/echo 100%% $$HOME"),
    (["/bin/echo", ""], '/bin/echo ""'),
    (["/bin/echo", 80], "/bin/echo 80"),
])
def test_words_as_systemd_reads_them(words, line):
    assert systemd_argv(words) == line


@pytest.mark.parametrize("words", [["/bin/echo", "a b", 'c"d', "e\\f", "g;h", "it's"]])
def test_the_words_come_back(words):
    assert shlex.split(systemd_argv(words)) == words


@pytest.mark.parametrize("words", [[], "not a list", ["/bin/echo", "two\nlines"]])
def test_refused(words):
    with pytest.raises(AnsibleFilterError):
        systemd_argv(words)
