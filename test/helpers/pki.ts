/**
 * A throwaway PKI for TLS tests (PS3.15 B.1; REQUIREMENTS 16.1), made with the openssl CLI once
 * per test process in a temporary directory (removed at exit). RSA 2048 throughout:
 *
 *   ca.crt         "Tracer Test CA" (trusted);  ca2.crt "Untrusted CA";  fakeca.crt: same name as ca, other key
 *   server.crt     CN=tracer-server, EKU serverAuth, SAN IP:127.0.0.1 DNS:localhost  (by ca)
 *   client.crt     CN=tracer-client, EKU clientAuth                                  (by ca)
 *   clientonly.crt EKU clientAuth (used as a server certificate to test SEC-004)     (by ca)
 *   noeku.crt      no EKU, no SAN                                                    (by ca)
 *   rogue.crt      EKU serverAuth+clientAuth, SAN IP:127.0.0.1                       (by ca2)
 *   forged.crt     EKU both, no key identifiers                                      (by fakeca)
 *   self.crt       self-signed, EKU both, SAN IP:127.0.0.1
 * Each NAME.crt has NAME.key (unencrypted PEM). Callers check `requireTools(t, 'openssl')` first.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { thumbprints } from '../../src/net/tls.js';

export interface Pki {
  dir: string;
  /** The path of a file of the PKI, e.g. f('ca.crt'). */
  f: (name: string) => string;
  /** 'sha1:HEX' / 'sha256:HEX' thumbprints of a certificate file (its first certificate). */
  prints: (name: string) => Promise<{ sha1: string; sha256: string }>;
}

function sh(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      assert.equal(err, null, `${cmd} ${args.join(' ')}\n${stdout}${stderr}`);
      resolve();
    });
  });
}

const EXT = `
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
[both]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = IP:127.0.0.1
[forged]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth,clientAuth
# no key identifiers, so that the leaf links by name to any 'Tracer Test CA'
authorityKeyIdentifier = none
subjectKeyIdentifier = none
[noeku]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
`;

let pkiPromise: Promise<Pki> | undefined;
/** The PKI of this process (made on first call). */
export function pki(): Promise<Pki> {
  pkiPromise ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracer-tls-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'ext.cnf'), EXT);
    const ca = async (name: string, cn: string): Promise<void> => {
      await sh('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
      await sh('openssl', ['x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-days', '2', '-extfile', 'ext.cnf', '-extensions', 'ca', '-out', `${name}.crt`], dir);
    };
    const leaf = async (name: string, cn: string, issuer: string, ext: string): Promise<void> => {
      await sh('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
      await sh('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', 'ext.cnf', '-extensions', ext, '-out', `${name}.crt`], dir);
    };
    // fakeca: same name as the real CA, another key (to forge a chain ending in a copy of ca.crt)
    await Promise.all([ca('ca', 'Tracer Test CA'), ca('ca2', 'Untrusted CA'), ca('fakeca', 'Tracer Test CA')]);
    const selfSigned = (async () => {
      // A self-signed device certificate for pin-only trust (no CA configured).
      await sh('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.csr', '-subj', '/CN=self-signed'], dir);
      await sh('openssl', ['x509', '-req', '-in', 'self.csr', '-signkey', 'self.key', '-days', '2', '-extfile', 'ext.cnf', '-extensions', 'both', '-out', 'self.crt'], dir);
    })();
    await Promise.all([
      selfSigned,
      leaf('server', 'tracer-server', 'ca', 'server'),
      leaf('client', 'tracer-client', 'ca', 'client'),
      leaf('clientonly', 'client-eku-only', 'ca', 'client'),
      leaf('noeku', 'no-eku', 'ca', 'noeku'),
      leaf('rogue', 'rogue', 'ca2', 'both'),
      leaf('forged', 'forged', 'fakeca', 'forged'),
    ]);
    const f = (n: string): string => join(dir, n);
    const prints = async (n: string): Promise<{ sha1: string; sha256: string }> => {
      const pem = await readFile(f(n), 'latin1');
      return thumbprints(Buffer.from(new X509Certificate(pem).raw));
    };
    return { dir, f, prints };
  })();
  return pkiPromise;
}
