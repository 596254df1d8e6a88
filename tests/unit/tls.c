/* Unit tests for tls.c (and https in http.c): a CA and server certificates are made with the
 * openssl CLI at test time, `openssl s_server -www` serves them on loopback ports, and the client
 * must accept the good certificate by IP (our iPAddress SAN check) and by name, and refuse a wrong
 * name, an unknown CA and an expired certificate with messages a user can act on. */
#include "dock.h"
#include "src/util.c"
#include "src/net.c"
#include "src/tls.c"
#include "src/http.c"
#include "tests/unit/check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static char dir[64];
static struct tls_trust *trust; /* built-in roots + the test CA */
static int have_v6;

enum { S_GOOD, S_GOOD6, S_OTHER, S_EXPIRED, S_N };
static int port[S_N];
static pid_t pid[S_N];

static const struct net_opts nopts = {.connect_timeout_ms = 3000, .io_timeout_ms = 5000};

/* ---------------------------------------------------------------- fixtures */

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int r;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r != 0)
		printf("  command failed (%d): %s\n", r, cmd);
	return r;
}

static int
free_port(const char *ip)
{
	struct net_addrs l = {.n = 0};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd, p;
	addrs_numeric(&l, ip, 0);
	fd = socket(l.a[0].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&l.a[0], l.len[0]) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	p = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return p;
}

/* Start `openssl s_server -www` for name.crt/name.key on ip; wait until it accepts. */
static pid_t
s_server(const char *ip, const char *name, int *p)
{
	char accept_arg[64], crt[128], key[128];
	struct net_opts o = {.connect_timeout_ms = 200};
	struct err e;
	pid_t child;
	int i, fd;
	*p = free_port(ip);
	if (*p < 0)
		return -1;
	snprintf(accept_arg, sizeof accept_arg, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, *p);
	snprintf(crt, sizeof crt, "%s/%s.crt", dir, name);
	snprintf(key, sizeof key, "%s/%s.key", dir, name);
	child = fork();
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept_arg, "-cert", crt,
		       "-key", key, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		fd = net_connect(ip, *p, &o, &e);
		if (fd >= 0) {
			close(fd);
			return child;
		}
		usleep(50000);
	}
	printf("  s_server for %s on %s did not start\n", name, accept_arg);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	return -1;
}

static int
setup(void)
{
	FILE *f;
	struct err e;
	int lfd;
	snprintf(dir, sizeof dir, "/tmp/dock-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* A config for `openssl ca`, the one CLI way to pick both validity dates. */
	{
		char path[128];
		snprintf(path, sizeof path, "%s/ca.cnf", dir);
		f = fopen(path, "w");
		if (!f)
			return -1;
		fprintf(f, "[ca]\ndefault_ca = c\n[c]\ndatabase = %s/index.txt\nserial = %s/serial\n"
			   "new_certs_dir = %s\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n"
			   "[x]\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n",
			dir, dir, dir);
		fclose(f);
	}
	if (sh("cd %s && : > index.txt && echo 01 > serial && "
	       "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3 "
	       "-subj '/CN=dock test CA' 2>/dev/null && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca2.key "
	       "-out ca2.crt -days 3 -subj '/CN=another CA' 2>/dev/null",
	       dir))
		return -1;
	if (sh("cd %s && for n in good other expired; do openssl req -newkey ec -pkeyopt "
	       "ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj /CN=$n 2>/dev/null || "
	       "exit 1; done && "
	       "printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\\n' > good.ext && "
	       "printf 'subjectAltName=DNS:other.example,IP:127.0.0.2\\n' > other.ext && "
	       "openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 "
	       "-extfile good.ext -out good.crt 2>/dev/null && "
	       "openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3 "
	       "-extfile other.ext -out other.crt 2>/dev/null && "
	       "openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr "
	       "-out expired.crt -startdate 20200101000000Z -enddate 20210101000000Z -extensions x "
	       "-notext 2>/dev/null && "
	       "openssl x509 -in good.crt -outform DER -out good.der && "
	       "mkdir certs.d && cp ca.crt certs.d/ca.crt && cp good.key certs.d/client.key && "
	       "cat ca.crt ca2.crt > both.pem && ln -s ca.crt link.crt && echo garbage > bad.crt",
	       dir))
		return -1;
	trust = tls_trust_new();
	{
		char path[128];
		snprintf(path, sizeof path, "%s/ca.crt", dir);
		if (tls_trust_add_pem_file(trust, path, &e) < 0) {
			printf("  %s\n", e.msg);
			return -1;
		}
	}
	pid[S_GOOD] = s_server("127.0.0.1", "good", &port[S_GOOD]);
	pid[S_OTHER] = s_server("127.0.0.1", "other", &port[S_OTHER]);
	pid[S_EXPIRED] = s_server("127.0.0.1", "expired", &port[S_EXPIRED]);
	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (lfd >= 0) {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
		have_v6 = bind(lfd, (struct sockaddr *)&a, sizeof a) == 0;
		close(lfd);
	}
	if (have_v6)
		pid[S_GOOD6] = s_server("::1", "good", &port[S_GOOD6]);
	return pid[S_GOOD] > 0 && pid[S_OTHER] > 0 && pid[S_EXPIRED] > 0 && (!have_v6 || pid[S_GOOD6] > 0)
		       ? 0
		       : -1;
}

static void
teardown(void)
{
	struct err e;
	int i;
	for (i = 0; i < S_N; i++) {
		if (pid[i] > 0) {
			kill(pid[i], SIGTERM);
			waitpid(pid[i], NULL, 0);
		}
	}
	tls_trust_free(trust);
	if (dir[0])
		rm_rf(AT_FDCWD, dir, &e);
}

/* ---------------------------------------------------------------- helpers */

/* Handshake with the server on ip:p as host; on success GET / and check the page. */
static int
try_tls(const char *ip, int p, const char *host, const struct tls_trust *t, int insecure, struct err *e)
{
	struct tls_conn *c;
	char page[8192];
	size_t n = 0;
	int fd = net_connect(ip, p, &nopts, e);
	if (fd < 0)
		return -1;
	c = tls_open(fd, host, t, insecure, 5000, e);
	if (!c)
		return -1;
	if (tls_write_all(c, "GET / HTTP/1.0\r\n\r\n", 18, e) < 0) {
		tls_close(c);
		return -1;
	}
	for (;;) {
		ssize_t r = tls_read(c, page + n, sizeof page - 1 - n, e);
		if (r < 0) {
			tls_close(c);
			return -1;
		}
		if (r == 0 || (n += (size_t)r) == sizeof page - 1)
			break;
	}
	page[n] = 0;
	tls_close(c);
	CHECK(!strncmp(page, "HTTP/1.0 200 ok\r\n", 17));
	CHECK(strstr(page, "s_server") != NULL);
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void
t_trust_store(void)
{
	struct tls_trust *t = tls_trust_new();
	struct err e = {0};
	char path[128];
	size_t base = tls_trust_count(t);
	CHECK(base > 50 && base == builtin_anchors_num);
	snprintf(path, sizeof path, "%s/both.pem", dir);
	CHECK(tls_trust_add_pem_file(t, path, &e) == 0 && tls_trust_count(t) == base + 2);
	/* certs.d style: *.crt files only (client.key is ignored); a missing dir is fine. */
	snprintf(path, sizeof path, "%s/certs.d", dir);
	CHECK(tls_trust_add_dir(t, path, &e) == 0 && tls_trust_count(t) == base + 3);
	/* CA files are often symlinks. */
	snprintf(path, sizeof path, "%s/link.crt", dir);
	CHECK(tls_trust_add_pem_file(t, path, &e) == 0 && tls_trust_count(t) == base + 4);
	snprintf(path, sizeof path, "%s/missing.d", dir);
	CHECK(tls_trust_add_dir(t, path, &e) == 0 && tls_trust_count(t) == base + 4);
	snprintf(path, sizeof path, "%s/bad.crt", dir);
	CHECK(tls_trust_add_pem_file(t, path, &e) == -1 && e.code == ERR_FORMAT);
	snprintf(path, sizeof path, "%s/good.key", dir);
	CHECK(tls_trust_add_pem_file(t, path, &e) == -1 && strstr(e.msg, "no PEM certificate"));
	snprintf(path, sizeof path, "%s/nonexistent.crt", dir);
	CHECK(tls_trust_add_pem_file(t, path, &e) == -1 && e.code == ERR_SYS);
	CHECK(tls_trust_add_dir(t, dir, &e) == -1); /* bad.crt is in there */
	tls_trust_free(t);
}

static void
t_san_ip_parser(void)
{
	static const uint8_t lo4[4] = {127, 0, 0, 1}, lo4b[4] = {127, 0, 0, 2}, lo6[16] = {[15] = 1};
	struct buf der = {0};
	struct err e;
	char path[128];
	size_t i;
	snprintf(path, sizeof path, "%s/good.der", dir);
	CHECK(file_read(AT_FDCWD, path, 1 << 20, &der, &e) == 0);
	CHECK(san_has_ip((uint8_t *)der.p, der.len, lo4, 4) == 1);
	CHECK(san_has_ip((uint8_t *)der.p, der.len, lo6, 16) == 1);
	CHECK(san_has_ip((uint8_t *)der.p, der.len, lo4b, 4) == 0);
	CHECK(san_has_ip((uint8_t *)der.p, der.len, lo6, 4) == 0);
	/* Every truncation fails closed; every single-byte change neither crashes nor reads out of
	 * bounds (ASan watches). */
	for (i = 0; i < der.len; i++)
		CHECK(san_has_ip((uint8_t *)der.p, i, lo4, 4) == 0);
	for (i = 0; i < der.len; i++) {
		uint8_t *p = (uint8_t *)der.p, old = p[i];
		p[i] = (uint8_t)(old ^ 0x80);
		(void)san_has_ip(p, der.len, lo4, 4);
		p[i] = 0xff;
		(void)san_has_ip(p, der.len, lo4, 4);
		p[i] = old;
	}
	buf_free(&der);
}

static void
t_good_by_ip_and_name(void)
{
	struct err e = {0};
	CHECK(try_tls("127.0.0.1", port[S_GOOD], "127.0.0.1", trust, 0, &e) == 0);
	if (e.msg[0])
		printf("  %s\n", e.msg);
	CHECK(try_tls("127.0.0.1", port[S_GOOD], "localhost", trust, 0, &e) == 0);
	if (have_v6)
		CHECK(try_tls("::1", port[S_GOOD6], "::1", trust, 0, &e) == 0);
}

static void
t_wrong_name(void)
{
	struct err e = {0};
	/* Our iPAddress check: the certificate names 127.0.0.2, not 127.0.0.1. */
	CHECK(try_tls("127.0.0.1", port[S_OTHER], "127.0.0.1", trust, 0, &e) == -1);
	CHECK(e.code == ERR_TLS && !strcmp(e.msg, "certificate is valid for other names, not 127.0.0.1"));
	/* BearSSL's dNSName check. */
	CHECK(try_tls("127.0.0.1", port[S_OTHER], "localhost", trust, 0, &e) == -1);
	CHECK(e.code == ERR_TLS && !strcmp(e.msg, "certificate is valid for other names, not localhost"));
	/* An IPv6 literal is not matched against the IPv4 SAN of the same loopback. */
	if (have_v6) {
		CHECK(try_tls("::1", port[S_GOOD6], "::2", trust, 0, &e) == -1);
		CHECK(!strcmp(e.msg, "certificate is valid for other names, not ::2"));
	}
}

static void
t_unknown_ca(void)
{
	struct tls_trust *t = tls_trust_new();
	struct err e = {0};
	char path[128];
	CHECK(try_tls("127.0.0.1", port[S_GOOD], "localhost", t, 0, &e) == -1);
	CHECK(e.code == ERR_TLS && !strcmp(e.msg, "certificate signed by unknown authority"));
	CHECK(try_tls("127.0.0.1", port[S_GOOD], "127.0.0.1", NULL, 0, &e) == -1);
	CHECK(!strcmp(e.msg, "certificate signed by unknown authority"));
	snprintf(path, sizeof path, "%s/ca2.crt", dir);
	CHECK(tls_trust_add_pem_file(t, path, &e) == 0);
	CHECK(try_tls("127.0.0.1", port[S_GOOD], "127.0.0.1", t, 0, &e) == -1);
	CHECK(!strcmp(e.msg, "certificate signed by unknown authority"));
	tls_trust_free(t);
}

static void
t_expired(void)
{
	struct err e = {0};
	char want[200], date[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	snprintf(want, sizeof want,
		 "certificate has expired or is not yet valid \xe2\x80\x94 check the system clock (it says %s)",
		 date);
	CHECK(try_tls("127.0.0.1", port[S_EXPIRED], "127.0.0.1", trust, 0, &e) == -1);
	CHECK(e.code == ERR_TLS && !strcmp(e.msg, want));
	if (strcmp(e.msg, want))
		printf("  got: %s\n", e.msg);
}

static void
t_insecure(void)
{
	struct err e = {0};
	CHECK(try_tls("127.0.0.1", port[S_OTHER], "127.0.0.1", NULL, 1, &e) == 0);
	CHECK(try_tls("127.0.0.1", port[S_EXPIRED], "localhost", NULL, 1, &e) == 0);
	CHECK(try_tls("127.0.0.1", port[S_GOOD], "wrong.example", NULL, 1, &e) == 0);
}

static void
t_https_get(void)
{
	struct http_opts o = {.net = nopts, .trust = trust};
	struct http_resp r = {0};
	struct err e = {0};
	struct http *h = http_new(&o);
	struct buf body = {0};
	char url[128], tmp[1024], hostport[64];
	const char *insecure[] = {hostport, NULL};
	ssize_t n;
	snprintf(url, sizeof url, "https://localhost:%d/", port[S_GOOD]);
	CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == 0);
	CHECK(r.status == 200 && r.length == -1);
	while ((n = http_read(h, tmp, sizeof tmp, &e)) > 0)
		buf_add(&body, tmp, (size_t)n);
	CHECK(n == 0 && body.len > 100);
	/* The suite order puts AES-GCM first on AES-NI machines, ChaCha20 elsewhere. */
	if (br_aes_x86ni_ctr_get_vtable())
		CHECK(strstr(body.p, "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256") != NULL);
	else
		CHECK(strstr(body.p, "CHACHA20") != NULL);
	CHECK(strstr(body.p, "TLSv1.2") != NULL);
	/* By IP, through the same client. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", port[S_GOOD]);
	CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == 0 && r.status == 200);
	CHECK(http_discard(h, &e) == 0);
	/* Errors carry the request as context. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v2/", port[S_OTHER]);
	CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == -1);
	snprintf(tmp, sizeof tmp, "GET %s: certificate is valid for other names, not 127.0.0.1", url);
	CHECK(!strcmp(e.msg, tmp) && e.code == ERR_TLS);
	/* An insecure host: no verification, for that host:port only. */
	snprintf(hostport, sizeof hostport, "127.0.0.1:%d", port[S_EXPIRED]);
	h->o.insecure_hosts = insecure;
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", port[S_EXPIRED]);
	CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == 0 && r.status == 200);
	http_discard(h, &e);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", port[S_OTHER]);
	CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == -1);
	if (have_v6) {
		snprintf(url, sizeof url, "https://[::1]:%d/", port[S_GOOD6]);
		CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == 0 && r.status == 200);
		http_discard(h, &e);
	}
	http_free(h);
	http_resp_free(&r);
	buf_free(&body);
}

/* A server that is not TLS at all, and one that never answers. */
static void
t_not_tls_and_timeout(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof a;
	struct err e = {0};
	struct tls_conn *c;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd, sfd;
	int64_t t0;
	CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4) == 0);
	getsockname(lfd, (struct sockaddr *)&a, &al);
	/* Never accepted, never answered: the handshake times out. */
	fd = net_connect("127.0.0.1", ntohs(a.sin_port), &nopts, &e);
	t0 = now_ns();
	c = tls_open(fd, "localhost", trust, 0, 300, &e);
	CHECK(c == NULL && e.code == ERR_NET && strstr(e.msg, "timed out"));
	CHECK(now_ns() - t0 < 2000000000LL);
	/* Plain HTTP back.  The first accept returns the connection above, closed by now. */
	close(accept(lfd, NULL, NULL));
	fd = net_connect("127.0.0.1", ntohs(a.sin_port), &nopts, &e);
	sfd = accept(lfd, NULL, NULL);
	CHECK(write(sfd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 47) == 47);
	c = tls_open(fd, "localhost", trust, 0, 2000, &e);
	CHECK(c == NULL && e.code == ERR_TLS);
	close(sfd);
	/* Closed during the handshake. */
	fd = net_connect("127.0.0.1", ntohs(a.sin_port), &nopts, &e);
	sfd = accept(lfd, NULL, NULL);
	close(sfd);
	c = tls_open(fd, "localhost", trust, 0, 2000, &e);
	CHECK(c == NULL && e.code == ERR_NET && strstr(e.msg, "closed"));
	close(lfd);
}

/* A CONNECT proxy for one connection: relays bytes both ways once it has said 200. */
struct proxy {
	int lfd, port;
	char head[1024];
	pthread_t th;
};

static void *
proxy_run(void *arg)
{
	struct proxy *p = arg;
	struct err e;
	char buf[16384];
	size_t n = 0;
	int c = accept(p->lfd, NULL, NULL), s, target;
	const char *colon;
	if (c < 0)
		return NULL;
	while (n < sizeof p->head - 1 && !strstr(p->head, "\r\n\r\n")) {
		ssize_t r = read(c, p->head + n, sizeof p->head - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		p->head[n] = 0;
	}
	colon = strchr(p->head + 8, ':');
	target = colon ? atoi(colon + 1) : 0;
	s = net_connect("127.0.0.1", target, &nopts, &e);
	if (s < 0) {
		close(c);
		return NULL;
	}
	if (write(c, "HTTP/1.1 200 Connection established\r\n\r\n", 39) != 39)
		goto out;
	for (;;) {
		struct pollfd pf[2] = {{.fd = c, .events = POLLIN}, {.fd = s, .events = POLLIN}};
		int i;
		if (poll(pf, 2, 5000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t r;
			if (!pf[i].revents)
				continue;
			r = read(pf[i].fd, buf, sizeof buf);
			if (r <= 0 || send(pf[1 - i].fd, buf, (size_t)r, MSG_NOSIGNAL) != r)
				goto out;
		}
	}
out:
	close(c);
	close(s);
	return NULL;
}

static void
t_https_through_proxy(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof a;
	struct proxy p = {0};
	struct http_opts o = {.net = nopts, .trust = trust};
	struct http_resp r = {0};
	struct err e = {0};
	struct http *h;
	char env[64], url[128], want[64];
	p.lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(bind(p.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(p.lfd, 4) == 0);
	getsockname(p.lfd, (struct sockaddr *)&a, &al);
	p.port = ntohs(a.sin_port);
	pthread_create(&p.th, NULL, proxy_run, &p);
	snprintf(env, sizeof env, "127.0.0.1:%d", p.port); /* no scheme: http:// */
	setenv("https_proxy", env, 1);
	http_proxy_loopback = 1;
	h = http_new(&o);
	snprintf(url, sizeof url, "https://localhost:%d/", port[S_GOOD]);
	CHECK(http_get(h, "GET", url, NULL, NULL, 0, &r, &e) == 0 && r.status == 200);
	if (r.status != 200)
		printf("  %s\n", e.msg);
	CHECK(http_discard(h, &e) == 0);
	http_free(h);
	pthread_join(p.th, NULL);
	close(p.lfd);
	snprintf(want, sizeof want, "CONNECT localhost:%d HTTP/1.1\r\n", port[S_GOOD]);
	CHECK(!strncmp(p.head, want, strlen(want)));
	CHECK(strstr(p.head, "Proxy-Authorization") == NULL);
	http_proxy_loopback = 0;
	unsetenv("https_proxy");
	http_resp_free(&r);
}

int
main(void)
{
	if (setup() < 0) {
		printf("FAIL tls_setup\n");
		teardown();
		return 1;
	}
	RUN(t_trust_store);
	RUN(t_san_ip_parser);
	RUN(t_good_by_ip_and_name);
	RUN(t_wrong_name);
	RUN(t_unknown_ca);
	RUN(t_expired);
	RUN(t_insecure);
	RUN(t_https_get);
	RUN(t_not_tls_and_timeout);
	RUN(t_https_through_proxy);
	teardown();
	CHECK_MAIN_END;
}
