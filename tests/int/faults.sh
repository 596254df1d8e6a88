# shellcheck shell=bash
# tests/int/faults.sh: registry faults.  Each case puts tests/faultproxy.py (HTTPS, the fixture's
# CA) in front of a real local registry, picks a fault by writing the proxy's mode file, and checks
# how dock's pull ends: a clear error (message and exit status) or success, and a store with no
# partial image and nothing left in tmp/.  Certificate faults (wrong name, expired, unknown CA) are
# t_pull_tls_failures in pull.sh.

# _fp_start VAR UPSTREAM: a fault proxy in front of UPSTREAM (host:port, HTTPS with the test CA).
# Sets VAR=127.0.0.1:PORT, VAR_MODE (the mode file; starts empty: no fault) and VAR_LOG.
_fp_start() {
	local var=$1 up=$2 port _
	port=$(free_port)
	printf -v "$var" '127.0.0.1:%s' "$port"
	printf -v "${var}_MODE" '%s' "$T/$var.mode"
	printf -v "${var}_LOG" '%s' "$T/$var.log"
	: >"$T/$var.mode"
	spawn python3 "$FIX_TESTS_DIR/faultproxy.py" --cert "$FIX_CERTS/server.crt" \
		--key "$FIX_CERTS/server.key" --ca "$CA_FILE" --upstream "$up" --port "$port" \
		--mode "$T/$var.mode" --log "$T/$var.log"
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	flunk "faultproxy on port $port did not start"
}

# fault JSON: the fault for the next requests (to the first proxy, FP).
fault() { printf '%s\n' "$1" >"$FP_MODE"; }

# The digest of IMAGE's first layer, or of its config with "config".
_layer_digest() { # IMAGE [config]
	local q='.layers[0].digest'
	[ "${2:-}" = config ] && q=.config.digest
	reg_curl -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG/v2/$1/manifests/latest" | jq -r "$q"
}

# No image, no layer, no blob, nothing in tmp/: a failed pull left the store as it was.
_store_clean() {
	local d
	for d in images layers tmp; do
		assert_eq "" "$(ls -A "$DOCK_ROOT/$d" 2>/dev/null)" "$d/ after a failed pull"
	done
	assert_eq "" "$(find "$DOCK_ROOT/blobs" ! -type d 2>/dev/null)" "blobs/ after a failed pull"
}

# _pull_fails CMD...: exit status 1 and a last stderr line "dock: ..." (warnings about retries and
# resumptions may come before it).  Sets OUT ERR (all of stderr) LAST (its last line) RC.
_pull_fails() {
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	LAST=$(tail -n 1 "$T/.err")
	[ "$RC" = 1 ] || flunk "expected exit 1, got $RC: $*$(_fix_show_out)"
	[[ $LAST == "dock: "* && $LAST != "dock: warning"* ]] ||
		flunk "last stderr line should be dock's error: $*$(_fix_show_out)"
}

t_fault_wrong_bytes() {
	_fp_start FP "$REG"
	fault '{"fault": "corrupt", "match": "'"$(_layer_digest busybox)"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" "^dock: pull $FP/busybox: layer 1/1: blob digest mismatch: expected sha256:"
	_store_clean
	grep -q '^FAULT corrupt' "$FP_LOG" || flunk "the fault never fired"
	# the config too: checked before anything is unpacked
	fault '{"fault": "corrupt", "match": "'"$(_layer_digest busybox config)"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "config sha256:"
	assert_contains "$ERR" "blob digest mismatch"
	_store_clean
}

t_fault_blob_longer_than_declared() {
	local d
	d=$(_layer_digest busybox)
	_fp_start FP "$REG"
	# Content-Length says so: refused before a byte is unpacked
	fault '{"fault": "long", "extra": 5000, "match": "'"$d"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" "layer 1/1: the registry sends [0-9]+ bytes, the manifest declares [0-9]+$"
	_store_clean
	# chunked, no length: stopped at the declared size
	fault '{"fault": "long", "extra": 5000, "chunked": true, "match": "'"$d"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" "layer 1/1: blob is longer than the [0-9]+ bytes the manifest declares$"
	_store_clean
}

t_fault_blob_shorter_than_declared() {
	local d
	d=$(_layer_digest busybox)
	_fp_start FP "$REG"
	fault '{"fault": "short", "match": "'"$d"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" "layer 1/1: the registry sends [0-9]+ bytes, the manifest declares [0-9]+$"
	_store_clean
	# no length: the end comes early, said as such (not as a gzip error)
	fault '{"fault": "short", "chunked": true, "match": "'"$d"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" "layer 1/1: blob ended after [0-9]+ of the [0-9]+ bytes the manifest declares$"
	_store_clean
}

t_fault_manifest_differs() {
	local d
	d=$(manifest_digest busybox)
	_fp_start FP "$REG"
	fault '{"fault": "manifest_differs"}'
	expect_fail dock pull "$FP/busybox@$d" || return 1
	assert_match "$ERR" "^dock: pull $FP/busybox@$d: manifest digest mismatch: asked for $d, got sha256:[0-9a-f]{64}$"
	_store_clean
	# by tag: the registry's Docker-Content-Digest is checked
	fault '{"fault": "manifest_differs", "match": "/manifests/latest"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "manifest digest mismatch: the registry says $d, got sha256:"
	_store_clean
	# an index entry's manifest that differs from the digest the index names
	fault '{"fault": "manifest_differs", "match": "/manifests/sha256:"}'
	expect_fail dock pull "$FP/multiarch" || return 1
	assert_contains "$ERR" "manifest digest mismatch: asked for sha256:"
	_store_clean
	: >"$FP_MODE"
	expect_ok dock pull -q "$FP/busybox@$d" || return 1
}

t_fault_config_diff_ids() {
	_fp_start FP "$REG"
	fault '{"fault": "rewrite", "diff_ids": "extra"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: image config lists 2 diff_ids for 1 layers" "$ERR"
	_store_clean
	fault '{"fault": "rewrite", "diff_ids": "wrong"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "layer 1/1: uncompressed layer does not match the config's diff_id: expected sha256:2222"
	_store_clean
	# an oversized config
	fault '{"fault": "rewrite", "diff_ids": "big"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" ": config sha256:[0-9a-f]{12}: blob sha256:[0-9a-f]{12} larger than 8388608 bytes$"
	_store_clean
}

t_fault_malformed_digests() {
	local d up
	d=$(_layer_digest busybox)
	up=sha256:$(tr a-f A-F <<<"${d#sha256:}")
	_fp_start FP "$REG"
	fault '{"fault": "rewrite", "set": {"layers.0.digest": "sha256:../../x"}}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: manifest: layer 1: invalid digest sha256:../../x" "$ERR"
	_store_clean
	fault '{"fault": "rewrite", "set": {"layers.0.digest": "'"$up"'"}}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: manifest: layer 1: invalid digest $up" "$ERR"
	fault '{"fault": "rewrite", "set": {"config.digest": "sha256:../../../../etc/passwd"}}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: manifest: invalid config digest sha256:../../../../etc/passwd" "$ERR"
	fault '{"fault": "rewrite", "set": {"config.digest": "sha512:'"${d#sha256:}${d#sha256:}"'"}}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "manifest: invalid config digest sha512:"
	# an index entry (amd64 is the second)
	fault '{"fault": "rewrite", "set": {"manifests.1.digest": "sha256:../../x"}}'
	expect_fail dock pull --platform linux/amd64 "$FP/multiarch" || return 1
	assert_eq "dock: pull $FP/multiarch: index: invalid digest sha256:../../x" "$ERR"
	_store_clean
	# in the reference itself
	expect_fail dock pull "$FP/busybox@$up" || return 1
	assert_contains "$ERR" "invalid reference format"
	# nothing was ever asked for outside the repository's own paths
	assert_not_contains "$(grep '^REQ' "$FP_LOG")" ".."
}

t_fault_oversized_manifest() {
	_fp_start FP "$REG"
	fault '{"fault": "big_manifest", "size": 5000000}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: manifest larger than 4194304 bytes" "$ERR"
	fault '{"fault": "big_manifest", "size": 5000000, "chunked": true}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: manifest larger than 4194304 bytes" "$ERR"
	_store_clean
	# under the cap is fine
	fault '{"fault": "big_manifest", "size": 3000000}'
	expect_ok dock pull -q "$FP/busybox" || return 1
}

t_fault_redirect_cross_host() {
	# the registry needs Basic auth; its blobs redirect to a second host (another proxy, in front
	# of the open registry on the same storage) that must never see the credentials
	_fp_start FP "$REG_BASIC"
	_fp_start FP2 "$REG"
	export DOCKER_CONFIG=$T/docker
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$FP" \
		"$(printf '%s:%s' "$BASIC_USER" "$BASIC_PASS" | base64 -w0)" >"$DOCKER_CONFIG/config.json"
	fault '{"fault": "redirect", "to": "https://'"$FP2"'"}'
	# and the second host cuts the layer once: the resumption goes through the registry again
	printf '{"fault": "cut", "count": 1, "at": 70000, "match": "%s"}\n' "$(_layer_digest busybox)" \
		>"$FP2_MODE"
	expect_ok dock pull "$FP/busybox" || return 1
	assert_contains "$OUT" "Pull complete"
	assert_contains "$ERR" "resuming at byte 70000"
	grep -qi '^H Authorization: Basic' "$FP_LOG" || flunk "the first host never got the credentials"
	grep -q '^REQ GET /v2/busybox/blobs/' "$FP2_LOG" || flunk "the second host was never asked"
	assert_eq "H Range: bytes=70000-" "$(grep '^H Range' "$FP2_LOG")" "the resumption at the second host"
	assert_not_contains "$(cat "$FP2_LOG")" "uthorization" "the second host's log"
}

t_fault_redirect_cross_host_token() {
	# the same with a Bearer token from the token server
	_fp_start FP "$REG_TOKEN"
	_fp_start FP2 "$REG"
	fault '{"fault": "redirect", "to": "https://'"$FP2"'"}'
	expect_ok dock pull -q "$FP/public/busybox" || return 1
	grep -qi '^H Authorization: Bearer' "$FP_LOG" || flunk "the first host never got a token"
	grep -q '^REQ GET /v2/public/busybox/blobs/' "$FP2_LOG" || flunk "the second host was never asked"
	assert_not_contains "$(cat "$FP2_LOG")" "uthorization" "the second host's log"
}

# Certificate faults of the hosts a registry sends dock on to (its own are t_pull_tls_failures).
t_fault_redirect_bad_cert() {
	_fp_start FP "$REG"
	fault '{"fault": "redirect", "to": "https://'"$REG_EXPIRED"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "GET https://$REG_EXPIRED/v2/busybox/blobs/sha256:"
	assert_contains "$ERR" "certificate has expired or is not yet valid"
	fault '{"fault": "redirect", "to": "https://'"$REG_WRONGNAME"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "certificate is valid for other names, not 127.0.0.1"
	fault '{"fault": "redirect", "to": "https://'"$REG_OTHERCA"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "certificate signed by unknown authority"
	fault '{"fault": "realm", "realm": "https://'"$REG_OTHERCA"'/token"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "token service: GET https://$REG_OTHERCA/token?"
	assert_contains "$ERR" "certificate signed by unknown authority"
	_store_clean
}

t_fault_redirect_https_to_http() {
	_fp_start FP "$REG"
	fault '{"fault": "redirect", "to": "http://'"$REG_PLAIN"'"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "refusing redirect from https to plain http://$REG_PLAIN"
	_store_clean
	# nor anywhere but http(s)
	fault '{"fault": "redirect", "to": "file:///etc/passwd", "exact": true}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "redirect: file:///etc/passwd: not an http:// or https:// URL"
	_store_clean
}

t_fault_redirect_chain() {
	_fp_start FP "$REG"
	fault '{"fault": "chain", "hops": 11}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "stopped after 10 redirects"
	assert_contains "$ERR" "/r/10/v2/busybox/blobs/sha256:"
	_store_clean
	: >"$FP_LOG"
	fault '{"fault": "chain", "hops": 10}'
	expect_ok dock pull -q "$FP/busybox" || return 1
	# config and layer, each served after its tenth hop
	assert_eq 2 "$(grep -c '^REQ GET /r/10/' "$FP_LOG")" "requests at the last hop"
}

t_fault_token_realm_link_local() {
	local realm
	_fp_start FP "$REG"
	export DOCK_HTTP_TIMEOUT=2
	for realm in "https://169.254.169.254/token" "https://[fe80::1]/token" \
		"https://[::ffff:169.254.1.1]:8443/token" "http://169.254.0.1/t?x=1" \
		"https://2852039166/token" "https://0xa9.0xfe.0xa9.0xfe/token"; do
		fault '{"fault": "realm", "realm": "'"$realm"'"}'
		expect_fail dock pull "$FP/busybox" || return 1
		assert_contains "$ERR" "refusing token realm $realm: link-local address"
	done
	_store_clean
	# a realm on the registry's own loopback is asked (and its refusal reported)
	fault '{"fault": "realm", "realm": "https://'"$FP"'/token"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_contains "$ERR" "token service"
}

t_fault_retry_503() {
	local t0 t1
	_fp_start FP "$REG"
	fault '{"fault": "status", "code": 503, "count": 2, "retry_after": "1", "match": "/manifests/"}'
	t0=$(date +%s%N)
	expect_ok dock pull -q "$FP/busybox" || return 1
	t1=$(date +%s%N)
	assert_contains "$ERR" "HTTP 503, retrying in 1000 ms (1/3)"
	assert_contains "$ERR" "HTTP 503, retrying in 1000 ms (2/3)"
	[ $(((t1 - t0) / 1000000)) -ge 1900 ] || flunk "Retry-After not waited for: $(((t1 - t0) / 1000000)) ms"
	assert_eq 3 "$(grep -c '^REQ GET /v2/busybox/manifests/latest' "$FP_LOG")" "manifest requests"
	# more than the retries: the registry's status is the error
	rm -rf "$DOCK_ROOT"
	fault '{"fault": "status", "code": 503, "retry_after": "0", "match": "/manifests/"}'
	_pull_fails dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: try again later (503)" "$LAST"
	_store_clean
}

t_fault_retry_429() {
	local t0 t1
	_fp_start FP "$REG"
	fault '{"fault": "status", "code": 429, "count": 1, "retry_after": "1", "match": "/blobs/"}'
	t0=$(date +%s%N)
	expect_ok dock pull -q "$FP/busybox" || return 1
	t1=$(date +%s%N)
	assert_contains "$ERR" "HTTP 429, retrying in 1000 ms (1/3)"
	[ $(((t1 - t0) / 1000000)) -ge 950 ] || flunk "Retry-After not waited for"
}

t_fault_cut_resume_range() {
	local d ranges
	d=$(_layer_digest layered)
	_fp_start FP "$REG"
	# cut three times, at 64 KiB: each resumption asks for the rest with Range and gets 206
	fault '{"fault": "cut", "count": 3, "at": 65536, "match": "'"$d"'"}'
	if [ -x /usr/bin/time ]; then
		expect_ok /usr/bin/time -f 'maxrss %M' -o "$T/rss" "$DOCK" pull -q "$FP/layered" || return 1
		# still a stream: a few MiB, whatever the layers' sizes
		[ "$(awk '{print $2}' "$T/rss")" -lt 16384 ] || flunk "peak memory: $(cat "$T/rss") KiB"
	else
		expect_ok dock pull -q "$FP/layered" || return 1
	fi
	assert_contains "$ERR" "resuming at byte 65536"
	assert_contains "$ERR" "resuming at byte 131072"
	assert_contains "$ERR" "resuming at byte 196608"
	ranges=$(grep -i '^H Range:' "$FP_LOG")
	assert_eq $'H Range: bytes=65536-\nH Range: bytes=131072-\nH Range: bytes=196608-' "$ranges" \
		"Range requests (nothing asked for from byte 0 twice)"
	assert_eq 4 "$(grep -c "^REQ GET /v2/layered/blobs/$d" "$FP_LOG")" "requests for the blob"
	expect_ok dock unpack "$FP/layered" "$T/u" || return 1
	assert_file "$T/u/data/keep.txt" keep
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/"
}

t_fault_cut_chunked() {
	local d
	d=$(_layer_digest busybox)
	_fp_start FP "$REG"
	# a chunked body cut mid-chunk: resumed the same way
	fault '{"fault": "cut", "count": 1, "at": 300001, "chunked": true, "match": "'"$d"'"}'
	expect_ok dock pull -q "$FP/busybox" || return 1
	assert_contains "$ERR" "resuming at byte 300001"
	assert_eq "H Range: bytes=300001-" "$(grep -i '^H Range:' "$FP_LOG")"
}

t_fault_cut_small_documents() {
	local c
	c=$(_layer_digest busybox config)
	_fp_start FP "$REG"
	# manifest and config are fetched again whole
	fault '{"fault": "cut", "count": 1, "at": 100, "match": "/manifests/"}'
	expect_ok dock pull -q "$FP/busybox" || return 1
	assert_eq 2 "$(grep -c '^REQ GET /v2/busybox/manifests/latest' "$FP_LOG")" "manifest requests"
	rm -rf "$DOCK_ROOT"
	: >"$FP_LOG"
	fault '{"fault": "cut", "count": 1, "at": 100, "match": "'"$c"'"}'
	expect_ok dock pull -q "$FP/busybox" || return 1
	assert_eq 2 "$(grep -c "^REQ GET /v2/busybox/blobs/$c" "$FP_LOG")" "config requests"
	# cut every time: an error after three tries
	rm -rf "$DOCK_ROOT"
	fault '{"fault": "cut", "at": 100, "match": "/manifests/"}'
	expect_fail dock pull "$FP/busybox" || return 1
	assert_match "$ERR" "connection closed with [0-9]+ body bytes still to come$"
	_store_clean
}

t_fault_cut_no_range() {
	local d
	d=$(_layer_digest busybox)
	_fp_start FP "$REG"
	# the server ignores Range: the second answer is the whole blob again, its first part dropped
	fault '{"fault": "cut", "count": 1, "at": 100000, "range": false, "match": "'"$d"'"}'
	expect_ok dock pull -q "$FP/busybox" || return 1
	assert_contains "$ERR" "resuming at byte 100000"
	assert_eq 2 "$(grep -c "^REQ GET /v2/busybox/blobs/$d" "$FP_LOG")" "requests for the blob"
	expect_ok dock unpack "$FP/busybox" "$T/u" || return 1
	assert_file "$T/u/bin/busybox"
	# cut every time: three resumptions without progress, then a clear error
	rm -rf "$DOCK_ROOT"
	fault '{"fault": "cut", "at": 100000, "range": false, "match": "'"$d"'"}'
	_pull_fails dock pull "$FP/busybox" || return 1
	assert_match "$LAST" "layer 1/1: connection closed with [0-9]+ body bytes still to come$"
	_store_clean
}

t_fault_stall() {
	local t0 t1 d
	d=$(_layer_digest busybox)
	_fp_start FP "$REG"
	export DOCK_HTTP_TIMEOUT=1
	# stalls once mid-blob: resumed
	fault '{"fault": "stall", "count": 1, "at": 50000, "match": "'"$d"'"}'
	expect_ok dock pull -q "$FP/busybox" || return 1
	assert_contains "$ERR" "stalled: no data for 1.0 s"
	assert_contains "$ERR" "resuming at byte 50000"
	# stalls every time: a clear error, in a few seconds
	rm -rf "$DOCK_ROOT"
	fault '{"fault": "stall", "at": 50000, "range": false, "match": "'"$d"'"}'
	t0=$(date +%s)
	_pull_fails dock pull "$FP/busybox" || return 1
	t1=$(date +%s)
	assert_eq "dock: pull $FP/busybox: layer 1/1: https://$FP stalled: no data for 1.0 s (timeout: DOCK_HTTP_TIMEOUT)" "$LAST"
	[ $((t1 - t0)) -lt 30 ] || flunk "took $((t1 - t0)) s"
	_store_clean
	# a server that never answers a request
	fault '{"fault": "stall", "at": -1, "match": "/manifests/"}'
	_pull_fails dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: GET https://$FP/v2/busybox/manifests/latest: https://$FP stalled: no data for 1.0 s (timeout: DOCK_HTTP_TIMEOUT)" "$LAST"
	_store_clean
	# ... nor its TLS handshake
	fault '{"fault": "stall_tls"}'
	_pull_fails dock pull "$FP/busybox" || return 1
	assert_eq "dock: pull $FP/busybox: GET https://$FP/v2/busybox/manifests/latest: https://$FP stalled in the TLS handshake: no data for 1.0 s (timeout: DOCK_HTTP_TIMEOUT)" "$LAST"
	_store_clean
}
