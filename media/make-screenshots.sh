#!/usr/bin/env bash
# Makes the README screenshots: runs `mxdash --demo` in a private tmux server at 80x24 with
# colours, captures the grid, a host's Summary pane and its Transcript pane, and turns each
# capture into an SVG (media/ansi-to-svg.mjs). Needs tmux and Node; no network, no root.
#
#   bash media/make-screenshots.sh        → media/grid.svg, media/detail.svg, media/transcript.svg, media/policy.svg
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$root"

command -v tmux >/dev/null || { echo "make-screenshots: tmux is not installed (bash .ci/setup-peers.sh installs it)" >&2; exit 1; }

# Build when dist/ is missing or older than any source file.
if [[ ! -f dist/cli.js ]] || [[ -n $(find source -newer dist/cli.js -print -quit) ]]; then
	npm run build --silent
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mxdash-shots.XXXXXX")
session=shots
cat >"$work/tmux.conf" <<'EOF'
set -g status off
set -g remain-on-exit on
set -g default-terminal tmux-256color
EOF

# A private server whose socket goes away with the work directory.
tm() { tmux -S "$work/tmux.sock" -f "$work/tmux.conf" "$@"; }
cleanup() {
	tm kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# wait_for DESCRIPTION TIMEOUT_SECONDS GREP_ARGS…: poll the screen every 50 ms until it matches.
wait_for() {
	local what=$1 seconds=$2
	shift 2
	local tries=$((seconds * 20))
	while ((tries-- > 0)); do
		if tm capture-pane -p -t "$session" | grep -q "$@"; then
			return 0
		fi
		sleep 0.05
	done
	echo "make-screenshots: timed out waiting for $what; the screen was:" >&2
	tm capture-pane -p -t "$session" >&2
	exit 1
}

# One key per send-keys: Ink misses keys that arrive together in one chunk.
press() { tm send-keys -t "$session" "$1"; }

capture() { tm capture-pane -e -p -N -t "$session" >"$work/$1.ans"; }

# A fresh config dir, colours on (no NO_COLOR, no CI: Ink draws only the last frame in CI).
tm new-session -d -s "$session" -x 80 -y 24 -c "$root" \
	"env -u NO_COLOR -u CI -u CONTINUOUS_INTEGRATION -u FORCE_COLOR TERM=xterm-256color MXDASH_CONFIG_DIR='$work' node dist/cli.js --demo"

wait_for 'the grid' 10 -F 'MX host'
# The first round is over when the status bar says when it finished.
wait_for 'the first round' 30 -E '^ mxdash .* last [0-9]'
capture grid

press Down
# Under its domain row the host may be named by what the row leaves unsaid (`mx1`).
wait_for 'the selection on mx1.healthy.demo' 10 -E '^› ([0-9]+ )?mx1( |\.he)'
press Enter
wait_for 'the Summary pane' 10 -F '[1 Summary]'
capture detail

press 2
wait_for 'the Transcript pane' 10 -F '→ EHLO'
capture transcript

press 5
wait_for 'the Policy pane' 10 -F '[5 Policy]'
capture policy

press q
for ((tries = 200; tries > 0; tries--)); do
	[[ $(tm display-message -p -t "$session" '#{pane_dead}') == 1 ]] && break
	sleep 0.05
done

for name in grid detail transcript policy; do
	node "$here/ansi-to-svg.mjs" "$work/$name.ans" "$here/$name.svg" --cols 80 --rows 24
	echo "media/$name.svg"
done
