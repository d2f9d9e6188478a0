#!/bin/sh
# What the heartbeat_ha role checks on a node before it writes anything, one fact per line:
#   heartbeat-probe.sh VIP NODE... -- SERVICE...
# VIP: the first VIP (address/prefix) or '-'; NODE: the cluster's node names; SERVICE: the services
# heartbeat is to carry.
vip=$1
shift
echo "uname $(uname -n)"
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    echo "resolves $1 $(getent hosts "$1" | awk '{print $1; exit}')"
    shift
done
[ $# -gt 0 ] && shift
for link in /sys/class/net/*; do
    echo "interface ${link##*/}"
done
if [ "$vip" != - ]; then
    echo "vip_interface $(ip -o addr show to "$vip" | awk '{print $2; exit}')"
fi
for service in "$@"; do
    if [ "$(systemctl show -P LoadState "$service.service")" = loaded ]; then
        echo "service $service present"
    else
        echo "service $service missing"
    fi
done
if systemctl -q is-active heartbeat; then echo "active yes"; else echo "active no"; fi
