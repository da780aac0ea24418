// The built-in validators. Each file's default export has the interface a plugin has.
import alternativeNames from './alternative_names';
import alternativeNamesIp from './alternative_names_ip';
import blacklistNames from './blacklist_names';
import caStatus from './ca_status';
import commonName from './common_name';
import criticalExtensions from './critical_extensions';
import csrSignature from './csr_signature';
import denyList from './deny_list';
import extKeyUsage from './ext_key_usage';
import extensions from './extensions';
import keyForm from './key_form';
import keyUsage from './key_usage';
import maxNames from './max_names';
import nameSyntax from './name_syntax';
import publicKey from './public_key';
import renewalScope from './renewal_scope';
import serverGroup from './server_group';
import sourceCidrs from './source_cidrs';
import standardsCompliance from './standards_compliance';
import subjectAttributes from './subject_attributes';
import subjectIdentity from './subject_identity';
import whitelistNames from './whitelist_names';

/** Run before every RA's own chain; config cannot remove them. name_syntax reads the RA's `allow_underscores`. */
export const alwaysOnValidators = [csrSignature, keyForm, caStatus, criticalExtensions, subjectIdentity, nameSyntax, renewalScope];
export { nameSyntax };

export const builtinValidators = [
  commonName,
  alternativeNames,
  alternativeNamesIp,
  blacklistNames,
  whitelistNames,
  serverGroup,
  extensions,
  keyUsage,
  extKeyUsage,
  sourceCidrs,
  publicKey,
  standardsCompliance,
  maxNames,
  denyList,
  subjectAttributes,
];
