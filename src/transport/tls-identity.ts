// A node's TLS material (docs/api.md, "TLS"): its certificate and key, and the CA its peers'
// certificates are checked against, read from PEM files at start and again on reload (SIGHUP).
// The server and every outbound connection ask it for their options when they need them, so a
// reload reaches every connection opened after it; a reload that fails keeps the old material.
import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { Agent } from 'undici';
import { tlsHandshakeTimeoutMs } from '../core/limits.js';

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** Peers' certificates are checked against this CA; the system's CAs when undefined. */
  readonly caFile: string | undefined;
  /** Mutual TLS between nodes: present our certificate to peers, refuse internal RPC without one the CA signed. */
  readonly peerAuth: boolean;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(what: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Every certificate of a PEM file parsed; throws unless it holds at least one and all are valid. */
function checkCertificates(what: string, file: string, pem: Buffer): void {
  const blocks = pem.toString('latin1').match(certificateBlock) ?? [];
  if (blocks.length === 0) throw new Error(`${what} ${file} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(`${what} ${file} holds a certificate that does not parse: ${(err as Error).message}`);
    }
  }
}

/** Reads and checks the files: each parses as PEM and the key is the certificate's. Throws with a message for the operator. */
export function readTlsMaterial(settings: TlsSettings): TlsMaterial {
  const cert = readPem('--tls-cert', settings.certFile);
  const key = readPem('--tls-key', settings.keyFile);
  const ca = settings.caFile === undefined ? undefined : readPem('--tls-ca', settings.caFile);
  checkCertificates('--tls-cert', settings.certFile, cert);
  if (ca !== undefined && settings.caFile !== undefined) checkCertificates('--tls-ca', settings.caFile, ca);
  try {
    // Parses the key and checks it matches the certificate, as the server will.
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new Error(`--tls-cert ${settings.certFile} / --tls-key ${settings.keyFile} cannot be used: ${(err as Error).message}`);
  }
  return { cert, key, ca };
}

export class TlsIdentity {
  private material: TlsMaterial;
  /** Counts successful reloads: connection pools made with older material are replaced. */
  private version = 0;
  private agentOf: { readonly version: number; readonly agent: Agent } | undefined;

  constructor(readonly settings: TlsSettings) {
    this.material = readTlsMaterial(settings);
  }

  get generation(): number {
    return this.version;
  }

  /** Reads the files again; on any problem throws and keeps the material in use. */
  reload(): void {
    this.material = readTlsMaterial(this.settings);
    this.version++;
  }

  /** The certificate served, for the log: its serial number and the end of its validity. */
  describe(): { certSerial: string; certValidTo: string } {
    const cert = new X509Certificate(this.material.cert);
    return { certSerial: cert.serialNumber, certValidTo: cert.validTo };
  }

  /**
   * The HTTPS server's options. Client certificates are asked for with --tls-peer-auth but not
   * required at the TLS layer: clients without one (curl, the typed client) still reach the client
   * API; internal RPC checks `socket.authorized` itself (api/rpc-routes.ts, rpc-channel.ts).
   */
  serverOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean; handshakeTimeout: number } {
    const { cert, key, ca } = this.material;
    return { cert, key, ...(ca ? { ca } : {}), requestCert: this.settings.peerAuth, rejectUnauthorized: false, handshakeTimeout: tlsHandshakeTimeoutMs };
  }

  /**
   * An undici dispatcher for a node's other outbound HTTPS requests (to members' admin routes),
   * with clientOptions(); replaced after a reload, the old one closing once its requests finish.
   */
  agent(): Agent {
    if (this.agentOf?.version === this.version) return this.agentOf.agent;
    void this.agentOf?.agent.close();
    this.agentOf = { version: this.version, agent: new Agent({ connect: this.clientOptions() }) };
    return this.agentOf.agent;
  }

  /** Options of an outbound TLS connection to a peer: its certificate checked against the CA; ours presented with --tls-peer-auth. */
  clientOptions(): ConnectionOptions {
    const { cert, key, ca } = this.material;
    return { ...(ca ? { ca } : {}), ...(this.settings.peerAuth ? { cert, key } : {}), rejectUnauthorized: true };
  }
}
