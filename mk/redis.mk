## redis-server for the Redis store's tests (core/tests/fleet_refresh.rs starts its own on a free
## loopback port, without persistence). They fail under CI=true when it is missing, so `unit`
## installs it first (Debian, as root or through sudo).
.PHONY: redis-server

redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

unit: redis-server
