/** The request body did not hold a well-formed PKCS#10 request. The message is safe to show the client. */
export class CsrParseError extends Error {
  override readonly name = 'CsrParseError';
}
