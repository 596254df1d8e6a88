# shellcheck shell=bash
# tests/int/pull.sh: dock pull, images, rmi, image inspect, unpack, login/logout against the local
# registries of tests/lib.sh.  Each t_* function is one case with its own DOCK_ROOT.

# oracle: dock unpack of IMAGE equals umoci unpack of it
_same_as_umoci() { # IMAGE [PLATFORM]
	local img=$1 plat=${2:-}
	expect_ok dock pull ${plat:+--platform "$plat"} "$REG/$img" || return 1
	expect_ok dock unpack "$REG/$img" "$T/dock" || return 1
	umoci_unpack "$img" "$T/umoci" $plat || flunk "umoci unpack $img"
	assert_same_tree "$T/umoci/rootfs" "$T/dock"
}

t_pull_busybox() {
	expect_ok dock pull "$REG/busybox" || return 1
	assert_contains "$OUT" "Using default tag: latest"
	assert_contains "$OUT" "Pull complete"
	assert_contains "$OUT" "Digest: $(manifest_digest busybox)"
	assert_contains "$OUT" "Status: Downloaded newer image for $REG/busybox:latest"
	assert_eq "$REG/busybox:latest" "$(tail -n 1 <<<"$OUT")" "last line"
	expect_ok dock pull "$REG/busybox" || return 1
	assert_contains "$OUT" "Status: Image is up to date for $REG/busybox:latest"
	expect_ok dock images || return 1
	assert_match "$OUT" "$REG/busybox +latest +[0-9a-f]{12} "
	# nothing left in the scratch area
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/ after pull"
}

t_pull_quiet() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	assert_eq "$REG/busybox:latest" "$OUT"
}

t_pull_oracle_busybox() { _same_as_umoci busybox:latest; }
t_pull_oracle_v2s2() { _same_as_umoci busybox-v2s2:latest; }
t_pull_oracle_layered() { _same_as_umoci layered:latest; }
t_pull_oracle_uncompressed() { _same_as_umoci uncompressed:latest; }

t_pull_layers_shared() {
	expect_ok dock pull "$REG/busybox" || return 1
	expect_ok dock pull "$REG/busybox-v2s2" || return 1
	# same diff_id: the layer is unpacked once
	assert_contains "$OUT" "Already exists"
	assert_eq 1 "$(ls "$DOCK_ROOT/layers" | wc -l)" "layer directories"
}

t_pull_platforms() {
	local p
	for p in linux/amd64 linux/arm64 linux/arm/v7; do
		expect_ok dock pull --platform "$p" "$REG/multiarch" || return 1
		rm -rf "$T/u"
		expect_ok dock unpack "$REG/multiarch" "$T/u" || return 1
		assert_file "$T/u/platform.txt" "$p"
	done
	expect_ok dock pull --platform linux/arm64/v8 "$REG/multiarch-v2s2" || return 1
	expect_ok dock unpack "$REG/multiarch-v2s2" "$T/v" || return 1
	assert_file "$T/v/platform.txt" "linux/arm64"
	expect_fail dock pull --platform linux/s390x "$REG/multiarch" || return 1
	assert_contains "$ERR" "no matching manifest for linux/s390x"
}

t_pull_default_platform() {
	expect_ok dock pull "$REG/multiarch" || return 1
	expect_ok dock unpack "$REG/multiarch" "$T/u" || return 1
	assert_file "$T/u/platform.txt" "linux/amd64"
	_same_as_umoci multiarch:latest
}

t_pull_by_digest() {
	local d
	d=$(manifest_digest busybox)
	expect_ok dock pull "$REG/busybox@$d" || return 1
	assert_eq "$REG/busybox@$d" "$(tail -n 1 <<<"$OUT")"
	expect_ok dock images --digests || return 1
	assert_contains "$OUT" "$d"
	expect_ok dock image inspect --format '{{index .RepoDigests 0}}' "$REG/busybox@$d" || true
	# a digest the registry does not have
	expect_fail dock pull "$REG/busybox@sha256:$(printf '0%.0s' {1..64})" || return 1
	assert_contains "$ERR" "(404)"
}

t_pull_unknown() {
	local before
	before=$(store_snapshot "$DOCK_ROOT")
	expect_fail dock pull "$REG/busybox:nope" || return 1
	assert_eq "dock: pull $REG/busybox:nope: manifest unknown (404)" "$ERR"
	expect_fail dock pull "$REG/no/such/repo" || return 1
	assert_contains "$ERR" "(404)"
	expect_fail dock pull "$REG/Busybox" || return 1
	assert_contains "$ERR" "invalid reference format"
}

t_pull_tampered_blob() {
	local layer path before
	expect_ok dock pull -q "$REG/multiarch" || return 1
	before=$(store_snapshot "$DOCK_ROOT")
	layer=$(reg_curl -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG/v2/layered/manifests/latest" | jq -r '.layers[1].digest')
	path=$(reg_blob_path "$layer")
	# same size, wrong bytes
	printf 'XXXX' | dd of="$path" bs=1 seek=100 conv=notrunc status=none
	expect_fail dock pull "$REG/layered" || return 1
	assert_contains "$ERR" "digest"
	assert_eq "$before" "$(store_snapshot "$DOCK_ROOT")" "store unchanged"
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/ after a tampered pull"
}

t_pull_truncated_gzip() {
	expect_fail dock pull "$REG/hostile/truncated-gzip" || return 1
	assert_contains "$ERR" "truncated"
	assert_eq "" "$(ls "$DOCK_ROOT/images")"
}

t_pull_bad_diffid() {
	expect_fail dock pull "$REG/hostile/bad-diffid" || return 1
	assert_contains "$ERR" "diff_id"
	assert_eq "" "$(ls "$DOCK_ROOT/layers")"
}

t_pull_hostile() {
	local img
	for img in dotdot dotdot-nested symlink-write symlink-relative hardlink-out hardlink-via-symlink; do
		expect_fail dock pull "$REG/hostile/$img" || return 1
		assert_eq "" "$(ls "$DOCK_ROOT/images")" "no image record after hostile/$img"
		assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/ after hostile/$img"
	done
	[ ! -e "$VICTIM_DIR/pwned" ] || flunk "victim written"
}

t_pull_symlink_in_lower_layer() {
	# layer 1 plants lnk -> $VICTIM_DIR, layer 2 writes lnk/pwned.  Each layer is unpacked into its
	# own directory (overlayfs's model), so layer 2 holds a directory lnk/ that hides the symlink,
	# as overlayfs and Docker's overlay2 do; nothing is written through the link.
	expect_ok dock pull "$REG/hostile/symlink-write-2layer" || return 1
	expect_ok dock unpack "$REG/hostile/symlink-write-2layer" "$T/u" || return 1
	[ ! -e "$VICTIM_DIR/pwned" ] || flunk "victim written"
	[ -d "$T/u/lnk" ] && [ ! -L "$T/u/lnk" ] || flunk "lnk should be a directory in the merged tree"
	assert_file "$T/u/lnk/pwned"
}

t_pull_absolute_names_stay_inside() {
	# Docker treats absolute member names as relative to the layer's root
	expect_ok dock pull "$REG/hostile/absolute" || return 1
	expect_ok dock unpack "$REG/hostile/absolute" "$T/u" || return 1
	[ ! -e /etc/x ] || flunk "/etc/x written on the host"
	assert_file "$T/u/etc/x"
}

t_pull_tls_failures() {
	expect_fail dock pull "$REG_WRONGNAME/busybox" || return 1
	assert_contains "$ERR" "certificate is valid for other names, not 127.0.0.1"
	expect_fail dock pull "$REG_OTHERCA/busybox" || return 1
	assert_contains "$ERR" "certificate signed by unknown authority"
	expect_fail dock pull "$REG_EXPIRED/busybox" || return 1
	assert_contains "$ERR" "system clock"
	# without the test CA the registry is unknown
	expect_fail env -u DOCK_CA_FILE "$DOCK" pull "$REG/busybox" || return 1
	assert_contains "$ERR" "unknown authority"
	# the CA by certs.d directory instead of --ca-file
	mkdir -p "$T/certs.d/$REG"
	cp "$CA_FILE" "$T/certs.d/$REG/ca.crt"
	expect_ok env -u DOCK_CA_FILE "$DOCK" --certs-dir "$T/certs.d" pull -q "$REG/busybox" || return 1
	expect_ok dock pull -q "$REG_ECDSA/busybox" || return 1
	expect_ok dock pull -q "$REG_CHAIN/busybox" || return 1
}

t_pull_insecure_plain_http() {
	expect_fail dock pull "$REG_PLAIN/busybox" || return 1
	expect_ok dock --insecure-registry "$REG_PLAIN" pull -q "$REG_PLAIN/busybox" || return 1
	assert_contains "$ERR" "insecure"
	expect_ok env DOCK_INSECURE_REGISTRY="$REG_OTHERCA" "$DOCK" pull -q "$REG_OTHERCA/busybox" || return 1
}

t_pull_basic_auth() {
	export DOCKER_CONFIG=$T/docker
	expect_fail dock pull "$REG_BASIC/busybox" || return 1
	assert_contains "$ERR" "(401)"
	expect_fail dock login -u "$BASIC_USER" -p wrong "$REG_BASIC" || return 1
	assert_contains "$ERR" "401"
	[ ! -e "$DOCKER_CONFIG/config.json" ] || flunk "credentials saved after a failed login"
	expect_ok dock login -u "$BASIC_USER" --password-stdin "$REG_BASIC" <<<"$BASIC_PASS" || return 1
	assert_contains "$OUT" "Login Succeeded"
	assert_eq 600 "$(stat -c %a "$DOCKER_CONFIG/config.json")" "config.json mode"
	expect_ok dock pull -q "$REG_BASIC/busybox" || return 1
	expect_ok dock logout "$REG_BASIC" || return 1
	expect_fail dock pull "$REG_BASIC/busybox:latest" || return 1
}

t_pull_docker_config_kept() {
	export DOCKER_CONFIG=$T/docker
	mkdir -p "$DOCKER_CONFIG"
	# an existing Docker login, plus keys dock does not know
	printf '{"auths":{"%s":{"auth":"%s"}},"credsStore":"","psFormat":"{{.ID}}"}\n' "$REG_BASIC" \
		"$(printf '%s:%s' "$BASIC_USER" "$BASIC_PASS" | base64 -w0)" >"$DOCKER_CONFIG/config.json"
	expect_ok dock pull -q "$REG_BASIC/busybox" || return 1
	expect_ok dock login -u "$TOKEN_USER" -p "$TOKEN_PASS" "$REG_TOKEN" || return 1
	assert_eq '{{.ID}}' "$(jq -r .psFormat "$DOCKER_CONFIG/config.json")" "unknown key kept"
	assert_ne null "$(jq -r --arg h "$REG_BASIC" '.auths[$h].auth' "$DOCKER_CONFIG/config.json")"
	expect_ok dock logout "$REG_TOKEN" || return 1
	assert_eq null "$(jq -r --arg h "$REG_TOKEN" '.auths[$h]' "$DOCKER_CONFIG/config.json")"
}

t_pull_no_home() {
	# no HOME and no DOCKER_CONFIG: anonymous pulls still work, login says why it cannot save
	expect_ok env -u HOME -u DOCKER_CONFIG "$DOCK" pull -q "$REG/busybox" || return 1
	expect_fail env -u HOME -u DOCKER_CONFIG "$DOCK" login -u a -p b "$REG_BASIC" || return 1
	assert_contains "$ERR" "HOME"
}

t_pull_token_auth() {
	export DOCKER_CONFIG=$T/docker
	expect_ok dock pull -q "$REG_TOKEN/public/busybox" || return 1
	expect_fail dock pull "$REG_TOKEN/private/busybox" || return 1
	assert_contains "$ERR" "401"
	expect_fail dock login -u "$TOKEN_USER" -p nope "$REG_TOKEN" || return 1
	expect_ok dock login -u "$TOKEN_USER" -p "$TOKEN_PASS" "$REG_TOKEN" || return 1
	expect_ok dock pull -q "$REG_TOKEN/private/busybox" || return 1
	assert_contains "$(cat "$TOKEN_LOG")" "$TOKEN_USER"
}

t_rmi() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock pull -q "$REG/layered" || return 1
	expect_ok dock rmi "$REG/layered" || return 1
	assert_contains "$OUT" "Untagged: $REG/layered:latest"
	assert_contains "$OUT" "Deleted: sha256:"
	# busybox's layer stays, layered's own layers go
	assert_eq 1 "$(ls "$DOCK_ROOT/layers" | wc -l)" "layers left"
	expect_fail dock rmi "$REG/layered" || return 1
	assert_contains "$ERR" "No such image"
	local id
	id=$(dock images -q)
	expect_ok dock rmi "$id" || return 1
	assert_eq "" "$(ls "$DOCK_ROOT/layers")" "layers after removing everything"
	assert_eq "" "$(dock images -q)"
}

t_rmi_shared_and_prefix() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	expect_ok dock pull -q "$REG/public/busybox" || return 1
	local id
	id=$(dock images -q | head -n 1)
	expect_fail dock rmi "${id:0:5}" || return 1
	assert_contains "$ERR" "must be forced"
	expect_ok dock rmi "$REG/public/busybox" || return 1
	assert_not_contains "$OUT" "Deleted:"
	expect_ok dock rmi "${id:0:5}" || return 1
	assert_contains "$OUT" "Deleted: sha256:$id"
}

t_image_inspect() {
	local cfg
	expect_ok dock pull -q "$REG/busybox" || return 1
	cfg=$(reg_curl -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"https://$REG/v2/busybox/manifests/latest" | jq -r .config.digest)
	expect_ok dock image inspect "$REG/busybox" || return 1
	assert_eq "$cfg" "$(jq -r '.[0].Id' <<<"$OUT")" "Id"
	assert_eq "$REG/busybox:latest" "$(jq -r '.[0].RepoTags[0]' <<<"$OUT")"
	assert_eq "amd64 linux layers" "$(jq -r '.[0] | "\(.Architecture) \(.Os) \(.RootFS.Type)"' <<<"$OUT")"
	assert_eq '["sh"]' "$(jq -c '.[0].Config.Cmd' <<<"$OUT")"
	assert_match "$(jq -r '.[0].Size' <<<"$OUT")" '^[0-9]{6,}$'
	expect_ok dock inspect --format '{{.Id}} {{.Os}}' "$REG/busybox" || return 1
	assert_eq "$cfg linux" "$OUT"
	expect_fail dock image inspect nosuchimage || return 1
	assert_contains "$ERR" "No such image"
}

t_unpack_refuses_nonempty() {
	expect_ok dock pull -q "$REG/busybox" || return 1
	mkdir -p "$T/full" && touch "$T/full/x"
	expect_fail dock unpack "$REG/busybox" "$T/full" || return 1
	assert_eq x "$(ls "$T/full")"
}

t_pull_concurrent() {
	local i pids=""
	for i in 1 2 3 4; do
		"$DOCK" pull -q "$REG/layered" >"$T/out$i" 2>"$T/err$i" &
		pids="$pids $!"
	done
	for i in $pids; do
		wait "$i" || flunk "a concurrent pull failed: $(cat "$T"/err*)"
	done
	assert_eq 4 "$(ls "$DOCK_ROOT/layers" | wc -l)" "each layer once"
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")"
}

t_pull_killed_then_resumed() {
	# kill -9 in the middle of pulls, then a clean pull must succeed and the store be consistent
	local i pid
	for i in 1 2 3 4 5; do
		"$DOCK" pull -q "$REG/layered" >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$i"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	expect_ok dock pull -q "$REG/layered" || return 1
	expect_ok dock unpack "$REG/layered" "$T/u" || return 1
	umoci_unpack layered:latest "$T/umoci" || flunk "umoci"
	assert_same_tree "$T/umoci/rootfs" "$T/u"
	assert_eq "" "$(ls -A "$DOCK_ROOT/tmp")" "tmp/ cleared by the next run"
}

t_cli_errors() {
	expect_fail dock nosuchcommand || return 1
	expect_fail dock pull || return 1
	expect_fail dock --bogus images || return 1
	expect_ok dock --version || return 1
	assert_contains "$OUT" "BearSSL"
	expect_ok dock pull --help || return 1
	assert_contains "$OUT" "Usage: dock pull"
}
