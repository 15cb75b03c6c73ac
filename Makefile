# Every install step lives here: a fresh clone needs only `make serve` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-postgres check lint format typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/chatroom serve

# The browser tests drive Debian's chromium (Playwright never downloads a browser here),
# one terminal test drives tmux, and the store tests start a throwaway PostgreSQL 15
# (initdb and pg_ctl from postgresql-15, tests/postgres_server.py), the cluster tests a
# throwaway redis-server (tests/redis_server.py), the interop tests (tests/interop) real
# WeeChat (weechat-headless), Irssi (in tmux) and a throwaway ZNC; all come from Debian's
# packages. `make serve` needs none of them: SQLite is built in.
PG_BIN := /usr/lib/postgresql/15/bin
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/tmux $(PG_BIN)/initdb /usr/bin/redis-server \
	/usr/bin/weechat-headless /usr/bin/irssi /usr/bin/znc

$(SYSTEM_TOOLS):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium tmux postgresql-15 redis-server \
		weechat-headless irssi znc

test: $(STAMP) $(SYSTEM_TOOLS)
	$(BIN)/pytest

# The integration suite once more with every server it starts on PostgreSQL instead of
# the SQLite files (tests/realserver.py); `make test` runs the store, CLI and crash tests
# on both backends already.
test-postgres: $(STAMP) $(SYSTEM_TOOLS)
	CHATROOM_TEST_STORE=postgres $(BIN)/pytest tests/integration

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench fuzz
	$(BIN)/ruff check src tests bench fuzz

format: $(STAMP)
	$(BIN)/ruff format src tests bench fuzz
	$(BIN)/ruff check --fix src tests bench fuzz

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache

# Side-by-side load test against ngIRCd, InspIRCd, ircd-hybrid and miniircd (see
# docs/benchmarks.md);
# ChatRoom runs as `chatroom serve` with a generated config (limits.* lifted), plus a SASL
# login scenario of its own. Peers: Debian packages, plus a separate venv (bench/.peers)
# for miniircd and py-spy, so nothing lands in the project venv. Moderate defaults: a few
# minutes on 2 cores. `make bench-profile` samples ChatRoom with py-spy during fan-out.
PEERS := bench/.peers
# ircd-hybrid: Debian's package, but ngircd's package conflicts with it (both provide
# "ircd"), so its .deb is unpacked into bench/.peers/hybrid instead of installed; its
# libraries are installed. compare.py runs it from there (modules path in its config), in a
# private mount namespace whose resolv.conf points at bench/nxdns.py (see docs/benchmarks.md).
HYBRID := $(PEERS)/hybrid/usr/sbin/ircd-hybrid
BENCH_ARGS ?= --seconds 5 --idle-connections 5000 --out bench/results/latest.json

.PHONY: bench-peers bench-profile
bench-peers:
	@command -v ngircd >/dev/null && command -v inspircd >/dev/null && \
		test -e /usr/lib/x86_64-linux-gnu/libltdl.so.7 -o -e /usr/lib/aarch64-linux-gnu/libltdl.so.7 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
			ngircd inspircd libltdl7 libgnutls30 libcrypt1)
	@test -x $(HYBRID) || (mkdir -p $(PEERS)/hybrid && cd $(PEERS) && \
		rm -f ircd-hybrid_*.deb && apt-get download ircd-hybrid && \
		dpkg-deb -x ircd-hybrid_*.deb hybrid && rm -f ircd-hybrid_*.deb)
	@test -x $(PEERS)/bin/miniircd && test -x $(PEERS)/bin/py-spy || \
		($(PYTHON) -m venv $(PEERS) && $(PEERS)/bin/pip install --quiet miniircd py-spy)

bench: $(STAMP) bench-peers
	$(BIN)/python bench/compare.py $(BENCH_ARGS)

bench-profile: $(STAMP) bench-peers
	$(BIN)/python bench/profile_fanout.py --seconds 8
