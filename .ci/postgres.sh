# shellcheck shell=bash
# Starts a throwaway PostgreSQL for the feedback store's tests and exports
# KRATOMBOT_TEST_POSTGRES_DSN. Use it as `source .ci/postgres.sh` (it also
# runs as `bash .ci/postgres.sh`, printing the DSN, but then the server is
# stopped again when the script ends).
#
# It installs PostgreSQL from Debian's packages when missing, runs the server
# as a non-root user on 127.0.0.1 on a free port, with its data in a temporary
# folder, creates a database, and stops the server and removes the folder on
# exit (kratombot_pg_stop does it earlier). An already set
# KRATOMBOT_TEST_POSTGRES_DSN is left alone.

kratombot_pg_start() {
	local bindir user data port pw i
	if [ -n "${KRATOMBOT_TEST_POSTGRES_DSN:-}" ]; then
		echo "postgres.sh: KRATOMBOT_TEST_POSTGRES_DSN is already set; using it" >&2
		return 0
	fi
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
		echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		# the package's own cluster is not needed; ours lives in a temp folder
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 || return 1
		bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
		if [ -z "$bindir" ]; then
			echo "postgres.sh: PostgreSQL was installed but /usr/lib/postgresql/*/bin is missing" >&2
			return 1
		fi
	fi

	# PostgreSQL refuses to run as root: use the package's postgres user.
	kratombot_run_pg() { "$@"; }
	if [ "$(id -u)" -eq 0 ]; then
		user=postgres
		if ! id "$user" >/dev/null 2>&1; then
			echo "postgres.sh: running as root and there is no postgres user to run the server" >&2
			return 1
		fi
		kratombot_run_pg() { runuser -u postgres -- "$@"; }
	fi

	data=$(mktemp -d /tmp/kratombot-pg.XXXXXX) || return 1
	chmod 700 "$data"
	if [ -n "${user:-}" ]; then chown "$user" "$data"; fi
	pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" >"$data/.pw"
	if [ -n "${user:-}" ]; then chown "$user" "$data/.pw"; fi
	if ! kratombot_run_pg "$bindir/initdb" -D "$data/db" -U kratombot --pwfile="$data/.pw" \
		--auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1; then
		echo "postgres.sh: initdb failed:" >&2
		cat "$data/initdb.log" >&2
		rm -rf "$data"
		return 1
	fi
	rm -f "$data/.pw"

	for i in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 7 + i * 131) % 40000))
		# a port someone answers on is taken
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		if kratombot_run_pg "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
			start >/dev/null 2>&1; then
			break
		fi
		port=""
	done
	if [ -z "$port" ]; then
		echo "postgres.sh: the server would not start; its log:" >&2
		tail -n 30 "$data/server.log" >&2
		rm -rf "$data"
		return 1
	fi
	if ! kratombot_run_pg "$bindir/createdb" -h "$data" -p "$port" -U kratombot kratombot_test; then
		echo "postgres.sh: could not create the test database" >&2
		kratombot_run_pg "$bindir/pg_ctl" -D "$data/db" -m immediate stop >/dev/null 2>&1
		rm -rf "$data"
		return 1
	fi

	KRATOMBOT_PG_DATA=$data
	KRATOMBOT_PG_BIN=$bindir
	export KRATOMBOT_TEST_POSTGRES_DSN="postgres://kratombot:$pw@127.0.0.1:$port/kratombot_test?sslmode=disable"
	echo "postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
	echo "KRATOMBOT_TEST_POSTGRES_DSN=$KRATOMBOT_TEST_POSTGRES_DSN"
	# stop it when the shell that sourced this ends, unless it traps EXIT itself
	if [ -z "$(trap -p EXIT)" ]; then
		trap kratombot_pg_stop EXIT
	else
		echo "postgres.sh: an EXIT trap is already set; call kratombot_pg_stop when done" >&2
	fi
}

# kratombot_pg_stop stops the server started above and removes its data.
kratombot_pg_stop() {
	[ -n "${KRATOMBOT_PG_DATA:-}" ] || return 0
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$KRATOMBOT_PG_BIN/pg_ctl" -D "$KRATOMBOT_PG_DATA/db" -m fast -w stop >/dev/null 2>&1
	else
		"$KRATOMBOT_PG_BIN/pg_ctl" -D "$KRATOMBOT_PG_DATA/db" -m fast -w stop >/dev/null 2>&1
	fi
	rm -rf "$KRATOMBOT_PG_DATA"
	unset KRATOMBOT_PG_DATA KRATOMBOT_TEST_POSTGRES_DSN
}

kratombot_pg_start
