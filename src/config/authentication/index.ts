import { ldapAuthentication } from './ldap';
import { mtlsAuthentication } from './mtls';
import { staticAuthentication } from './static';
import { tokenAuthentication } from './token';

/** The `authentication:` backends, one file each: the options of the `backend` key, in this order. */
export const authenticationBackends = [staticAuthentication, tokenAuthentication, mtlsAuthentication, ldapAuthentication] as const;
