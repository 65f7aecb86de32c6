// The node commands of docker-compose.yml and deploy/k8s/, run the way Docker and Kubernetes would run
// them, but through `kvorum start --check-config` on this machine: env and $(VAR) expansion done here,
// the volumes (ConfigMap, Secret, compose secrets, data) materialised in a temp dir whose paths
// replace the mount paths. What deploy-manifests.test.ts checks every command with.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './paths.js';

/** A parsed YAML document: its shape is what the tests check. */
export type Doc = any;

export const k8sDir = join(repoRoot, 'deploy', 'k8s');

/** Every document of a YAML file, parse errors thrown (merge keys `<<` resolved, as compose does). */
export function yamlDocs(text: string): Doc[] {
  return parseAllDocuments(text, { merge: true }).map((d) => {
    if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
    return d.toJS();
  });
}

/** Every manifest of deploy/k8s (kustomization.yaml apart), keyed by file name. */
export function k8sManifests(dir = k8sDir): Map<string, Doc[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  return new Map(files.map((f) => [f, yamlDocs(readFileSync(join(dir, f), 'utf8'))]));
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly argv: readonly string[];
}

/** A bare environment: nothing of this machine's KVORUM_* leaks into the command. */
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' });

/** Runs argv (the container's process) from the repository root, as the image's WORKDIR /app. */
export function run(argv: readonly string[], env: NodeJS.ProcessEnv): RunResult {
  const result = spawnSync(argv[0]!, argv.slice(1), { cwd: repoRoot, env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, argv };
}

/** Mount paths replaced by their local directories, in one pass (whole path segments only, longest first). */
export function remap(text: string, mounts: ReadonlyMap<string, string>): string {
  if (mounts.size === 0) return text;
  const escape = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alternatives = [...mounts.keys()].sort((a, b) => b.length - a.length).map(escape).join('|');
  return text.replace(new RegExp(`(?<![\\w./-])(${alternatives})(?=/|$|[\\s"'])`, 'g'), (mount) => mounts.get(mount)!);
}

/** Kubernetes' $(VAR) expansion of command and args: defined variables replaced, $$ an escaped $, others kept. */
export function expandK8s(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
    if (name === undefined) return '$';
    return vars[name] ?? whole;
  });
}

/** The Dockerfile's ENV (one `ENV A=x \` block) and its exec-form ENTRYPOINT. */
export function dockerfileRuntime(text: string): { env: Record<string, string>; entrypoint: string[] } {
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const envBlock = /\nENV ((?:[^\n]*\\\n)*[^\n]*)/.exec(runtime)?.[1] ?? '';
  const env = Object.fromEntries([...envBlock.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  const entry = /\nENTRYPOINT (\[.*\])/.exec(runtime)?.[1];
  if (entry === undefined) throw new Error('no exec-form ENTRYPOINT in the Dockerfile');
  return { env, entrypoint: JSON.parse(entry) as string[] };
}

/** A compose service's process, as Docker runs it from the image: ENTRYPOINT + command, image ENV + environment. */
export function composeCommand(
  compose: Doc,
  service: string,
  runtime: { env: Record<string, string>; entrypoint: string[] },
  tmp: string,
): { argv: string[]; env: Record<string, string>; mounts: Map<string, string> } {
  const svc = compose.services[service];
  const mounts = new Map<string, string>();
  for (const volume of svc.volumes as string[]) {
    const [, target] = volume.split(':');
    const local = join(tmp, service, 'volume', target!.replace(/\//g, '_'));
    mkdirSync(local, { recursive: true });
    mounts.set(target!, local);
  }
  for (const name of svc.secrets as string[]) {
    const local = join(tmp, service, 'secrets');
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, name), `compose-secret-${name}\n`, { mode: 0o600 });
    mounts.set(`/run/secrets/${name}`, join(local, name));
  }
  const env = { ...runtime.env, ...(svc.environment as Record<string, string>) };
  const argv = [...runtime.entrypoint, ...(svc.command as string[])].map((a) => remap(a, mounts));
  return { argv, env, mounts };
}

/** The ConfigMap's and Secret's files written under tmp: a volume name → its local directory. */
function materialiseVolumes(pod: Doc, objects: readonly Doc[], tmp: string): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const volume of pod.volumes as Doc[]) {
    const local = join(tmp, 'volumes', volume.name);
    mkdirSync(local, { recursive: true });
    let files: Record<string, string> = {};
    if (volume.configMap) files = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap.name)?.data ?? {};
    if (volume.secret) {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === volume.secret.secretName);
      const decoded = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()]));
      files = { ...decoded, ...(secret?.stringData ?? {}) };
    }
    for (const [name, content] of Object.entries(files)) writeFileSync(join(local, name), content, { mode: 0o600 });
    dirs.set(volume.name, local);
  }
  return dirs;
}

/** The StatefulSet's container process for pod `kvorum-<ordinal>`: downward API values, $(VAR) expansion, volumes mapped. */
export function statefulSetCommand(
  objects: readonly Doc[],
  ordinal: number,
  namespace: string,
  tmp: string,
): { argv: string[]; env: Record<string, string>; podName: string } {
  const sts = objects.find((o) => o.kind === 'StatefulSet');
  const pod = sts.spec.template.spec;
  const container = pod.containers[0];
  const podName = `${sts.metadata.name}-${ordinal}`;
  const env: Record<string, string> = {};
  for (const e of container.env as Doc[]) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (field === 'metadata.name') env[e.name] = podName;
    else if (field === 'metadata.namespace') env[e.name] = namespace;
    else if (e.value !== undefined) env[e.name] = expandK8s(String(e.value), env);
    else throw new Error(`env ${e.name}: only fieldRef metadata.name/namespace and values are emulated`);
  }
  const dirs = materialiseVolumes(pod, objects, join(tmp, podName));
  for (const claim of sts.spec.volumeClaimTemplates as Doc[]) {
    const local = join(tmp, podName, 'claims', claim.metadata.name);
    mkdirSync(local, { recursive: true });
    dirs.set(claim.metadata.name, local);
  }
  const mounts = new Map<string, string>((container.volumeMounts as Doc[]).map((m) => [m.mountPath, dirs.get(m.name)!]));
  const argv = [...container.command, ...container.args].map((a: string) => remap(expandK8s(a, env), mounts));
  return { argv, env, podName };
}
