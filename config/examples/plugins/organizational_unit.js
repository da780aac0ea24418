// A Mayfly validator plugin: the same interface as the built-ins in validators/.
//
//   plugins: [./plugins/organizational_unit.js]        # in mayfly.yaml, relative to it
//   registration_authority:
//     default:
//       validators:
//         - organizational_unit: { required: true }
//
// A plugin exports:
//   name     the YAML key (snake_case, unique; a built-in's name is refused)
//   options  a zod schema for its options: a typo or a wrong type is a config error with file:line
//   check    (request, options) => array of reasons; an empty array passes. It must be pure: no I/O.
//            request.csr          the parsed CSR: commonNames, subjectAttributes [{type, value}],
//                                 dnsNames, ipAddresses, extensions, keyUsage, extKeyUsage,
//                                 publicKey {type, bits, curve}, signatureValid
//            request.names        {dnsNames, ipAddresses} that would be issued (after fixups)
//            request.requester    {user, groups, authentication}
//            request.sourceAddress, request.registrationAuthority
// If check throws, the request is refused with a reason naming the plugin: never a pass, never a 500.
'use strict';
const { z } = require('zod');

const ORGANIZATIONAL_UNIT = '2.5.4.11';

module.exports = {
  name: 'organizational_unit',
  options: z.strictObject({ required: z.boolean().default(false) }),
  check(request, options) {
    const units = request.csr.subjectAttributes.filter((a) => a.type === ORGANIZATIONAL_UNIT).map((a) => a.value);
    if (units.length === 0) return options.required ? ['the subject has no OU; it must name one of your groups'] : [];
    return units
      .filter((unit) => !request.requester.groups.includes(unit))
      .map((unit) => `OU '${unit}' is not one of ${request.requester.user}'s groups [${request.requester.groups.join(', ')}]`);
  },
};
