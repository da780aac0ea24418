// The built-in validators. Each file's default export has the interface a plugin has.
import alternativeNames from './alternative_names';
import caStatus from './ca_status';
import commonName from './common_name';
import criticalExtensions from './critical_extensions';
import csrSignature from './csr_signature';
import publicKey from './public_key';

/** Run before every RA's own chain; config cannot remove them. */
export const alwaysOnValidators = [csrSignature, caStatus, criticalExtensions];

export const builtinValidators = [commonName, alternativeNames, publicKey];
