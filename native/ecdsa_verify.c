// A CSR's ECDSA signature, verified from its public point. node:crypto.verify imports the key from
// its SPKI through OpenSSL 3's decoders on every call (~30 µs of a P-256 verify's ~105 on the
// machines the benchmark runs on); here the point goes straight into an EC_KEY, and the signature
// through the same ECDSA_verify that node:crypto ends in (DER only, re-encoded and compared, as
// OpenSSL does for every ECDSA signature). The TypeScript path (node:crypto) stays the reference:
// test/unit/native_core.test.ts checks both agree on valid, tampered and malformed signatures.
//
// OpenSSL is the one inside Node (its headers come with Node's, its symbols are Node's own).
// EC_KEY and ECDSA_verify are deprecated in OpenSSL 3 in favour of EVP_PKEY, whose fromdata import
// costs what the decoders do; they remain in OpenSSL 3.x and are what its provider calls underneath.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

// The curves by the names the TypeScript side uses (src/csr/ec_point.ts), and their OpenSSL ids.
static const char *const CURVES[] = {"P-256", "P-384", "P-521", "secp256k1"};
static const int CURVE_NIDS[] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1, NID_secp256k1};
#define CURVE_COUNT (sizeof CURVES / sizeof CURVES[0])
_Static_assert(CURVE_COUNT == sizeof CURVE_NIDS / sizeof CURVE_NIDS[0], "a nid for every curve");

static const char *const DIGESTS[] = {"sha1", "sha224", "sha256", "sha384", "sha512"};
#define DIGEST_COUNT (sizeof DIGESTS / sizeof DIGESTS[0])

// The digests fetched once for each thread that loads the module (each worker thread is its own
// env): an EVP_MD from EVP_sha256() would be fetched from the provider on every EVP_Digest.
struct instance {
  EVP_MD *digests[DIGEST_COUNT];
};

static void free_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct instance *instance = data;
  for (size_t i = 0; i < DIGEST_COUNT; i++) EVP_MD_free(instance->digests[i]);
  free(instance);
}

static napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static int read_bytes(napi_env env, napi_value value, const unsigned char **bytes, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *data;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  // A zero-length view may carry a NULL pointer; OpenSSL is given a valid one either way.
  *bytes = *length > 0 ? data : (const unsigned char *)"";
  return 1;
}

// A name longer than any known one, or with a NUL inside, comes back empty, so that it is unknown
// rather than cut short.
static int read_name(napi_env env, napi_value value, char *name, size_t size) {
  size_t length;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) return 0;
  if (napi_get_value_string_utf8(env, value, name, size, &length) != napi_ok) return 0;
  if (length >= size - 1 || strlen(name) != length) name[0] = '\0';
  return 1;
}

// Only the uncompressed form (RFC 5480 2.2: 0x04, x, y, each as long as the field) is taken:
// EC_KEY_oct2key would also take a compressed or hybrid point, and the point at infinity (0x00),
// with which a signature verifies that no private key made.
static int is_uncompressed_point(const EC_KEY *key, const unsigned char *point, size_t length) {
  size_t field = ((size_t)EC_GROUP_get_degree(EC_KEY_get0_group(key)) + 7) / 8;
  return length == 1 + 2 * field && point[0] == 0x04;
}

static int curve_nid(const char *name) {
  for (size_t i = 0; i < CURVE_COUNT; i++) {
    if (strcmp(CURVES[i], name) == 0) return CURVE_NIDS[i];
  }
  return NID_undef;
}

static const EVP_MD *digest_named(const struct instance *instance, const char *name) {
  for (size_t i = 0; i < DIGEST_COUNT; i++) {
    if (strcmp(DIGESTS[i], name) == 0) return instance->digests[i];
  }
  return NULL;
}

// verifyEcdsa(curve, point, digest, signed, signature) → boolean
static napi_value verify_ecdsa(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  struct instance *instance;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return throw_type_error(env, "verifyEcdsa takes five arguments");
  if (napi_get_instance_data(env, (void **)&instance) != napi_ok || instance == NULL) return throw_type_error(env, "the native module is not initialized");
  char curve_name[16], digest_name[16];
  const unsigned char *point, *signed_bytes, *signature;
  size_t point_length, signed_length, signature_length;
  if (!read_name(env, argv[0], curve_name, sizeof curve_name) || !read_name(env, argv[2], digest_name, sizeof digest_name)) {
    return throw_type_error(env, "verifyEcdsa: the curve and the digest are strings");
  }
  if (!read_bytes(env, argv[1], &point, &point_length) || !read_bytes(env, argv[3], &signed_bytes, &signed_length) ||
      !read_bytes(env, argv[4], &signature, &signature_length)) {
    return throw_type_error(env, "verifyEcdsa: the point, the signed bytes and the signature are Uint8Arrays");
  }
  int nid = curve_nid(curve_name);
  const EVP_MD *md = digest_named(instance, digest_name);
  if (nid == NID_undef) return throw_type_error(env, "verifyEcdsa: unknown curve");
  if (md == NULL) return throw_type_error(env, "verifyEcdsa: unknown digest");

  int valid = 0;
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int hash_length;
  EC_KEY *key = EC_KEY_new_by_curve_name(nid);
  // EC_KEY_oct2key refuses a point off the curve; ECDSA_verify answers 1 for valid, 0 for invalid,
  // -1 for a malformed signature (non-DER, trailing bytes, r or s out of range).
  if (key != NULL && signature_length <= INT32_MAX && is_uncompressed_point(key, point, point_length) && EC_KEY_oct2key(key, point, point_length, NULL) == 1 &&
      EVP_Digest(signed_bytes, signed_length, hash, &hash_length, md, NULL) == 1) {
    valid = ECDSA_verify(0, hash, (int)hash_length, signature, (int)signature_length, key) == 1;
  }
  EC_KEY_free(key);
  // A refused signature leaves OpenSSL's reasons on this thread's error queue, where node:crypto's
  // next call on the thread could find them and report them as its own.
  ERR_clear_error();
  napi_value result;
  napi_get_boolean(env, valid, &result);
  return result;
}

// openSslErrorPending() → boolean, for the tests: whether OpenSSL's error queue on this thread holds
// an error (verifyEcdsa leaves none, whatever it refuses).
static napi_value openssl_error_pending(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, ERR_peek_error() != 0, &result);
  return result;
}

// exports[property] = the `count` names, as an array of strings.
static int export_names(napi_env env, napi_value exports, const char *property, const char *const *names, size_t count) {
  napi_value array, name;
  if (napi_create_array_with_length(env, count, &array) != napi_ok) return 0;
  for (size_t i = 0; i < count; i++) {
    if (napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &name) != napi_ok || napi_set_element(env, array, (uint32_t)i, name) != napi_ok) return 0;
  }
  return napi_set_named_property(env, exports, property, array) == napi_ok;
}

NAPI_MODULE_INIT() {
  struct instance *instance = calloc(1, sizeof *instance);
  if (instance == NULL) {
    napi_throw_error(env, NULL, "mayfly-native: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < DIGEST_COUNT; i++) {
    instance->digests[i] = EVP_MD_fetch(NULL, DIGESTS[i], NULL);
    if (instance->digests[i] == NULL) {
      free_instance(env, instance, NULL);
      ERR_clear_error();
      napi_throw_error(env, NULL, "mayfly-native: OpenSSL has no implementation of a digest ECDSA uses");
      return NULL;
    }
  }
  napi_value verify, pending;
  if (napi_set_instance_data(env, instance, free_instance, NULL) != napi_ok ||
      napi_create_function(env, "verifyEcdsa", NAPI_AUTO_LENGTH, verify_ecdsa, NULL, &verify) != napi_ok ||
      napi_set_named_property(env, exports, "verifyEcdsa", verify) != napi_ok ||
      napi_create_function(env, "openSslErrorPending", NAPI_AUTO_LENGTH, openssl_error_pending, NULL, &pending) != napi_ok ||
      napi_set_named_property(env, exports, "openSslErrorPending", pending) != napi_ok ||
      !export_names(env, exports, "curves", CURVES, CURVE_COUNT) || !export_names(env, exports, "digests", DIGESTS, DIGEST_COUNT)) {
    return NULL;
  }
  return exports;
}
