#!/usr/bin/env bash
# Chapter 02: what the installed daemon reports about this host.
set -euo pipefail
show sysctl net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables
show minidocker info
