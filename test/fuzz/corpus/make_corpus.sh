#!/bin/sh
# Regenerates the fuzz corpus: real CSRs made by the openssl CLI, and the keys that signed them (test
# keys, used only to re-sign mutated requests). `good-*` pass the default RA's policy; `bad-*` are
# well-formed and correctly signed but refused by it. The fuzz test reads every *.csr here.
# Run from anywhere: sh test/fuzz/corpus/make_corpus.sh
set -eu
cd "$(dirname "$0")"
rm -f ./*.csr ./*.key

key() { # name, genpkey options...
  name=$1; shift
  openssl genpkey "$@" -out "$name.key" 2>/dev/null
}
csr() { # name, subject, [digest], [-addext ...]
  name=$1; subject=$2; shift 2
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" "$@"
}

key good-p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr good-p256 /CN=svc.mayfly.test -addext 'subjectAltName=DNS:svc.mayfly.test,DNS:api.mayfly.test'
key good-p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
csr good-p384 '/CN=db.mayfly.test/O=Acme/OU=Ops' -sha384 -addext 'subjectAltName=DNS:db.mayfly.test' \
  -addext 'keyUsage=digitalSignature' -addext 'extendedKeyUsage=serverAuth'
key good-rsa2048 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
csr good-rsa2048 '/C=NZ/O=Acme/CN=web.mayfly.test' -addext 'subjectAltName=DNS:web.mayfly.test,DNS:www.mayfly.test,DNS:static.web.mayfly.test' \
  -addext 'basicConstraints=CA:FALSE' -addext 'keyUsage=critical,digitalSignature,keyEncipherment' -addext 'extendedKeyUsage=serverAuth,clientAuth'
key good-ed25519 -algorithm ED25519
csr good-ed25519 / -addext 'subjectAltName=critical,DNS:edge.mayfly.test'
key good-p256-ipcn -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr good-p256-ipcn /CN=127.0.0.1
key good-rsa3072 -algorithm RSA -pkeyopt rsa_keygen_bits:3072
csr good-rsa3072 /CN=big.mayfly.test -sha384 -addext 'subjectAltName=DNS:big.mayfly.test,DNS:Mixed.Case.Mayfly.Test.'
key good-p256-sha1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr good-p256-sha1 /CN=old.mayfly.test -sha1 -addext 'subjectAltName=DNS:old.mayfly.test' -addext '1.2.3.4=DER:05:00'

key bad-rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
csr bad-rsa1024 /CN=weak.mayfly.test -addext 'subjectAltName=DNS:weak.mayfly.test'
key bad-p521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521
csr bad-p521 /CN=p521.mayfly.test -sha512
key bad-secp256k1 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
csr bad-secp256k1 /CN=k1.mayfly.test
key bad-rsa2048-e3 -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3
csr bad-rsa2048-e3 /CN=e3.mayfly.test
key bad-ed448 -algorithm ED448
csr bad-ed448 /CN=ed448.mayfly.test
key bad-rsapss -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048
csr bad-rsapss /CN=pss.mayfly.test
key bad-ca-true -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-ca-true /CN=ca.mayfly.test -addext 'basicConstraints=critical,CA:TRUE'
key bad-keycertsign -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-keycertsign /CN=ku.mayfly.test -addext 'keyUsage=digitalSignature,keyCertSign,cRLSign'
key bad-pathlen -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-pathlen /CN=pl.mayfly.test -addext 'basicConstraints=CA:FALSE,pathlen:0'
key bad-evil-san -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-evil-san /CN=svc.mayfly.test -addext 'subjectAltName=DNS:svc.mayfly.test,DNS:evil.example.com'
key bad-ip-san -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-ip-san /CN=svc.mayfly.test -addext 'subjectAltName=DNS:svc.mayfly.test,IP:127.0.0.1'
key bad-email-san -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-email-san /CN=svc.mayfly.test -addext 'subjectAltName=email:ops@mayfly.test,URI:https://svc.mayfly.test/'
key bad-two-cn -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-two-cn '/CN=a.mayfly.test/CN=b.mayfly.test'
key bad-no-names -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-no-names /O=Acme
key bad-critical-unknown -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-critical-unknown /CN=crit.mayfly.test -addext '1.2.3.4=critical,DER:05:00'
key bad-wildcard -algorithm EC -pkeyopt ec_paramgen_curve:P-256
csr bad-wildcard '/CN=*.mayfly.test' -addext 'subjectAltName=DNS:*.mayfly.test'
key bad-evil-cn -algorithm ED25519
csr bad-evil-cn /CN=mayfly.test.evil.com -addext 'subjectAltName=DNS:svc.mayfly.test'
key bad-ip-cn -algorithm EC -pkeyopt ec_paramgen_curve:P-384
csr bad-ip-cn /CN=10.0.0.1

for f in ./*.csr; do openssl req -in "$f" -verify -noout 2>/dev/null || { echo "bad signature: $f" >&2; exit 1; }; done
echo "wrote $(ls ./*.csr | wc -l) CSRs"
