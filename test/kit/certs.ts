// Development certificates for TLS tests, made with the `openssl` command the way docs/api.md
// ("TLS") tells operators to: a CA, and node certificates it signs for 127.0.0.1 and localhost
// (EC P-256 keys: fast to make). Everything goes into one directory the caller owns.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevCa {
  readonly dir: string;
  readonly name: string;
  /** The CA certificate (what --tls-ca takes). */
  readonly certFile: string;
  readonly keyFile: string;
}

export interface NodeCert {
  readonly certFile: string;
  readonly keyFile: string;
}

const days = 30;
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** A self-signed CA `name` in `dir`: `name`.pem and `name`.key. */
export function makeCa(dir: string, name: string): DevCa {
  openssl(dir, [
    'req', '-x509', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', String(days), '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, name, certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
}

/**
 * A certificate for `name` signed by `ca`, valid for IP 127.0.0.1 and DNS localhost, usable by a
 * server and a client (mutual TLS). Issuing `name` again overwrites its files with a new key and
 * serial (the CA's serial file counts up): what a certificate rotation looks like.
 */
export function issueCert(ca: DevCa, name: string, san = 'IP:127.0.0.1,DNS:localhost'): NodeCert {
  writeFileSync(join(ca.dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(ca.dir, ['req', '-new', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(ca.dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca.name}.pem`, '-CAkey', `${ca.name}.key`, '-CAserial', `${ca.name}.srl`, '-CAcreateserial',
    '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.pem`,
  ]);
  return { certFile: join(ca.dir, `${name}.pem`), keyFile: join(ca.dir, `${name}.key`) };
}

/** `kvorum start` flags serving `cert`, checking peers against `ca`. */
export function tlsArgs(cert: NodeCert, ca: DevCa, peerAuth = false): string[] {
  return ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--tls-ca', ca.certFile, ...(peerAuth ? ['--tls-peer-auth'] : [])];
}
