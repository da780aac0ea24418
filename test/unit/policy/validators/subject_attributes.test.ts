import validator from '../../../../validators/subject_attributes';
import { check, opensslRequest, optionIssues } from '../policy_request';

const refusals = (subject: string, options: object) => check(validator, options, opensslRequest({ subject }));

describe('subject_attributes', () => {
  it('passes listed values, exactly', () => {
    expect(refusals('/CN=svc.example.com/O=web/OU=payments', { O: ['web', 'db'], OU: ['payments'] })).toEqual([]);
  });

  it('refuses an unlisted value, case and all (Kubernetes reads O as a group)', () => {
    expect(refusals('/CN=svc.example.com/O=system:masters/O=Web', { O: ['web'] })).toEqual([
      'subject O "system:masters" is not among the allowed values [web]',
      'subject O "Web" is not among the allowed values [web]',
    ]);
  });

  it('leaves types it does not list to the RA, which does not issue them', () => {
    expect(refusals('/CN=svc.example.com/OU=anything/L=Berlin', { O: ['web'] })).toEqual([]);
  });

  it('refuses types Mayfly does not issue, empty lists, and countries that are no ISO 3166 code', () => {
    expect(optionIssues(validator, { emailAddress: ['a@example.com'] })).toHaveLength(1);
    expect(optionIssues(validator, { O: [] })).toEqual(['O: Too small: expected array to have >=1 items']);
    expect(optionIssues(validator, { C: ['Deutschland'] })).toEqual(['C: C values are ISO 3166 two-letter codes']);
  });
});
