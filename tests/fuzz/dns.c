/* tests/fuzz/dns.c: the answers of dock's own DNS client (dns_parse, with dns_skip_name) on hostile
 * datagrams, and dns_encode_name on host names that may come from a redirect.
 *
 * Input: one reply datagram (dns_parse takes it whole).  It is parsed as the answer to A and to
 * AAAA questions for a fixed name, with the id it carries (and once with another id, which must be
 * ignored); addresses may only come out of an answer, and never more than the list holds.  The
 * input's first 300 bytes, as a C string, also go through dns_encode_name: a name it accepts
 * must come out as well-formed labels that spell the name again. */
#include "dock.h"
#include "src/util.c"
#include "src/net.c"
#include "tests/fuzz/fuzz.h"

static void
check_encode(const uint8_t *data, size_t size)
{
	char host[301], back[301];
	uint8_t out[256];
	size_t n, i = 0, o = 0, hl;
	memcpy(host, data, size < 300 ? size : 300);
	host[size < 300 ? size : 300] = 0;
	n = dns_encode_name(host, out, sizeof out);
	if (!n)
		return;
	FUZZ_CHECK(n <= sizeof out && out[n - 1] == 0);
	while (out[i]) {
		FUZZ_CHECK(out[i] <= 63 && i + 1 + out[i] < n);
		if (o)
			back[o++] = '.';
		memcpy(back + o, out + i + 1, out[i]);
		o += out[i];
		i += 1 + (size_t)out[i];
	}
	FUZZ_CHECK(i == n - 1);
	back[o] = 0;
	hl = strlen(host);
	if (hl && host[hl - 1] == '.')
		host[--hl] = 0;
	FUZZ_CHECK(!strcmp(back, host));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[2] = {1, 28};
	uint8_t qname[256];
	size_t qlen = dns_encode_name("registry-1.docker.io", qname, sizeof qname);
	int i, k, rcode;
	FUZZ_CHECK(qlen > 0);
	check_encode(data, size);
	for (i = 0; i < 2; i++) {
		struct net_addrs l;
		uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
		int r;
		l.n = 0;
		r = dns_parse(data, size, id, qname, qlen, types[i], 443, &l, &rcode);
		FUZZ_CHECK(r == DNS_IGNORE || r == DNS_ANSWER || r == DNS_FAIL);
		FUZZ_CHECK(l.n >= 0 && l.n <= NET_MAX_ADDRS && (r == DNS_ANSWER || l.n == 0));
		FUZZ_CHECK(r != DNS_FAIL || rcode == -1 || (rcode > 0 && rcode < 16));
		for (k = 0; k < l.n; k++)
			FUZZ_CHECK(l.a[k].ss_family == (types[i] == 1 ? AF_INET : AF_INET6));
		l.n = 0;
		FUZZ_CHECK(dns_parse(data, size, (uint16_t)(id ^ 1), qname, qlen, types[i], 443, &l,
				     &rcode) == DNS_IGNORE);
		FUZZ_CHECK(l.n == 0);
	}
	return 0;
}
