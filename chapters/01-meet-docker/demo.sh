#!/usr/bin/env bash
# Chapter 01: the client and the daemon are two programs.
set -euo pipefail
show minidocker version
show ps -o pid,args -C minidocker
