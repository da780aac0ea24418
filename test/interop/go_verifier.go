// An independent verifier for the interop tests: Go's crypto/x509, standard library only.
// Reads a JSON array of cases on stdin; for each, verifies the leaf up to the root for every name
// (a DNS name or an IP literal: Verify checks the matching subjectAltName kind) with the serverAuth
// extended key usage, and writes one JSON result per case and name to stdout.
package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
)

type verifyCase struct {
	ID            string   `json:"id"`
	Root          string   `json:"root"`
	Intermediates string   `json:"intermediates"`
	Leaf          string   `json:"leaf"`
	Names         []string `json:"names"`
}

type verifyResult struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// pool parses every CERTIFICATE block of a PEM text, failing on anything unparsable: a
// certificate Go cannot parse must be reported, not silently left out of the chain.
func pool(text string) (*x509.CertPool, error) {
	certificates := x509.NewCertPool()
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return certificates, nil
		}
		certificate, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certificates.AddCert(certificate)
	}
}

func leaf(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func verify(c verifyCase, name string) error {
	roots, err := pool(c.Root)
	if err != nil {
		return fmt.Errorf("root: %w", err)
	}
	intermediates, err := pool(c.Intermediates)
	if err != nil {
		return fmt.Errorf("intermediates: %w", err)
	}
	certificate, err := leaf(c.Leaf)
	if err != nil {
		return fmt.Errorf("leaf: %w", err)
	}
	_, err = certificate.Verify(x509.VerifyOptions{
		DNSName:       name,
		Roots:         roots,
		Intermediates: intermediates,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

func main() {
	var cases []verifyCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	results := []verifyResult{}
	for _, c := range cases {
		for _, name := range c.Names {
			result := verifyResult{ID: c.ID, Name: name, OK: true}
			if err := verify(c, name); err != nil {
				result.OK = false
				result.Error = err.Error()
			}
			results = append(results, result)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(2)
	}
}
