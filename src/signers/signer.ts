/** Who holds a CA key: signs a to-be-signed certificate and names the algorithm it signs with. */
export interface Signer {
  /** The AlgorithmIdentifier, DER, that goes into the TBS certificate and the certificate. */
  readonly signatureAlgorithm: Uint8Array;
  /** The CA's SubjectPublicKeyInfo, DER, to check it against the CA certificate. */
  readonly publicKey: Uint8Array;
  /** A short description for logs and errors, e.g. "local EC P-256". */
  readonly description: string;
  /** A token's running counts (PKCS#11): failed operations and logins, for metrics. */
  readonly tokenEvents?: TokenEvents;
  /** The signature over `tbs`, in the encoding X.509 uses (DER for ECDSA). */
  sign(tbs: Uint8Array): Promise<Uint8Array>;
  /** Frees what this signer holds once a reload has replaced it; the process's other signers go on. */
  release?(): void;
}

export interface TokenEvents {
  readonly errors: number;
  readonly logins: number;
}

/** The signer could not sign right now (a token gone, a session lost): the request may be retried. */
export class SignerUnavailableError extends Error {
  override readonly name = 'SignerUnavailableError';
}

/** A signer's configuration is wrong; the message says which step failed and how to fix it. */
export class SignerConfigError extends Error {
  override readonly name = 'SignerConfigError';
}
