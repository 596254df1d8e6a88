# shellcheck shell=bash
# tests/int/fixture.sh: proves the fixture of tests/lib.sh works, with skopeo, curl, openssl and
# umoci only (never dock): every image on every registry, each TLS variant fails or passes as meant,
# Basic and token auth, the images' contents, and the case runner's own rules.

FIX_IMAGES="busybox busybox-v2s2 public/busybox private/busybox layered multiarch multiarch-v2s2
 uncompressed hostile/dotdot hostile/dotdot-nested hostile/absolute hostile/symlink-write
 hostile/symlink-write-2layer hostile/symlink-relative hostile/hardlink-out
 hostile/hardlink-via-symlink hostile/truncated-gzip hostile/bad-diffid"

# raw manifest (or index) of IMAGE on REGISTRY, with extra skopeo args (credentials, TLS)
_fx_raw() {
	local reg=$1 img=$2
	shift 2
	fix_skopeo inspect --raw "$@" "docker://$reg/$img"
}

t_fixture_images_everywhere() {
	local img raw
	for img in $FIX_IMAGES; do
		raw=$(_fx_raw "$REG" "$img" --cert-dir "$SKOPEO_CERT_DIR") || flunk "REG lacks $img"
		assert_contains "$raw" '"schemaVersion"' "manifest of $img"
		_fx_raw "$REG_PLAIN" "$img" --tls-verify=false >/dev/null || flunk "REG_PLAIN lacks $img"
		_fx_raw "$REG_BASIC" "$img" --cert-dir "$SKOPEO_CERT_DIR" \
			--creds "$BASIC_USER:$BASIC_PASS" >/dev/null || flunk "REG_BASIC lacks $img"
		_fx_raw "$REG_TOKEN" "$img" --cert-dir "$SKOPEO_CERT_DIR" \
			--creds "$TOKEN_USER:$TOKEN_PASS" >/dev/null || flunk "REG_TOKEN lacks $img"
	done
	for img in busybox layered; do
		for r in "$REG_ECDSA" "$REG_CHAIN"; do
			_fx_raw "$r" "$img" --cert-dir "$SKOPEO_CERT_DIR" >/dev/null || flunk "$r lacks $img"
		done
	done
}

t_fixture_media_types() {
	local raw
	raw=$(_fx_raw "$REG" busybox --cert-dir "$SKOPEO_CERT_DIR")
	# umoci leaves out the (optional) mediaType of OCI manifests: clients must cope
	assert_eq null "$(jq -r .mediaType <<<"$raw")"
	assert_eq application/vnd.oci.image.config.v1+json "$(jq -r .config.mediaType <<<"$raw")"
	assert_eq 1 "$(jq '.layers | length' <<<"$raw")" "busybox layers"
	raw=$(_fx_raw "$REG" busybox-v2s2 --cert-dir "$SKOPEO_CERT_DIR")
	assert_eq application/vnd.docker.distribution.manifest.v2+json "$(jq -r .mediaType <<<"$raw")"
	assert_eq application/vnd.docker.image.rootfs.diff.tar.gzip \
		"$(jq -r '.layers[0].mediaType' <<<"$raw")"
	raw=$(_fx_raw "$REG" layered --cert-dir "$SKOPEO_CERT_DIR")
	assert_eq 4 "$(jq '.layers | length' <<<"$raw")" "layered layers"
	raw=$(_fx_raw "$REG" multiarch --cert-dir "$SKOPEO_CERT_DIR")
	assert_eq application/vnd.oci.image.index.v1+json "$(jq -r .mediaType <<<"$raw")"
	assert_eq "linux/arm64/v8 linux/amd64/ linux/arm/v7 unknown/unknown/" \
		"$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)/\(.variant // "")"] | join(" ")' \
			<<<"$raw")" "multiarch platforms"
	assert_eq attestation-manifest \
		"$(jq -r '.manifests[3].annotations["vnd.docker.reference.type"]' <<<"$raw")"
	assert_eq "$(jq -r '.manifests[1].digest' <<<"$raw")" \
		"$(jq -r '.manifests[3].annotations["vnd.docker.reference.digest"]' <<<"$raw")"
	raw=$(_fx_raw "$REG" multiarch-v2s2 --cert-dir "$SKOPEO_CERT_DIR")
	assert_eq application/vnd.docker.distribution.manifest.list.v2+json \
		"$(jq -r .mediaType <<<"$raw")"
	raw=$(_fx_raw "$REG" uncompressed --cert-dir "$SKOPEO_CERT_DIR")
	assert_eq application/vnd.oci.image.layer.v1.tar "$(jq -r '.layers[1].mediaType' <<<"$raw")"
	# manifest_digest is what the registry itself reports
	assert_eq "$(manifest_digest busybox)" "$(reg_curl -I \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG/v2/busybox/manifests/latest" | tr -d '\r' |
		awk -F': ' 'tolower($1) == "docker-content-digest" {print $2}')" "busybox digest"
}

t_fixture_tls_variants() {
	local r code
	for r in "$REG" "$REG_ECDSA" "$REG_CHAIN"; do
		code=$(reg_curl -o /dev/null -w '%{http_code}' "https://$r/v2/") || flunk "TLS to $r failed"
		assert_eq 200 "$code" "GET https://$r/v2/"
	done
	assert_eq 200 "$(curl -sS -o /dev/null -w '%{http_code}' "http://$REG_PLAIN/v2/")" "plain /v2/"
	# the failing ones fail for the intended reason, and only that one
	curl -sS -o /dev/null --cacert "$CA_FILE" "https://$REG_WRONGNAME/v2/" 2>"$T/e" &&
		flunk "wrong-name cert was accepted"
	assert_contains "$(cat "$T/e")" "certificate subject name"
	code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA_FILE" \
		--resolve "wrong.example:${REG_WRONGNAME#*:}:127.0.0.1" \
		"https://wrong.example:${REG_WRONGNAME#*:}/v2/") || flunk "wrong.example should verify"
	assert_eq 200 "$code"
	curl -sS -o /dev/null --cacert "$CA_FILE" "https://$REG_OTHERCA/v2/" 2>"$T/e" &&
		flunk "cert from the unrelated CA was accepted"
	assert_contains "$(cat "$T/e")" "unable to get local issuer certificate"
	curl -sS -o /dev/null --cacert "$OTHER_CA_FILE" "https://$REG_OTHERCA/v2/" ||
		flunk "REG_OTHERCA should verify against OTHER_CA_FILE"
	curl -sS -o /dev/null --cacert "$CA_FILE" "https://$REG_EXPIRED/v2/" 2>"$T/e" &&
		flunk "expired cert was accepted"
	assert_contains "$(cat "$T/e")" "expired"
	# key types and chains as advertised
	openssl s_client -connect "$REG_ECDSA" -CAfile "$CA_FILE" </dev/null >"$T/s" 2>&1
	assert_contains "$(cat "$T/s")" "Peer signature type: ECDSA"
	openssl s_client -connect "$REG_CHAIN" -CAfile "$CA_FILE" -showcerts </dev/null >"$T/s" 2>&1
	assert_eq 2 "$(grep -c 'BEGIN CERTIFICATE' "$T/s")" "certificates sent by REG_CHAIN"
	assert_contains "$(cat "$T/s")" "Verify return code: 0 (ok)"
	openssl s_client -connect "$REG" -CAfile "$CA_FILE" </dev/null >"$T/s" 2>&1
	assert_contains "$(cat "$T/s")" "Verify return code: 0 (ok)"
	assert_contains "$(openssl x509 -in "$FIX_CERTS/server.crt" -noout -ext subjectAltName)" \
		"IP Address:127.0.0.1"
}

t_fixture_basic_auth() {
	local h code
	h=$(reg_curl -i "https://$REG_BASIC/v2/")
	assert_contains "$h" "HTTP/2 401"
	assert_contains "$h" 'Basic realm="dock-test-basic"'
	code=$(reg_curl -o /dev/null -w '%{http_code}' -u "$BASIC_USER:$BASIC_PASS" \
		"https://$REG_BASIC/v2/busybox/manifests/latest" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json')
	assert_eq 200 "$code" "manifest with credentials"
	code=$(reg_curl -o /dev/null -w '%{http_code}' -u "$BASIC_USER:wrong" "https://$REG_BASIC/v2/")
	assert_eq 401 "$code" "wrong password"
	_fx_raw "$REG_BASIC" busybox --cert-dir "$SKOPEO_CERT_DIR" >/dev/null 2>&1 &&
		flunk "skopeo without credentials got through"
	return 0
}

# a token for SCOPE from the token server; extra curl args (e.g. -u user:pass) after
_fx_token() {
	local scope=$1
	shift
	reg_curl "$@" "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=$scope" | jq -r .token
}

_fx_get_manifest() { # TOKEN REPO: prints the status code
	reg_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG_TOKEN/v2/$2/manifests/latest"
}

t_fixture_token_auth() {
	local h tok code
	h=$(reg_curl -i -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG_TOKEN/v2/public/busybox/manifests/latest")
	assert_contains "$h" "HTTP/2 401"
	assert_contains "$h" "Bearer realm=\"$TOKEN_REALM\",service=\"$TOKEN_SERVICE\""
	assert_contains "$h" 'scope="repository:public/busybox:pull"'
	tok=$(_fx_token repository:public/busybox:pull)
	assert_match "$tok" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "JWT"
	assert_eq 200 "$(_fx_get_manifest "$tok" public/busybox)" "anonymous pull of public/"
	tok=$(_fx_token repository:private/busybox:pull)
	assert_eq 401 "$(_fx_get_manifest "$tok" private/busybox)" "anonymous pull of private/"
	tok=$(_fx_token repository:private/busybox:pull -u "$TOKEN_USER:$TOKEN_PASS")
	assert_eq 200 "$(_fx_get_manifest "$tok" private/busybox)" "user pull of private/"
	assert_eq 401 "$(_fx_get_manifest "$tok" public/busybox)" "token is for its scope only"
	code=$(reg_curl -o /dev/null -w '%{http_code}' -u "$TOKEN_USER:nope" \
		"$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:private/busybox:pull")
	assert_eq 401 "$code" "token with a wrong password"
	# several scopes at once, the OAuth2 POST form, the test hooks
	tok=$(reg_curl -u "$TOKEN_USER:$TOKEN_PASS" "$TOKEN_REALM?service=$TOKEN_SERVICE&scope=repository:private/busybox:pull&scope=repository:busybox:pull" | jq -r .token)
	assert_eq 200 "$(_fx_get_manifest "$tok" busybox)" "second scope"
	tok=$(reg_curl --data-urlencode grant_type=password --data-urlencode "username=$TOKEN_USER" \
		--data-urlencode "password=$TOKEN_PASS" --data-urlencode "service=$TOKEN_SERVICE" \
		--data-urlencode scope=repository:private/busybox:pull "$TOKEN_REALM" | jq -r .access_token)
	assert_eq 200 "$(_fx_get_manifest "$tok" private/busybox)" "token from POST"
	token_mode access_token_only
	assert_eq '["access_token","expires_in","issued_at"]' \
		"$(reg_curl "$TOKEN_REALM?service=$TOKEN_SERVICE" | jq -c 'keys')"
	token_mode status=503
	assert_eq 503 "$(reg_curl -o /dev/null -w '%{http_code}' "$TOKEN_REALM?service=$TOKEN_SERVICE")"
	token_mode
	assert_contains "$(cat "$TOKEN_LOG")" "account=$TOKEN_USER scopes=repository:private/busybox:pull"
	# skopeo does the whole dance
	fix_skopeo inspect --cert-dir "$SKOPEO_CERT_DIR" "docker://$REG_TOKEN/public/busybox" \
		>/dev/null || flunk "skopeo anonymous public/busybox"
	fix_skopeo inspect --cert-dir "$SKOPEO_CERT_DIR" --creds "$TOKEN_USER:$TOKEN_PASS" \
		"docker://$REG_TOKEN/private/busybox" >/dev/null || flunk "skopeo private/busybox"
	fix_skopeo inspect --cert-dir "$SKOPEO_CERT_DIR" "docker://$REG_TOKEN/private/busybox" \
		>/dev/null 2>&1 && flunk "anonymous skopeo got private/busybox"
	return 0
}

t_fixture_busybox_content() {
	local l cfg
	umoci_unpack busybox "$T/bb" || flunk "umoci_unpack busybox"
	l=$(tree_listing "$T/bb/rootfs")
	assert_contains "$l" "/bin/busybox f 0755 0:0"
	assert_contains "$l" "/bin/sh l 0777 0:0 -> /bin/busybox"
	assert_contains "$l" "/home/app d 0755 1000:1000"
	assert_contains "$l" "/tmp d 1777 0:0"
	assert_contains "$(cat "$T/bb/rootfs/etc/passwd")" "app:x:1000:1000:"
	cfg=$(fix_skopeo inspect --config --cert-dir "$SKOPEO_CERT_DIR" "docker://$REG/busybox")
	assert_eq '["sh"]' "$(jq -c .config.Cmd <<<"$cfg")"
	assert_contains "$(jq -c .config.Env <<<"$cfg")" "PATH=/usr/local/sbin:"
	# the same tree under the Docker media types, and the tree_listing is stable
	umoci_unpack busybox-v2s2 "$T/bb2" || flunk "umoci_unpack busybox-v2s2"
	assert_same_tree "$T/bb/rootfs" "$T/bb2/rootfs"
}

t_fixture_layered_content() {
	local l
	umoci_unpack layered "$T/lay" || flunk "umoci_unpack layered"
	l=$(tree_listing "$T/lay/rootfs")
	assert_not_contains "$l" "/data/gone.txt"
	assert_not_contains "$l" "/data/replace/old-a"
	assert_not_contains "$l" "/data/opaque/o1"
	assert_not_contains "$l" "/data/later/dir"
	assert_not_contains "$l" "/usr/bin/wget"
	assert_contains "$l" "/data/opaque/fresh.txt f"
	assert_contains "$l" "/data/replace/old-sub/new-d f"
	assert_contains "$l" "/data/dir-to-file f"
	assert_contains "$l" "/data/file-to-dir d"
	assert_contains "$l" "/data/suid f 4755 0:0"
	assert_contains "$l" "/data/sgid-dir d 2775"
	assert_contains "$l" "/data/sticky d 1777"
	assert_contains "$l" "/data/fifo p"
	assert_contains "$l" "/data/mode-change f 0600 1000:1000"
	assert_contains "$l" "xattr:security.capability=0x0100000200040000000000000000000000000000"
	assert_contains "$l" "xattr:user.dock.test=0x68656c6c6f20776f726c64"
	assert_contains "$l" "/data/with\\x20space/file\\x20with\\x20spaces.txt f"
	assert_contains "$l" "/data/links/abs l 0777 0:0 -> /data/keep.txt"
	assert_contains "$l" "/data/big.bin f 0644 0:0 size=3145728"
	assert_match "$(grep '^/data/hl/a ' <<<"$l")" 'hl=[0-9]+$'
	assert_eq "$(grep '^/data/hl/a ' <<<"$l" | sed 's/.* //')" \
		"$(grep '^/data/hl/sub/c ' <<<"$l" | sed 's/.* //')" "hardlink group of hl/a and hl/sub/c"
	assert_eq 981173106 "$(stat -c %Y "$T/lay/rootfs/data/old-mtime")" "old mtime"
	assert_contains "$(TREE_MTIME=1 tree_listing "$T/lay/rootfs" | grep '^/data/old-mtime ')" \
		"mtime=981173106"
	[ "$(grep -c '' <<<"$l")" -gt 300 ] || flunk "layered listing too short"
	# the layers really hold whiteouts and an opaque marker (not merely a flattened result)
	fix_skopeo copy -q --src-cert-dir "$SKOPEO_CERT_DIR" "docker://$REG/layered" "oci:$T/oci:l" ||
		flunk "skopeo copy layered"
	local names=""
	for d in $(jq -r '.layers[].digest' "$T/oci/blobs/sha256/$(jq -r '.manifests[0].digest' \
		"$T/oci/index.json" | cut -d: -f2)"); do
		names="$names$(tar -tzf "$T/oci/blobs/sha256/${d#sha256:}")"$'\n'
	done
	assert_contains "$names" "data/.wh.gone.txt"
	assert_contains "$names" "data/opaque/.wh..wh..opq"
	assert_contains "$names" "usr/bin/.wh.wget"
}

t_fixture_multiarch() {
	umoci_unpack multiarch "$T/native" || flunk "umoci_unpack multiarch"
	assert_file "$T/native/rootfs/platform.txt" linux/amd64
	umoci_unpack multiarch "$T/v7" linux/arm/v7 || flunk "umoci_unpack multiarch linux/arm/v7"
	assert_file "$T/v7/rootfs/platform.txt" linux/arm/v7
	umoci_unpack multiarch-v2s2 "$T/arm64" linux/arm64/v8 || flunk "umoci_unpack multiarch-v2s2"
	assert_file "$T/arm64/rootfs/platform.txt" linux/arm64
	assert_file "$T/arm64/rootfs/bin/busybox"
	umoci_unpack uncompressed "$T/unc" || flunk "umoci_unpack uncompressed"
	assert_file "$T/unc/rootfs/uncompressed.txt" "not gzipped"
}

# the tar member names of the first layer of IMAGE (python: GNU tar would refuse some)
_fx_layer_names() {
	local raw d
	raw=$(_fx_raw "$REG" "$1" --cert-dir "$SKOPEO_CERT_DIR") || return 1
	for d in $(jq -r '.layers[].digest' <<<"$raw"); do
		reg_curl -L "https://$REG/v2/${1%%:*}/blobs/$d" | python3 -c '
import sys, tarfile
for m in tarfile.open(fileobj=sys.stdin.buffer, mode="r|*"):
    print(m.name, m.linkname if m.issym() or m.islnk() else "")'
	done
}

t_fixture_hostile() {
	assert_contains "$(_fx_layer_names hostile/dotdot)" "../escape "
	assert_contains "$(_fx_layer_names hostile/dotdot-nested)" "a/../../escape "
	assert_contains "$(_fx_layer_names hostile/absolute)" "/../../escape "
	assert_contains "$(_fx_layer_names hostile/absolute)" "/etc/x "
	assert_contains "$(_fx_layer_names hostile/symlink-write)" "lnk $VICTIM_DIR"
	assert_contains "$(_fx_layer_names hostile/symlink-write)" "lnk/pwned "
	assert_contains "$(_fx_layer_names hostile/symlink-write-2layer)" "lnk/pwned "
	assert_contains "$(_fx_layer_names hostile/symlink-relative)" "lnk ${FIX_UP16}${VICTIM_DIR#/}"
	assert_contains "$(_fx_layer_names hostile/hardlink-out)" "hl ${FIX_UP16}etc/passwd"
	assert_contains "$(_fx_layer_names hostile/hardlink-via-symlink)" "hl s/passwd"
	# truncated gzip: the registry serves bytes matching the digest, which do not inflate
	local raw d cfg
	raw=$(_fx_raw "$REG" hostile/truncated-gzip --cert-dir "$SKOPEO_CERT_DIR")
	d=$(jq -r '.layers[0].digest' <<<"$raw")
	reg_curl -L -o "$T/blob" "https://$REG/v2/hostile/truncated-gzip/blobs/$d"
	assert_eq "$d" "sha256:$(sha256sum <"$T/blob" | cut -d' ' -f1)" "truncated blob digest"
	assert_eq 20000 "$(stat -c %s "$T/blob")"
	gzip -t <"$T/blob" 2>/dev/null && flunk "the truncated gzip inflates"
	cmp -s "$T/blob" "$(reg_blob_path "$d")" || flunk "reg_blob_path does not find $d"
	# bad diff_id: the layer is fine but the config names another diff_id
	raw=$(_fx_raw "$REG" hostile/bad-diffid --cert-dir "$SKOPEO_CERT_DIR")
	d=$(jq -r '.layers[0].digest' <<<"$raw")
	cfg=$(fix_skopeo inspect --config --cert-dir "$SKOPEO_CERT_DIR" "docker://$REG/hostile/bad-diffid")
	assert_ne "$(jq -r '.rootfs.diff_ids[0]' <<<"$cfg")" \
		"sha256:$(reg_curl -L "https://$REG/v2/hostile/bad-diffid/blobs/$d" | gzip -dc |
			sha256sum | cut -d' ' -f1)" "diff_id"
}

# ---- the runner's own rules, checked by running small cases inside a case

_fxcase_pass() { expect_fail sh -c 'echo "dock: no such image" >&2; exit 1'; }
_fxcase_two_lines() { expect_fail sh -c 'printf "dock: a\nb\n" >&2; exit 1'; }
_fxcase_no_prefix() { expect_fail sh -c 'echo "error" >&2; exit 1'; }
_fxcase_signal() { expect_fail sh -c 'echo "dock: x" >&2; kill -SEGV $$'; }
_fxcase_succeeds() { expect_fail true; }
_fxcase_skip() { skip "not today"; }
_fxcase_leak() { sleep 300 & }
_fxcase_spawn() { spawn sleep 300; echo "$SPAWNED" >"$FIX_RUN/spawned.pid"; }
_fxcase_defer() { defer touch "$FIX_RUN/deferred"; flunk "on purpose"; }
_fxcase_env() {
	assert_eq "$T" "$PWD" "cwd"
	assert_eq "$T/root" "$DOCK_ROOT"
	assert_eq "$CA_FILE" "$DOCK_CA_FILE"
	assert_eq "$T/home" "$HOME"
	[ -d "$HOME" ] || flunk "no HOME"
	echo "$T" >"$FIX_RUN/case-t"
}
_fxcase_hang() { sleep 300; }
_fxcase_canary() { mkdir -p "$VICTIM_DIR" && echo pwned >"$VICTIM_DIR/pwned"; }
_fxcase_tamper() {
	local d
	d=$(jq -r '.layers[0].digest' <<<"$(_fx_raw "$REG" busybox --cert-dir "$SKOPEO_CERT_DIR")")
	echo "$d" >"$FIX_RUN/tampered-digest"
	printf 'garbage' >"$(reg_blob_path "$d")"
}

t_fixture_runner() {
	local out
	run_case _fxcase_pass >/dev/null || flunk "expect_fail rejected a proper failure"
	for c in _fxcase_two_lines _fxcase_no_prefix _fxcase_signal _fxcase_succeeds; do
		out=$(run_case $c) && flunk "$c passed"
		assert_contains "$out" "FAILED:" "$c output"
	done
	run_case _fxcase_skip >/dev/null
	assert_eq 77 $? "skip status"
	assert_eq "not today" "$(cat "$CASE_SKIP_REASON")"
	out=$(run_case _fxcase_leak) && flunk "a leaked process went unnoticed"
	assert_contains "$out" "leaked process"
	run_case _fxcase_spawn >/dev/null || flunk "spawn case failed"
	kill -0 "$(cat "$FIX_RUN/spawned.pid")" 2>/dev/null && flunk "spawned process survived"
	run_case _fxcase_defer >/dev/null && flunk "flunk did not fail"
	assert_file "$FIX_RUN/deferred"
	out=$(DOCK_TEST_TIMEOUT=1 run_case _fxcase_hang)
	assert_eq 124 $? "status of a case that timed out"
	assert_contains "$out" "TIMED OUT"
	run_case _fxcase_env >/dev/null || flunk "environment of a case"
	assert_no_file "$(cat "$FIX_RUN/case-t")"
	out=$(run_case _fxcase_canary) && flunk "a write to the victim went unnoticed"
	assert_contains "$out" "a hostile image reached the host"
	assert_no_file "$VICTIM_DIR/pwned"
	run_case _fxcase_tamper >/dev/null || flunk "tamper case"
	local d
	d=$(cat "$FIX_RUN/tampered-digest")
	assert_eq "$d" "sha256:$(sha256sum <"$(reg_blob_path "$d")" | cut -d' ' -f1)" "restored blob"
	rm -f "$FIX_RUN/deferred" "$FIX_RUN/case-t" "$FIX_RUN/spawned.pid" "$FIX_RUN/tampered-digest"
}

t_fixture_store_snapshot() {
	mkdir -p "$T/s/blobs" "$T/s/tmp/P-1" "$T/s/locks"
	echo a >"$T/s/blobs/x"
	setfattr -n trusted.overlay.opaque -v y "$T/s/blobs"
	local a b
	a=$(store_snapshot "$T/s")
	assert_contains "$a" "xattr:trusted.overlay.opaque=0x79"
	echo junk >"$T/s/tmp/P-1/partial"
	echo x >"$T/s/locks/store"
	assert_eq "$a" "$(store_snapshot "$T/s")" "snapshot ignores tmp/ and locks/"
	echo b >"$T/s/blobs/x"
	b=$(store_snapshot "$T/s")
	assert_ne "$a" "$b" "snapshot after a change"
	assert_eq "(absent)" "$(store_snapshot "$T/nothing")"
	assert_not_contains "$(tree_listing "$T/s")" "trusted.overlay"
}

t_fixture_make_image() {
	local d raw
	d=$(make_image test/devnode:v1 '{"layers": [{"format": "gnu", "entries": [
		{"name": "dev", "type": "dir"},
		{"name": "dev/null0", "type": "char", "devmajor": 1, "devminor": 3, "mode": "0666"}]}]}') ||
		flunk "make_image failed"
	assert_match "$d" '^sha256:[0-9a-f]{64}$' "digest"
	raw=$(_fx_raw "$REG" test/devnode:v1 --cert-dir "$SKOPEO_CERT_DIR") || flunk "not pushed"
	assert_eq "$d" "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" "pushed digest"
	assert_contains "$(_fx_layer_names test/devnode:v1)" "dev/null0"
}
