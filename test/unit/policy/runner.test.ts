import { z } from 'zod';
import type { ConfiguredFixup, Fixup } from '../../../src/policy/fixup';
import enforceAlternativeNames from '../../../src/policy/fixups/enforce_alternative_names';
import { PolicyRejection } from '../../../src/policy/rejection';
import { enforcePolicy, evaluatePolicy, runValidators, type Policy } from '../../../src/policy/runner';
import { defineValidator, type ConfiguredValidator, type PolicyRequest, type Validator } from '../../../src/policy/validator';
import type { IssuanceNames } from '../../../src/types';
import alternativeNames from '../../../validators/alternative_names';
import alternativeNamesIp from '../../../validators/alternative_names_ip';
import commonName from '../../../validators/common_name';
import denyList from '../../../validators/deny_list';
import { buildCsr, configure, OIDS, opensslRequest, requestFromCsr, subjectAltNameValue } from './policy_request';

const configured = <Options>(validator: Validator<Options>, raw: unknown): ConfiguredValidator => ({ validator, options: configure(validator, raw) });
const enforce: ConfiguredFixup = { fixup: enforceAlternativeNames, options: enforceAlternativeNames.options.parse({}) };

const COMMON_NAME = configured(commonName, { allowed_domains: ['.example.com'], allowed_networks: ['10.0.0.0/8'] });
const ALTERNATIVE_NAMES = configured(alternativeNames, { allowed_domains: ['.example.com'] });

/** A validator that records the names it was shown and passes. */
function recorder(name = 'recorder'): { configured: ConfiguredValidator; seen: IssuanceNames[] } {
  const seen: IssuanceNames[] = [];
  const validator = defineValidator({
    name,
    options: z.strictObject({}),
    check: (request) => {
      seen.push(request.names);
      return [];
    },
  });
  return { configured: configured(validator, {}), seen };
}

function throwing(name: string, thrown: unknown): ConfiguredValidator {
  return configured(defineValidator({ name, options: z.strictObject({}), check: () => { throw thrown; } }), {});
}

function spyFixup(result?: (request: PolicyRequest) => IssuanceNames): { configured: ConfiguredFixup; calls: PolicyRequest[] } {
  const calls: PolicyRequest[] = [];
  const fixup: Fixup<Record<string, never>> = {
    name: 'spy_fixup',
    options: z.strictObject({}),
    apply(request) {
      calls.push(request);
      return result ? result(request) : request.names;
    },
  };
  return { configured: { fixup, options: {} }, calls };
}

const request = (subject: string, san?: string) => opensslRequest({ subject, extensions: san ? [`subjectAltName=${san}`] : [] });

describe('runValidators and evaluatePolicy', () => {
  it('runs every validator after one refuses and collects every reason', () => {
    const spy = recorder();
    const policy: Policy = { validators: [COMMON_NAME, spy.configured, ALTERNATIVE_NAMES], fixups: [], subjectAttributes: [] };
    const outcome = evaluatePolicy(policy, request('/CN=evil.com', 'DNS:a.example.com,DNS:evil.org'));
    expect(spy.seen).toHaveLength(1);
    expect(outcome.verdicts).toEqual([
      { validator: 'common_name', reasons: ["common name 'evil.com' is outside the allowed domains [.example.com]"] },
      { validator: 'recorder', reasons: [] },
      // The CN is issued as a SAN too, so alternative_names judges it.
      { validator: 'alternative_names', reasons: ["DNS name 'evil.com' is outside the allowed domains [.example.com]", "DNS name 'evil.org' is outside the allowed domains [.example.com]"] },
    ]);
    expect(outcome.refusals).toEqual([outcome.verdicts[0], outcome.verdicts[2]]);
  });

  it('passes when every validator passes, with the CSR’s names', () => {
    const outcome = evaluatePolicy({ validators: [COMMON_NAME, ALTERNATIVE_NAMES], fixups: [], subjectAttributes: [] }, request('/CN=a.example.com', 'DNS:a.example.com'));
    expect(outcome.refusals).toEqual([]);
    expect(outcome.verdicts).toEqual([
      { validator: 'common_name', reasons: [] },
      { validator: 'alternative_names', reasons: [] },
    ]);
    expect(outcome.names).toEqual({ dnsNames: ['a.example.com'], ipAddresses: [] });
  });

  it('turns a validator that throws into a refusal naming it, and still runs the rest', () => {
    const spy = recorder();
    const verdicts = runValidators([throwing('exploding', new Error('boom')), throwing('throws_string', 'nope'), spy.configured], request('/CN=a.example.com'));
    expect(verdicts).toEqual([
      { validator: 'exploding', reasons: ['validator exploding failed while checking the request; refused to be safe'] },
      { validator: 'throws_string', reasons: ['validator throws_string failed while checking the request; refused to be safe'] },
      { validator: 'recorder', reasons: [] },
    ]);
    expect(spy.seen).toHaveLength(1);
  });

  it('never lets a throwing validator pass the request', () => {
    const outcome = evaluatePolicy({ validators: [throwing('exploding', new TypeError('x is undefined'))], fixups: [], subjectAttributes: [] }, request('/CN=a.example.com'));
    expect(outcome.refusals).toEqual([{ validator: 'exploding', reasons: ['validator exploding failed while checking the request; refused to be safe'] }]);
  });

  it('refuses, rather than passes, when a built-in validator breaks (deny_list without its prepared list)', () => {
    const unprepared: ConfiguredValidator = { validator: denyList, options: denyList.options.parse({ file: 'deny.txt' }) };
    const outcome = evaluatePolicy({ validators: [unprepared], fixups: [], subjectAttributes: [] }, request('/CN=a.example.com'));
    expect(outcome.refusals).toEqual([{ validator: 'deny_list', reasons: ['validator deny_list failed while checking the request; refused to be safe'] }]);
  });

  describe('fixups', () => {
    it('do not run when validation refused', () => {
      const spy = spyFixup();
      const csr = request('/CN=evil.com', 'DNS:a.example.com');
      const outcome = evaluatePolicy({ validators: [COMMON_NAME], fixups: [spy.configured], subjectAttributes: [] }, csr);
      expect(spy.calls).toHaveLength(0);
      expect(outcome.names).toEqual({ dnsNames: ['evil.com', 'a.example.com'], ipAddresses: [] });
      expect(outcome.refusals).toEqual([{ validator: 'common_name', reasons: ["common name 'evil.com' is outside the allowed domains [.example.com]"] }]);
    });

    it('run once when validation passed, and the names are validated again only if they changed', () => {
      const unchanged = spyFixup();
      const validator = recorder();
      evaluatePolicy({ validators: [validator.configured], fixups: [unchanged.configured], subjectAttributes: [] }, request('/CN=a.example.com', 'DNS:a.example.com'));
      expect(unchanged.calls).toHaveLength(1);
      expect(validator.seen).toHaveLength(1);

      const adding = spyFixup((r) => ({ dnsNames: [...r.names.dnsNames, 'added.example.com'], ipAddresses: r.names.ipAddresses }));
      const second = recorder();
      const outcome = evaluatePolicy({ validators: [second.configured], fixups: [adding.configured], subjectAttributes: [] }, request('/CN=a.example.com', 'DNS:a.example.com'));
      expect(adding.calls).toHaveLength(1);
      expect(second.seen).toEqual([
        { dnsNames: ['a.example.com'], ipAddresses: [] },
        { dnsNames: ['a.example.com', 'added.example.com'], ipAddresses: [] },
      ]);
      expect(outcome.names).toEqual({ dnsNames: ['a.example.com', 'added.example.com'], ipAddresses: [] });
    });

    it('each see the names the previous fixup made', () => {
      const first = spyFixup((r) => ({ dnsNames: [...r.names.dnsNames, 'one.example.com'], ipAddresses: r.names.ipAddresses }));
      const second = spyFixup((r) => ({ dnsNames: [...r.names.dnsNames, 'two.example.com'], ipAddresses: r.names.ipAddresses }));
      const outcome = evaluatePolicy({ validators: [ALTERNATIVE_NAMES], fixups: [first.configured, second.configured], subjectAttributes: [] }, request('/CN=a.example.com', 'DNS:a.example.com'));
      expect(second.calls[0].names).toEqual({ dnsNames: ['a.example.com', 'one.example.com'], ipAddresses: [] });
      expect(outcome.names).toEqual({ dnsNames: ['a.example.com', 'one.example.com', 'two.example.com'], ipAddresses: [] });
      expect(outcome.refusals).toEqual([]);
    });

    it('that throw refuse the request, naming the fixup', () => {
      const broken: ConfiguredFixup = {
        fixup: { name: 'broken_fixup', options: z.strictObject({}), apply: () => { throw new Error('boom'); } },
        options: {},
      };
      const csr = request('/CN=a.example.com', 'DNS:a.example.com');
      const outcome = evaluatePolicy({ validators: [ALTERNATIVE_NAMES], fixups: [broken], subjectAttributes: [] }, csr);
      expect(outcome.refusals).toEqual([{ validator: 'broken_fixup', reasons: ['fixup broken_fixup failed; refused to be safe'] }]);
      expect(outcome.verdicts).toEqual([{ validator: 'alternative_names', reasons: [] }, { validator: 'broken_fixup', reasons: ['fixup broken_fixup failed; refused to be safe'] }]);
      expect(outcome.names).toEqual(csr.names);
    });

    it('judge an IP CN as the iPAddress SAN it is issued as: alternative_names refuses it', () => {
      const outcome = evaluatePolicy({ validators: [COMMON_NAME, ALTERNATIVE_NAMES], fixups: [enforce], subjectAttributes: [] }, request('/CN=10.0.0.1', 'DNS:a.example.com'));
      expect(outcome.names).toEqual({ dnsNames: ['a.example.com'], ipAddresses: ['10.0.0.1'] });
      expect(outcome.refusals).toEqual([
        { validator: 'alternative_names', reasons: ['IP address 10.0.0.1 is not allowed (alternative_names takes DNS names only; use alternative_names_ip)'] },
      ]);
      expect(outcome.verdicts).toEqual([{ validator: 'common_name', reasons: [] }, ...outcome.refusals]);
    });

    it('pass the second time when the fixed-up names are allowed', () => {
      const ip = configured(alternativeNamesIp, { allowed_domains: ['.example.com'], allowed_networks: ['10.0.0.0/8'] });
      const outcome = evaluatePolicy({ validators: [COMMON_NAME, ip], fixups: [enforce], subjectAttributes: [] }, request('/CN=10.0.0.1', 'DNS:a.example.com'));
      expect(outcome.refusals).toEqual([]);
      expect(outcome.names).toEqual({ dnsNames: ['a.example.com'], ipAddresses: ['10.0.0.1'] });
    });
  });

  describe('enforcePolicy', () => {
    it('throws a PolicyRejection carrying every refusal and verdict', () => {
      const policy: Policy = { validators: [COMMON_NAME, ALTERNATIVE_NAMES], fixups: [], subjectAttributes: [] };
      let thrown: unknown;
      try {
        enforcePolicy(policy, request('/CN=evil.com', 'DNS:evil.org'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(PolicyRejection);
      const rejection = thrown as PolicyRejection;
      expect(rejection.name).toBe('PolicyRejection');
      expect(rejection.refusals).toEqual([
        { validator: 'common_name', reasons: ["common name 'evil.com' is outside the allowed domains [.example.com]"] },
        { validator: 'alternative_names', reasons: ["DNS name 'evil.com' is outside the allowed domains [.example.com]", "DNS name 'evil.org' is outside the allowed domains [.example.com]"] },
      ]);
      expect(rejection.verdicts).toEqual(rejection.refusals);
      expect(rejection.message).toBe(
        "common_name: common name 'evil.com' is outside the allowed domains [.example.com]; alternative_names: DNS name 'evil.com' is outside the allowed domains [.example.com]; alternative_names: DNS name 'evil.org' is outside the allowed domains [.example.com]",
      );
    });

    it('throws when only the second pass refuses', () => {
      expect(() => enforcePolicy({ validators: [COMMON_NAME, ALTERNATIVE_NAMES], fixups: [enforce], subjectAttributes: [] }, request('/CN=10.0.0.1', 'DNS:a.example.com'))).toThrow(
        new PolicyRejection([{ validator: 'alternative_names', reasons: ['IP address 10.0.0.1 is not allowed (alternative_names takes DNS names only; use alternative_names_ip)'] }], []),
      );
    });

    it('returns the outcome when policy passes', () => {
      const outcome = enforcePolicy({ validators: [COMMON_NAME, ALTERNATIVE_NAMES], fixups: [enforce], subjectAttributes: [] }, request('/CN=b.example.com', 'DNS:a.example.com'));
      expect(outcome.refusals).toEqual([]);
      expect(outcome.names).toEqual({ dnsNames: ['b.example.com', 'a.example.com'], ipAddresses: [] });
    });
  });

  describe('the names and subject to issue', () => {
    const policy: Policy = { validators: [], fixups: [], subjectAttributes: [] };
    const names = (subject: string, san?: string) => evaluatePolicy(policy, request(subject, san)).names;

    it('are the CN first, then the requested names, lower-cased, without a trailing dot, each once', () => {
      expect(names('/CN=Dot.Example.COM.', 'DNS:b.example.com.,DNS:B.Example.Com,DNS:dot.example.com')).toEqual({ dnsNames: ['dot.example.com', 'b.example.com'], ipAddresses: [] });
    });

    it('hold an IP sent as a dNSName or a CN as an iPAddress, in canonical form', () => {
      expect(names('/CN=2001:DB8:0:0::1', 'DNS:10.0.0.1,IP:10.0.0.1,IP:::ffff:10.0.0.1')).toEqual({ dnsNames: [], ipAddresses: ['2001:db8::1', '10.0.0.1'] });
    });

    it('keep a CN that is no name as sent, so that validators refuse it', () => {
      const der = buildCsr({ subject: [{ oid: OIDS.commonName, value: 'Alice Smith' }], extensions: [{ oid: OIDS.subjectAltName, value: subjectAltNameValue([{ dns: 'b.example.com' }]) }] });
      const outcome = evaluatePolicy({ ...policy, validators: [ALTERNATIVE_NAMES] }, requestFromCsr(der));
      expect(outcome.names).toEqual({ dnsNames: ['Alice Smith', 'b.example.com'], ipAddresses: [] });
      expect(outcome.refusals).toEqual([{ validator: 'alternative_names', reasons: ['DNS name: name "Alice Smith" contains characters not allowed in a DNS name'] }]);
    });

    it('leave out of the subject every attribute but the CN (in issued form) and the types the RA names, emailAddress always', () => {
      const der = buildCsr({
        subject: [
          { oid: OIDS.commonName, value: 'A.Example.COM.' },
          { oid: '2.5.4.10', value: 'system:masters' },
          { oid: OIDS.organizationalUnit, value: 'ops' },
          { oid: '0.9.2342.19200300.100.1.1', value: 'root' },
          { oid: '1.2.840.113549.1.9.1', value: 'ceo@example.com', tag: 0x16 },
        ],
      });
      expect(evaluatePolicy(policy, requestFromCsr(der)).subject).toEqual([{ type: OIDS.commonName, value: 'a.example.com' }]);
      expect(evaluatePolicy({ ...policy, subjectAttributes: [OIDS.organizationalUnit, '1.2.840.113549.1.9.1'] }, requestFromCsr(der)).subject).toEqual([
        { type: OIDS.commonName, value: 'a.example.com' },
        { type: OIDS.organizationalUnit, value: 'ops' },
      ]);
    });
  });
});

describe('enforce_alternative_names', () => {
  const apply = (r: PolicyRequest) => enforceAlternativeNames.apply(r, enforceAlternativeNames.options.parse({}));

  it('changes nothing: the CN is always issued as a SAN now, and configs that name the fixup still load', () => {
    const r = request('/CN=a.example.com', 'DNS:b.example.com');
    expect(apply(r)).toBe(r.names);
  });

  it('refuses options', () => {
    const result = enforceAlternativeNames.options.safeParse({ copy: true });
    expect(result.success ? [] : result.error.issues.map((issue) => issue.message)).toEqual(['Unrecognized key: "copy"']);
  });
});
