/* DKIM keys: loading PEM private keys (RSA with OpenSSL, Ed25519 as a
 * libsodium key pair), generating them, and their DNS records. */
#include "dkim/dkim.h"
#include "dkim/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "base/base64.h"
#include "base/diag.h"
#include "base/fileio.h"

#define KEYFILE_MAX 65536

const char *dkim_alg_name(int alg)
{
	return alg == DKIM_RSA_SHA256 ? "rsa-sha256"
	     : alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "unknown";
}

int dkim_alg_parse(const char *s)
{
	if (!strcasecmp(s, "rsa-sha256") || !strcasecmp(s, "rsa"))
		return DKIM_RSA_SHA256;
	if (!strcasecmp(s, "ed25519-sha256") || !strcasecmp(s, "ed25519"))
		return DKIM_ED25519_SHA256;
	return 0;
}

/* ---- keys ---- */

void dkim_key_free(struct dkim_key *k)
{
	if (k->rsa)
		EVP_PKEY_free(k->rsa);
	sodium_memzero(k, sizeof *k);
}

static int key_from_evp(struct dkim_key *k, EVP_PKEY *pk, int alg, char *why, size_t wn)
{
	int id = EVP_PKEY_get_base_id(pk);
	memset(k, 0, sizeof *k);
	if (id == EVP_PKEY_RSA) {
		if (alg && alg != DKIM_RSA_SHA256)
			return dkim_say(DKIM_PERM, why, wn, "key is RSA, not %s", dkim_alg_name(alg));
		k->bits = EVP_PKEY_get_bits(pk);
		if (k->bits < DKIM_RSA_MIN_BITS)
			return dkim_say(DKIM_PERM, why, wn, "RSA key has %d bits, fewer than %d",
			                k->bits, DKIM_RSA_MIN_BITS);
		if (k->bits > DKIM_RSA_MAX_BITS)
			return dkim_say(DKIM_PERM, why, wn, "RSA key has %d bits, more than %d",
			                k->bits, DKIM_RSA_MAX_BITS);
		if (!EVP_PKEY_up_ref(pk))
			return dkim_say(DKIM_TEMP, why, wn, "out of memory");
		k->alg = DKIM_RSA_SHA256;
		k->rsa = pk;
		return DKIM_OK;
	}
	if (id == EVP_PKEY_ED25519) {
		unsigned char seed[32], pub[32];
		size_t n = sizeof seed;
		if (alg && alg != DKIM_ED25519_SHA256)
			return dkim_say(DKIM_PERM, why, wn, "key is Ed25519, not %s", dkim_alg_name(alg));
		if (EVP_PKEY_get_raw_private_key(pk, seed, &n) != 1 || n != 32)
			return dkim_say(DKIM_PERM, why, wn, "cannot extract the Ed25519 seed");
		crypto_sign_seed_keypair(pub, k->sk, seed);
		sodium_memzero(seed, sizeof seed);
		k->alg = DKIM_ED25519_SHA256;
		k->bits = 256;
		return DKIM_OK;
	}
	return dkim_say(DKIM_PERM, why, wn, "key is neither RSA nor Ed25519");
}

int dkim_key_from_pem(struct dkim_key *k, const char *pem, size_t len, int alg,
                      char *why, size_t wn)
{
	BIO *bio;
	EVP_PKEY *pk;
	int r;
	memset(k, 0, sizeof *k);
	if (len > KEYFILE_MAX)
		return dkim_say(DKIM_PERM, why, wn, "key file too large");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return dkim_say(DKIM_TEMP, why, wn, "out of memory");
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pk)
		return dkim_say(DKIM_PERM, why, wn, "not a PEM private key");
	r = key_from_evp(k, pk, alg, why, wn);
	EVP_PKEY_free(pk);
	return r;
}

int dkim_key_load(struct dkim_key *k, const char *path, int alg, char *why, size_t wn)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int fd, r;
	memset(k, 0, sizeof *k);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		return dkim_say(errno_temporary(e) || e == EACCES ? DKIM_TEMP : DKIM_PERM,
		                why, wn, "unable to open key %s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dkim_say(DKIM_PERM, why, wn, "key %s is not a regular file", path);
	}
	/* A private key that others may read is no longer private: refuse. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return dkim_say(DKIM_PERM, why, wn, "key %s is accessible by group or other (mode %04o); chmod 600",
		                path, (unsigned)(st.st_mode & 07777));
	}
	r = read_fd(fd, &b, KEYFILE_MAX);
	close(fd);
	if (r < 0) {
		int e = errno;
		buf_free(&b);
		return dkim_say(errno_temporary(e) ? DKIM_TEMP : DKIM_PERM, why, wn,
		                "unable to read key %s: %s", path, strerror(e));
	}
	r = dkim_key_from_pem(k, b.p ? b.p : "", b.len, alg, why, wn);
	if (r != DKIM_OK && why && wn) {
		char tmp[256];
		snprintf(tmp, sizeof tmp, "%s", why);
		snprintf(why, wn, "key %s: %s", path, tmp);
	}
	if (b.p)
		sodium_memzero(b.p, b.cap);
	buf_free(&b);
	return r;
}

int dkim_keygen(struct dkim_key *k, int alg, int bits, char *why, size_t wn)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx;
	int r;
	memset(k, 0, sizeof *k);
	if (alg == DKIM_ED25519_SHA256) {
		unsigned char seed[32], pub[32];
		randombytes_buf(seed, sizeof seed);
		crypto_sign_seed_keypair(pub, k->sk, seed);
		sodium_memzero(seed, sizeof seed);
		k->alg = alg;
		k->bits = 256;
		return DKIM_OK;
	}
	if (alg != DKIM_RSA_SHA256)
		return dkim_say(DKIM_PERM, why, wn, "unknown algorithm");
	if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS)
		return dkim_say(DKIM_PERM, why, wn, "RSA key size %d outside %d..%d", bits,
		                DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_keygen(ctx, &pk) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return dkim_say(DKIM_TEMP, why, wn, "RSA key generation failed");
	}
	EVP_PKEY_CTX_free(ctx);
	r = key_from_evp(k, pk, alg, why, wn);
	EVP_PKEY_free(pk);
	return r;
}

static int bio_to_buf(BIO *bio, struct buf *out)
{
	char *p;
	long n = BIO_get_mem_data(bio, &p);
	return n < 0 ? -1 : buf_add(out, p, (size_t)n);
}

int dkim_key_pem(const struct dkim_key *k, struct buf *out)
{
	EVP_PKEY *pk = k->rsa;
	BIO *bio = BIO_new(BIO_s_mem());
	int r = -1;
	if (!bio)
		return -1;
	if (k->alg == DKIM_ED25519_SHA256)
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->sk, 32);
	if (pk && PEM_write_bio_PKCS8PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1)
		r = bio_to_buf(bio, out);
	if (pk && pk != k->rsa)
		EVP_PKEY_free(pk);
	BIO_free(bio);
	return r;
}

/* Writing path failed: close fd (if open), remove the file, say why. */
static int save_failed(const char *path, int fd, char *why, size_t wn)
{
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(path);
	return dkim_say(errno_temporary(e) ? DKIM_TEMP : DKIM_PERM, why, wn,
	                "unable to write %s: %s", path, strerror(e));
}

int dkim_key_save(const struct dkim_key *k, const char *path, char *why, size_t wn)
{
	struct buf pem = BUF_INIT;
	int fd, e, r = DKIM_OK;
	if (dkim_key_pem(k, &pem) < 0)
		return dkim_say(DKIM_TEMP, why, wn, "unable to encode the key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = errno;
		r = dkim_say(errno_temporary(e) ? DKIM_TEMP : DKIM_PERM, why, wn,
		             "unable to create %s: %s", path, strerror(e));
	} else if (fchmod(fd, 0600) < 0 || write_all(fd, pem.p, pem.len) < 0 || fsync_checked(fd) < 0) {
		r = save_failed(path, fd, why, wn);
	} else if (close(fd) < 0 || fsync_parent(path) < 0) {
		r = save_failed(path, -1, why, wn);
	}
	sodium_memzero(pem.p, pem.len);
	buf_free(&pem);
	return r;
}

int dkim_key_record(const struct dkim_key *k, struct buf *out)
{
	if (k->alg == DKIM_ED25519_SHA256) {
		if (buf_adds(out, "v=DKIM1; k=ed25519; p=") < 0)
			return -1;
		return base64_encode(out, k->sk + 32, 32);
	} else {
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(k->rsa, &der);
		int r;
		if (n <= 0)
			return -1;
		r = buf_adds(out, "v=DKIM1; k=rsa; p=") < 0 ? -1 : base64_encode(out, der, (size_t)n);
		OPENSSL_free(der);
		return r;
	}
}
