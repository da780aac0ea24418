import { readFile, stat, writeFile } from 'node:fs/promises';
import { certificatePem } from '../pem';
import { caCertificationRequest, selfSignedCaCertificate } from '../issuance/ca_request';
import { encodeName } from '../x509/name';
import { generateTokenKey, type TokenKeyType } from '../signers/pkcs11/key_generation';
import type { Pkcs11Options } from '../signers/pkcs11/options';
import { Pkcs11Signer } from '../signers/pkcs11/signer';
import 'reflect-metadata';
import { PemConverter } from '@peculiar/x509';

export interface InitCaOptions {
  readonly module: string;
  readonly tokenLabel: string;
  readonly keyLabel: string;
  readonly keyType: TokenKeyType;
  readonly subject: string;
  readonly pinEnv?: string;
  readonly pinFile?: string;
  readonly selfSigned?: boolean;
  /** Write a CSR for an external root here instead of a self-signed certificate. */
  readonly csr?: string;
  /** Where the self-signed certificate goes. */
  readonly out?: string;
  readonly days: number;
}

/** The PIN from an environment variable or a private file: never from the command line, where `ps` shows it. */
async function readPin(options: InitCaOptions): Promise<{ pin: string; pinSource: string }> {
  if (options.pinFile) {
    const info = await stat(options.pinFile);
    if ((info.mode & 0o077) !== 0) throw new Error(`the PIN file ${options.pinFile} is readable by others; run chmod 600 on it`);
    return { pin: (await readFile(options.pinFile, 'utf8')).split('\n')[0].trim(), pinSource: `file ${options.pinFile}` };
  }
  const variable = options.pinEnv ?? 'MAYFLY_PKCS11_PIN';
  const pin = process.env[variable];
  if (!pin) throw new Error(`set the PIN in the environment variable ${variable} (or use --pin-file)`);
  return { pin, pinSource: `environment variable ${variable}` };
}

/** `mayfly pkcs11 init-ca`: a CA key generated inside the token, then a self-signed certificate or a CSR. */
export async function pkcs11InitCa(options: InitCaOptions, print: (line: string) => void): Promise<void> {
  if (Boolean(options.selfSigned) === Boolean(options.csr)) throw new Error('give exactly one of --self-signed and --csr FILE');
  if (options.selfSigned && !options.out) throw new Error('--self-signed needs --out FILE for the certificate');
  const subject = encodeName(options.subject);
  const token: Pkcs11Options = { module: options.module, tokenLabel: options.tokenLabel, keyLabel: options.keyLabel, sessions: 1, ...(await readPin(options)) };
  await generateTokenKey(token, options.keyType);
  const signer = await Pkcs11Signer.open(token);
  if (options.csr) {
    await writeFile(options.csr, `${PemConverter.encode(await caCertificationRequest(signer, subject), 'CERTIFICATE REQUEST')}\n`, { flag: 'wx' });
    print(`Generated ${signer.description}; wrote a CSR for it to ${options.csr}. Have your root sign it, then configure the certificate chain as signing_ca.<name>.cert.`);
  } else {
    const certificate = await selfSignedCaCertificate(signer, subject, options.days * 86_400_000);
    await writeFile(options.out!, certificatePem(certificate.der), { flag: 'wx' });
    print(`Generated ${signer.description}; wrote a self-signed CA certificate (serial ${certificate.serialNumber}) to ${options.out}.`);
  }
}
