import type { Requester } from '../../../../src/types';
import validator from '../../../../validators/server_group';
import { buildCsr, check, optionIssues, OIDS, opensslRequest, requestFromCsr } from '../policy_request';

const OPTIONS = { group_prefixes: { nv: 'nova', sw: 'swift' } };
const IN_NOVA: Requester = { user: 'alice', groups: ['users', 'nova'], authentication: 'default' };
const IN_NONE: Requester = { user: 'bob', groups: ['users'], authentication: 'default' };

const refusals = (subject: string, requester: Requester, options: object = OPTIONS) =>
  check(validator, options, opensslRequest({ subject, extensions: [] }, { requester }));

describe('server_group', () => {
  it('passes a prefixed CN when the requester is in its group', () => {
    expect(refusals('/CN=nv-compute1.example.com', IN_NOVA)).toEqual([]);
  });

  it('refuses a prefixed CN when the requester is not in its group', () => {
    expect(refusals('/CN=nv-compute1.example.com', IN_NONE)).toEqual([
      "common name 'nv-compute1.example.com' has prefix 'nv', which needs group 'nova'; bob is not in it",
    ]);
    expect(refusals('/CN=sw-proxy.example.com', IN_NOVA)).toEqual([
      "common name 'sw-proxy.example.com' has prefix 'sw', which needs group 'swift'; alice is not in it",
    ]);
  });

  it('takes the prefix before the first hyphen only', () => {
    expect(refusals('/CN=nv-sw-1.example.com', IN_NOVA)).toEqual([]);
    expect(refusals('/CN=sw-nv-1.example.com', IN_NOVA)).toEqual([
      "common name 'sw-nv-1.example.com' has prefix 'sw', which needs group 'swift'; alice is not in it",
    ]);
  });

  it('passes a CN without a hyphen', () => {
    expect(refusals('/CN=nvcompute1.example.com', IN_NONE)).toEqual([]);
  });

  it('passes a CN whose first hyphen is beyond the first label', () => {
    expect(refusals('/CN=web.nv-cell.example.com', IN_NONE)).toEqual([]);
  });

  it('passes a prefix that is not listed', () => {
    expect(refusals('/CN=db-1.example.com', IN_NONE)).toEqual([]);
  });

  it('matches the prefix case-insensitively', () => {
    expect(refusals('/CN=NV-compute1.example.com', IN_NONE)).toEqual([
      "common name 'NV-compute1.example.com' has prefix 'NV', which needs group 'nova'; bob is not in it",
    ]);
    expect(refusals('/CN=nv-compute1.example.com', IN_NONE, { group_prefixes: { NV: 'nova' } })).toEqual([
      "common name 'nv-compute1.example.com' has prefix 'nv', which needs group 'nova'; bob is not in it",
    ]);
  });

  it('compares group names exactly', () => {
    const upperNova: Requester = { user: 'carol', groups: ['NOVA'], authentication: 'default' };
    expect(refusals('/CN=nv-compute1.example.com', upperNova)).toEqual([
      "common name 'nv-compute1.example.com' has prefix 'nv', which needs group 'nova'; carol is not in it",
    ]);
  });

  it('handles a trailing dot and an internationalised CN', () => {
    expect(refusals('/CN=nv-compute1.example.com.', IN_NONE)).toEqual([
      "common name 'nv-compute1.example.com.' has prefix 'nv', which needs group 'nova'; bob is not in it",
    ]);
    // "xn--" is an A-label marker, not a group prefix; an unlisted prefix passes.
    expect(refusals('/CN=xn--bcher-kva.example.com', IN_NONE)).toEqual([]);
  });

  it('checks every common name', () => {
    const der = buildCsr({
      subject: [
        { oid: OIDS.commonName, value: 'web.example.com' },
        { oid: OIDS.commonName, value: 'nv-compute1.example.com' },
      ],
    });
    expect(validator.check(requestFromCsr(der, { requester: IN_NONE }), validator.options.parse(OPTIONS))).toEqual([
      "common name 'nv-compute1.example.com' has prefix 'nv', which needs group 'nova'; bob is not in it",
    ]);
  });

  it('passes a request without a common name', () => {
    expect(check(validator, OPTIONS, opensslRequest({ subject: '/OU=ops', extensions: ['subjectAltName=critical,DNS:a.example.com'] }, { requester: IN_NONE }))).toEqual([]);
  });

  describe('options', () => {
    it('requires group_prefixes', () => {
      expect(optionIssues(validator, {})).toEqual(['group_prefixes: Invalid input: expected record, received undefined']);
    });

    it('refuses a misspelt key', () => {
      expect(optionIssues(validator, { group_prefixes: {}, group_prefix: {} })).toEqual([': Unrecognized key: "group_prefix"']);
    });

    it('refuses wrong types', () => {
      expect(optionIssues(validator, { group_prefixes: ['nv'] })).toEqual(['group_prefixes: Invalid input: expected record, received array']);
      expect(optionIssues(validator, { group_prefixes: { nv: 3 } })).toEqual(['group_prefixes.nv: Invalid input: expected string, received number']);
    });

    it('refuses an empty group', () => {
      expect(optionIssues(validator, { group_prefixes: { nv: '' } })).toEqual(['group_prefixes.nv: Too small: expected string to have >=1 characters']);
    });
  });
});
